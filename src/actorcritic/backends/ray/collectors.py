"""Distributed off-policy training on Ray (``backend="ray"``, ``RayConfig``): rollout workers feed the learner's replay
buffer, the shape of Ape-X and of TF-Agents' actors / replay / learner split.

    rollout worker i (a Ray actor, K of them)          the learner (this process: the agent, its loop)
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

from actorcritic.algos import SPECS
from actorcritic.backends.ray.config import RayConfig
from actorcritic.backends.ray.pool import PoolWorker, WorkerPool
from actorcritic.core.seeding import Stream, stream_generator, stream_seed
from actorcritic.errors import UserError
from actorcritic.runtime.clock import Clock
from actorcritic.runtime.collectors import StepCollector, make_noise
from actorcritic.runtime.envs import EnvRunner, probe_env
from actorcritic.runtime.trainers import OffPolicyTrainer, Trainer

IN_FLIGHT = 2  # fragments asked of each worker at a time: it collects the next while the learner takes one in


def worker_sigmas(sigma: float, spread: float, workers: int) -> list[float]:
    """Each worker's noise scale: geometric from sigma / spread to sigma * spread (Ape-X gives each actor
    its own exploration rate); all ``sigma`` when spread is 1 or there is one worker."""
    if workers == 1:
        return [sigma]
    return [sigma * spread ** (2 * i / (workers - 1) - 1) for i in range(workers)]


class RolloutWorker(PoolWorker):
    """A remote collector: its own envs, a copy of the policy (the actor alone) and its own noise."""

    def __init__(self, algo: str, env: str, config: Any, seed: int, sigma: float, env_kwargs: dict[str, Any]):
        torch.set_num_threads(1)
        seed = self.seed_after_restart(seed)
        learner_cls = SPECS[algo].learner_cls
        spec = probe_env(env, env_kwargs, algo.upper(), discrete_ok=False)
        self.actor = learner_cls.make_actor(config, spec.obs_dim, spec.action_dim, [torch.Generator()], "cpu")
        generators = [stream_generator(seed, Stream.POLICY)]
        policy = lambda obs, deterministic=False: learner_cls.act(config, self.actor, obs, deterministic, generators)  # noqa: E731
        config = dataclasses.replace(config, noise_sigma=sigma)  # this worker's own exploration rate
        kind, default_clip = learner_cls.exploration(config)
        noise = make_noise(config, kind, config.num_envs, spec.action_dim, stream_seed(seed, Stream.NOISE), "cpu",
                           default_clip)  # fmt: skip
        self.clock = Clock()
        runner = EnvRunner(env, env_kwargs, [seed], config.num_envs, "sync", spec.to_env, self.clock)
        self.collector = StepCollector(runner, policy, [noise], [stream_generator(seed, Stream.EXPLORE)],
                                       config.learning_starts, spec.action_dim, torch.device("cpu"))  # fmt: skip
        self.episodes: list[tuple[int, float, int]] = []
        runner.on_episode = lambda member, env_index, ret, length: self.episodes.append((env_index, ret, length))
        runner.on_new_episodes = self.collector.new_episodes
        runner.start()
        self.version = -1

    def collect(self, version: int, weights: dict[str, torch.Tensor], global_step: int, steps: int) -> tuple:
        """``steps`` vector steps with the policy ``weights`` (loaded when ``version`` is new), at the learner's
        ``global_step``. Returns the fragment (obs, actions, rewards, next_obs, terminated, truncated), each
        [steps, num_envs, ...], and the episodes finished (env, return, length)."""
        if version != self.version:
            self.actor.load_state_dict(weights)
            self.version = version
        rows = [self.collector.collect(global_step) for _ in range(steps)]
        fragment = tuple(np.stack(column) for column in zip(*rows, strict=True))
        episodes, self.episodes = self.episodes, []
        return fragment, episodes


class RayBackend:
    """Off-policy training with ``RayConfig.num_workers`` remote collectors feeding this process's learner."""

    name = "ray"

    def __init__(self, config: RayConfig | None = None):
        self.config = config or RayConfig()

    def check(self, agent: Any, seeds: list[int]) -> None:
        if not agent.spec.off_policy:
            raise UserError(f"{agent.algo.upper()} has no Ray rollout workers; use --backend local")
        if len(seeds) > 1 or agent.env.agents is not None:
            raise UserError("the Ray back end trains one seed on a single-agent env; use backend local")
        if agent.config.vectorization != "sync":
            raise UserError("Ray rollout workers step their envs in sync")

    def make_trainer(self, agent: Any) -> Trainer:
        trainer = agent.make_local_trainer()  # the local trainer: its buffer, learner and schedule
        return RayTrainer(agent, trainer, self.config)


class RayTrainer(OffPolicyTrainer):
    """The learner's side: the local off-policy trainer, fed by K rollout workers' fragments, weights out."""

    acts_here = False  # the workers act, with their own copies of the policy

    def __init__(self, agent: Any, local: OffPolicyTrainer, config: RayConfig):
        super().__init__(local.cfg, local.learner, local.buffer, local.collector, local.clock, local.metrics)
        self.update = local.update
        self.agent, self.ray_config, self.pool = agent, config, None

    def start(self) -> None:
        if self.pool is not None:
            return
        agent, cfg, rc = self.agent, self.cfg, self.ray_config
        sigmas = worker_sigmas(cfg.noise_sigma, rc.noise_spread, rc.num_workers)
        seeds = [
            stream_seed(agent.seed, Stream.ROLLOUT_WORKER, w, self.clock.global_step) for w in range(rc.num_workers)
        ]
        args = [
            (agent.algo, agent.env_id, cfg, seed, sigma, agent.env_kwargs)
            for seed, sigma in zip(seeds, sigmas, strict=True)
        ]
        self.pool = WorkerPool(RolloutWorker, args, "rollout worker", restarts=self.clock.worker_restarts)
        self.version = 0
        self._publish()
        for w in range(rc.num_workers):
            for _ in range(IN_FLIGHT):
                self._submit(w)

    def _publish(self) -> None:
        """Put the policy's current weights in the object store; fragments asked for from now on use them."""
        state = {k: v.detach().cpu() for k, v in self.learner.actor.state_dict().items()}
        self.weights = self.pool.ray.put(state)
        self.version += 1
        self.published_at = self.clock.num_updates

    def _submit(self, worker: int) -> None:
        self.pool.submit(
            worker, "collect", self.version, self.weights, self.clock.global_step, self.ray_config.fragment_steps
        )

    def gather(self) -> None:
        """The next fragment from any worker: into the replay buffer and the episode statistics; that
        worker starts its next fragment, with new weights if they are due."""
        cfg, clock = self.cfg, self.clock
        worker, (fragment, episodes) = self.pool.next()
        for row in zip(*fragment, strict=True):
            self.buffer.add(*row)
        self.buffer.mark_episode_end(np.ones(cfg.num_envs, dtype=bool))  # n-step windows end with the fragment
        clock.advance(len(fragment[0]), len(fragment[0]) * cfg.num_envs)
        for env, ret, length in episodes:
            self.agent.members[0].record_episode(clock.global_step, worker * cfg.num_envs + env, ret, length)
        clock.worker_restarts = self.pool.restarts
        if clock.num_updates - self.published_at >= self.ray_config.sync_interval:
            self._publish()
        self._submit(worker)

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool = None
