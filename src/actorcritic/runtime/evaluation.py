"""Evaluation: the deterministic policy on a separate env, each episode seeded reproducibly."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from actorcritic.core.seeding import Stream, stream_seed

EVAL_ENVS = 16
"""At most this many of a policy's evaluation episodes run at a time, each on its own env."""


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


def close_envs(envs: list[gym.Env]) -> None:
    """Close every env of ``envs`` and empty it."""
    for env in envs:
        env.close()
    envs.clear()


def evaluate_policies(
    envs: Sequence[Sequence[gym.Env]],
    act: Callable[[np.ndarray], np.ndarray],
    episodes: int,
    seeds: Sequence[int],
    round_id: int = 0,
    on_frame: Callable[[np.ndarray], None] | None = None,
) -> list[EvalResult]:
    """Evaluate several policies at once, policy m on its envs ``envs[m]``, as many of its episodes at a
    time as it has envs: ``act`` maps observations [M, K, obs_dim] to env actions [M, K, action_dim], so
    every policy acts on every env in one batched forward pass per step.

    Episode i of round ``round_id`` of policy m is reset with a seed derived from (seeds[m], round_id, i),
    whichever env runs it, so an evaluation gives the same numbers however many envs run it, whether or
    not the run was interrupted and resumed, and whichever other policies run beside it. ``on_frame``
    receives the frames of the first env of the first policy (give each policy one env for a video).
    """
    n, k = len(envs), max(1, min(len(envs[0]), episodes))  # no more envs than episodes
    returns = [[0.0] * episodes for _ in range(n)]
    lengths = [[0] * episodes for _ in range(n)]
    running: list[list[int | None]] = [[None] * k for _ in range(n)]  # the episode each env runs (None: idle)
    total, length = [[0.0] * k for _ in range(n)], [[0] * k for _ in range(n)]
    obs: list[list[np.ndarray]] = [[np.empty(0)] * k for _ in range(n)]
    started = [0] * n

    def start(m: int, j: int) -> None:
        """Env j of policy m starts that policy's next episode, if it has one left."""
        i = started[m]
        running[m][j] = i if i < episodes else None
        if i < episodes:
            started[m] += 1
            obs[m][j] = envs[m][j].reset(seed=stream_seed(seeds[m], Stream.EVAL_EPISODE, round_id, i))[0]
            total[m][j], length[m][j] = 0.0, 0

    for m, j in itertools.product(range(n), range(k)):
        start(m, j)
    while any(i is not None for row in running for i in row):
        actions = act(np.stack([np.stack(row) for row in obs]))  # idle envs act too (one batched pass), unstepped
        for m, j in itertools.product(range(n), range(k)):
            if (i := running[m][j]) is None:
                continue
            obs[m][j], reward, terminated, truncated, _ = envs[m][j].step(actions[m][j])
            total[m][j] += float(reward)
            length[m][j] += 1
            if on_frame is not None and m == j == 0:
                on_frame(envs[m][j].render())
            if terminated or truncated:
                returns[m][i], lengths[m][i] = total[m][j], length[m][j]
                start(m, j)
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
