"""Denormal floats read and written as zero on every thread that trains (x86's DAZ and FTZ, ARM's FZ).

Adam's first moment m of a weight whose gradient stays exactly zero (a dead ReLU unit) shrinks by beta1
per step, m <- 0.9 m, into the denormal range below 1.2e-38, and stays there: rounding to nearest never
takes 0.9 times a few units of the last place to zero. After 2,000 DDPG updates on Pendulum, 27% to 40%
of the moments of the 256x256 layers were denormal. An arithmetic operation on a denormal takes a
microcode assist of about a hundred cycles on Intel: the compiled update's two Adam kernels took 470 µs
each instead of 90 µs, and the whole update 4.2-4.5 ms instead of 3.6-3.8 ms (eager: 5.9-6.1 ms against
4.8-5.2 ms). Flushing them moves no parameter by anything a float32 network can hold (such an m moves
its weight by under 1e-30). TensorFlow and XLA run their CPU threads this way.

``torch.set_flush_denormal`` sets the calling thread only. OpenMP threads started later inherit it from
the thread that starts them; the ones torch's pool already has do not (a pool started at torch's
default count, then held at one thread, keeps its idle workers), so ``flush_denormals`` runs one OpenMP
parallel region that sets it on each thread of the current count (Linux, where torch's OpenMP is
libgomp). The loop calls it before training, and ``AutoThreads`` again whenever it changes the count.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import torch

_REGION = ctypes.CFUNCTYPE(None, ctypes.c_void_p)  # void fn(void *data), what GOMP_parallel runs on each thread


def _flush(_data: object) -> None:
    torch.set_flush_denormal(True)


_FLUSH = _REGION(_flush)  # kept alive: a ctypes callback must outlive every call through it


def _libgomp(maps: Path = Path("/proc/self/maps")) -> str | None:
    """The path of the libgomp this process has loaded, torch's own first (another library may load its
    own copy, whose threads torch does not use), or None."""
    try:
        paths = {line.split()[-1] for line in maps.read_text().splitlines() if line.strip()}
    except OSError:
        return None
    torch_dir = str(Path(torch.__file__).parent)
    loaded = sorted((not p.startswith(torch_dir), p) for p in paths if Path(p).name.startswith("libgomp"))
    return loaded[0][1] if loaded else None


def flush_denormals() -> None:
    """Treat denormal floats as zero on this thread and on each of torch's ``get_num_threads()`` threads.

    Call it before training, from the thread that trains, and again after raising the thread count.
    """
    torch.set_flush_denormal(True)
    threads = torch.get_num_threads()
    path = _libgomp() if threads > 1 and sys.platform.startswith("linux") else None
    if path is None:
        return
    gomp = ctypes.CDLL(path)  # the loaded library itself: dlopen of a loaded path returns its handle
    # void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags): what
    # `#pragma omp parallel num_threads(n)` compiles to; ctypes releases the GIL, which each thread's
    # callback takes in turn.
    gomp.GOMP_parallel.argtypes = [_REGION, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    gomp.GOMP_parallel.restype = None
    gomp.GOMP_parallel(_FLUSH, None, threads, 0)
