"""The default ``actorcritic train`` job as a whole process, today against an earlier commit, side by side.

    python bench/end_to_end.py [--baseline 4dbf3eb] [--sides "" " --compile off" " --threads 1"] [--repeats 5]

Every side runs the default job (``actorcritic train`` with no options but ``--run-dir``, ``--no-progress``
and ``--seed``; DDPG on Pendulum-v1 for 10k steps with its evaluations) in a fresh process: the baseline
from the source of ``--baseline`` (checked out with ``git worktree`` into a temporary folder, run with this
environment's packages), each other side from this checkout with its extra options. Repeat r trains seed
r on every side, sides interleaved, so five repeats give both the wall times (medians) and each side's
steps to the target over seeds 0-4, read from its ``summary.json``: the check that learning did not
change. Each side of this checkout that may compile (``--compile auto``, the default, does for this job)
runs 4k steps untimed first, compiled, so every timed run finds the compile cache warm.
A side's options start with a space, so that argparse does not read them as its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "import sys; from actorcritic.cli import main; sys.argv[0] = 'actorcritic'; main()"
ROOT = Path(__file__).resolve().parent.parent


def run(source: Path, flags: list[str], run_dir: Path) -> tuple[float, dict]:
    """Wall seconds of one whole command, and the run's summary."""
    cmd = [sys.executable, "-c", CLI, "train", "--run-dir", str(run_dir), "--no-progress", *flags]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(source / "src")})
    return time.perf_counter() - started, json.loads((run_dir / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="4dbf3eb", help="git ref of the baseline (default: before issue 17)")
    parser.add_argument("--sides", nargs="+", default=["", "--compile off", "--threads 1"],
                        help="this checkout's sides: extra options of each ('' is the default job)")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        added = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.baseline],
                               capture_output=True, text=True)  # fmt: skip
        if added.returncode:
            print(f"error: cannot check out --baseline {args.baseline}: {added.stderr.strip().splitlines()[-1]}",
                  file=sys.stderr)  # fmt: skip
            sys.exit(2)
        try:
            sides = {f"baseline {args.baseline}": (base, [])} | {
                f"ours {s}".strip(): (ROOT, shlex.split(s)) for s in args.sides
            }
            for name, (source, flags) in sides.items():  # untimed: warm the compile cache, both thread counts
                if source == ROOT and ["--compile", "off"] not in [flags[i : i + 2] for i in range(len(flags))]:
                    warm = [f for f in flags if f != "--compile"] + ["--compile", "on", "--total-steps", "4000"]
                    run(source, warm, Path(tmp) / f"w{name}")
            seconds: dict[str, list[float]] = {n: [] for n in sides}
            solved: dict[str, list] = {n: [] for n in sides}
            for r in range(args.repeats):
                for i, (name, (source, flags)) in enumerate(sides.items()):
                    t, summary = run(source, [*flags, "--seed", str(r)], Path(tmp) / f"{i}-{r}")
                    seconds[name].append(t)
                    solved[name].append(summary.get("solved_at_step"))
                    print(f"repeat {r} (seed {r}): {name:34} {t:6.1f} s, solved at {solved[name][-1]}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    base_name = next(iter(sides))
    base_s = statistics.median(seconds[base_name])
    print(f"\nthe default job (DDPG, Pendulum-v1, 10k steps), whole command; medians of {args.repeats} interleaved "
          f"repeats; speed-up = baseline's median / the side's")  # fmt: skip
    print(f"{'side':36}{'wall s':>8}{'speed-up':>10}   steps to target, seeds 0-{args.repeats - 1}")
    for name in sides:
        s = statistics.median(seconds[name])
        print(f"{name:36}{s:8.1f}{base_s / s:9.2f}x   {', '.join(str(x) for x in solved[name])}")


if __name__ == "__main__":
    main()
