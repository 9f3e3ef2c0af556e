"""Action rescaling: the library works in [-1, 1]; the env's Box bounds appear only at the env boundary."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from actorcritic.errors import UserError


def flat_box_dim(space: gym.Space, what: str, algo: str) -> int:
    """Size of a 1-D Box space, or a clear error naming the algorithm that needs it."""
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise UserError(f"{algo} needs a 1-D continuous (Box) {what} space, but the env has {space}")
    return int(space.shape[0])


class ActionScaler:
    """Maps normalised actions in [-1, 1] to a bounded Box's [low, high] and back.

    The actor ends in tanh, the replay buffer stores normalised actions, and only the env sees
    ``low + (a + 1) / 2 * (high - low)``.
    """

    def __init__(self, space: gym.Space, algo: str = "this algorithm"):
        flat_box_dim(space, "action", algo)
        low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise UserError(f"{algo} needs a bounded action space (finite low and high), but the env has {space}")
        self.low, self.high = low, high
        self.scale = (high - low) / 2.0
        self.center = (high + low) / 2.0
        self.dtype = space.dtype

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """[-1, 1] -> [low, high], clipped so float error never leaves the box."""
        env_actions = np.multiply(actions, self.scale, dtype=np.float64)
        env_actions += self.center
        # np.clip's own steps, as ufuncs in place: np.clip's Python wrapper took longer than the arithmetic
        np.minimum(np.maximum(env_actions, self.low, out=env_actions), self.high, out=env_actions)
        return env_actions.astype(self.dtype, copy=False)

    def to_normalized(self, env_actions: np.ndarray) -> np.ndarray:
        """[low, high] -> [-1, 1]."""
        actions = (np.asarray(env_actions, np.float64) - self.center) / self.scale
        return actions.astype(np.float32)
