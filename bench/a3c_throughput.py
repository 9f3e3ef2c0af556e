"""A3C env throughput: 1 worker process vs 2 (or more), side by side in one run.

    python bench/a3c_throughput.py [--env CartPole-v1] [--workers 1 2] [--steps 10000 50000] [--repeats 5]

Each measurement trains A3C from scratch (no evaluation until the end) for a short and a long run; the
marginal rate (long - short steps) / (long - short seconds) leaves out process start-up. Repeats are
interleaved across worker counts; the table gives the median rate of each count, and its speed-up over the
first count as the ratio of the medians and as the median of the ratios within each repeat.
"""

from __future__ import annotations

import argparse
import statistics
import time

from actorcritic import A3C, A3CConfig


def seconds(env: str, workers: int, steps: int, seed: int) -> tuple[float, int]:
    agent = A3C(env, A3CConfig(num_workers=workers, eval_interval=0, eval_episodes=1), seed=seed)
    started = time.perf_counter()
    agent.learn(steps)
    elapsed = time.perf_counter() - started
    agent.close()
    return elapsed, agent.global_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, nargs=2, default=[10_000, 50_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    short, long = args.steps
    rates: dict[int, list[float]] = {w: [] for w in args.workers}
    for r in range(args.repeats):
        for w in args.workers:
            t_short, n_short = seconds(args.env, w, short, seed=r)
            t_long, n_long = seconds(args.env, w, long, seed=r)
            rates[w].append((n_long - n_short) / (t_long - t_short))
            print(f"repeat {r}: {w} worker(s): {rates[w][-1]:.0f} env steps/s", flush=True)
    base = statistics.median(rates[args.workers[0]])
    print(f"\n{args.env}, A3C defaults (1 env per worker, 20-step rollouts); medians of {args.repeats} repeats")
    print(f"{'workers':>8}{'steps/s':>10}{'speed-up':>10}{'per repeat':>12}")
    for w in args.workers:
        rate = statistics.median(rates[w])
        paired = statistics.median(a / b for a, b in zip(rates[w], rates[args.workers[0]], strict=True))
        print(f"{w:>8}{rate:>10.0f}{rate / base:>9.2f}x{paired:>11.2f}x")


if __name__ == "__main__":
    main()
