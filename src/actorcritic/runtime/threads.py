"""Threads that follow the machine's load: torch gets the cores no other process is using, less one.

OpenMP's threads spin while they wait for each other, so a run with one thread per core slows about 3x
when one other busy process shares a 2-core machine, and two such runs side by side slow about 5x each
(``bench/threads.py``). One thread never collapses, but leaves the other cores idle on a quiet machine.
``AutoThreads`` re-reads the load every ``interval`` seconds and sets torch's thread count to the cores
the other processes leave free, keeping ``reserve`` of them (one) for the next process to start:

    others = (CPU time spent on this process's cores) - (this run's own CPU time)    over the interval
    threads = the most of 1, max_threads // 2 and max_threads that the free cores,
              floor(cores - others + slack) - reserve, hold

where the run's own time includes its child processes' (``own_seconds``: torch.compile's workers).
Keeping a core free is what makes a run's speed hold when another process starts beside it: a run that
took every core of an idle machine can keep only what is left once another busy process takes one, and
on a 2-core machine that was 72-84% of its speed alone (docs/speed.md, "Threads"). So on 2 cores auto
runs on one thread, as fast beside a busy process as alone; on 16 it takes 8 of them.

It starts on one thread and takes its first reading as training starts, over the time since it was made
(at least ``first_interval`` seconds, 0.1, waited out if need be), so that the count is set before the
first update: compiled, an update builds a graph for the count it first runs on, and a reading 0.1 s into
the run came after the default job's first update, which then built a second graph at the next count
(about 1 s more of the warm-cache compile). The counts it moves between gave identical parameters for
DDPG, TD3 and SAC on the development machine (MKL on an AMD EPYC), eager and compiled;
``tests/runtime/test_threads.py`` checks it to float rounding, since another BLAS, or a compiled kernel,
may split a sum across threads: on an Intel Xeon (2026-12-05) one and two threads differ in the last
bits, which training amplifies (docs/cli.md#threads), so runs that must repeat exactly fix the count.
A compiled update has a graph per count (dynamo guards the count, and inductor's kernels are built for
it), so a count's kernels never spin on a taken core. Linux only (it reads ``/proc/stat``); elsewhere it
stays on one thread. ``shared_cores_note`` tells a run that other processes held it to fewer threads.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from actorcritic.runtime.callbacks import Callback, RunState
from actorcritic.runtime.denormals import flush_denormals

PROC_STAT = Path("/proc/stat")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def set_threads(n: int) -> None:
    """Torch's intra-op threads, and numba's for the swarm's neighbour search, which starts its pool when
    the swarm is imported (``actorcritic.envs.swarm.neighbours``), before torch's: numba's pool started
    after torch's made a run beside one busy process 2.6x slower, on one thread each. A run without the
    swarm starts no numba pool at all: with numba's threads started, a compiled DDPG update took 3.3-3.9
    ms against 2.7-3.2 ms without (4,000 updates, 2 threads, 5 runs against 4, interleaved)."""
    torch.set_num_threads(n)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    else:  # read when numba is first imported (by the swarm, if this run makes one)
        os.environ["NUMBA_NUM_THREADS"] = str(n)


def usable_cores() -> list[int]:
    """The cores this process may run on."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


def busy_seconds(cores: list[int], stat: Path = PROC_STAT) -> float | None:
    """CPU seconds spent on ``cores`` since boot, by every process (None where /proc/stat is missing)."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    wanted = {f"cpu{c}" for c in cores}
    ticks = 0
    for line in lines:
        name, *fields = line.split()
        if name in wanted:
            values = [int(v) for v in fields]
            ticks += sum(values[:8]) - values[3] - values[4]  # all but idle and iowait (guest is inside user)
    return ticks / TICKS_PER_SECOND


def own_seconds(proc: Path = Path("/proc")) -> float:
    """CPU seconds of this process, its finished children and its live descendants (torch.compile's worker
    processes, which would otherwise count as another process's load). Without ``/proc`` (or its
    ``children`` files), the process and its finished children only."""
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    stack = [os.getpid()]  # a tree: each process is listed once, by the thread that started it
    while stack:
        pid = stack.pop()
        try:
            tasks = os.listdir(proc / str(pid) / "task")
        except OSError:
            continue
        for tid in tasks:
            try:
                children = (proc / str(pid) / "task" / tid / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                stack.append(child)
                try:  # utime, stime and its finished children's cutime, cstime: fields 14-17 (after the name)
                    fields = (proc / str(child) / "stat").read_text().rpartition(")")[2].split()
                    total += sum(int(f) for f in fields[11:15]) / TICKS_PER_SECOND
                except (OSError, IndexError, ValueError):
                    pass
    return total


class AutoThreads(Callback):
    """Keep torch's thread count at the cores other processes leave free: read as training starts (over
    the time since it was made, at least ``first_interval`` s), then every ``interval`` s.

    ``agent.learn(steps, callbacks=[AutoThreads()])``; ``actorcritic train`` adds it unless ``--threads N``,
    having set numba's threads (the swarm's) to one first (``set_threads(1)``).
    ``max_threads`` defaults to torch's own default (one per physical core) capped by the usable cores.
    ``reserve`` is the number of free cores left to other processes (default: one where there are two or
    more usable cores). ``slack`` is the share of a core that other processes may use before it counts as taken. ``cores``,
    ``clock``, ``cpu_clock`` (this run's CPU seconds, its child processes' included), ``busy`` (CPU seconds
    spent on the cores, by every process) and ``sleep`` are the machine's, and replaceable for tests.
    """

    def __init__(self, max_threads: int | None = None, interval: float = 1.0, first_interval: float = 0.1,
                 slack: float = 0.3, reserve: int | None = None, cores: list[int] | None = None, clock: Callable[[], float] = time.monotonic,
                 cpu_clock: Callable[[], float] = own_seconds,
                 busy: Callable[[list[int]], float | None] = busy_seconds,
                 sleep: Callable[[float], None] = time.sleep):  # fmt: skip
        self.cores = cores if cores is not None else usable_cores()
        self.max_threads = max(1, min(max_threads or torch.get_num_threads(), len(self.cores)))
        # at most three counts: a compiled update keeps a graph per count (dynamo guards it), 8 at most
        self.levels = sorted({1, max(1, self.max_threads // 2), self.max_threads})
        self.interval, self.slack = interval, slack
        self.reserve = (1 if len(self.cores) > 1 else 0) if reserve is None else reserve
        self.idle_threads = self._threads(free=len(self.cores) + slack - self.reserve)  # on an idle machine
        self.first_interval = first_interval
        self.clock, self.cpu_clock, self.busy, self.sleep = clock, cpu_clock, busy, sleep
        self.threads = 1
        self.history: list[tuple[float, int]] = []  # (seconds since the start, threads) at each change
        self._start = self._sample()  # the last reading; the first is taken here, when made
        self._t0 = self._read = 0.0

    def on_training_start(self, s: RunState) -> bool | None:
        if s.member == 0:
            first = not self.history
            if first:  # the first run: one thread until the first reading
                torch.set_num_threads(1)
                self.threads, self._t0 = 1, self.clock()
                self.history.append((0.0, 1))
            wait = self._start[0] + self.first_interval - self.clock()
            if wait > 0:
                self.sleep(wait)
            self.update()
            if first:
                self._read = self.clock() - self._t0  # the count follows the load from here
        return None

    def on_step(self, s: RunState) -> bool | None:
        if s.member == 0 and self.clock() - self._start[0] >= self.interval:
            self.update()
        return None

    def _sample(self) -> tuple[float, float, float | None]:
        return self.clock(), self.cpu_clock(), self.busy(self.cores)

    def shared_cores_note(self, share: float = 0.1) -> str | None:
        """A line for the run's report when, from its first reading on, it spent ``share`` or more of its
        time on fewer threads than an idle machine gives it (``idle_threads``) because other processes kept cores busy (else None): why
        it took longer than on an idle machine, and how to fix the count."""
        if not self.history or self.idle_threads == 1:
            return None
        # the counts from the first reading on: the one it set (or kept), then each change after it
        at_read = [n for t, n in self.history if t <= self._read][-1]
        counts = [(self._read, at_read)] + [(t, n) for t, n in self.history if t > self._read]
        now = self.clock() - self._t0
        ends = [t for t, _ in counts[1:]] + [now]
        fewer = sum(end - t for (t, n), end in zip(counts, ends, strict=True) if n < self.idle_threads)
        elapsed = now - self._read
        if elapsed <= 0 or fewer < share * elapsed:
            return None
        least = min(n for _, n in counts)
        return (f"threads: other processes kept cores busy for {fewer / elapsed:.0%} of this run's time, so it ran on fewer "
                f"threads then (down to {least} of {self.idle_threads}); --threads N fixes the count")  # fmt: skip

    def _threads(self, free: float) -> int:
        """The most threads of ``levels`` that ``free`` cores hold (at least one)."""
        return max(n for n in self.levels if n <= max(1, int(free)))

    def update(self) -> int:
        """Read the load since the last call and set the thread count; returns it."""
        (t0, own0, busy0), (t1, own1, busy1) = self._start, (now := self._sample())
        self._start = now
        if busy0 is None or busy1 is None or t1 <= t0:
            return self.threads  # no /proc/stat: stay where we are (one thread)
        others = max(0.0, (busy1 - busy0) - (own1 - own0)) / (t1 - t0)
        threads = self._threads(free=len(self.cores) - others + self.slack - self.reserve)
        if threads != self.threads:
            torch.set_num_threads(threads)
            flush_denormals()  # as the loop did at the start, now on each of the threads this count uses
            self.threads = threads
            self.history.append((round(t1 - self._t0, 3), threads))
        return threads
