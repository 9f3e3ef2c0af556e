"""Training throughput of K seeds batched in one process (``--seeds K``) against K runs one after another.

Both sides run the real training loop (env steps, exploration, replay, one update per env step) on
Pendulum-v1 with the same config, after the same warm-up: the batched group does ``--steps`` env steps
per member, the sequential side trains K single agents for ``--steps`` each. Throughput is env steps of
all members per second. Repeats are interleaved (batched, sequential, batched, ...); medians are shown,
and the speed-up is also given as the median (and range) of each repeat's own ratio, sequential time over
batched time: a repeat's two sides run seconds apart, so a slow spell of a shared machine cancels there.

    python bench/seeds.py [--algos ddpg td3 sac] [--k 8] [--steps 100] [--repeats 9] [--hidden 256] [--threads N]
                          [--compile] [--precision bf16]

With ``--compile`` every agent, the group and each single one, runs its update compiled (``compile=True``);
each is warmed up untimed first, so compile time is not in the figures.

"products" is what bounds the group from below: the matrix products of one update of the whole group,
each timed alone at its shape as one ``bmm`` over the K members (``bench/updates.py``'s floor; twin
critics as two products), in ms per group env step; it is timed in every repeat, beside the two sides.
"as bmm" is the part of them a compiled update runs as products: it computes a layer with at most 4
inputs (Pendulum's observation and action) or with one output elementwise, fused with its neighbours,
where a ``bmm`` of that thin shape costs its call more than its work (``StackedMLP``). With small networks
those thin products are most of "products", so compiled, "as bmm" is the floor the group's graph meets.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _warm import warm_agent
from updates import floor_seconds, required_products

from actorcritic import ALGOS


def train_seconds(agents: list, steps: int) -> float:
    """Seconds for ``steps`` env steps (each with one update, past the warm-up) of every agent, one agent after another."""
    started = time.perf_counter()
    for agent in agents:
        for _ in range(steps):
            agent.trainer.turn()  # the loop's turn: an env step, then an update that also gives the next action
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"], choices=sorted(ALGOS))
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--compile", action="store_true", help="every agent's update compiled")
    parser.add_argument("--precision", default="float32", choices=["float32", "bf16"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = list(range(args.k))
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32  # of the products column
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; Pendulum-v1, {args.hidden}-{args.hidden} "
          f"MLPs, batch {args.batch}, one update per env step; K = {args.k}; medians of {args.repeats} repeats "
          f"of {args.steps} steps per member; {'compiled' if args.compile else 'eager'}, {args.precision}")  # fmt: skip
    print(f"{'algo':6}{'batched SPS':>13}{'sequential SPS':>16}{'speed-up':>10}{'ms/step batched':>17}"
          f"{'ms/step seq':>13}{'per-repeat speed-up (range)':>30}{'products':>10}{'as bmm':>8}")  # fmt: skip
    for algo in args.algos:
        group, *singles = [
            warm_agent(algo, s, args.hidden, args.batch, compile=args.compile, precision=args.precision)
            for s in [seeds, *seeds]
        ]
        train_seconds([group, *singles], 4)  # untimed: compiles every branch (TD3: both) of every agent
        batched, sequential, products, as_bmm = [], [], [], []
        needed = required_products(algo, args.hidden, args.batch)
        needed_as_bmm = required_products(algo, args.hidden, args.batch, as_bmm=True)
        for _ in range(args.repeats):
            batched.append(train_seconds([group], args.steps))
            sequential.append(train_seconds(singles, args.steps))
            products.append(floor_seconds(needed, dtype=dtype, members=args.k))
            as_bmm.append(floor_seconds(needed_as_bmm, dtype=dtype, members=args.k))
        total = args.k * args.steps
        b, s = statistics.median(batched), statistics.median(sequential)
        ratios = [si / bi for si, bi in zip(sequential, batched, strict=True)]
        spread = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        print(f"{algo:6}{total / b:13.0f}{total / s:16.0f}{s / b:9.2f}x{1e3 * b / args.steps:17.2f}"
              f"{1e3 * s / total:13.2f}{spread:>30}{1e3 * statistics.median(products):10.2f}"
              f"{1e3 * statistics.median(as_bmm):8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
