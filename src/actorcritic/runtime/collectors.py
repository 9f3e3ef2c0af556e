"""Collectors: how each family gathers experience from the envs, with the current policy.

- ``StepCollector`` (off-policy): one vector step at a time, uniform random actions before learning
  starts, then the policy plus exploration noise; the loop puts each step into the replay buffer. A Ray
  rollout worker is one of these on its own envs, with a copy of the policy.
- ``RolloutCollector`` (A2C, PPO, A3C's workers): ``num_steps`` vector steps of the current policy,
  with log pi(a|s) and V(s), then GAE(lambda) advantages and returns.
- ``EpisodeCollector`` (REINFORCE): whole episodes, at least ``episodes_per_update`` of them.

Where an episode is truncated, the rollout also stores V(final observation), so the return bootstraps
there; where it terminates nothing is bootstrapped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from actorcritic.core.buffers import RolloutBuffer
from actorcritic.core.noise import ActionNoise, GaussianNoise, OrnsteinUhlenbeckNoise
from actorcritic.core.normalizers import ObsNormalizer, ReturnScaler
from actorcritic.runtime.envs import EnvRunner, Step


def make_noise(
    cfg: Any, kind: str, num_envs: int, action_dim: int, seed: int, device: torch.device, default_clip: float | None
) -> ActionNoise:
    """The exploration noise an off-policy config asks for ("gaussian", "ou" or "none")."""
    clip = cfg.noise_clip if cfg.noise_clip is not None else default_clip
    common = {"clip": clip, "seed": seed, "device": device}
    decay = {"min_sigma": cfg.noise_min_sigma, "decay_period": cfg.noise_decay_period}
    if kind == "gaussian":
        return GaussianNoise(num_envs, action_dim, cfg.noise_sigma, **decay, **common)
    if kind == "ou":
        return OrnsteinUhlenbeckNoise(
            num_envs, action_dim, cfg.noise_sigma, **decay, theta=cfg.ou_theta, mu=cfg.ou_mu, dt=cfg.ou_dt, **common
        )
    return ActionNoise(num_envs, action_dim, seed=seed, device=device)


class StepCollector:
    """Off-policy exploration, one vector step at a time."""

    def __init__(
        self,
        runner: EnvRunner,
        policy: Callable[..., torch.Tensor],
        noises: Sequence[ActionNoise],
        explore_generators: Sequence[torch.Generator],
        learning_starts: int,
        action_dim: int,
        device: torch.device,
    ):
        self.runner, self.policy, self.noises = runner, policy, list(noises)
        self.explore_generators, self.learning_starts = list(explore_generators), learning_starts
        self.action_dim, self.device = action_dim, device
        self.next_actions: tuple[np.ndarray, torch.Tensor] | None = None  # (observations, the policy's actions there)
        self._noise = torch.empty((len(self.noises), runner.num_envs, action_dim), device=device)  # each step's
        self._noise_rows = self._noise.unbind(0)  # member m's noise, drawn into in place

    def observations(self) -> torch.Tensor:
        """The envs' current observations, [members, envs per member, obs_dim]."""
        obs = torch.as_tensor(self.runner.obs, dtype=torch.float32, device=self.device)
        return obs.view(len(self.noises), self.runner.num_envs, -1)

    def explore(self, global_step: int) -> np.ndarray:
        """Actions for the envs' observations: uniform random before learning_starts, then the policy plus
        each member's noise, clipped to [-1, 1]. The policy's part is ``next_actions`` where the last update
        computed it for these very observations (``OffPolicyTrainer.train``), else the policy's call."""
        n = self.runner.num_envs
        if global_step < self.learning_starts:
            uniform = [torch.rand((n, self.action_dim), generator=g) for g in self.explore_generators]
            return (torch.cat(uniform) * 2 - 1).numpy()
        ready, self.next_actions = self.next_actions, None
        obs = self.runner.obs  # the runner replaces it at each step, never writes into it
        if ready is not None and (ready[0] is obs or np.array_equal(ready[0], obs)):
            actions = ready[1]
        else:
            with torch.no_grad():
                actions = self.policy(self.observations(), deterministic=False)
        for noise, row in zip(self.noises, self._noise_rows, strict=True):
            noise.sample(global_step, out=row)
        return (actions + self._noise).clamp_(-1.0, 1.0).view(-1, self.action_dim).cpu().numpy()

    def collect(self, global_step: int) -> tuple[np.ndarray, ...]:
        """One vector step: (obs, actions, rewards, next_obs, terminated, truncated), as the buffer stores it."""
        actions = self.explore(global_step)
        s = self.runner.step(actions)
        return s.obs, actions, s.rewards, s.next_obs, s.terminated, s.truncated

    def new_episodes(self, mask: np.ndarray) -> None:
        """Envs in ``mask`` start a fresh episode: their noise processes reset."""
        for noise, member_mask in zip(self.noises, mask.reshape(len(self.noises), -1), strict=True):
            if member_mask.any():
                noise.reset(torch.as_tensor(member_mask))


class RolloutCollector:
    """On-policy rollouts of ``num_steps`` vector steps with the current policy."""

    def __init__(
        self,
        runner: EnvRunner,
        learner: Any,
        obs_dim: int,
        action_shape: tuple[int, ...],
        num_steps: int,
        gamma: float,
        gae_lambda: float,
        obs_normalizer: ObsNormalizer | None = None,
        return_scaler: ReturnScaler | None = None,
    ):
        self.runner, self.learner, self.model = runner, learner, learner.model
        self.gamma, self.gae_lambda = gamma, gae_lambda
        self.obs_normalizer, self.return_scaler = obs_normalizer, return_scaler
        self.device = next(self.model.parameters()).device
        self.obs_dim, self.action_shape, self.discrete = obs_dim, action_shape, action_shape == ()
        self.rollout = RolloutBuffer(num_steps, runner.num_envs, obs_dim, action_shape, self.discrete, self.device)

    def _obs(self, obs: np.ndarray, update: bool = False) -> torch.Tensor:
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        return obs_t if self.obs_normalizer is None else self.obs_normalizer(obs_t, update)

    def step(self) -> tuple:
        """One vector step with the current policy: (obs (normalised), actions, log pi(a|s), V(s), rewards
        (scaled), terminated, truncated, V(final observation) where truncated and 0 elsewhere)."""
        obs = self._obs(self.runner.obs, update=True)
        actions, log_probs, values = self.model.sample(obs, self.learner.generator)
        s: Step = self.runner.step(actions.cpu().numpy())
        final_values = torch.zeros(len(s.truncated), device=self.device)
        if s.truncated.any():  # bootstrap from the true final observation
            final_values[torch.as_tensor(s.truncated)] = self.model.value(self._obs(s.next_obs[s.truncated]))
        rewards = s.rewards
        if self.return_scaler is not None:
            rewards = self.return_scaler(rewards, s.terminated | s.truncated)
        return obs, actions, log_probs, values, rewards, s.terminated, s.truncated, final_values

    @torch.no_grad()
    def collect(self) -> RolloutBuffer:
        """Run the current policy for num_steps vector steps; the rollout with advantages and returns."""
        rollout = self.rollout
        rollout.step = 0  # a collection interrupted earlier (Ctrl-C in a notebook) starts over
        for _ in range(rollout.num_steps):
            *stored, final_values = self.step()
            rollout.final_values[rollout.step] = final_values
            rollout.add(*stored)
        rollout.finish(self.model.value(self._obs(self.runner.obs)), self.gamma, self.gae_lambda)
        return rollout

    def interrupted(self, mask: np.ndarray) -> None:
        """Envs in ``mask`` were mid-episode at the checkpoint a run resumed from: their discounted return
        starts afresh. (At an episode's end the scaler resets itself, after scaling its last reward.)"""
        if self.return_scaler is not None:
            self.return_scaler.new_episodes(mask)


class EpisodeCollector(RolloutCollector):
    """Whole episodes (REINFORCE): step until ``episodes`` episodes are complete; they make the rollout, one
    after another along time. An episode still running is finished in the next collection."""

    def __init__(self, runner: EnvRunner, learner: Any, obs_dim: int, action_shape: tuple[int, ...], episodes: int,
                 gamma: float, gae_lambda: float, **kwargs):  # fmt: skip
        super().__init__(runner, learner, obs_dim, action_shape, 1, gamma, gae_lambda, **kwargs)
        self.episodes = episodes
        self.pending: list[list[tuple]] = [[] for _ in range(runner.num_envs)]  # each env's running episode

    @torch.no_grad()
    def collect(self) -> RolloutBuffer:
        complete: list[list[tuple]] = []
        while len(complete) < self.episodes:
            obs, actions, log_probs, values, rewards, terminated, truncated, final_values = self.step()
            for j in range(self.runner.num_envs):
                self.pending[j].append((obs[j], actions[j], log_probs[j], values[j], float(rewards[j]),
                                        bool(terminated[j]), bool(truncated[j]), final_values[j]))  # fmt: skip
                if terminated[j] or truncated[j]:
                    complete.append(self.pending[j])
                    self.pending[j] = []
        steps = [step for episode in complete for step in episode]
        rollout = RolloutBuffer(len(steps), 1, self.obs_dim, self.action_shape, self.discrete, self.device)
        obs, actions, log_probs, values, rewards, terminated, truncated, final_values = zip(*steps, strict=True)
        rollout.obs[:, 0], rollout.actions[:, 0] = torch.stack(obs), torch.stack(actions)
        rollout.log_probs[:, 0], rollout.values[:, 0] = torch.stack(log_probs), torch.stack(values)
        rollout.rewards[:, 0] = torch.tensor(rewards)
        rollout.terminated[:, 0], rollout.truncated[:, 0] = torch.tensor(terminated), torch.tensor(truncated)
        rollout.final_values[:, 0] = torch.stack(final_values)
        rollout.step = rollout.num_steps
        rollout.finish(torch.zeros(1, device=self.device), self.gamma, self.gae_lambda)  # every episode ends inside
        return rollout

    def interrupted(self, mask: np.ndarray) -> None:
        """An episode cut by a checkpoint is not learned from."""
        super().interrupted(mask)
        for j in np.flatnonzero(mask):
            self.pending[j] = []
