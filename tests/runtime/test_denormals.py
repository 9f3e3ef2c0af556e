"""Denormals flushed on every thread that trains: the main thread and torch's OpenMP workers, including
the workers that existed before the flush. Each check runs in a fresh interpreter, whose threads no
earlier test has touched."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libgomp's workers: Linux")

# Two threads, a pool already started, and an op that splits a tensor of denormals between them:
# x * 1 keeps a denormal unless the thread computing it reads denormals as zero.
SETUP = """
import json, torch
torch.set_num_threads(2)
x = torch.full((1 << 18,), 1e-39)
assert (x * 1.0).count_nonzero() == x.numel()  # the pool is running, and nothing is flushed yet
def survivors(): return int((x * 1.0).count_nonzero())
"""


def run(script: str) -> dict:
    out = subprocess.run([sys.executable, "-c", SETUP + textwrap.dedent(script)], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


def test_flush_denormals_reaches_the_workers_that_already_exist():
    result = run("""
        torch.set_flush_denormal(True)  # the calling thread only
        main_only = survivors()
        from actorcritic.runtime.denormals import flush_denormals
        flush_denormals()
        print(json.dumps({"main_only": main_only, "all": survivors()}))
    """)
    assert 0 < result["main_only"] < 1 << 18  # the worker's share kept its denormals
    assert result["all"] == 0


def test_training_flushes_denormals():
    result = run("""
        from actorcritic import DDPG, DDPGConfig
        cfg = DDPGConfig(hidden_sizes=(8, 8), batch_size=8, learning_starts=20, eval_interval=0)
        DDPG("Pendulum-v1", cfg).learn(30)
        print(json.dumps({"all": survivors()}))
    """)
    assert result["all"] == 0
