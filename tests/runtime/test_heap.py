"""Freed heap memory kept by a training process: each check runs in a fresh interpreter and counts the
minor page faults of a churn in which glibc's malloc, left as it is, can hand the heap's top back to the
kernel so that the next write faults it in again.

- 512 KiB tensors freed between small ones that stay, as a compiled update's buffers are. Whether glibc's
  defaults refault them depends on the heap's layout: 608 faults a round in some processes, none in
  others (one run in four here, two in three in another checkout). So only the kept side is checked.
- A 96 MiB working set (an 8-seed SAC update's size) allocated and freed at once. glibc's defaults
  refault it on every round, so this one also checks that the setting is what keeps it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux")
CHURN_PAGES = 6 * (512 << 10) // 4096  # the churn's big tensors, in pages

CHURN = """
import json, resource, torch
def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def churn():
    kept = []
    for _ in range(6):
        big = torch.empty(1 << 17).fill_(1.0)  # 512 KiB, written
        kept.append(torch.empty(8))  # a small tensor allocated after it, freed only at the end
        del big
def faults_per_churn(churn=churn, rounds=50):
    for _ in range(5): churn()
    before = faults()
    for _ in range(rounds): churn()
    return (faults() - before) / rounds
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes, libc.memset.argtypes = [ctypes.c_void_p], [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
blocks = [None] * 96  # allocated first, so nothing of this churn's own sits above its blocks on the heap
def working_set():
    for i in range(96): blocks[i] = libc.malloc(1 << 20)
    for i in range(96): libc.memset(blocks[i], 1, 1 << 20)
    for i in reversed(range(96)): libc.free(blocks[i]); blocks[i] = None
"""


def run(script: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHURN + textwrap.dedent(script)], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


def test_kept_memory_is_not_faulted_in_again():
    kept = run("""
        from actorcritic.runtime.heap import keep_freed_memory
        took = keep_freed_memory()
        print(json.dumps({"took": took, "faults": faults_per_churn()}))
    """)
    if not kept["took"]:
        pytest.skip("not glibc: malloc's thresholds are left as they are")
    assert kept["faults"] < CHURN_PAGES / 16  # the heap still grows in the first rounds (up to 13 seen), then none


def test_a_working_set_freed_at_once_is_kept():
    default = run("print(json.dumps({'faults': faults_per_churn(working_set, 5)}))")
    kept = run("""
        from actorcritic.runtime.heap import keep_freed_memory
        took = keep_freed_memory()
        print(json.dumps({"took": took, "faults": faults_per_churn(working_set, 5)}))
    """)
    if not kept["took"]:
        pytest.skip("not glibc: malloc's thresholds are left as they are")
    pages = 96 * (1 << 20) // 4096
    assert default["faults"] > pages / 2  # unmapped (or trimmed) and faulted in again every time
    assert kept["faults"] < 64  # a 64 MiB trim threshold still refaulted 16,352 pages a round here


def test_training_keeps_freed_memory():
    result = run("""
        from actorcritic import DDPG, DDPGConfig
        cfg = DDPGConfig(hidden_sizes=(8, 8), batch_size=8, learning_starts=20, eval_interval=0)
        DDPG("Pendulum-v1", cfg).learn(30)
        print(json.dumps({"faults": faults_per_churn()}))
    """)
    assert result["faults"] < CHURN_PAGES / 16
