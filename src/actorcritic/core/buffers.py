"""Replay buffer: preallocated torch tensors, circular FIFO, batched adds from N envs.

Storage is laid out [rows, num_envs, ...]: each vector-env step writes one row, so the transitions of
one env are consecutive in time along a column. That makes n-step returns a gather along the column,
cut at episode ends. The buffer stores ``terminated`` (no bootstrap) and ``truncated`` (episode over,
but bootstrap from next_obs) separately, never a merged ``done``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from actorcritic.core.returns import nstep_window


class Batch(NamedTuple):
    obs: torch.Tensor  # [B, obs_dim]
    actions: torch.Tensor  # [B, action_dim], normalised to [-1, 1]
    rewards: torch.Tensor  # [B], n-step discounted sum of raw rewards
    next_obs: torch.Tensor  # [B, obs_dim], the observation n steps later (or at the episode's end)
    terminated: torch.Tensor  # [B], bool
    discounts: torch.Tensor  # [B], gamma^n * (1 - terminated): the factor on the bootstrapped value


def _as_tensor(x, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    return torch.as_tensor(x, dtype=dtype, device=device)


class ReplayBuffer:
    """Uniform experience replay of (obs, action, reward, next_obs, terminated, truncated)."""

    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        action_dim: int,
        num_envs: int = 1,
        n_step: int = 1,
        gamma: float = 0.99,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ):
        self.device = torch.device(device)
        self.num_envs, self.n_step, self.gamma = num_envs, n_step, gamma
        self.rows = max(1, math.ceil(capacity / num_envs))
        shape = (self.rows, num_envs)
        self.obs = torch.zeros((*shape, obs_dim), device=self.device)
        self.next_obs = torch.zeros((*shape, obs_dim), device=self.device)
        self.actions = torch.zeros((*shape, action_dim), device=self.device)
        self.rewards = torch.zeros(shape, device=self.device)
        self.terminated = torch.zeros(shape, dtype=torch.bool, device=self.device)
        self.truncated = torch.zeros(shape, dtype=torch.bool, device=self.device)
        self.pos, self.full = 0, False
        self.generator = torch.Generator(self.device).manual_seed(seed)

    @property
    def capacity(self) -> int:
        return self.rows * self.num_envs

    @property
    def filled_rows(self) -> int:
        return self.rows if self.full else self.pos

    def __len__(self) -> int:
        return self.filled_rows * self.num_envs

    def add(self, obs, actions, rewards, next_obs, terminated, truncated) -> None:
        """Store one transition per env (arrays with a leading num_envs axis)."""
        d, f = self.device, torch.float32
        self.obs[self.pos] = _as_tensor(obs, f, d)
        self.actions[self.pos] = _as_tensor(actions, f, d)
        self.rewards[self.pos] = _as_tensor(rewards, f, d)
        self.next_obs[self.pos] = _as_tensor(next_obs, f, d)
        self.terminated[self.pos] = _as_tensor(terminated, torch.bool, d)
        self.truncated[self.pos] = _as_tensor(truncated, torch.bool, d)
        self.pos = (self.pos + 1) % self.rows
        self.full = self.full or self.pos == 0

    def mark_episode_end(self, env_mask) -> None:
        """Cut the episodes in progress for these envs (their next stored step starts a new one).

        Used when training resumes mid-episode: the interrupted episode's last transition stays valid
        (it bootstraps from its next_obs like a truncation) but n-step windows must not run past it.
        """
        if len(self) == 0:
            return
        last = (self.pos - 1) % self.rows
        self.truncated[last] |= _as_tensor(env_mask, torch.bool, self.device)

    def sample(self, batch_size: int) -> Batch:
        """Uniformly sample transitions (with replacement) using the buffer's own generator."""
        flat = torch.randint(len(self), (batch_size,), generator=self.generator, device=self.device)
        if self.n_step == 1:
            rewards = self.rewards.view(-1)[flat]
            terminated = self.terminated.view(-1)[flat]
            return Batch(
                obs=self.obs.flatten(0, 1)[flat],
                actions=self.actions.flatten(0, 1)[flat],
                rewards=rewards,
                next_obs=self.next_obs.flatten(0, 1)[flat],
                terminated=terminated,
                discounts=self.gamma * (~terminated).to(rewards.dtype),
            )
        return self._sample_nstep(flat)

    def _sample_nstep(self, flat: torch.Tensor) -> Batch:
        t, env = flat // self.num_envs, flat % self.num_envs
        k = torch.arange(self.n_step, device=self.device)
        rows = (t.unsqueeze(1) + k) % self.rows  # [B, n]: the same env's next n steps
        window = rows * self.num_envs + env.unsqueeze(1)
        available = (self.pos - 1 - t) % self.rows + 1  # steps written from t to the newest row
        terminated = self.terminated.view(-1)[window]
        episode_end = terminated | self.truncated.view(-1)[window]
        returns, length, discounts = nstep_window(
            self.rewards.view(-1)[window], terminated, episode_end, available, self.gamma
        )
        last = window.gather(1, (length - 1).unsqueeze(1)).squeeze(1)
        return Batch(
            obs=self.obs.flatten(0, 1)[flat],
            actions=self.actions.flatten(0, 1)[flat],
            rewards=returns,
            next_obs=self.next_obs.flatten(0, 1)[last],
            terminated=self.terminated.view(-1)[last],
            discounts=discounts,
        )

    def state_dict(self) -> dict:
        n = self.filled_rows
        return {
            "obs": self.obs[:n].clone(),
            "next_obs": self.next_obs[:n].clone(),
            "actions": self.actions[:n].clone(),
            "rewards": self.rewards[:n].clone(),
            "terminated": self.terminated[:n].clone(),
            "truncated": self.truncated[:n].clone(),
            "pos": self.pos,
            "full": self.full,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        n = state["obs"].shape[0]
        expected_rows = self.rows if state["full"] else int(state["pos"])
        if state["obs"].shape[1:] != self.obs.shape[1:] or n != expected_rows:
            raise ValueError(f"replay buffer shape {tuple(state['obs'].shape)} does not fit {tuple(self.obs.shape)}")
        for name in ("obs", "next_obs", "actions", "rewards", "terminated", "truncated"):
            getattr(self, name)[:n] = state[name].to(self.device)
        self.pos, self.full = int(state["pos"]), bool(state["full"])
        self.generator.set_state(state["generator"])
