"""The off-policy loop, shared by every off-policy algorithm (DDPG, TD3, SAC).

The loop owns time: stepping the vector env, exploration, when to update. An algorithm subclass owns
only its networks, optimizers and ``update(batch)``. Evaluation, logging and checkpoints are
``Agent``'s (train/agent.py).

Every transition goes into the replay buffer with its true next observation (the final one where an
episode ended): bootstrap on truncation, never on termination (the buffer's ``discounts`` are zero
there), and no transition ever crosses a reset.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
import tyro

from actorcritic.core.buffers import Batch, ReplayBuffer
from actorcritic.core.noise import ActionNoise, GaussianNoise, OrnsteinUhlenbeckNoise
from actorcritic.core.optim import ensemble_critic_loss, gradient_step
from actorcritic.core.targets import TargetNetworks
from actorcritic.envs.make import episode_seed
from actorcritic.errors import UserError
from actorcritic.train.agent import Agent, AgentConfig, need


@dataclass(frozen=True)
class OffPolicyConfig(AgentConfig):
    """Settings shared by every off-policy algorithm: the loop, the replay buffer, exploration."""

    # --- the loop
    learning_starts: int = 1000
    """Env steps of uniform random actions before the policy (plus noise) acts and updates begin."""
    train_freq: int = 1
    """Run an update phase every train_freq vector steps."""
    gradient_steps: int = 1
    """Gradient updates per update phase. Update-to-data ratio = gradient_steps / (train_freq * num_envs)."""
    # --- replay
    buffer_size: int = 1_000_000
    """Replay capacity in transitions (FIFO)."""
    batch_size: int = 256
    """Transitions per gradient update."""
    n_step: int = 1
    """Bootstrapped n-step returns (1 = the one-step TD target); cut correctly at episode ends."""
    # --- the update
    tau: float = 0.005
    """Target network update rate in (0, 1]: target <- (1 - tau) target + tau online; 1 = hard copy."""
    target_update_period: Annotated[int, tyro.conf.arg(aliases=("--target-update-interval",))] = 1
    """Update the targets every this many gradient updates (TF-Agents; e.g. tau=1, period=200 for hard copies)."""
    actor_lr: float = 1e-3
    """Actor learning rate (Adam)."""
    critic_lr: float = 1e-3
    """Critic learning rate (Adam)."""
    critic_loss: Literal["mse", "huber"] = "mse"
    """Critic regression loss against the TD target."""
    reward_scale: float = 1.0
    """Multiply rewards by this in the TD target."""
    # --- exploration (normalised action units: 1.0 is half the action range)
    noise: Literal["gaussian", "ou", "none"] = "gaussian"
    """Exploration noise added to the policy's action: Gaussian, Ornstein-Uhlenbeck, or none."""
    noise_sigma: float = 0.1
    """Noise scale relative to the action range (fraction of (high - low) / 2); OU's max_sigma."""
    noise_clip: float | None = None
    """Clip each noise sample to +-noise_clip (None: no clipping)."""
    noise_min_sigma: float | None = None
    """Decay sigma linearly to this over noise_decay_period env steps (None: constant sigma)."""
    noise_decay_period: int = 100_000
    """Env steps over which sigma decays from noise_sigma to noise_min_sigma."""
    ou_theta: float = 0.15
    """Ornstein-Uhlenbeck mean-reversion rate theta."""
    ou_mu: float = 0.0
    """Ornstein-Uhlenbeck long-run mean mu."""
    ou_dt: float = 1.0
    """Ornstein-Uhlenbeck time step."""
    # --- the Ray back end: rollout workers feed this process's replay buffer and learner
    backend: Literal["local", "ray"] = "local"
    """Step the envs here ('local'), or on num_workers Ray actors that send transitions to the learner ('ray')."""
    num_workers: int = 2
    """Rollout-worker actors (backend ray), each with num_envs envs, a copy of the policy and its own noise."""
    fragment_steps: int = 50
    """Vector steps a rollout worker collects per batch it sends to the learner (backend ray)."""
    sync_interval: int = 50
    """The learner publishes the policy's weights to the workers every this many updates (backend ray)."""
    noise_spread: float = 1.0
    """Per-worker exploration, as in Ape-X (backend ray): worker i of K explores with noise_sigma *
    noise_spread ** (2i / (K - 1) - 1), from sigma / spread to sigma * spread; 1: every worker the same."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(0 < self.tau <= 1, f"tau must be in (0, 1], got {self.tau}")
        for name in ("actor_lr", "critic_lr"):
            need(getattr(self, name) > 0, f"{name} must be positive, got {getattr(self, name)}")
        for name in (
            "train_freq",
            "batch_size",
            "buffer_size",
            "n_step",
            "target_update_period",
            "num_workers",
            "fragment_steps",
            "sync_interval",
        ):
            need(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_starts", "gradient_steps", "noise_decay_period"):
            need(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
        need(
            self.batch_size <= self.buffer_size,
            f"batch_size ({self.batch_size}) is larger than buffer_size ({self.buffer_size})",
        )
        need(self.noise_sigma >= 0, f"noise_sigma must be >= 0, got {self.noise_sigma}")
        need(self.noise_clip is None or self.noise_clip > 0, "noise_clip must be positive")
        need(self.noise_spread >= 1, f"noise_spread must be >= 1, got {self.noise_spread}")
        need(self.backend == "local" or self.vectorization == "sync", "Ray rollout workers step their envs in sync")


class OffPolicyAgent(Agent):
    """An off-policy actor-critic agent and its training loop.

    ``seed`` may be a list of seeds: one member per seed, trained together as one batched computation
    (stacked networks, one replay buffer with a block per member, one vector env), each with its own
    parameters, replay data, envs and RNG streams, and its own run directory (``run_dir/seed<S>``).
    ``compile=True`` runs the update through ``torch.compile``.

    Subclasses set ``algo``, ``config_cls``, ``metric_names`` and ``checkpointed``, and define
    ``build`` (networks, optimizers, ``self.targets``), ``policy`` and ``update``.
    """

    config_cls: ClassVar[type[OffPolicyConfig]]
    config: OffPolicyConfig
    targets: TargetNetworks

    def __init__(
        self,
        env: str = "Pendulum-v1",
        config: OffPolicyConfig | None = None,
        seed: int | Sequence[int] = 0,
        run_dir: str | Path | Sequence[str | Path] | None = None,
        checkpoint_interval: int | None = None,
        device: str = "cpu",
        compile: bool = False,
        env_kwargs: dict[str, Any] | None = None,
    ):
        super().__init__(env, config, seed, run_dir, checkpoint_interval, device, env_kwargs)
        cfg = self.config
        self.buffer = ReplayBuffer(
            cfg.buffer_size, self.obs_dim, self.action_dim, cfg.num_envs, cfg.n_step, cfg.gamma,
            seed=[episode_seed(m.seed, 1) for m in self.members], device=self.device,
        )  # fmt: skip
        if compile:  # torch.compile the whole update: same math, fused kernels, Python overhead traced away
            self.update = torch.compile(self.update, dynamic=False)
        self.rollout_workers: Any = None  # backend ray: the worker actors, started by learn()

    def _check_setup(self, num_seeds: int) -> None:
        if self.config.backend == "ray" and (num_seeds > 1 or self.multi_agent):
            raise UserError("the Ray back end trains one seed on a single-agent env; use backend local")

    # ----------------------------------------------------------------- algorithm interface
    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One gradient update of every member; returns detached per-member tensors [members] named by
        ``metric_names``.

        ``self.num_updates`` already counts this update (1 on the first), for delays and periods.
        """
        raise NotImplementedError

    def critic_step(self, batch: Batch, next_value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The Bellman regression every off-policy critic shares; returns (loss [M], Q values [M, n, B]).

        y = reward_scale * r + gamma^n (1 - terminated) V'(s'), with V'(s') = ``next_value`` from the
        algorithm (DDPG/TD3: min_i Q'_i(s', a'); SAC: that minus alpha log pi(a'|s')).
        """
        cfg = self.config
        y = cfg.reward_scale * batch.rewards + batch.discounts * next_value
        q = self.critic(batch.obs, batch.actions)
        loss = ensemble_critic_loss(cfg.critic_loss, q, y)
        self.gradient_step(self.critic_optim, loss, self.critic_params)
        return loss, q

    def gradient_step(self, optim: torch.optim.Optimizer, loss: torch.Tensor, params: list) -> None:
        """One optimizer step on per-member losses [M], each member's gradient clipped on its own."""
        gradient_step(optim, loss, params, self.config.max_grad_norm, self.num_members)

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Count the update, then run it."""
        self.num_updates += 1
        return self.update(batch)

    # ----------------------------------------------------------------- the loop
    def _advance(self) -> None:
        """One vector step of exploration into the buffer (on Ray: one worker's fragment of steps), then the
        update phases it calls for: gradient_steps every train_freq vector steps, once learning_starts."""
        cfg = self.config
        before = self.vector_steps
        if self.rollout_workers is None:
            self._env_step()
        else:
            self.rollout_workers.receive()
        if self.global_step >= cfg.learning_starts:
            phases = self.vector_steps // cfg.train_freq - before // cfg.train_freq
            if phases:
                self._train(phases * cfg.gradient_steps)

    def _env_step(self) -> None:
        actions = self.explore_actions()
        obs, next_obs, rewards, terminated, truncated = self._step_envs(actions)
        self.buffer.add(obs, actions, rewards, next_obs, terminated, truncated)

    def explore_actions(self) -> np.ndarray:
        """Actions for ``self.obs``: uniform random before learning_starts, then the policy plus noise."""
        cfg = self.config
        if self.global_step < cfg.learning_starts:
            actions = torch.cat([torch.rand((cfg.num_envs, self.action_dim), generator=m.explore_generator) for m in self.members]) * 2 - 1  # fmt: skip
        else:
            with torch.no_grad():
                obs = torch.as_tensor(self.obs, dtype=torch.float32, device=self.device)
                actions = self.policy(obs.view(self.num_members, cfg.num_envs, -1), deterministic=False)
                noise = torch.stack([m.noise.sample(self.global_step) for m in self.members])
                actions = (actions + noise).clamp_(-1.0, 1.0).view(-1, self.action_dim)
        return actions.cpu().numpy()

    def _start_envs(self) -> None:
        if self.config.backend == "local":
            return super()._start_envs()
        if self.rollout_workers is None:
            from actorcritic.distributed.off_policy import RolloutWorkers

            self.rollout_workers = RolloutWorkers(self)

    def _stop_workers(self) -> None:
        if self.rollout_workers is not None:
            self.rollout_workers.stop()
            self.rollout_workers = None

    def _train(self, gradient_steps: int) -> None:
        started = time.perf_counter()
        for _ in range(gradient_steps):
            self._record_metrics(self.train_step(self.buffer.sample(self.config.batch_size)))
        self.update_seconds += time.perf_counter() - started

    def _resume_mid_episode(self, mask: np.ndarray) -> None:
        self.buffer.mark_episode_end(mask)  # the stored part of the old episode ends there for n-step windows
        super()._resume_mid_episode(mask)

    # ----------------------------------------------------------------- state
    def _extra_state(self, member: int, include_buffer: bool) -> dict[str, Any]:
        state = {"targets": self.targets.state_dict(), "noise": self.members[member].noise.state_dict()}
        if include_buffer:
            state["buffer"] = self.buffer.state_dict(member)
        return state

    def _load_extra_state(self, states: list[dict[str, Any]]) -> None:
        self.targets.load_state_dict(states[0]["targets"])
        for i, (m, s) in enumerate(zip(self.members, states, strict=True)):
            m.noise.load_state_dict(s["noise"])
            if "buffer" in s:
                self.buffer.load_state_dict(s["buffer"], member=i)

    def _make_noise(self, seed: int) -> ActionNoise:
        cfg = self.config
        return make_noise(cfg, cfg.noise, cfg.num_envs, self.action_dim, seed, self.device)


def make_noise(
    cfg: OffPolicyConfig,
    kind: str,
    num_envs: int,
    action_dim: int,
    seed: int,
    device: torch.device,
    default_clip: float | None = None,
) -> ActionNoise:
    """The exploration noise a config asks for ("gaussian", "ou" or "none")."""
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
