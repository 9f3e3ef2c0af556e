"""Evaluation: the deterministic policy on a separate env, each episode seeded reproducibly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from actorcritic.core.seeding import Stream, stream_seed


@dataclass(frozen=True)
class EvalResult:
    returns: list[float]
    lengths: list[int]
    metrics: dict[str, float] = field(default_factory=dict)  # an env's own measures, e.g. a swarm's order

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
    obs = [envs[m].reset(seed=stream_seed(seeds[m], Stream.EVAL_EPISODE, round_id, 0))[0] for m in range(n)]
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
                    seed = stream_seed(seeds[m], Stream.EVAL_EPISODE, round_id, len(returns[m]))
                    obs[m] = envs[m].reset(seed=seed)[0]
    return [EvalResult(r, le) for r, le in zip(returns, lengths, strict=True)]


def evaluate_multi_agent(
    env: gym.vector.VectorEnv,
    act: Callable[[np.ndarray], np.ndarray],
    episodes: int,
    seed: int,
    round_id: int = 0,
    metric_names: Sequence[str] = (),
    on_frame: Callable[[np.ndarray], None] | None = None,
) -> EvalResult:
    """Evaluate one policy that steers every agent of a multi-agent vector env (e.g. ``Swarm-v0``),
    whose agents' episodes start and end together.

    An episode's return is the agents' mean return. Each of ``metric_names`` (values the env reports in
    ``info``) is averaged over the second half of every episode, when the swarm has settled.
    """
    returns, lengths, measured = [], [], {name: [] for name in metric_names}
    for i in range(episodes):
        obs, _ = env.reset(seed=stream_seed(seed, Stream.EVAL_EPISODE, round_id, i))
        total, length, trace = np.zeros(env.num_envs), 0, []
        done = False
        while not done:
            obs, rewards, terminated, truncated, info = env.step(act(obs))
            total += rewards
            length += 1
            trace.append([float(info[name]) for name in metric_names])
            done = bool(np.all(terminated | truncated))
            if on_frame is not None:
                on_frame(env.render())
        returns.append(float(total.mean()))
        lengths.append(length)
        for j, name in enumerate(metric_names):
            measured[name] += [row[j] for row in trace[length // 2 :]]
    return EvalResult(returns, lengths, {name: float(np.mean(v)) for name, v in measured.items()})
