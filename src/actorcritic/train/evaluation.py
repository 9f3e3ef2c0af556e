"""Evaluation: the deterministic policy on a separate env, each episode seeded reproducibly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def evaluate_policies(
    envs: Sequence[gym.Env],
    act: Callable[[np.ndarray], np.ndarray],
    episodes: int,
    seeds: Sequence[int],
    round_id: int = 0,
    on_frame: Callable[[np.ndarray], None] | None = None,
) -> list[EvalResult]:
    """Evaluate several policies at once, policy m on ``envs[m]``: ``act`` maps observations [M, obs_dim]
    to env actions [M, action_dim], so all policies run in one batched forward pass per step.

    Episode i of round ``round_id`` of policy m is reset with a seed derived from (seeds[m], round_id, i),
    so an evaluation gives the same numbers whether or not the run was interrupted and resumed, and
    whichever other policies run beside it. ``on_frame`` receives the first env's rendered frames.
    """
    n = len(envs)
    returns: list[list[float]] = [[] for _ in range(n)]
    lengths: list[list[int]] = [[] for _ in range(n)]
    total, length = [0.0] * n, [0] * n
    obs = [envs[m].reset(seed=episode_seed(seeds[m], EVAL_STREAM, round_id, 0))[0] for m in range(n)]
    active = [episodes > 0] * n
    while any(active):
        actions = act(np.stack(obs))  # finished policies act too (one batched pass); they are not stepped
        for m in (m for m in range(n) if active[m]):
            obs[m], reward, terminated, truncated, _ = envs[m].step(actions[m])
            total[m] += float(reward)
            length[m] += 1
            if on_frame is not None and m == 0:
                on_frame(envs[m].render())
            if terminated or truncated:
                returns[m].append(total[m])
                lengths[m].append(length[m])
                total[m], length[m] = 0.0, 0
                if len(returns[m]) == episodes:
                    active[m] = False
                else:
                    seed = episode_seed(seeds[m], EVAL_STREAM, round_id, len(returns[m]))
                    obs[m] = envs[m].reset(seed=seed)[0]
    return [EvalResult(r, le) for r, le in zip(returns, lengths, strict=True)]
