import os
import sys
from pathlib import Path

import pytest
import torch

# Every compile through dynamo, as the tests that count its graphs expect, and no file left in torch's cache
# by a test: tests/unit/test_precompile.py turns precompiled updates on, with a folder of its own.
os.environ.setdefault("ACTORCRITIC_PRECOMPILE", "0")

# Lets tests import `toy_envs`, and lets the CLI load `--env toy_envs:Class` in-process.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _one_thread():
    """Small networks run fastest and most reproducibly on one thread; restore afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
