"""Tiny envs whose correct critic targets are known in closed form (used by the tests)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class ConstantRewardEnv(gym.Env):
    """Reward 1 every step; the episode ends after ``horizon`` steps, by termination or truncation.

    The observation is t / horizon (``show_time=True``) or a constant 0 (``show_time=False``).
    Actions are ignored. With gamma < 1:
      - terminate, show_time: Q*(t) = (1 - gamma^(horizon - t)) / (1 - gamma)
      - truncate, constant obs: the time limit is not part of the state, so the correct target
        bootstraps at the cut and Q* = 1 / (1 - gamma) everywhere.
    """

    def __init__(
        self,
        mode: str = "terminate",
        horizon: int = 5,
        show_time: bool = True,
        nan_at: int | None = None,
    ):
        self.mode, self.horizon, self.show_time, self.nan_at = mode, horizon, show_time, nan_at
        self.observation_space = gym.spaces.Box(-1.0, 2.0, (1,), np.float32)
        self.action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
        self.t = 0
        self.total_steps = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.t / self.horizon if self.show_time else 0.0], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        assert self.action_space.contains(np.asarray(action, dtype=np.float32)), action
        self.t += 1
        self.total_steps += 1
        end = self.t >= self.horizon
        reward = float("nan") if self.nan_at is not None and self.total_steps >= self.nan_at else 1.0
        return (
            self._obs(),
            reward,
            end and self.mode == "terminate",
            end and self.mode == "truncate",
            {},
        )


# Zero-argument variants, so they can be named as `--env toy_envs:Class`.
class TerminatingEnv(ConstantRewardEnv):
    def __init__(self):
        super().__init__(mode="terminate", horizon=5, show_time=True)


class TruncatingEnv(ConstantRewardEnv):
    def __init__(self):
        super().__init__(mode="truncate", horizon=5, show_time=True)


class TruncatingConstantEnv(ConstantRewardEnv):
    def __init__(self):
        super().__init__(mode="truncate", horizon=5, show_time=False)


class NaNRewardEnv(ConstantRewardEnv):
    """Rewards become NaN from the 60th step on."""

    def __init__(self):
        super().__init__(mode="truncate", horizon=5, show_time=True, nan_at=60)
