"""Threads that follow the machine's load: torch gets the cores no other process is using.

OpenMP's threads spin while they wait for each other, so a run with one thread per core slows about 3x
when one other busy process shares a 2-core machine, and two such runs side by side slow about 5x each
(``bench/threads.py``). One thread never collapses, but leaves the other cores idle on a quiet machine.
``AutoThreads`` re-reads the load every ``interval`` seconds and sets torch's thread count to the cores
the other processes leave free:

    others = (CPU time spent on this process's cores) - (this process's own CPU time)    over the interval
    threads = the most of 1, max_threads // 2 and max_threads that the free cores, floor(cores - others
              + slack), hold

It starts on one thread. The counts it moves between gave identical parameters for DDPG, TD3 and SAC
on the development machine (MKL on an AMD EPYC), eager and compiled; ``tests/runtime/test_threads.py``
checks it to float rounding, since another BLAS may split a sum across threads. A compiled update's own
kernels run on one thread (``cpp.threads = 1``), so that they never spin on a taken core; only its
matrix products follow the count.
Linux only (it reads ``/proc/stat``); elsewhere it stays on one thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

from actorcritic.runtime.callbacks import Callback, RunState

PROC_STAT = Path("/proc/stat")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def set_threads(n: int) -> None:
    """Torch's intra-op threads, and numba's for the swarm's neighbour search. Call it before torch's first
    parallel operation: numba's OpenMP pool started after torch's made a run beside one busy process 2.6x
    slower here, on one thread each."""
    torch.set_num_threads(n)
    import numba  # the swarm's

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


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


class AutoThreads(Callback):
    """Keep torch's thread count at the cores other processes leave free, re-read every ``interval`` s.

    ``agent.learn(steps, callbacks=[AutoThreads()])``; ``actorcritic train`` adds it unless ``--threads N``,
    having set numba's threads (the swarm's) to one first (``set_threads(1)``).
    ``max_threads`` defaults to torch's own default (one per physical core) capped by the usable cores.
    ``slack`` is the share of a core that other processes may use before it counts as taken. ``cores``,
    ``clock``, ``cpu_clock`` and ``busy`` (CPU seconds spent on the cores, by every process) are the
    machine's, and replaceable for tests.
    """

    def __init__(self, max_threads: int | None = None, interval: float = 1.0, slack: float = 0.3,
                 cores: list[int] | None = None, clock: Callable[[], float] = time.monotonic,
                 cpu_clock: Callable[[], float] = time.process_time,
                 busy: Callable[[list[int]], float | None] = busy_seconds):  # fmt: skip
        self.cores = cores if cores is not None else usable_cores()
        self.max_threads = max(1, min(max_threads or torch.get_num_threads(), len(self.cores)))
        # at most three counts: a compiled update keeps a graph per count (dynamo guards it), 8 at most
        self.levels = sorted({1, max(1, self.max_threads // 2), self.max_threads})
        self.interval, self.slack = interval, slack
        self.clock, self.cpu_clock, self.busy = clock, cpu_clock, busy
        self.threads = 1
        self.history: list[tuple[float, int]] = []  # (seconds since the start, threads) at each change
        self._start: tuple[float, float, float | None] | None = None
        self._t0 = 0.0

    def on_training_start(self, s: RunState) -> bool | None:
        if s.member == 0:
            if getattr(s.agent, "compile", False):  # a compiled update's own kernels on one thread, whatever
                import torch._inductor.config as inductor  # the count: only its matrix products follow it

                inductor.cpp.threads = 1
            torch.set_num_threads(1)
            self.threads = 1
            self._t0 = self.clock()
            self._start = self._sample()
            self.history.append((0.0, 1))
        return None

    def on_step(self, s: RunState) -> bool | None:
        if s.member == 0 and self._start is not None and self.clock() - self._start[0] >= self.interval:
            self.update()
        return None

    def _sample(self) -> tuple[float, float, float | None]:
        return self.clock(), self.cpu_clock(), self.busy(self.cores)

    def update(self) -> int:
        """Read the load since the last call and set the thread count; returns it."""
        assert self._start is not None, "on_training_start first"
        (t0, own0, busy0), (t1, own1, busy1) = self._start, (now := self._sample())
        self._start = now
        if busy0 is None or busy1 is None or t1 <= t0:
            return self.threads  # no /proc/stat: stay where we are (one thread)
        others = max(0.0, (busy1 - busy0) - (own1 - own0)) / (t1 - t0)
        free = int(len(self.cores) - others + self.slack)
        threads = max(n for n in self.levels if n <= max(1, free))
        if threads != self.threads:
            torch.set_num_threads(threads)
            self.threads = threads
            self.history.append((round(t1 - self._t0, 3), threads))
        return threads
