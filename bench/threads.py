"""Thread settings under load: wall seconds of the same short `actorcritic train` job with each setting, on a
quiet machine, beside one busy process, and as two runs at once.

    python bench/threads.py [--steps 3000] [--repeats 3]

Settings: one thread per core (torch's own default, ``--threads N``); ``--threads 1`` (``actorcritic train``'s
default); one thread per core with OpenMP's passive wait policy (``OMP_WAIT_POLICY=PASSIVE``: idle threads
sleep instead of spinning). Conditions: alone; beside one process spinning on a core (any busy program);
two runs of the setting at once (the time of the slower). Runs are interleaved (setting by setting within
each repeat) and the table shows medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CORES = len(os.sched_getaffinity(0))
SETTINGS = {
    f"{CORES} threads": (["--threads", str(CORES)], {}),
    "threads 1": (["--threads", "1"], {}),
    "passive wait": (["--threads", str(CORES)], {"OMP_WAIT_POLICY": "PASSIVE"}),
}
SPIN = "while True: pass"


def run(steps: int, flags: list[str], env: dict[str, str], copies: int = 1) -> float:
    """Seconds until ``copies`` concurrent runs of the job have all finished."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "actorcritic", "train", "--total-steps", str(steps), "--learning-starts", "1000",
               "--eval-interval", "0", "--eval-episodes", "1", "--no-progress", *flags]  # fmt: skip
        started = time.perf_counter()
        procs = [
            subprocess.Popen([*cmd, "--run-dir", f"{tmp}/run{i}"], env={**os.environ, **env}, stdout=subprocess.DEVNULL)
            for i in range(copies)
        ]
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[tuple[str, str], list[float]] = {}
    for r in range(args.repeats):
        for condition in ("alone", "beside a busy process", "two runs at once"):
            for name, (flags, env) in SETTINGS.items():
                spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if condition.startswith("beside") else None
                try:
                    seconds = run(args.steps, flags, env, copies=2 if condition.startswith("two") else 1)
                finally:
                    if spinner is not None:
                        spinner.kill()
                        spinner.wait()
                times.setdefault((condition, name), []).append(seconds)
                print(f"repeat {r}: {condition:24} {name:14} {seconds:6.1f} s", flush=True)
    print(f"\nDDPG on Pendulum-v1, {args.steps} env steps (1000 random, then one update per step), {os.cpu_count()} cores; "
          f"medians of {args.repeats} interleaved repeats, wall seconds")  # fmt: skip
    names = list(SETTINGS)
    print(f"{'condition':26}" + "".join(f"{n:>15}" for n in names))
    for condition in ("alone", "beside a busy process", "two runs at once"):
        row = [statistics.median(times[(condition, n)]) for n in names]
        print(f"{condition:26}" + "".join(f"{t:15.1f}" for t in row))


if __name__ == "__main__":
    main()
