"""Replay buffer (off-policy) and rollout buffer (on-policy), both preallocated torch tensors.

Replay buffer: circular FIFO, batched adds from N envs.

Storage is laid out [rows, members * num_envs, ...]: each vector-env step writes one row, so the
transitions of one env are consecutive in time along a column. ``members`` agents trained together (one
per seed) each own a block of ``num_envs`` columns and sample only from it, with their own generator:
member m's samples are exactly those of a buffer it had alone. That makes n-step returns a gather along the column,
cut at episode ends. The buffer stores ``terminated`` (no bootstrap) and ``truncated`` (episode over,
but bootstrap from next_obs) separately, never a merged ``done``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from actorcritic.core.returns import gae, nstep_window


class Batch(NamedTuple):
    """One batch per member: every field has a leading [members, batch] shape."""

    obs: torch.Tensor  # [M, B, obs_dim]
    actions: torch.Tensor  # [M, B, action_dim], normalised to [-1, 1]
    rewards: torch.Tensor  # [M, B], n-step discounted sum of raw rewards
    next_obs: torch.Tensor  # [M, B, obs_dim], the observation n steps later (or at the episode's end)
    terminated: torch.Tensor  # [M, B], bool
    discounts: torch.Tensor  # [M, B], gamma^n * (1 - terminated): the factor on the bootstrapped value


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
        seed: int | Sequence[int] = 0,
        device: str | torch.device = "cpu",
    ):
        """``capacity`` and ``num_envs`` are per member; one member per seed (an int: one member)."""
        self.device = torch.device(device)
        seeds = [seed] if isinstance(seed, int) else list(seed)
        self.members, self.num_envs, self.n_step, self.gamma = len(seeds), num_envs, n_step, gamma
        self.rows = max(1, math.ceil(capacity / num_envs))
        shape = (self.rows, self.members * num_envs)
        self.obs = torch.zeros((*shape, obs_dim), device=self.device)
        self.next_obs = torch.zeros((*shape, obs_dim), device=self.device)
        self.actions = torch.zeros((*shape, action_dim), device=self.device)
        self.rewards = torch.zeros(shape, device=self.device)
        self.terminated = torch.zeros(shape, dtype=torch.bool, device=self.device)
        self.truncated = torch.zeros(shape, dtype=torch.bool, device=self.device)
        self.pos, self.full = 0, False
        self._pos = torch.zeros((), dtype=torch.long, device=self.device)  # pos again, as a tensor for gather
        self._fields = (self.obs, self.actions, self.rewards, self.next_obs, self.terminated, self.truncated)
        self._numpy = [t.numpy() for t in self._fields] if self.device.type == "cpu" else None
        self.generators = [torch.Generator(self.device).manual_seed(s) for s in seeds]
        # Column where each member's block starts, and a reusable index buffer for sampling.
        self._block = (torch.arange(self.members, device=self.device) * num_envs).unsqueeze(1)
        self._index = torch.empty((self.members, 0), dtype=torch.long, device=self.device)
        self._index_rows: tuple[torch.Tensor, ...] = ()  # its rows, one view per member

    @property
    def capacity(self) -> int:
        """Transitions each member can hold."""
        return self.rows * self.num_envs

    @property
    def filled_rows(self) -> int:
        return self.rows if self.full else self.pos

    def __len__(self) -> int:
        """Transitions stored per member."""
        return self.filled_rows * self.num_envs

    def add(self, obs, actions, rewards, next_obs, terminated, truncated) -> None:
        """Store one transition per env (arrays with a leading members * num_envs axis, member-major)."""
        values = (obs, actions, rewards, next_obs, terminated, truncated)
        if self._numpy is not None:  # CPU: write through numpy views of the storage, one cast-copy each
            for view, x in zip(self._numpy, values, strict=True):
                view[self.pos] = x
        else:
            for storage, x in zip(self._fields, values, strict=True):
                storage[self.pos] = _as_tensor(x, storage.dtype, self.device)
        self.pos = (self.pos + 1) % self.rows
        self.full = self.full or self.pos == 0
        self._pos.fill_(self.pos)  # n-step windows stop at the newest row

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
        """Uniformly sample ``batch_size`` transitions per member (with replacement), each member from its
        own block of envs with its own generator."""
        return self.gather(self.draw(batch_size))

    def draw(self, batch_size: int) -> torch.Tensor:
        """The positions ``sample`` gathers, [M, batch_size]: uniform over each member's stored transitions,
        from its own generator. The index tensor is reused: gather it before the next draw."""
        if self._index.shape[1] != batch_size:
            self._index = torch.empty((self.members, batch_size), dtype=torch.long, device=self.device)
            self._index_rows = self._index.unbind(0)
        stored = len(self)
        for row, g in zip(self._index_rows, self.generators, strict=True):
            row.random_(0, stored, generator=g)  # torch.randint's draw, into the row in place
        return self._index

    def gather(self, index: torch.Tensor) -> Batch:
        """The transitions at ``index`` [M, B]: per member, positions in [0, len(self)) of its own data
        (position p is row p // num_envs of its env p % num_envs).

        It reads tensors and sizes fixed at construction only (the newest row as a tensor, ``_pos``), so
        a compiled update gathers inside its graph and never needs to recompile as the buffer fills."""
        t, env = index.div(self.num_envs, rounding_mode="floor"), index.remainder(self.num_envs)
        column = env + self._block  # [M, B]: the env's column in storage
        flat = t * self.obs.shape[1] + column
        if self.n_step == 1:
            terminated = self.terminated.view(-1)[flat]
            rewards = self.rewards.view(-1)[flat]
            return Batch(
                obs=self.obs.flatten(0, 1)[flat],
                actions=self.actions.flatten(0, 1)[flat],
                rewards=rewards,
                next_obs=self.next_obs.flatten(0, 1)[flat],
                terminated=terminated,
                discounts=self.gamma * (~terminated).to(rewards.dtype),
            )
        return self._sample_nstep(flat, t, column)

    def _sample_nstep(self, flat: torch.Tensor, t: torch.Tensor, column: torch.Tensor) -> Batch:
        k = torch.arange(self.n_step, device=self.device)
        rows = (t.unsqueeze(-1) + k) % self.rows  # [M, B, n]: the same env's next n steps
        window = rows * self.obs.shape[1] + column.unsqueeze(-1)
        available = (self._pos - 1 - t) % self.rows + 1  # steps written from t to the newest row
        terminated = self.terminated.view(-1)[window]
        episode_end = terminated | self.truncated.view(-1)[window]
        returns, length, discounts = nstep_window(
            self.rewards.view(-1)[window], terminated, episode_end, available, self.gamma
        )
        last = window.gather(-1, (length - 1).unsqueeze(-1)).squeeze(-1)
        return Batch(
            obs=self.obs.flatten(0, 1)[flat],
            actions=self.actions.flatten(0, 1)[flat],
            rewards=returns,
            next_obs=self.next_obs.flatten(0, 1)[last],
            terminated=self.terminated.view(-1)[last],
            discounts=discounts,
        )

    def _columns(self, member: int | None) -> slice:
        return slice(None) if member is None else slice(member * self.num_envs, (member + 1) * self.num_envs)

    def state_dict(self, member: int | None = None) -> dict:
        """The stored data and sampling state: all members, or one member's as if it had trained alone."""
        n, cols = self.filled_rows, self._columns(member)
        generators = self.generators if member is None else [self.generators[member]]
        return {
            "obs": self.obs[:n, cols].clone(),
            "next_obs": self.next_obs[:n, cols].clone(),
            "actions": self.actions[:n, cols].clone(),
            "rewards": self.rewards[:n, cols].clone(),
            "terminated": self.terminated[:n, cols].clone(),
            "truncated": self.truncated[:n, cols].clone(),
            "pos": self.pos,
            "full": self.full,
            "generators": [g.get_state() for g in generators],
        }

    def load_state_dict(self, state: dict, member: int | None = None) -> None:
        """Restore all members, or one member's block from a state saved for it alone."""
        n, cols = state["obs"].shape[0], self._columns(member)
        expected_rows = self.rows if state["full"] else int(state["pos"])
        target = self.obs[:, cols]
        if state["obs"].shape[1:] != target.shape[1:] or n != expected_rows:
            raise ValueError(f"replay buffer shape {tuple(state['obs'].shape)} does not fit {tuple(target.shape)}")
        for name in ("obs", "next_obs", "actions", "rewards", "terminated", "truncated"):
            getattr(self, name)[:n, cols] = state[name].to(self.device)
        self.pos, self.full = int(state["pos"]), bool(state["full"])
        self._pos.fill_(self.pos)
        generators = self.generators if member is None else [self.generators[member]]
        for g, g_state in zip(generators, state["generators"], strict=True):
            g.set_state(g_state)


class RolloutBatch(NamedTuple):
    """Flat transitions of a rollout (or a minibatch of them) for an on-policy loss."""

    obs: torch.Tensor  # [B, obs_dim]
    actions: torch.Tensor  # [B] indices, or [B, action_dim]
    log_probs: torch.Tensor  # [B] log pi_old(a|s) at collection
    values: torch.Tensor  # [B] V_old(s) at collection
    advantages: torch.Tensor  # [B]
    returns: torch.Tensor  # [B] the value target: advantages + values


class RolloutBuffer:
    """``num_steps`` steps of ``num_envs`` envs: what one on-policy update learns from.

    ``add`` writes one vector step; ``finish`` computes GAE(lambda) advantages and returns. Where an
    episode was truncated, ``final_values`` holds V(final observation), so the return bootstraps from it;
    where it terminated nothing is bootstrapped.
    """

    def __init__(
        self,
        num_steps: int,
        num_envs: int,
        obs_dim: int,
        action_shape: tuple[int, ...] = (),
        discrete: bool = True,
        device: torch.device | str = "cpu",
    ):
        T, N = num_steps, num_envs
        zeros = lambda *shape, dtype=torch.float32: torch.zeros(shape, dtype=dtype, device=device)  # noqa: E731
        self.obs = zeros(T, N, obs_dim)
        self.actions = zeros(T, N, *action_shape, dtype=torch.long if discrete else torch.float32)
        self.log_probs, self.values, self.rewards = zeros(T, N), zeros(T, N), zeros(T, N)
        self.terminated, self.truncated = zeros(T, N, dtype=torch.bool), zeros(T, N, dtype=torch.bool)
        self.final_values = zeros(T, N)  # V(final observation), where truncated
        self.advantages, self.returns = zeros(T, N), zeros(T, N)
        self.num_steps, self.num_envs, self.step = T, N, 0

    def add(self, obs, actions, log_probs, values, rewards, terminated, truncated) -> None:
        t, dev = self.step, self.obs.device
        self.obs[t] = obs
        self.actions[t] = actions
        self.log_probs[t], self.values[t] = log_probs, values
        self.rewards[t] = _as_tensor(rewards, torch.float32, dev)
        self.terminated[t] = _as_tensor(terminated, torch.bool, dev)
        self.truncated[t] = _as_tensor(truncated, torch.bool, dev)
        self.step += 1

    def finish(self, last_values: torch.Tensor, gamma: float, lam: float) -> None:
        """Advantages and returns; ``last_values`` is V(s_T) of the observations after the last step."""
        if self.step != self.num_steps:
            raise RuntimeError(f"rollout has {self.step} of {self.num_steps} steps")
        next_values = torch.cat([self.values[1:], last_values.unsqueeze(0)])
        next_values = torch.where(self.truncated, self.final_values, next_values)
        self.advantages, self.returns = gae(
            self.rewards, self.values, next_values, self.terminated, self.truncated, gamma, lam
        )
        self.step = 0

    def batch(self) -> RolloutBatch:
        """Every transition, flattened over time and envs."""
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        return RolloutBatch(*(flat(x) for x in (self.obs, self.actions, self.log_probs, self.values, self.advantages, self.returns)))  # fmt: skip

    def minibatches(self, num_minibatches: int, generator: torch.Generator | None = None):
        """The flat transitions in ``num_minibatches`` random disjoint minibatches (one epoch)."""
        full = self.batch()
        device = generator.device if generator is not None else "cpu"
        order = torch.randperm(full.obs.shape[0], generator=generator, device=device).to(full.obs.device)
        for index in order.tensor_split(num_minibatches):  # sizes differ by at most one
            yield RolloutBatch(*(x[index] for x in full))
