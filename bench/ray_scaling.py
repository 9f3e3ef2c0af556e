"""The Ray back end on this machine: collection throughput and learner utilisation against the number of
rollout workers, side by side in one run, with the numbers a cluster model needs.

    python bench/ray_scaling.py [--env Pendulum-v1] [--workers 1 2 4] [--steps 20000] [--repeats 3]
    python bench/ray_scaling.py --compare-in-flight --workers 1 --steps 15000   # 1 vs 2 fragments in flight

Three measurements, each repeated, interleaved across worker counts, medians reported:

1. collection: DDPG with gradient_steps=0 (the policy and its noise act, nothing learns), so the rate is
   what K rollout workers deliver to the learner's buffer: env steps/s against K, and the local loop (one
   process, one env) for reference. This is the "actors" half of Ape-X.
2. training: DDPG's defaults (one update per env step), so the learner paces the workers. Learner
   utilisation = the share of the learner's wall time spent in updates; the rest is waiting for
   fragments and adding them to the buffer.
3. A3C on Ray: env steps/s against K (each worker's gradients applied by the learner).

Rates are measured inside one learn() call, from the moment 20% of the steps are in (actor start-up and
the first fragments left out) to the end.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from actorcritic import A3C, DDPG, A3CConfig, DDPGConfig, RayConfig
from actorcritic.backends.ray import collectors, init_ray


def rate(agent, steps: int) -> dict[str, float]:
    """Measured from the first mark at 20% of ``steps`` to the end of one learn() call: env steps/s, the
    share of the learner's wall time in updates, seconds per update, and the learner process's CPU
    seconds per env step outside the updates (taking fragments in: Ray, deserialising, buffer writes)."""
    marks: list[tuple[float, float, int, float, int]] = []
    turn = agent.trainer.turn

    def timed() -> None:
        turn()
        clock = agent.clock
        marks.append((time.perf_counter(), time.process_time(), clock.global_step, clock.update_seconds,
                      clock.num_updates))  # fmt: skip

    agent.trainer.turn = timed
    agent.learn(steps)
    agent.close()
    start = next(m for m in marks if m[2] >= 0.2 * steps)
    wall, cpu, env_steps, update_s, updates = (b - a for a, b in zip(start, marks[-1], strict=True))
    return {
        "sps": env_steps / wall,
        "busy": update_s / wall,
        "t_u": update_s / updates if updates else float("nan"),
        "t_i": (cpu - update_s) / env_steps,
    }


def ddpg(env: str, workers: int, learn: bool, seed: int) -> DDPG:
    common = {"eval_interval": 0, "eval_episodes": 1, "learning_starts": 1000}
    config = DDPGConfig(**common, gradient_steps=1 if learn else 0)
    return DDPG(env, config, seed=seed, backend=RayConfig(num_workers=workers) if workers else "local")


def compare_in_flight(env: str, workers: int, steps: int, repeats: int) -> None:
    rates: dict[int, list[float]] = {1: [], 2: []}
    for r in range(repeats):
        for in_flight in rates:
            collectors.IN_FLIGHT = in_flight
            rates[in_flight].append(rate(ddpg(env, workers, False, r), steps)["sps"])
            print(f"repeat {r}, {in_flight} fragment(s) in flight: collect {rates[in_flight][-1]:.0f}/s", flush=True)
    one, two = (statistics.median(rates[n]) for n in (1, 2))
    print(f"\n{env}, {workers} worker(s), medians of {repeats}: 1 in flight {one:.0f}/s, 2 in flight {two:.0f}/s"
          f" ({two / one:.2f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--a3c-env", default="CartPole-v1")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--train-steps", type=int, default=6_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare-in-flight", action="store_true",
                        help="only collection with the first worker count: 1 vs 2 fragments asked of each worker")  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(1)
    ray = init_ray()
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if args.compare_in_flight:
        compare_in_flight(args.env, args.workers[0], args.steps, args.repeats)
        return
    counts = [0, *args.workers]  # 0: the local loop
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    for r in range(args.repeats):
        for k in counts:
            got = {"collect": rate(ddpg(args.env, k, False, r), args.steps),
                   "train": rate(ddpg(args.env, k, True, r), args.train_steps)}  # fmt: skip
            if k:
                config = A3CConfig(num_workers=k, eval_interval=0, eval_episodes=1)
                got["a3c"] = rate(A3C(args.a3c_env, config, seed=r, backend="ray"), args.steps)
            for mode, result in got.items():
                runs.setdefault((mode, k), []).append(result)
            print(f"repeat {r}, {k or 'local'} worker(s): "
                  + ", ".join(f"{mode} {x['sps']:.0f}/s" for mode, x in got.items())
                  + f", learner busy {got['train']['busy']:.0%}", flush=True)  # fmt: skip

    def med(mode: str, k: int, key: str = "sps") -> float:
        return statistics.median(x[key] for x in runs[(mode, k)])

    one = args.workers[0]
    print(f"\n{args.env} DDPG (256-256, batch 256, fragments of 50 steps), A3C on {args.a3c_env}; Ray on {cpus} CPUs;"
          f" medians of {args.repeats} repeats")  # fmt: skip
    print(f"{'workers':>8}{'collect/s':>11}{'vs 1':>7}{'train/s':>9}{'learner busy':>14}{'A3C/s':>8}{'vs 1':>7}")
    for k in counts:
        a = f"{med('a3c', k):>8.0f}{med('a3c', k) / med('a3c', one):>6.2f}x" if k else f"{'':>15}"
        print(f"{k or 'local':>8}{med('collect', k):>11.0f}{med('collect', k) / med('collect', one):>6.2f}x"
              f"{med('train', k):>9.0f}{med('train', k, 'busy'):>13.0%}{a}")  # fmt: skip

    # The model in docs/distributed.md: S(K) = min(K c, 1 / (rho t_u + t_i)), U = rho t_u S.
    c, t_u, t_i = med("collect", one), med("train", one, "t_u"), med("collect", one, "t_i")
    print(f"\nmodel inputs: c = {c:.0f} env steps/s per worker, t_u = {t_u * 1e3:.2f} ms per update,"
          f" t_i = {t_i * 1e6:.0f} us of learner CPU per env step taken in")  # fmt: skip
    print(f"{'rho (updates/step)':>20}{'learner ceiling, steps/s':>26}{'K* = workers to reach it':>26}")
    for rho in (1.0, 0.25, 1 / 32, 0.0):
        ceiling = 1 / (rho * t_u + t_i)
        print(f"{rho:>20.3g}{ceiling:>26.0f}{ceiling / c:>26.2f}")


if __name__ == "__main__":
    main()
