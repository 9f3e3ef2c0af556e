"""Ours against SB3 and SBX as whole processes on the same job: ms per env step with one update.

Every side trains Pendulum-v1 with 256-256 MLPs, batch 256, ``--learning-starts`` random steps, then one
update per env step, each run in a fresh process: ``actorcritic train`` eagerly, with ``--compile`` and
with ``--compile --precision bf16``, SB3's and SBX's (SB3 in JAX) ``model.learn``. Each runs for ``--steps`` and for ``--steps + --extra`` env
steps; the difference over ``--extra`` is the cost of one env step with its update, with start-up,
imports, JIT or torch.compile compilation and the final evaluation cancelled out: each repeat's pair of
lengths gives one figure, and the median over repeats is shown. Before timing, each compiled side runs
once untimed, so that every timed run finds the compile cache warm (a cold first compile takes tens of
seconds; landing in one run of a pair, it would swamp the difference). The whole command's time for ``--steps`` (median) is
shown too. Sides are interleaved, repeats too.

    python bench/peers.py [--algos ddpg td3 sac] [--sides ...] [--steps 3000] [--extra 2000] [--repeats 3] [--threads 2]

Needs the [bench] extra: pip install -e ".[bench]" (SB3, SBX). A side whose library is missing is skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEER = """
import sys
sys.path.insert(0, sys.argv[5])
from _sb3 import model
lib, algo, steps, starts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
model(algo, "Pendulum-v1", seed=0, learning_starts=starts, library=lib).learn(steps)  # sigma 0.1 of the half-range, as ours
"""

SIDES = {"ours": None, "ours --compile": None, "ours --compile bf16": None, "SB3": "stable_baselines3", "SBX": "sbx"}


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def command(side: str, algo: str, steps: int, starts: int, threads: int, run_dir: str) -> list[str]:
    if side.startswith("ours"):
        return [sys.executable, "-m", "actorcritic", "train", algo, "--batch-size", "256", "--hidden-sizes", "256",
                "256", "--total-steps", str(steps), "--learning-starts", str(starts), "--eval-interval", "0",
                "--eval-episodes", "1", "--run-dir", run_dir, "--no-progress", "--threads", str(threads),
                *(["--compile"] if "compile" in side else []),
                *(["--precision", "bf16"] if "bf16" in side else [])]  # fmt: skip
    return [sys.executable, "-c", PEER, side.lower(), algo, str(steps), str(starts), str(Path(__file__).parent)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--sides", nargs="+", default=list(SIDES), choices=list(SIDES))
    parser.add_argument("--steps", type=int, default=3_000)
    parser.add_argument("--extra", type=int, default=2_000)
    parser.add_argument("--learning-starts", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="ours: torch threads (SB3 and SBX use every core)")
    args = parser.parse_args()
    sides = [s for s in args.sides if SIDES[s] is None or importlib.util.find_spec(SIDES[s])]
    peers = [s for s in sides if SIDES[s] is not None]
    print(f"Pendulum-v1, 256-256, batch 256, {args.learning_starts} random steps then one update per env step; "
          f"ms per env step from {args.steps} and {args.steps + args.extra}-step runs; whole command s for "
          f"{args.steps} steps; ours on {args.threads} threads; medians of {args.repeats} interleaved repeats")  # fmt: skip
    print(f"{'algo':6}" + "".join(f"{s + ' ms':>23}" for s in sides) + "".join(f"{s + '/ours':>14}" for s in peers)
          + "".join(f" {s + ' s':>17}" for s in sides))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for algo in args.algos:
            t = {(s, n): [] for s in sides for n in (args.steps, args.steps + args.extra)}
            for side in [s for s in sides if "compile" in s]:  # untimed: the timed runs find the compile cache warm
                timed(
                    command(side, algo, args.learning_starts + 10, args.learning_starts, args.threads, f"{tmp}/w{algo}")
                )
            for r in range(args.repeats):
                for steps in (args.steps, args.steps + args.extra):
                    for side in sides:
                        cmd = command(
                            side, algo, steps, args.learning_starts, args.threads, f"{tmp}/{algo}{r}{steps}{len(side)}"
                        )
                        t[side, steps].append(timed(cmd))
            m = {k: statistics.median(v) for k, v in t.items()}
            # each repeat's own pair of lengths, run minutes apart, then the median over repeats
            repeats = {s: [1e3 * (b - a) / args.extra for a, b in zip(t[s, args.steps], t[s, args.steps + args.extra],
                                                                      strict=True)] for s in sides}  # fmt: skip
            per_step = {s: statistics.median(v) for s, v in repeats.items()}
            ours = [per_step[s] for s in sides if s.startswith("ours")]
            best = min(ours) if ours else math.nan  # no ours side: no ratios
            print(f"{algo:6}" + "".join(f"{per_step[s]:23.2f}" for s in sides)
                  + "".join(f"{per_step[s] / best:13.2f}x" for s in peers)
                  + "".join(f" {m[s, args.steps]:17.1f}" for s in sides))  # fmt: skip
            print("       ms per env step in each repeat: " + "; ".join(f"{s} " + ", ".join(f"{x:.2f}" for x in v) for s, v in repeats.items()))  # fmt: skip


if __name__ == "__main__":
    main()
