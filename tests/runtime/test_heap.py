"""Freed heap memory kept by a training process: each check runs in a fresh interpreter and counts the
minor page faults of a churn of 512 KiB tensors, freed between small ones that stay (the pattern in
which glibc's malloc hands the heap's top back to the kernel and the next write faults it in again)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux")

CHURN = """
import json, resource, torch
def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def churn():
    kept = []
    for _ in range(6):
        big = torch.empty(1 << 17).fill_(1.0)  # 512 KiB, written
        kept.append(torch.empty(8))  # a small tensor allocated after it, freed only at the end
        del big
def faults_per_churn():
    for _ in range(5): churn()
    before = faults()
    for _ in range(50): churn()
    return (faults() - before) / 50
"""


def run(script: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHURN + textwrap.dedent(script)], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


def test_kept_memory_is_not_faulted_in_again():
    default = run("print(json.dumps({'faults': faults_per_churn()}))")
    kept = run("""
        from actorcritic.runtime.heap import keep_freed_memory
        took = keep_freed_memory()
        print(json.dumps({"took": took, "faults": faults_per_churn()}))
    """)
    if not kept["took"]:
        pytest.skip("not glibc: malloc's thresholds are left as they are")
    pages = 6 * (512 << 10) // 4096  # the churn's big tensors, in pages
    assert default["faults"] > pages / 2  # glibc's defaults fault them in again on most calls
    assert kept["faults"] < 8


def test_training_keeps_freed_memory():
    result = run("""
        from actorcritic import DDPG, DDPGConfig
        cfg = DDPGConfig(hidden_sizes=(8, 8), batch_size=8, learning_starts=20, eval_interval=0)
        DDPG("Pendulum-v1", cfg).learn(30)
        print(json.dumps({"faults": faults_per_churn()}))
    """)
    assert result["faults"] < 8
