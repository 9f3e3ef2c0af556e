"""ActionScaler and flat_box_dim (core/spaces.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from actorcritic.core.spaces import ActionScaler, flat_box_dim
from actorcritic.errors import UserError

LOW = np.array([-2.0, 0.0, -1.0, 10.0])
HIGH = np.array([1.0, 5.0, 3.0, 10.5])


def box(dtype=np.float32, low=LOW, high=HIGH):
    return gym.spaces.Box(low=low.astype(dtype), high=high.astype(dtype), dtype=dtype)


def naive_to_env(a, low, high):
    return low + (np.asarray(a, np.float64) + 1.0) / 2.0 * (high - low)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_endpoints_and_center_map_to_low_high_and_midpoint(dtype):
    scaler = ActionScaler(box(dtype))
    np.testing.assert_allclose(scaler.to_env(-np.ones(4)), LOW, rtol=0, atol=1e-6)
    np.testing.assert_allclose(scaler.to_env(np.ones(4)), HIGH, rtol=0, atol=1e-6)
    np.testing.assert_allclose(scaler.to_env(np.zeros(4)), (LOW + HIGH) / 2, rtol=0, atol=1e-6)
    assert scaler.to_env(np.zeros(4)).dtype == dtype


def test_to_env_is_the_affine_map_and_round_trips():
    rng = np.random.default_rng(0)
    scaler = ActionScaler(box(np.float64))
    a = rng.uniform(-1, 1, size=(64, 4))  # batched [num_envs, action_dim]
    env = scaler.to_env(a)
    assert env.shape == (64, 4)
    np.testing.assert_allclose(env, naive_to_env(a, LOW, HIGH), rtol=1e-12, atol=1e-12)
    back = scaler.to_normalized(env)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, a, rtol=0, atol=1e-6)
    # And the other way: env actions -> [-1, 1] -> env actions.
    x = rng.uniform(LOW, HIGH, size=(64, 4))
    z = scaler.to_normalized(x)
    assert np.all(np.abs(z) <= 1 + 1e-6)
    np.testing.assert_allclose(scaler.to_env(z), x, rtol=0, atol=1e-5)


def test_to_env_clips_out_of_range_actions_to_the_box():
    scaler = ActionScaler(box(np.float32))
    a = np.array([[1.5, -3.0, 1.0 + 1e-7, -1.0 - 1e-7], [-1.2, 2.0, 0.0, 100.0]])
    env = scaler.to_env(a)
    expected = np.clip(naive_to_env(a, LOW, HIGH), LOW, HIGH)
    np.testing.assert_allclose(env, expected, rtol=0, atol=1e-6)
    assert np.all(env >= LOW.astype(np.float32)) and np.all(env <= HIGH.astype(np.float32))


def test_symmetric_unit_box_is_identity():
    space = gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
    scaler = ActionScaler(space)
    a = np.array([-0.7, 0.0, 0.25], dtype=np.float32)
    np.testing.assert_array_equal(scaler.to_env(a), a)
    np.testing.assert_array_equal(scaler.to_normalized(a), a)


@pytest.mark.parametrize(
    "space",
    [
        gym.spaces.Discrete(3),
        gym.spaces.MultiDiscrete([2, 3]),
        gym.spaces.MultiBinary(4),
        gym.spaces.Box(-1.0, 1.0, shape=(2, 2), dtype=np.float32),
        gym.spaces.Box(-1.0, 1.0, shape=(), dtype=np.float32),
    ],
)
def test_non_flat_box_action_spaces_are_user_errors(space):
    with pytest.raises(UserError, match="DDPG"):
        ActionScaler(space, "DDPG")


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (np.array([-np.inf, -1.0]), np.array([1.0, 1.0])),
        (np.array([-1.0, -1.0]), np.array([1.0, np.inf])),
        (np.full(2, -np.inf), np.full(2, np.inf)),
    ],
)
def test_unbounded_box_is_a_user_error(low, high):
    space = gym.spaces.Box(low=low, high=high, dtype=np.float64)
    with pytest.raises(UserError, match="bounded"):
        ActionScaler(space, "DDPG")


def test_flat_box_dim():
    assert flat_box_dim(gym.spaces.Box(-1, 1, shape=(5,)), "observation", "DDPG") == 5
    with pytest.raises(UserError, match=r"DDPG.*observation"):
        flat_box_dim(gym.spaces.Box(-1, 1, shape=(3, 4)), "observation", "DDPG")
    with pytest.raises(UserError, match="action"):
        flat_box_dim(gym.spaces.Discrete(4), "action", "TD3")
