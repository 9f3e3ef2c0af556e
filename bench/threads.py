"""Thread settings under load: wall seconds of the same short `actorcritic train` job with each setting, on a
quiet machine, beside one busy process, and as two runs at once.

    python bench/threads.py [--steps 3000] [--repeats 3] [--settings auto "threads 1" ...] [--conditions alone ...]

Settings: ``--threads auto`` (``actorcritic train``'s default: the cores other processes leave free, less one
kept for the next process, re-read every second: one thread on 2 cores); one thread per core (torch's own default, ``--threads N``); ``--threads 1``; one thread per
core with OpenMP's passive wait policy (``OMP_WAIT_POLICY=PASSIVE``: idle threads sleep instead of
spinning); and both of those with EEVDF's short time slices (Linux 6.12 and later: ``sched_setattr`` asks
for a 0.1 ms slice for the run's threads instead of the default, 1.4 ms on 2 CPUs, so that a thread that
wakes or waits gets its core back from the busy process sooner). Conditions: alone; beside one process
spinning on a core (any busy program); two runs of the setting started together, and a second run joining
one that has run for 10 s (each the time of the slower run, from its own start). Runs are interleaved
(setting by setting within each repeat), after an untimed run of each setting that leaves its compiled
update in the caches, and the table shows medians, and each setting's speed in each condition as a share
of its speed alone.

With ``threads 1`` and one thread per core among the settings, it also prints the most any setting could keep of its speed alone beside one busy process, if
the scheduler shares the cores fairly: Amdahl's law fitted to the two times alone splits the job into a
part on one thread (which keeps a whole core beside the busy process) and a part that divides over the
cores (whose threads and the busy process's share them equally).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

CORES = len(os.sched_getaffinity(0))
SETTINGS = {
    "auto": (["--threads", "auto"], {}),
    f"{CORES} threads": (["--threads", str(CORES)], {}),
    "threads 1": (["--threads", "1"], {}),
    "passive wait": (["--threads", str(CORES)], {"OMP_WAIT_POLICY": "PASSIVE"}),
    "short slices": (["--threads", str(CORES)], {"BENCH_SLICE_US": "100"}),
    "short slices, passive": (["--threads", str(CORES)], {"BENCH_SLICE_US": "100", "OMP_WAIT_POLICY": "PASSIVE"}),
}
SPIN = "while True: pass"
# Sets the calling thread's time slice (struct sched_attr, version 0: 48 bytes; sched_runtime is the slice of a
# SCHED_OTHER thread, and sched_nice must repeat the thread's nice value, which the call also sets) and execs the
# command, which keeps it, as do the threads it starts. x86-64 and arm64 only. A kernel that takes the call but
# not the slice (before 6.12) is caught by reading the slice back.
SLICE = """import ctypes, os, platform, struct, sys
number = {"x86_64": 314, "aarch64": 274}[platform.machine()]
nice, ns = os.getpriority(os.PRIO_PROCESS, 0), int(sys.argv[1]) * 1000
attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, 0, 0, nice, 0, ns, 0, 0), 48)
if ctypes.CDLL(None, use_errno=True).syscall(number, 0, attr, 0) != 0:
    sys.exit(f"sched_setattr: {os.strerror(ctypes.get_errno())} (EEVDF's slices need Linux 6.12 or later)")
try:  # present with the kernel's scheduler debug info
    lines = [" ".join(line.split()) for line in open("/proc/self/sched")]
except OSError:
    lines = None
if lines is not None and f"se.slice : {ns}" not in lines:
    sys.exit("this kernel ignored the slice (EEVDF's slices need Linux 6.12 or later)")
os.execv(sys.argv[2], sys.argv[2:])
"""


@contextlib.contextmanager
def busy_process(busy: bool = True):
    """One process spinning on a core while the block runs (none if not ``busy``)."""
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if busy else None
    try:
        yield
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


CONDITIONS = {  # name: (start delays of the runs in seconds, a busy process beside them)
    "alone": ([0.0], False),
    "beside a busy process": ([0.0], True),
    "two runs at once": ([0.0, 0.0], False),
    "a run joining one at 10 s": ([0.0, 10.0], False),
}


def run(steps: int, flags: list[str], env: dict[str, str], delays: list[float]) -> float:
    """The longest wall time, each from its own start, of runs of the job started ``delays`` seconds in."""
    with tempfile.TemporaryDirectory() as tmp:
        launch = [sys.executable, "-c", SLICE, env["BENCH_SLICE_US"]] if "BENCH_SLICE_US" in env else []
        cmd = [*launch, sys.executable, "-m", "actorcritic", "train", "--total-steps", str(steps), "--learning-starts", "1000",
               "--eval-interval", "0", "--eval-episodes", "1", "--no-progress", *flags]  # fmt: skip
        t0 = time.perf_counter()
        procs, starts = [], []
        for i, delay in enumerate(delays):
            time.sleep(max(0.0, t0 + delay - time.perf_counter()))
            starts.append(time.perf_counter())
            procs.append(subprocess.Popen([*cmd, "--run-dir", f"{tmp}/run{i}"], env={**os.environ, **env},
                                          stdout=subprocess.DEVNULL))  # fmt: skip
        ends = [0.0] * len(procs)
        while not all(ends):
            for i, p in enumerate(procs):
                if not ends[i] and p.poll() is not None:
                    if p.returncode != 0:
                        raise RuntimeError(f"{' '.join(cmd[len(launch) :])} failed")
                    ends[i] = time.perf_counter()
            time.sleep(0.05)
        return max(end - start for start, end in zip(starts, ends, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS),
                        help="alone is always run: the shares are of the speed alone")  # fmt: skip
    args = parser.parse_args()
    conditions = [c for c in CONDITIONS if c == "alone" or c in args.conditions]
    times: dict[tuple[str, str], list[float]] = {}
    for name in args.settings:  # untimed: torch's compile cache and the precompiled update, for each setting
        run(2000, [*SETTINGS[name][0], "--compile", "on"], SETTINGS[name][1], [0.0])
    for r in range(args.repeats):
        for condition in conditions:
            delays, busy = CONDITIONS[condition]
            for name in args.settings:
                flags, env = SETTINGS[name]
                with busy_process(busy):
                    seconds = run(args.steps, flags, env, delays)
                times.setdefault((condition, name), []).append(seconds)
                print(f"repeat {r}: {condition:24} {name:22} {seconds:6.1f} s", flush=True)
    print(f"\nDDPG on Pendulum-v1, {args.steps} env steps (1000 random, then one update per step), {os.cpu_count()} cores; "
          f"medians of {args.repeats} interleaved repeats, wall seconds")  # fmt: skip
    names = args.settings
    print(f"{'condition':28}" + "".join(f"{n:>22}" for n in names))
    for condition in conditions:
        row = [statistics.median(times[(condition, n)]) for n in names]
        alone = [statistics.median(times[("alone", n)]) for n in names]
        print(f"{condition:28}" + "".join(f"{t:10.1f} s ({a / t:4.0%} speed)" for t, a in zip(row, alone, strict=True)))
    print("speed: the setting's speed alone over its speed in the condition (100%: no slower than alone)")
    one, every = "threads 1", f"{CORES} threads"
    if one in names and every in names and CORES > 1:
        t1, tc = (statistics.median(times[("alone", n)]) for n in (one, every))
        best = fair_share_time(t1, tc, CORES)
        print(f"beside a busy process, at best (fair shares of the cores, Amdahl's law fitted to {one} and {every} "
              f"alone): {best:.1f} s, {tc / best:.0%} of {every}'s speed alone")  # fmt: skip


def fair_share_time(t1: float, tc: float, cores: int) -> float:
    """The least time beside one busy single-threaded process of a job that takes ``t1`` on one thread and
    ``tc`` on ``cores`` threads alone, if the scheduler gives every runnable thread an equal share of the cores.

    Amdahl: the job is a part ``s`` that runs on one thread and a part ``p`` that divides over the threads,
    ``t1 = s + p`` and ``tc = s + p / cores``. Beside the busy process, the one-thread part keeps a core;
    the divided part runs at ``cores * cores / (cores + 1)`` cores on ``cores`` threads (each runnable thread
    gets ``cores / (cores + 1)`` of one) or ``cores - 1`` on one thread fewer, whichever is more."""
    p = max(0.0, (t1 - tc) * cores / (cores - 1))
    rate = max(cores * cores / (cores + 1), cores - 1)
    return (t1 - p) + p / rate


if __name__ == "__main__":
    main()
