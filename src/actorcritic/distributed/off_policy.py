"""Distributed off-policy training on Ray (``backend="ray"``): rollout workers feed the learner's replay
buffer, the shape of Ape-X and of TF-Agents' actors / replay / learner split.

    rollout worker i (a Ray actor, K of them)          the learner (this process: the agent itself)
      its own envs, a copy of the policy and   ---->     adds each fragment to its replay buffer and runs
      its own exploration noise; collects               the updates it calls for; evaluates, logs and
      fragment_steps vector steps at a time             checkpoints exactly as a local run does
                                               <----   publishes the policy's weights (an object ref)
                                                        every sync_interval updates

Every worker always has two fragments (``IN_FLIGHT``) asked for: while the learner takes one in, the
worker is already collecting the next, so neither waits on the other's round trip, and collection
overlaps the updates. The update-to-data ratio is the config's, as in a local run (gradient_steps every
train_freq vector steps), so the learner paces the workers. Before learning_starts the workers act uniformly at random, and sigma decays with the
learner's step count.

The buffer's columns are the workers' env slots, filled by one worker's fragment after another's: each
fragment's last step ends its n-step windows (it still bootstraps from its true next observation), so
n-step returns never run into another worker's stream.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from actorcritic.distributed.ray_backend import PoolWorker, WorkerPool
from actorcritic.envs.make import episode_seed

IN_FLIGHT = 2  # fragments asked of each worker at a time: it collects the next while the learner takes one in


def worker_sigmas(sigma: float, spread: float, workers: int) -> list[float]:
    """Each worker's noise scale: geometric from sigma / spread to sigma * spread (Ape-X gives each actor
    its own exploration rate); all ``sigma`` when spread is 1 or there is one worker."""
    if workers == 1:
        return [sigma]
    return [sigma * spread ** (2 * i / (workers - 1) - 1) for i in range(workers)]


class RolloutWorker(PoolWorker):
    """One rollout worker: the algorithm's own exploration (its ``explore_actions`` and env stepping) on
    its own envs, with a replay buffer of one row, since the learner keeps the data."""

    def __init__(self, algo: str, env: str, config: Any, seed: int, sigma: float, env_kwargs: dict[str, Any]):
        from actorcritic.registry import ALGOS

        torch.set_num_threads(1)
        config = dataclasses.replace(config, backend="local", buffer_size=1, batch_size=1, noise_sigma=sigma)
        self.agent = ALGOS[algo](env, config, seed=self.seed_after_restart(seed), env_kwargs=env_kwargs)
        self.agent.members[0].logger = self  # the agent reports finished episodes to log_episode
        self.agent._start_envs()
        self.version = -1
        self.episodes: list[tuple[int, float, int]] = []

    def log_episode(self, step: int, env: int, ret: float, length: int) -> None:
        self.episodes.append((env, ret, length))

    def collect(self, version: int, weights: dict[str, torch.Tensor], global_step: int, steps: int) -> tuple:
        """``steps`` vector steps with the policy ``weights`` (loaded when ``version`` is new), at the learner's
        ``global_step``. Returns the fragment (obs, actions, rewards, next_obs, terminated, truncated), each
        [steps, num_envs, ...], and the episodes finished (env, return, length)."""
        agent = self.agent
        if version != self.version:
            agent.actor.load_state_dict(weights)
            self.version = version
        agent.global_step = global_step
        rows = []
        for _ in range(steps):
            actions = agent.explore_actions()
            obs, next_obs, rewards, terminated, truncated = agent._step_envs(actions)
            rows.append((obs, actions, rewards, next_obs, terminated, truncated))
        fragment = tuple(np.stack(column) for column in zip(*rows, strict=True))
        episodes, self.episodes = self.episodes, []
        return fragment, episodes


class RolloutWorkers:
    """The learner's side: K rollout workers, their fragments into the agent's buffer, weights out."""

    def __init__(self, agent: Any):
        cfg = self.config = agent.config
        self.agent = agent
        sigmas = worker_sigmas(cfg.noise_sigma, cfg.noise_spread, cfg.num_workers)
        args = [
            (agent.algo, agent.env_id, cfg, episode_seed(agent.seed, 10, w, agent.global_step), sigma, agent.env_kwargs)
            for w, sigma in enumerate(sigmas)
        ]
        self.pool = WorkerPool(RolloutWorker, args, "rollout worker", restarts=agent.worker_restarts)
        self.version = 0
        self._publish()
        for w in range(cfg.num_workers):
            for _ in range(IN_FLIGHT):
                self._submit(w)

    def _publish(self) -> None:
        """Put the policy's current weights in the object store; fragments asked for from now on use them."""
        state = {k: v.detach().cpu() for k, v in self.agent.actor.state_dict().items()}
        self.weights = self.pool.ray.put(state)
        self.version += 1
        self.published_at = self.agent.num_updates

    def _submit(self, worker: int) -> None:
        self.pool.submit(
            worker, "collect", self.version, self.weights, self.agent.global_step, self.config.fragment_steps
        )

    def receive(self) -> None:
        """The next fragment from any worker: into the replay buffer and the episode statistics; that
        worker starts its next fragment, with new weights if they are due."""
        agent, cfg = self.agent, self.config
        worker, (fragment, episodes) = self.pool.next()
        for row in zip(*fragment, strict=True):
            agent.buffer.add(*row)
        agent.buffer.mark_episode_end(np.ones(cfg.num_envs, dtype=bool))  # n-step windows end with the fragment
        steps = len(fragment[0])
        agent.vector_steps += steps
        agent.global_step += steps * cfg.num_envs
        for env, ret, length in episodes:
            agent._record_episode(0, worker * cfg.num_envs + env, ret, length)
        agent.worker_restarts = self.pool.restarts
        if agent.num_updates - self.published_at >= cfg.sync_interval:
            self._publish()
        self._submit(worker)

    def stop(self) -> None:
        self.pool.stop()
