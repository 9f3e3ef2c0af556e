"""Freed memory kept by the process for the next update, not handed back to the kernel (glibc's malloc).

A compiled update allocates its intermediate tensors afresh on every call and frees them at its end.
glibc's malloc gives the top of its heap back to the kernel whenever more than its trim threshold lies
free there, and the next call's first write to each of those 4 KiB pages is then a page fault: 3.2 µs
each on this project's machine, a VM. A compiled DDPG group of 8 seeds with 64-64 networks took 145-230
faults per env step in most runs, every one of them (``perf record -e page-faults``) in the two fused
kernels that write fresh 512 KiB gradient buffers: 0.58 ms of system time per env step, against 0.08 ms
with the memory kept (2026-12-03).

``keep_freed_memory`` turns off malloc's trimming of the heap and sets its mmap threshold to 32 MiB, the
most glibc's own sliding threshold reaches: freed blocks stay with the process and the next call reuses
them, while anything bigger (a replay buffer) is still mapped and unmapped on its own. A training process
holds on to at most its peak heap. Other C libraries are left as they are.

A trim threshold of 64 MiB (this module's first setting) was not enough for an 8-seed SAC group at
64-64: in three of five processes glibc trimmed and refilled the heap's top all run long, 15-120 faults
per env step (``strace``: a 96 MiB ``brk`` shrink, then growth 1 MiB at a time), while a process with
trimming off settled at no faults after its first 750 steps, at the same resident size (2026-12-03).
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, <malloc.h>
NEVER = -1  # as the trim threshold: malloc never hands the heap's top back to the kernel (mallopt(3))
MMAP_THRESHOLD = 32 << 20  # blocks of this size and more get their own mapping, unmapped when freed


def keep_freed_memory() -> bool:
    """Keep freed heap memory in the process (glibc on Linux); whether the setting took."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this interpreter runs on
    except AttributeError:  # a C library without mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, NEVER))
