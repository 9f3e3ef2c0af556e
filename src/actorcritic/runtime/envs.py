"""The training envs of a run: one vector env for every member's envs, stepped in library units, with
each episode's bookkeeping (return, length, index, reset seed).

Episode ends under Gymnasium 1.x: the vector env runs with autoreset disabled and ``step`` resets a
finished env itself, so the observation returned with ``terminated``/``truncated`` is the true final
observation. Truncation can then bootstrap from it, termination never does, and no transition ever
crosses a reset. Episode k of env j of member m is reset with ``stream_seed(seed_m, ENV_EPISODE, j, k)``,
so a resumed run replays exactly the episodes an uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from actorcritic.core.seeding import Stream, stream_seed
from actorcritic.core.spaces import ActionScaler, flat_box_dim
from actorcritic.envs.make import make_env, make_vector_env, result_error
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.runtime.clock import Clock


class Step(NamedTuple):
    """One vector step: ``next_obs`` is the true final observation where an episode ended."""

    obs: np.ndarray
    next_obs: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class EnvRunner:
    """Steps ``num_envs`` envs per member (env j belongs to member j // num_envs) and resets those whose
    episode ended. ``on_episode(member, env, return, length)`` hears of every finished episode and
    ``on_new_episodes(mask)`` of every env that starts one (exploration noise resets there)."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any],
        seeds: Sequence[int],
        num_envs: int,
        vectorization: str,
        to_env: Callable[[np.ndarray], np.ndarray],
        clock: Clock,
        env_metric_names: Sequence[str] = (),
    ):
        self.env_id, self.env_kwargs, self.seeds = env_id, env_kwargs, list(seeds)
        self.num_envs, self.vectorization, self.to_env = num_envs, vectorization, to_env
        self.clock, self.env_metric_names = clock, tuple(env_metric_names)
        total = len(self.seeds) * num_envs
        self.episode_index = np.zeros(total, dtype=np.int64)  # the episode running in each env
        self.episode_return = np.zeros(total)
        self.episode_length = np.zeros(total, dtype=np.int64)
        self.env_metric_sums = np.zeros(len(self.env_metric_names))  # what a multi-agent env reports in info
        self.env_metric_count = 0
        self.envs: Any = None  # made on the first start(); an agent loaded for evaluation needs none
        self.obs: np.ndarray | None = None
        self.on_episode: Callable[[int, int, float, int], None] = lambda member, env, ret, length: None
        self.on_new_episodes: Callable[[np.ndarray], None] = lambda mask: None

    def start(self) -> np.ndarray:
        """Make the envs and reset them, unless they run already. Returns the mask of envs that were
        mid-episode at a checkpoint this run resumed from: they start a fresh episode, and the caller
        cuts what it stored of the old one. Envs at an episode boundary replay exactly the reset the
        uninterrupted run would have made."""
        if self.envs is None:
            self.envs = make_vector_env(self.env_id, len(self.episode_index), self.vectorization, **self.env_kwargs)
        mid_episode = np.zeros(len(self.episode_index), dtype=bool)
        if self.obs is None:
            mid_episode = self.episode_length > 0
            self.episode_index[mid_episode] += 1
            if mid_episode.any():
                self.on_new_episodes(mid_episode)
            self.episode_return[:] = 0.0
            self.episode_length[:] = 0
            try:
                self.obs, _ = self.envs.reset(seed=self._seeds(np.ones(len(self.episode_index), dtype=bool)))
            except Exception as e:
                self._raise_result_error("reset", e)
                raise
        return mid_episode

    def _seeds(self, mask: np.ndarray) -> list[int | None]:
        """The reset seed of the next episode of every env in ``mask``."""
        n = self.num_envs
        return [
            stream_seed(self.seeds[j // n], Stream.ENV_EPISODE, j % n, int(k)) if d else None
            for j, (k, d) in enumerate(zip(self.episode_index, mask, strict=True))
        ]

    def step(self, actions: np.ndarray) -> Step:
        """Step every env with library ``actions``; reset the envs whose episode ended."""
        env_actions = self.to_env(actions)
        try:
            next_obs, rewards, terminated, truncated, info = self.envs.step(env_actions)
        except Exception as e:
            self._raise_result_error("step", e, env_actions)
            raise
        if self.env_metric_names:
            self.env_metric_sums += [info[name] for name in self.env_metric_names]
            self.env_metric_count += 1
        if not (np.isfinite(next_obs).all() and np.isfinite(rewards).all()):
            raise TrainingDiverged("NaN or inf in observation or reward")
        obs = self.obs
        self.clock.advance(1, self.num_envs)  # before the episodes are recorded: they end at the new step
        self.episode_return += rewards
        self.episode_length += 1
        done = terminated | truncated
        self.obs = next_obs
        if done.any():
            n = self.num_envs
            for j in np.flatnonzero(done):
                self.on_episode(j // n, int(j % n), float(self.episode_return[j]), int(self.episode_length[j]))
            self.episode_return[done] = 0.0
            self.episode_length[done] = 0
            self.episode_index[done] += 1
            self.on_new_episodes(done)
            try:
                reset_obs, _ = self.envs.reset(seed=self._seeds(done), options={"reset_mask": done})
            except Exception as e:
                self._raise_result_error("reset", e)
                raise
            self.obs = np.where(done[:, None], reset_obs, next_obs)
        return Step(obs, next_obs, rewards, terminated, truncated)

    def _raise_result_error(self, call: str, error: Exception, actions: np.ndarray | None = None) -> None:
        """An EnvError if ``error`` is the vector env's complaint about what an env returned (3 values from
        step, an observation of the wrong shape, ...); the caller re-raises any other error as it is."""
        if (env_error := result_error(self.envs, self.env_id, call, error, actions)) is not None:
            raise env_error from error

    def take_env_metrics(self) -> np.ndarray | None:
        """The env metrics' means since the last call (None if no step reported them)."""
        if not self.env_metric_count:
            return None
        means = self.env_metric_sums / self.env_metric_count
        self.env_metric_sums = np.zeros(len(self.env_metric_names))
        self.env_metric_count = 0
        return means

    def member_envs(self, member: int) -> slice:
        return slice(member * self.num_envs, (member + 1) * self.num_envs)

    def state_dict(self, member: int) -> dict[str, list[int]]:
        envs = self.member_envs(member)
        return {
            "episode_index": self.episode_index[envs].tolist(),
            "episode_length": self.episode_length[envs].tolist(),
        }

    def load_state_dict(self, state: dict[str, list[int]], member: int) -> None:
        envs = self.member_envs(member)
        self.episode_index[envs] = state["episode_index"]
        self.episode_length[envs] = state["episode_length"]
        self.obs = None  # the next start() begins fresh episodes where one was in progress

    def close(self) -> None:
        if self.envs is not None:
            self.envs.close()
            self.envs = None
            self.obs = None


# Envs Gymnasium registers without a reward_threshold, and the threshold the field uses for them.
KNOWN_THRESHOLDS = {"Pendulum-v1": -200.0}  # "solved" at return > -200 (seed 002, common practice)


@dataclass(frozen=True)
class EnvSpec:
    """What a run needs to know of its env, read off one instance before anything is built."""

    obs_dim: int
    action_dim: int  # a Box's size, or a Discrete space's number of actions
    action_shape: tuple[int, ...]  # (action_dim,) for a Box, () for a Discrete space
    scaler: ActionScaler | None  # None for a Discrete space
    agents: int | None  # a multi-agent env (Swarm-v0) is a vector env of its own: its number of agents
    env_metric_names: tuple[str, ...]
    target_return: float | None

    def check_seeds(self, env_id: str, seeds: int) -> None:
        """A multi-agent env is a vector env of its own agents, one policy for all: it trains one seed at a time."""
        if self.agents is not None and seeds > 1:
            raise UserError(f"--seeds with the multi-agent env '{env_id}' is not supported; train its seeds one by one")  # fmt: skip

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Library actions -> the env's: [-1, 1] -> [low, high] for a Box, indices as they are."""
        return actions.astype(np.int64) if self.scaler is None else self.scaler.to_env(actions)


def probe_env(env_id: str, env_kwargs: dict[str, Any], algo: str, discrete_ok: bool) -> EnvSpec:
    """Make one env and read its spaces; a clear error for an unknown env or a space the algorithm can't use."""
    probe = make_env(env_id, **env_kwargs)
    try:
        multi_agent = isinstance(probe, gym.vector.VectorEnv)
        obs_space = probe.single_observation_space if multi_agent else probe.observation_space
        action_space = probe.single_action_space if multi_agent else probe.action_space
        obs_dim = flat_box_dim(obs_space, "observation", algo)
        if discrete_ok and isinstance(action_space, gym.spaces.Discrete):
            scaler, action_dim, shape = None, int(action_space.n), ()
        else:
            scaler = ActionScaler(action_space, algo)
            action_dim = int(action_space.shape[0])
            shape = (action_dim,)
        target = None
        if probe.spec is not None:
            target = probe.spec.reward_threshold or KNOWN_THRESHOLDS.get(probe.spec.id)
        return EnvSpec(obs_dim, action_dim, shape, scaler, probe.num_envs if multi_agent else None,
                       tuple(getattr(probe, "metric_names", ())), target)  # fmt: skip
    finally:
        probe.close()
