"""Evaluation: the deterministic policy on a separate env, each episode seeded reproducibly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from actorcritic.envs.make import episode_seed

EVAL_STREAM = 1_000_003  # keeps eval seeds apart from training episodes' seeds


@dataclass(frozen=True)
class EvalResult:
    returns: list[float]
    lengths: list[int]

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std_return(self) -> float:
        return float(np.std(self.returns))

    @property
    def mean_length(self) -> float:
        return float(np.mean(self.lengths))

    @property
    def std_length(self) -> float:
        return float(np.std(self.lengths))

    def as_dict(self) -> dict[str, float]:
        return {
            "mean_return": self.mean_return,
            "std_return": self.std_return,
            "mean_length": self.mean_length,
            "std_length": self.std_length,
            "episodes": len(self.returns),
        }


def evaluate_policy(
    env: gym.Env,
    act: Callable[[np.ndarray], np.ndarray],
    episodes: int,
    seed: int,
    round_id: int = 0,
    on_frame: Callable[[np.ndarray], None] | None = None,
) -> EvalResult:
    """Run ``episodes`` full episodes; ``act`` maps one observation to one env action.

    Episode i of round ``round_id`` is reset with a seed derived from (seed, round_id, i), so an
    evaluation gives the same numbers whether or not the run was interrupted and resumed.
    """
    returns, lengths = [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=episode_seed(seed, EVAL_STREAM, round_id, i))
        total, length, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total += float(reward)
            length += 1
            done = terminated or truncated
            if on_frame is not None:
                on_frame(env.render())
        returns.append(total)
        lengths.append(length)
    return EvalResult(returns, lengths)
