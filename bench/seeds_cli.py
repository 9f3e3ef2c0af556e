"""``actorcritic train --seeds K`` as users run it: one group in one process (``--processes 1``), the seeds
split over processes (``--processes auto``, the default on a CPU), and K single runs one after another.

Each side is whole ``actorcritic train`` commands (compiled, 64-64 networks by default, evaluations off).
Throughput is read inside the runs, from each member's metrics.csv: the wall time between env steps
``--from-step`` and ``--steps``, so start-up and compiling cancel: ``--from-step`` is 2000 at least, since a
TD3 run compiles the graph of its second branch (it steps the actor every other update) after its row at step
1000, and a window from there timed that compile in every single run. A side's time is the slowest member's
for the group sides (its members run at once) and the sum over the single runs. Sides are interleaved over
``--repeats``; medians, and the speed-ups over the single runs.

Each side's whole commands are timed too (start-up, compiling and every step, as a user waits for them:
the group sides' one command, the single runs' sum), and their speed-ups printed on a line of their own.
That measure counts the K - 1 start-ups a group saves, so it is above the in-run one, more so for short runs;
at the default job's length (``--steps 10000``) it is what a user of ``--seeds K`` gains.

The single runs use ``--threads auto``, as users run them; ``--single-threads auto 1`` also times them on one
thread (a DDPG turn at 64-64 is faster on one thread than on two in one process, see speed.md), and prints
the speed-ups over those too.

    python bench/seeds_cli.py [--algos ddpg td3 sac] [--k 8] [--hidden 64] [--steps 4000] [--from-step 2000]
                              [--repeats 3] [--single-threads auto [1]]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WARMUP = 1000  # random-action steps before the first update
LOG_EVERY = 1000  # env steps between a run's metrics rows: the window's ends must be rows
FIRST_ROW = WARMUP + LOG_EVERY  # the first row after TD3 has compiled both branches' graphs


def run(algo: str, seeds: int, processes: str, seed: int, run_dir: Path, args: argparse.Namespace,
        threads: str = "auto") -> float:  # fmt: skip
    """Run one ``actorcritic train`` command; returns its wall seconds, start to exit."""
    cmd = [sys.executable, "-m", "actorcritic", "train", algo, "--seed", str(seed), "--seeds", str(seeds),
           "--processes", processes, "--threads", threads, "--hidden-sizes", str(args.hidden), str(args.hidden),
           "--total-steps", str(args.steps), "--learning-starts", str(WARMUP), "--eval-interval", "0",
           "--eval-episodes", "1", "--log-interval", str(LOG_EVERY), "--compile", "on", "--no-progress",
           "--run-dir", str(run_dir)]  # fmt: skip
    for attempt in (1, 2):  # once more after a failed start (see speed.md: imports that fail on this machine)
        started = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode == 0:
            return time.perf_counter() - started
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"run {run_dir.name} failed (attempt {attempt}): {last}", file=sys.stderr, flush=True)
        shutil.rmtree(run_dir, ignore_errors=True)  # the retry starts afresh, as the first attempt did
    raise SystemExit(f"run {run_dir.name} failed twice: {' '.join(cmd)}")


def seconds(run_dir: Path, first: int, last: int) -> float:
    """A run's own wall time between env steps ``first`` and ``last`` (its metrics rows)."""
    with open(run_dir / "metrics.csv") as f:
        rows = {int(r["step"]): float(r["wall_time"]) for r in csv.DictReader(f)}
    return rows[last] - rows[first]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument(
        "--from-step",
        type=int,
        default=FIRST_ROW,
        help=f"at least {FIRST_ROW}: TD3 compiles its second graph after the row at {WARMUP}",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single-threads", nargs="+", default=["auto"], help="the single runs' --threads, each a side")
    args = parser.parse_args()
    if (
        args.from_step < FIRST_ROW
        or args.from_step % LOG_EVERY
        or args.steps % LOG_EVERY
        or args.steps <= args.from_step
    ):
        parser.error(f"--from-step and --steps must be multiples of {LOG_EVERY} (a run's metrics rows), --from-step "
                     f"at least {FIRST_ROW} (TD3 compiles its second graph after the row at {WARMUP}), --steps above it")  # fmt: skip
    k = args.k
    print(f"--seeds {k}, {args.hidden}-{args.hidden}, compiled; seconds of env steps {args.from_step}-{args.steps} "
          f"of all {k} members, medians of {args.repeats} interleaved repeats")  # fmt: skip
    print(f"{'algo':6}{'one group':>12}{'processes':>12}{'singles':>10}{'group x':>10}{'processes x':>13}  each repeat: group x, processes x; ...")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for algo in args.algos:
            singles = [f"singles {t}" for t in args.single_threads]
            times: dict[str, list[float]] = {side: [] for side in ("group", "processes", *singles)}
            whole: dict[str, list[float]] = {side: [] for side in times}
            for r in range(args.repeats):
                for side, processes in (("group", "1"), ("processes", "auto")):
                    d = Path(tmp) / f"{algo}-{side}-{r}"
                    whole[side].append(run(algo, k, processes, 0, d, args))
                    times[side].append(max(seconds(d / f"seed{s}", args.from_step, args.steps) for s in range(k)))
                for side, threads in zip(singles, args.single_threads, strict=True):
                    total = total_whole = 0.0
                    for s in range(k):
                        d = Path(tmp) / f"{algo}-single-{threads}-{r}-{s}"
                        total_whole += run(algo, 1, "1", s, d, args, threads)
                        total += seconds(d, args.from_step, args.steps)
                    times[side].append(total)
                    whole[side].append(total_whole)
            med = {side: statistics.median(v) for side, v in times.items()}
            wmed = {side: statistics.median(v) for side, v in whole.items()}
            for i, side in enumerate(singles):
                each = "; ".join(f"{times[side][r] / times['group'][r]:.2f}x, {times[side][r] / times['processes'][r]:.2f}x"
                                 for r in range(args.repeats))  # fmt: skip
                if i == 0:
                    print(f"{algo:6}{med['group']:12.2f}{med['processes']:12.2f}{med[side]:10.2f}"
                          f"{med[side] / med['group']:9.2f}x{med[side] / med['processes']:12.2f}x  {each}")  # fmt: skip
                else:
                    print(f"{'':6}  against the single runs on --threads {args.single_threads[i]}: {med[side]:.2f} s, "
                          f"one group {med[side] / med['group']:.2f}x, processes {med[side] / med['processes']:.2f}x  {each}")  # fmt: skip
                print(f"{'':6}  whole commands (start-up included), single runs on --threads {args.single_threads[i]}: "
                      f"one group {wmed['group']:.1f} s, processes {wmed['processes']:.1f} s, single runs {wmed[side]:.1f} s: "
                      f"{wmed[side] / wmed['group']:.2f}x, {wmed[side] / wmed['processes']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
