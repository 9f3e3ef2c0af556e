"""Milliseconds per gradient update for DDPG, TD3 and SAC, side by side in one process:

- ours: ``agent.trainer.train(1)``, one update as the loop runs it (replay sampling and TD3's delay
  included), eager and with ``compile=True`` (the whole update, gradients and Adam included, one graph),
  each in float32 and with ``precision="bf16"`` (the matrix products in bfloat16 through autocast), and
  compiled in float32 with each call through dynamo ("via dynamo": its graph not captured, as before
  ``actorcritic.core.capture``);
- SB3: ``model.train(gradient_steps=N, batch_size=256)`` with identical networks (256-256), batch size and
  env (Pendulum-v1), needs the [bench] extra (``pip install -e ".[bench]"``). It shares this process, whose
  threads flush denormals once ours has started (``actorcritic.runtime.denormals``), so its updates here
  run faster than in its own process; ``bench/peers.py`` runs each side as its own process;
- the floor: the matrix products each update needs, timed one by one at their exact shapes (no critic
  weight-gradients in the actor step), summed; in float32, and in bfloat16 for the bf16 columns. "as bmm"
  is the part of the float32 floor a compiled update runs as products: the layers with 3-4 inputs or one
  output it computes elementwise, fused with their neighbours (``StackedMLP``).

Repeats are interleaved (ours, SB3, floor, ours, ...) and the table shows medians.

    python bench/updates.py [--algos ddpg td3 sac] [--repeats 7] [--updates 100] [--threads N]

It also reports the loop's own cost per env step outside the update (µs), with updates off.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import time
from collections.abc import Callable

import torch
from _warm import warm_agent

from actorcritic import ALGOS
from actorcritic.algos.off_policy import bf16_supported
from actorcritic.core.networks import THIN_INPUTS

OBS, ACT, HIDDEN, BATCH = 3, 1, 256, 256  # Pendulum-v1, 256-256 MLPs, batch 256


def time_per_call(fn: Callable[[], object], n: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def mlp_products(sizes: list[int], forward: bool = True, wgrad: bool = False, igrad: bool = False,
                 batch: int = BATCH, as_bmm: bool = False) -> list[tuple]:  # fmt: skip
    """(M, K, N) of each matrix product of an MLP's forward / weight-gradient / input-gradient pass; with
    ``as_bmm``, only those of the layers a compiled update runs as ``bmm``: it computes a layer with at most
    ``THIN_INPUTS`` inputs, or with one output, elementwise, fused with its neighbours (``StackedMLP``)."""
    out = []
    for n_in, n_out in itertools.pairwise(sizes):
        if as_bmm and (n_in <= THIN_INPUTS or n_out == 1):
            continue
        if forward:
            out.append((batch, n_in, n_out))
        if wgrad:
            out.append((n_out, batch, n_in))
        if igrad:
            out.append((batch, n_out, n_in))
    return out


def required_products(algo: str, hidden: int = HIDDEN, batch: int = BATCH, as_bmm: bool = False) -> list[tuple]:
    """Every matrix product one update needs (averaged over TD3's policy delay of 2); with ``as_bmm``, only
    those a compiled update runs as products (``mlp_products``)."""
    actor = [OBS, hidden, hidden, ACT * (2 if algo == "sac" else 1)]
    critic = [OBS + ACT, hidden, hidden, 1]
    n_critics = 1 if algo == "ddpg" else 2
    mlp = functools.partial(mlp_products, batch=batch, as_bmm=as_bmm)
    target = mlp(actor) + n_critics * mlp(critic)
    critic_step = n_critics * (mlp(critic, wgrad=True) + mlp(critic[1:], forward=False, igrad=True))
    actor_critics = n_critics if algo == "sac" else 1  # SAC's actor uses min over critics, DDPG/TD3 Q_1
    actor_step = (
        mlp(actor, wgrad=True)
        + mlp(actor[1:], forward=False, igrad=True)
        + actor_critics * mlp(critic, igrad=True)  # through the critic to the action, no wgrad
    )
    if algo == "td3":
        return target + critic_step + actor_step[: len(actor_step) // 2]  # the actor moves every 2nd update
    return target + critic_step + actor_step


def floor_seconds(products: list[tuple], repeats: int = 50, dtype: torch.dtype = torch.float32,
                  members: int | None = None) -> float:  # fmt: skip
    """The products timed one by one and summed; with ``members``, each as one ``bmm`` of that many."""
    total = 0.0
    for m, k, n in products:
        if members is None:
            a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
            total += time_per_call(lambda a=a, b=b: torch.mm(a, b), repeats)
        else:
            a, b = torch.randn(members, m, k, dtype=dtype), torch.randn(members, k, n, dtype=dtype)
            total += time_per_call(lambda a=a, b=b: torch.bmm(a, b), repeats)
    return total


def our_update(
    algo: str, compile: bool | str = False, precision: str = "float32"
) -> tuple[Callable[[], object], object]:
    """``compile="dynamo"``: compiled, but every call through dynamo, as before the update's graph was captured."""
    agent = warm_agent(algo, hidden=HIDDEN, batch=BATCH, warmup=2_000, compile=bool(compile), precision=precision)
    if compile == "dynamo":
        agent.learner.step_from = agent.learner.step_from.fn  # actorcritic.core.capture.Captured's torch.compile
    return (lambda: agent.trainer.train(1)), agent


def sb3_update(algo: str, n: int, device: str = "cpu") -> Callable[[], object] | None:
    try:
        import stable_baselines3 as sb3
    except ImportError:
        return None
    cls = {"ddpg": sb3.DDPG, "td3": sb3.TD3, "sac": sb3.SAC}[algo]
    model = cls("MlpPolicy", "Pendulum-v1", policy_kwargs={"net_arch": [HIDDEN, HIDDEN]}, batch_size=BATCH,
                learning_starts=2_000, buffer_size=100_000, seed=0, device=device)  # fmt: skip
    model.learn(2_000)  # fills its replay buffer (no updates before learning_starts)
    return lambda: model.train(gradient_steps=n, batch_size=BATCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"], choices=sorted(ALGOS))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    bf16 = bf16_supported("cpu")  # elsewhere the bf16 columns stay empty
    rows = []
    for algo in args.algos:
        sides = {
            (precision, compile): our_update(algo, compile, precision)
            for precision in ("float32", "bf16")[: 2 if bf16 else 1]
            for compile in (False, True)
        }
        sides["float32", "dynamo"] = our_update(algo, "dynamo")
        for (_, compile), (update, _) in sides.items():
            for _ in range(4 if compile else 0):
                update()  # compile before timing
        sb3 = sb3_update(algo, args.updates)
        products, as_bmm = required_products(algo), required_products(algo, as_bmm=True)
        times: dict = {side: [] for side in [*sides, ("bf16", False), ("bf16", True), "SB3", "floor", "floor bf16",
                                             "as bmm"]}  # fmt: skip
        for _ in range(args.repeats):
            for side, (update, _) in sides.items():
                times[side].append(time_per_call(update, args.updates))
            if sb3 is not None:
                times["SB3"].append(time_per_call(sb3, 1) / args.updates)
            times["floor"].append(floor_seconds(products))
            times["as bmm"].append(floor_seconds(as_bmm))
            if bf16:
                times["floor bf16"].append(floor_seconds(products, dtype=torch.bfloat16))
        ms = {side: statistics.median(t) * 1e3 if t else None for side, t in times.items()}
        mflop = sum(2 * m * k * n for m, k, n in products) / 1e6
        rows.append((algo, ms, len(products), mflop))
        agent = sides["float32", False][1]
        if algo == args.algos[0]:
            agent.clock.global_step = agent.config.learning_starts  # the actor acts from here on (no updates)
            loop_us = time_per_call(agent.trainer.gather, 2_000) * 1e6

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; Pendulum-v1, {HIDDEN}-{HIDDEN} MLPs, batch {BATCH}; "
          f"medians of {args.repeats} interleaved repeats of {args.updates} updates")  # fmt: skip
    print("ms per update; % of floor: the floor over the time (float32 sides: the float32 floor; bf16: the bf16 floor)")
    print("via dynamo: compiled, but each call through dynamo's frame and guards, its graph not captured")
    print("as bmm: the float32 floor's products that a compiled update runs as products; it computes the layers with")
    print(f"at most {THIN_INPUTS} inputs or one output elementwise, fused with their neighbours (StackedMLP)")
    print(f"{'algo':6}{'eager':>8}{'compiled':>10}{'via dynamo':>11}{'bf16':>8}{'bf16 comp':>10}{'SB3':>8}{'SB3/best':>10}"
          f"{'floor':>8}{'as bmm':>8}{'bf16 floor':>11}{'% eager':>9}{'% comp':>8}{'% bf16':>8}{'% bf16c':>9}{'products':>10}{'MFLOP':>7}")  # fmt: skip
    for algo, ms, n_products, mflop in rows:
        ours = [ms["float32", False], ms["float32", True], ms["bf16", False], ms["bf16", True]]
        best = min(t for t in ours if t is not None)
        sb3_txt = f"{ms['SB3']:8.2f}{ms['SB3'] / best:9.2f}x" if ms["SB3"] else f"{'-':>8}{'-':>10}"
        floors = [ms["floor"]] * 2 + [ms["floor bf16"]] * 2

        def num(x: float | None, width: int) -> str:
            return f"{x:{width}.2f}" if x is not None else f"{'-':>{width}}"

        def pct(f: float | None, t: float | None, width: int) -> str:
            return f"{100 * f / t:{width}.0f}%" if f is not None and t is not None else f"{'-':>{width + 1}}"

        print(f"{algo:6}{num(ours[0], 8)}{num(ours[1], 10)}{num(ms['float32', 'dynamo'], 11)}{num(ours[2], 8)}{num(ours[3], 10)}{sb3_txt}"
              f"{num(ms['floor'], 8)}{num(ms['as bmm'], 8)}{num(ms['floor bf16'], 11)}"
              + "".join(pct(f, t, w) for f, t, w in zip(floors, ours, (8, 7, 7, 8), strict=True))
              + f"{n_products:10d}{mflop:7.0f}")  # fmt: skip
    if not bf16:
        print("bf16 columns empty: this CPU has no native bfloat16 (AVX-512 BF16 or AMX)")
    if any(r[1]["SB3"] is None for r in rows):
        print('SB3 not installed: pip install -e ".[bench]" for the comparison')
    print(
        f"loop cost per env step outside updates ({args.algos[0]}, actor acting, noise, env step, buffer add): {loop_us:.0f} µs"
    )


if __name__ == "__main__":
    main()
