"""The SB3 side of the bench scripts gets the settings ours gets (needs the [bench] extra; skipped without)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _sb3 import model


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "MountainCarContinuous-v0"])  # half-ranges 2 and 1
def test_exploration_noise_is_the_same_fraction_of_the_half_range_as_ours(env_id):
    """SB3 adds its action noise to the action rescaled to [-1, 1]: sigma 0.1 there is 0.1 of the half-range."""
    m = model("td3", env_id, seed=0, learning_starts=0, noise_sigma=0.1)
    m._setup_learn(1)  # sets the first observation
    half_range = (m.action_space.high - m.action_space.low) / 2
    greedy = m.predict(m._last_obs, deterministic=True)[0]
    explored = np.array([m._sample_action(0, m.action_noise, 1)[0] for _ in range(2000)])
    spread = (explored - greedy).std(axis=0) / half_range
    assert spread == pytest.approx(0.1, rel=0.1)
