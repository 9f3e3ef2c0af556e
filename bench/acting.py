"""What acting inside the update saves: ms per env step of the loop's turn, whose last update also computes
the next exploration action (``update_and_act_from``), against an env step whose action is the policy's own
call followed by an update that computes none. Both sides compiled, in one process, on Pendulum-v1 with
256-256 networks and batch 256, after the same warm-up; blocks of ``--steps`` env steps, interleaved
(the order alternates), medians shown, with the median of the per-pair ratios.

    python bench/acting.py [--algos ddpg td3 sac] [--blocks 15] [--steps 100] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics

import torch
from _warm import warm_agent
from updates import time_per_call

from actorcritic import ALGOS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"], choices=sorted(ALGOS))
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; Pendulum-v1, 256-256, batch 256, compiled; "
          f"medians of {args.blocks} interleaved blocks of {args.steps} env steps")  # fmt: skip
    print(f"{'algo':6}{'update acts':>13}{'acts alone':>12}{'saved':>8}{'pair ratio':>12}")
    for algo in args.algos:
        fused, separate = (warm_agent(algo, compile=True) for _ in range(2))

        def act_then_update(trainer=separate.trainer) -> None:
            trainer.gather()  # an env step with the policy's own call
            trainer.train(1)  # then an update that computes no action

        turn = fused.trainer.turn  # an env step with the pending action, then the update that gives the next one
        for _ in range(6):  # untimed: compiles every branch of both
            turn()
            act_then_update()
        times: dict[str, list[float]] = {"fused": [], "separate": []}
        for block in range(args.blocks):
            order = [("fused", turn), ("separate", act_then_update)]
            for side, fn in order if block % 2 else order[::-1]:
                times[side].append(1e3 * time_per_call(fn, args.steps))
        f, s = statistics.median(times["fused"]), statistics.median(times["separate"])
        pairs = statistics.median(b / a for a, b in zip(times["fused"], times["separate"], strict=True))
        print(f"{algo:6}{f:13.2f}{s:12.2f}{100 * (1 - f / s):7.1f}%{pairs:11.3f}x")
        for agent in (fused, separate):
            agent.close()


if __name__ == "__main__":
    main()
