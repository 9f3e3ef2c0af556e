"""The off-policy loop, shared by every off-policy algorithm (DDPG, TD3, SAC).

The loop owns time: stepping the vector env, exploration, when to update, evaluate, log and
checkpoint. An algorithm subclass owns only its networks, optimizers and ``update(batch)``.

Episode ends under Gymnasium 1.x: the vector env runs with autoreset disabled and the loop resets a
finished env itself, so the observation returned with ``terminated``/``truncated`` is the true final
observation and is stored as ``next_obs``. Hence: bootstrap on truncation from the true final
observation, never bootstrap on termination (the buffer's ``discounts`` are zero there), and no
transition ever crosses a reset.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch
import tyro
from torch import nn

from actorcritic.config import config_to_dict
from actorcritic.core.buffers import Batch, ReplayBuffer
from actorcritic.core.members import member_state, stack_states
from actorcritic.core.noise import ActionNoise, GaussianNoise, OrnsteinUhlenbeckNoise
from actorcritic.core.optim import ensemble_critic_loss, gradient_step
from actorcritic.core.spaces import ActionScaler, flat_box_dim
from actorcritic.core.targets import TargetNetworks
from actorcritic.envs.make import episode_seed, make_env, make_vector_env
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.train import checkpoint as ckpt
from actorcritic.train.evaluation import EvalResult, evaluate_multi_agent, evaluate_policies
from actorcritic.train.run_dir import CONFIG, SUMMARY, check_new_run_dir, create_run_dir, write_json

CHECKPOINT_FORMAT = 2  # 2: stacked member-major networks (seed groups)

# Envs Gymnasium registers without a reward_threshold, and the threshold the field uses for them.
KNOWN_THRESHOLDS = {"Pendulum-v1": -200.0}  # "solved" at return > -200 (seed 002, common practice)


@dataclass(frozen=True)
class OffPolicyConfig:
    """Settings shared by every off-policy algorithm: the loop, the replay buffer, exploration."""

    # --- environment and loop
    num_envs: int = 1
    """Parallel envs (gymnasium.vector); each vector step adds num_envs env steps."""
    vectorization: Literal["sync", "async"] = "sync"
    """Run the envs in this process ('sync') or one subprocess each ('async', for slow envs)."""
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
    gamma: float = 0.99
    """Discount factor."""
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
    max_grad_norm: float | None = None
    """Clip each network's gradient norm to this value (None: no clipping)."""
    reward_scale: float = 1.0
    """Multiply rewards by this in the TD target."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the actor and critic MLPs."""
    activation: Literal["relu", "tanh", "elu", "gelu", "silu", "leaky_relu"] = "relu"
    """Hidden-layer activation."""
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
    # --- evaluation and logging
    eval_interval: int = 1000
    """Evaluate the deterministic policy every this many env steps (0: only at the end)."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    target_return: float | None = None
    """Mean eval return that counts as solved (None: the env's reward_threshold, if known)."""
    stop_at_target: bool = False
    """Stop training as soon as an evaluation reaches target_return."""
    log_interval: int = 1000
    """Write a metrics row (CSV + TensorBoard) every this many env steps."""

    def __post_init__(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise UserError(msg)

        need(0 < self.tau <= 1, f"tau must be in (0, 1], got {self.tau}")
        need(0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}")
        for name in ("actor_lr", "critic_lr"):
            need(getattr(self, name) > 0, f"{name} must be positive, got {getattr(self, name)}")
        for name in (
            "num_envs",
            "train_freq",
            "batch_size",
            "buffer_size",
            "n_step",
            "target_update_period",
            "eval_episodes",
            "log_interval",
        ):
            need(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_starts", "gradient_steps", "eval_interval", "noise_decay_period"):
            need(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
        need(
            self.batch_size <= self.buffer_size,
            f"batch_size ({self.batch_size}) is larger than buffer_size ({self.buffer_size})",
        )
        need(self.noise_sigma >= 0, f"noise_sigma must be >= 0, got {self.noise_sigma}")
        need(self.noise_clip is None or self.noise_clip > 0, "noise_clip must be positive")
        need(self.max_grad_norm is None or self.max_grad_norm > 0, "max_grad_norm must be positive")
        need(
            len(self.hidden_sizes) >= 1 and min(self.hidden_sizes) >= 1,
            "hidden_sizes must be positive",
        )


class Member:
    """One agent of a group: its seed, RNG streams, exploration noise, run directory and statistics.

    Its networks, optimizer moments and replay data are block m of the group's stacked ones.
    """

    def __init__(self, seed: int, noise: ActionNoise, device: torch.device, run_dir: Path | None):
        self.seed = seed
        self.noise = noise
        self.init_generator = torch.Generator().manual_seed(episode_seed(seed, 0))  # network weights
        self.explore_generator = torch.Generator().manual_seed(episode_seed(seed, 3))  # random warm-up actions
        # Randomness inside the algorithm (SAC's action samples, TD3's target smoothing).
        self.generator = torch.Generator(device).manual_seed(episode_seed(seed, 4))
        self.run_dir = run_dir
        self.logger: Any = None
        self.resume_step: int | None = None
        self.eval_env: Any = None
        self.episodes_done = 0
        self.recent_returns: deque[float] = deque(maxlen=20)
        self.recent_lengths: deque[int] = deque(maxlen=20)
        self.last_eval: EvalResult | None = None
        self.best_eval_return = -math.inf
        self.solved_at_step: int | None = None


def _first_member(name: str) -> property:
    """``agent.<name>``: the first member's (for an agent trained alone, its own)."""
    return property(
        lambda self: getattr(self.members[0], name),
        lambda self, value: setattr(self.members[0], name, value),
        doc=f"The first member's {name} (for an agent trained alone, its own).",
    )


class OffPolicyAgent:
    """An off-policy actor-critic agent and its training loop.

    ``seed`` may be a list of seeds: one member per seed, trained together as one batched computation
    (stacked networks, one replay buffer with a block per member, one vector env), each with its own
    parameters, replay data, envs and RNG streams, and its own run directory (``run_dir/seed<S>``).
    ``compile=True`` runs the update through ``torch.compile``.

    Subclasses set ``algo``, ``config_cls``, ``metric_names`` and ``checkpointed``, and define
    ``build`` (networks, optimizers, ``self.targets``), ``policy`` and ``update``.
    """

    algo: ClassVar[str]
    config_cls: ClassVar[type[OffPolicyConfig]]
    metric_names: ClassVar[tuple[str, ...]]
    checkpointed: ClassVar[tuple[str, ...]]  # attribute names of modules and optimizers to save
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
        self.config = config if config is not None else self.config_cls()
        if not isinstance(self.config, self.config_cls):
            raise UserError(f"{type(self).__name__} needs a {self.config_cls.__name__}")
        seeds = [int(seed)] if isinstance(seed, int | np.integer) else [int(s) for s in seed]
        if not seeds or len(set(seeds)) != len(seeds):
            raise UserError(f"seeds must be distinct and at least one, got {seeds}")
        self.env_id, self.env_kwargs, self.device = env, dict(env_kwargs or {}), _device(device)
        self.checkpoint_interval = checkpoint_interval

        probe = make_env(env, **self.env_kwargs)  # fails early, with a clear message, on an unknown env
        # A multi-agent env (Swarm-v0) is a vector env of its own, one sub-env per agent, one shared policy.
        self.multi_agent = isinstance(probe, gym.vector.VectorEnv)
        if self.multi_agent:
            if len(seeds) > 1:
                raise UserError(
                    f"--seeds with the multi-agent env '{env}' is not supported; train its seeds one by one"
                )
            self.config = dataclasses.replace(self.config, num_envs=probe.num_envs)
        cfg = self.config
        name = self.algo.upper()
        obs_space = probe.single_observation_space if self.multi_agent else probe.observation_space
        action_space = probe.single_action_space if self.multi_agent else probe.action_space
        self.obs_dim = flat_box_dim(obs_space, "observation", name)
        self.scaler = ActionScaler(action_space, name)
        self.action_dim = int(action_space.shape[0])
        self.env_metric_names: tuple[str, ...] = tuple(getattr(probe, "metric_names", ()))
        self.target_return = cfg.target_return
        if self.target_return is None and probe.spec is not None:
            self.target_return = probe.spec.reward_threshold or KNOWN_THRESHOLDS.get(probe.spec.id)
        probe.close()

        run_dirs = _member_run_dirs(run_dir, seeds)
        self.members = [
            Member(s, self._make_noise(episode_seed(s, 2)), self.device, d)
            for s, d in zip(seeds, run_dirs, strict=True)
        ]
        self.num_members = len(seeds)
        self.build(self.obs_dim, self.action_dim)
        self.buffer = ReplayBuffer(
            cfg.buffer_size, self.obs_dim, self.action_dim, cfg.num_envs, cfg.n_step, cfg.gamma,
            seed=[episode_seed(s, 1) for s in seeds], device=self.device,
        )  # fmt: skip
        if compile:  # torch.compile the whole update: same math, fused kernels, Python overhead traced away
            self.update = torch.compile(self.update, dynamic=False)

        self.envs: Any = None  # made on first learn(); an agent loaded for eval needs none
        self.obs: np.ndarray | None = None
        self.global_step = self.vector_steps = self.num_updates = 0
        num_envs = self.num_members * cfg.num_envs  # env j belongs to member j // num_envs
        self.episode_index = np.zeros(num_envs, dtype=np.int64)  # episode running in each env
        self.episode_return = np.zeros(num_envs)
        self.episode_length = np.zeros(num_envs, dtype=np.int64)
        self.last_eval_step = -1
        self.wall_seconds = self.update_seconds = 0.0
        self._metric_sums = torch.zeros(len(self.metric_names), self.num_members, device=self.device)
        self._metric_count = 0
        self._env_metric_sums = np.zeros(len(self.env_metric_names))  # what a multi-agent env reports in info
        self._env_metric_count = 0
        self.planned_total_steps: int | None = None  # the total the current learn() aims for

    seed = _first_member("seed")
    run_dir = _first_member("run_dir")
    noise = _first_member("noise")
    generator = _first_member("generator")
    explore_generator = _first_member("explore_generator")
    last_eval = _first_member("last_eval")
    best_eval_return = _first_member("best_eval_return")
    solved_at_step = _first_member("solved_at_step")
    recent_returns = _first_member("recent_returns")
    episodes_done = _first_member("episodes_done")

    @property
    def generators(self) -> list[torch.Generator]:
        """One per member: the algorithm's own randomness (SAC's samples, TD3's target smoothing)."""
        return [m.generator for m in self.members]

    @property
    def init_generators(self) -> list[torch.Generator]:
        """One per member, for ``build``: member m's initial weights come from its own generator."""
        return [m.init_generator for m in self.members]

    # ----------------------------------------------------------------- algorithm interface
    def build(self, obs_dim: int, action_dim: int) -> None:
        raise NotImplementedError

    def policy(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        """Normalised actions in [-1, 1] for observations [members, batch, obs_dim]."""
        raise NotImplementedError

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

    # ----------------------------------------------------------------- public API
    @torch.no_grad()
    def act(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions in the env's units. Alone: for one observation or a batch of them. In a group: for
        observations with a leading members axis, [M, obs_dim] or [M, B, obs_dim]."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        if self.num_members > 1 and (obs_t.dim() < 2 or obs_t.shape[0] != self.num_members):
            raise UserError(f"a group of {self.num_members} agents acts on observations [members, ..., obs_dim]")
        shape = obs_t.shape
        obs_t = obs_t.reshape(self.num_members, -1, self.obs_dim)
        actions = self.policy(obs_t, deterministic).reshape(*shape[:-1], self.action_dim).cpu().numpy()
        return self.scaler.to_env(actions)

    def evaluate(
        self, episodes: int | None = None, round_id: int | None = None, on_frame=None, seed: int | None = None
    ) -> EvalResult:
        """Mean and std of return and length over ``episodes`` deterministic episodes (the first member)."""
        return self.evaluate_members(episodes, round_id, on_frame, seed)[0]

    def evaluate_members(
        self, episodes: int | None = None, round_id: int | None = None, on_frame=None, seed: int | None = None
    ) -> list[EvalResult]:
        """Every member's deterministic policy on its own eval env, all members stepping together."""
        for m in self.members:
            if m.eval_env is None:
                m.eval_env = make_env(self.env_id, render_mode="rgb_array" if on_frame else None, **self.env_kwargs)
        seeds = [m.seed for m in self.members] if seed is None else [seed] * self.num_members
        round_id = self.global_step if round_id is None else round_id
        if self.multi_agent:
            env, episodes = self.members[0].eval_env, episodes or self.config.eval_episodes
            return [evaluate_multi_agent(env, self.act, episodes, seeds[0], round_id, self.env_metric_names, on_frame)]
        return evaluate_policies(
            [m.eval_env for m in self.members],
            self.act,
            episodes or self.config.eval_episodes,
            seeds,
            round_id,
            on_frame,
        )

    def learn(self, steps: int, progress: bool = False) -> OffPolicyAgent:
        """Train for ``steps`` more env steps (evaluating, logging and checkpointing on the way)."""
        if steps < 0:
            raise UserError(f"steps must be >= 0, got {steps}")
        cfg = self.config
        end = self.global_step + steps
        self.planned_total_steps = end
        self._start()
        bar = _ProgressBar(self.global_step, end) if progress else None
        started = time.perf_counter()
        try:
            while self.global_step < end:
                before = self.global_step
                self._env_step()
                if self.global_step >= cfg.learning_starts and self.vector_steps % cfg.train_freq == 0:
                    self._train(cfg.gradient_steps)
                self.wall_seconds += time.perf_counter() - started
                started = time.perf_counter()
                self._periodic(before)
                if bar is not None:
                    bar.update(self)
                if cfg.stop_at_target and all(m.solved_at_step is not None for m in self.members):
                    break
            self.wall_seconds += time.perf_counter() - started
            self._finish()
        finally:
            if bar is not None:
                bar.update(self, force=True)
                bar.close()
            for m in self.members:
                if m.logger is not None:
                    m.logger.flush()
        return self

    def save(self, path: str | Path, member: int = 0) -> Path:
        """Write a full checkpoint (resumable) of one member to ``path``, atomically."""
        return ckpt.save_checkpoint(self.state_dict(member), path)

    def close(self) -> None:
        for env in (self.envs, *(m.eval_env for m in self.members)):
            if env is not None:
                env.close()
        for m in self.members:
            if m.logger is not None:
                m.logger.close()
                m.logger = None

    # ----------------------------------------------------------------- the loop
    def _start(self) -> None:
        cfg = self.config
        if self.envs is None:
            self.envs = make_vector_env(
                self.env_id, self.num_members * cfg.num_envs, cfg.vectorization, **self.env_kwargs
            )
        for i, m in enumerate(self.members):
            if m.run_dir is not None and m.logger is None:
                from actorcritic.train.logging import RunLogger

                m.logger = RunLogger(m.run_dir, self._log_columns(), m.resume_step)
            if m.run_dir is not None:
                write_json(m.run_dir / CONFIG, self.run_info(i))  # total_steps may have grown
        if self.obs is None:
            # A fresh start, or a resume: envs mid-episode start a fresh episode (the stored part of
            # the old one stays, cut so that n-step windows end there); envs at an episode boundary
            # replay exactly the reset the uninterrupted run would have made.
            mid_episode = self.episode_length > 0
            if mid_episode.any():
                self.buffer.mark_episode_end(mid_episode)
                self.episode_index[mid_episode] += 1
                self._reset_noise(mid_episode)
            self.episode_return[:] = 0.0
            self.episode_length[:] = 0
            self.obs, _ = self.envs.reset(seed=self._episode_seeds(np.ones(len(self.episode_index), dtype=bool)))

    def _episode_seeds(self, mask: np.ndarray) -> list[int | None]:
        """The reset seed of the next episode of every env in ``mask`` (env j: member j // num_envs)."""
        n = self.config.num_envs
        return [
            episode_seed(self.members[j // n].seed, j % n, int(k)) if d else None
            for j, (k, d) in enumerate(zip(self.episode_index, mask, strict=True))
        ]

    def _reset_noise(self, env_mask: np.ndarray) -> None:
        for m, mask in zip(self.members, env_mask.reshape(self.num_members, -1), strict=True):
            if mask.any():
                m.noise.reset(torch.as_tensor(mask))

    def _env_step(self) -> None:
        cfg = self.config
        if self.global_step < cfg.learning_starts:
            actions = torch.cat([torch.rand((cfg.num_envs, self.action_dim), generator=m.explore_generator) for m in self.members]) * 2 - 1  # fmt: skip
        else:
            with torch.no_grad():
                obs = torch.as_tensor(self.obs, dtype=torch.float32, device=self.device)
                actions = self.policy(obs.view(self.num_members, cfg.num_envs, -1), deterministic=False)
                noise = torch.stack([m.noise.sample(self.global_step) for m in self.members])
                actions = (actions + noise).clamp_(-1.0, 1.0).view(-1, self.action_dim)
        actions = actions.cpu().numpy()
        next_obs, rewards, terminated, truncated, info = self.envs.step(self.scaler.to_env(actions))
        if self.env_metric_names:
            self._env_metric_sums += [info[name] for name in self.env_metric_names]
            self._env_metric_count += 1
        if not (np.isfinite(next_obs).all() and np.isfinite(rewards).all()):
            self._diverged("observation or reward")
        # next_obs is the true final observation where an episode ended (autoreset is disabled).
        self.buffer.add(self.obs, actions, rewards, next_obs, terminated, truncated)
        self.vector_steps += 1
        self.global_step += cfg.num_envs
        self.episode_return += rewards
        self.episode_length += 1
        done = terminated | truncated
        if done.any():
            self._end_episodes(done)
            reset_obs, _ = self.envs.reset(seed=self._episode_seeds(done), options={"reset_mask": done})
            next_obs = np.where(done[:, None], reset_obs, next_obs)
        self.obs = next_obs

    def _end_episodes(self, done: np.ndarray) -> None:
        for j in np.flatnonzero(done):
            m = self.members[j // self.config.num_envs]
            ret, length = float(self.episode_return[j]), int(self.episode_length[j])
            m.recent_returns.append(ret)
            m.recent_lengths.append(length)
            m.episodes_done += 1
            if m.logger is not None:
                m.logger.log_episode(self.global_step, int(j % self.config.num_envs), ret, length)
        self.episode_return[done] = 0.0
        self.episode_length[done] = 0
        self.episode_index[done] += 1
        self._reset_noise(done)

    def _train(self, gradient_steps: int) -> None:
        started = time.perf_counter()
        for _ in range(gradient_steps):
            metrics = self.train_step(self.buffer.sample(self.config.batch_size))
            self._metric_sums += torch.stack([metrics[k] for k in self.metric_names])
            self._metric_count += 1
        self.update_seconds += time.perf_counter() - started

    def _periodic(self, before: int) -> None:
        cfg, step = self.config, self.global_step

        def crossed(interval: int | None) -> bool:
            return bool(interval) and step // interval > before // interval

        evaluated = crossed(cfg.eval_interval)
        if evaluated:
            self._evaluate_and_track()
        if evaluated or crossed(cfg.log_interval):
            self._log(with_eval=evaluated)
        if crossed(self.checkpoint_interval):
            self._checkpoint()

    def _evaluate_and_track(self) -> None:
        results = self.evaluate_members()
        self.last_eval_step = self.global_step
        for i, (m, result) in enumerate(zip(self.members, results, strict=True)):
            m.last_eval = result
            if result.mean_return > m.best_eval_return:
                m.best_eval_return = result.mean_return
                if m.run_dir is not None:
                    self._check_finite()
                    best = m.run_dir / "checkpoints" / ckpt.BEST
                    ckpt.save_checkpoint(self.state_dict(i, include_buffer=False), best)
            if m.solved_at_step is None and self.target_return is not None and result.mean_return >= self.target_return:
                m.solved_at_step = self.global_step

    def _log(self, with_eval: bool) -> None:
        means = (self._metric_sums / max(1, self._metric_count)).tolist()  # the one host sync per log
        if self._metric_count and not all(math.isfinite(v) for row in means for v in row):
            self._diverged("loss")
        env_means = self._env_metric_sums / max(1, self._env_metric_count)
        for i, m in enumerate(self.members):
            row: dict[str, Any] = {
                "step": self.global_step,
                "wall_time": round(self.wall_seconds, 3),
                "sps": round(self.global_step / self.wall_seconds, 1) if self.wall_seconds else 0.0,
                "updates": self.num_updates,
                "episodes": m.episodes_done,
                "episodic_return": float(np.mean(m.recent_returns)) if m.recent_returns else None,
                "episodic_length": float(np.mean(m.recent_lengths)) if m.recent_lengths else None,
            }
            row.update(
                {k: (v[i] if self._metric_count else None) for k, v in zip(self.metric_names, means, strict=True)}
            )
            ev = m.last_eval if with_eval else None
            row.update({
                "eval_return_mean": ev.mean_return if ev else None,
                "eval_return_std": ev.std_return if ev else None,
                "eval_length_mean": ev.mean_length if ev else None,
                "eval_length_std": ev.std_length if ev else None,
            })  # fmt: skip
            for name, value in zip(self.env_metric_names, env_means, strict=True):
                row[name] = float(value) if self._env_metric_count else None
                row[f"eval_{name}"] = ev.metrics.get(name) if ev else None
            if m.logger is not None:
                m.logger.log(row)
        self._metric_sums.zero_()
        self._metric_count = 0
        self._env_metric_sums[:] = 0.0
        self._env_metric_count = 0

    def _log_columns(self) -> list[str]:
        """The metrics.csv columns between the loop's own and the evaluation's."""
        env_columns = [c for name in self.env_metric_names for c in (name, f"eval_{name}")]
        return list(self.metric_names) + env_columns

    def _checkpoint(self) -> None:
        if all(m.run_dir is None for m in self.members):
            return
        self._check_finite()
        for i, m in enumerate(self.members):
            if m.run_dir is not None:
                if m.logger is not None:
                    m.logger.flush()
                ckpt.save_checkpoint(self.state_dict(i), m.run_dir / "checkpoints" / ckpt.LATEST)

    def _finish(self) -> None:
        if self.last_eval_step != self.global_step:
            self._evaluate_and_track()
            self._log(with_eval=True)
        self._checkpoint()
        for i, m in enumerate(self.members):
            if m.run_dir is None:
                continue
            from actorcritic.train.plots import plot_run

            m.logger.flush()
            plot_run(m.run_dir)
            write_json(m.run_dir / SUMMARY, self.summary(i))

    def _check_finite(self) -> None:
        params = [p for module in self._modules().values() for p in module.parameters()]
        if not bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
            self._diverged("network parameters")

    def _diverged(self, what: str) -> None:
        kept = [m.run_dir / "checkpoints" / ckpt.LATEST for m in self.members if m.run_dir is not None]
        kept = [str(k) for k in kept if k.exists()]
        where = f"; the last good checkpoint is kept at {', '.join(kept)}" if kept else ""
        raise TrainingDiverged(f"NaN or inf in {what} at step {self.global_step}; training stopped{where}")

    # ----------------------------------------------------------------- state
    def run_info(self, member: int = 0) -> dict[str, Any]:
        return {
            "algo": self.algo,
            "env": self.env_id,
            "seed": self.members[member].seed,
            "env_kwargs": self.env_kwargs,
            "total_steps": self.planned_total_steps,
            "checkpoint_interval": self.checkpoint_interval,
            "config": config_to_dict(self.config),
        }

    def summary(self, member: int = 0) -> dict[str, Any]:
        m = self.members[member]
        ev = m.last_eval
        return {
            "algo": self.algo,
            "env": self.env_id,
            "seed": m.seed,
            "total_steps": self.global_step,
            "final_eval_mean_return": ev.mean_return if ev else None,
            "final_eval_std_return": ev.std_return if ev else None,
            "final_eval_metrics": ev.metrics if ev else None,
            "best_eval_mean_return": m.best_eval_return if ev else None,
            "target_return": self.target_return,
            "solved_at_step": m.solved_at_step,
            "wall_seconds": round(self.wall_seconds, 3),
            "num_updates": self.num_updates,
            "updates_per_second": round(self.num_updates / self.update_seconds, 1) if self.update_seconds else None,
            "steps_per_second": round(self.global_step / self.wall_seconds, 1) if self.wall_seconds else None,
            "trained_with_seeds": [x.seed for x in self.members],
        }

    def _modules(self) -> dict[str, nn.Module]:
        return {k: getattr(self, k) for k in self.checkpointed if isinstance(getattr(self, k), nn.Module)}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {k: getattr(self, k) for k in self.checkpointed if isinstance(getattr(self, k), torch.optim.Optimizer)}

    def state_dict(self, member: int = 0, include_buffer: bool = True) -> dict[str, Any]:
        """Member ``member``'s full state, exactly as if it had trained alone: its blocks of the stacked
        networks, optimizer moments and replay data, its RNG streams and statistics."""
        m, n, envs = self.members[member], self.num_members, self._member_envs(member)
        state: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            **self.run_info(member),
            "modules": {k: member_state(mod.state_dict(), member, n) for k, mod in self._modules().items()},
            "optimizers": {k: member_state(o.state_dict(), member, n) for k, o in self._optimizers().items()},
            "targets": self.targets.state_dict(),
            "noise": m.noise.state_dict(),
            "rng": {"explore": m.explore_generator.get_state(), "policy": m.generator.get_state()},
            "counters": {
                "global_step": self.global_step,
                "vector_steps": self.vector_steps,
                "num_updates": self.num_updates,
                "episode_index": self.episode_index[envs].tolist(),
                "episode_length": self.episode_length[envs].tolist(),
                "episodes_done": m.episodes_done,
                "recent_returns": list(m.recent_returns),
                "recent_lengths": list(m.recent_lengths),
                "best_eval_return": m.best_eval_return,
                "solved_at_step": m.solved_at_step,
                "last_eval": [m.last_eval.returns, m.last_eval.lengths, m.last_eval.metrics] if m.last_eval else None,
                "last_eval_step": self.last_eval_step,
                "wall_seconds": self.wall_seconds,
                "update_seconds": self.update_seconds,
            },
            "logger_step": self.global_step,  # rows after this are dropped on resume
        }
        if include_buffer:
            state["buffer"] = self.buffer.state_dict(member)
        return state

    def load_state_dict(self, state: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        """Restore from a checkpoint, or from one checkpoint per member (a group's members, or runs
        trained alone, continued together). The members must share their step counts and config."""
        states = [state] if isinstance(state, dict) else list(state)
        if len(states) != self.num_members:
            raise ValueError(f"{len(states)} checkpoints for {self.num_members} members")
        steps = {(s["counters"]["global_step"], s["counters"]["num_updates"]) for s in states}
        if len(steps) > 1:
            raise ValueError(f"the checkpoints are at different steps/updates {sorted(steps)}")
        for k, module in self._modules().items():
            module.load_state_dict(stack_states([s["modules"][k] for s in states]))
        for k, o in self._optimizers().items():
            o.load_state_dict(stack_states([s["optimizers"][k] for s in states]))
        self.targets.load_state_dict(states[0]["targets"])
        c = states[0]["counters"]
        self.global_step, self.vector_steps, self.num_updates = c["global_step"], c["vector_steps"], c["num_updates"]
        self.last_eval_step = c["last_eval_step"]
        self.wall_seconds, self.update_seconds = c["wall_seconds"], c["update_seconds"]
        self.planned_total_steps = states[0].get("total_steps")
        self.checkpoint_interval = states[0].get("checkpoint_interval")
        for i, (m, s) in enumerate(zip(self.members, states, strict=True)):
            c = s["counters"]
            m.noise.load_state_dict(s["noise"])
            m.explore_generator.set_state(s["rng"]["explore"])
            m.generator.set_state(s["rng"]["policy"])
            envs = self._member_envs(i)
            self.episode_index[envs] = c["episode_index"]
            self.episode_length[envs] = c["episode_length"]
            m.episodes_done = c["episodes_done"]
            m.recent_returns.extend(c["recent_returns"])
            m.recent_lengths.extend(c["recent_lengths"])
            m.best_eval_return, m.solved_at_step = c["best_eval_return"], c["solved_at_step"]
            m.last_eval = EvalResult(*c["last_eval"]) if c["last_eval"] else None
            if "buffer" in s:
                self.buffer.load_state_dict(s["buffer"], member=i)
        self.obs = None  # the next learn() starts fresh episodes where one was in progress

    def _member_envs(self, member: int) -> slice:
        n = self.config.num_envs
        return slice(member * n, (member + 1) * n)

    def resume_in(self, run_dir: str | Path | Sequence[str | Path], checkpoint_interval: int | None = None) -> None:
        """Continue logging and checkpointing into existing run directories (one per member)."""
        dirs = [run_dir] if isinstance(run_dir, str | Path) else list(run_dir)
        if len(dirs) != self.num_members:
            raise UserError(f"{len(dirs)} run directories for {self.num_members} members")
        for m, d in zip(self.members, dirs, strict=True):
            m.run_dir, m.resume_step = Path(d), self.global_step
        if checkpoint_interval is not None:
            self.checkpoint_interval = checkpoint_interval

    def _make_noise(self, seed: int) -> ActionNoise:
        cfg = self.config
        return make_noise(cfg, cfg.noise, cfg.num_envs, self.action_dim, seed, self.device)


def _member_run_dirs(run_dir: str | Path | Sequence[str | Path] | None, seeds: list[int]) -> list[Path | None]:
    """Each member's new run directory: ``run_dir`` alone; in a group ``run_dir/seed<S>``, or one
    directory per member when ``run_dir`` is a list."""
    if run_dir is None:
        return [None] * len(seeds)
    if isinstance(run_dir, str | Path):
        dirs = [Path(run_dir)] if len(seeds) == 1 else [Path(run_dir) / f"seed{s}" for s in seeds]
    else:
        dirs = [Path(d) for d in run_dir]
    if len(dirs) != len(seeds) or len(set(dirs)) != len(dirs):
        raise UserError(f"{len(seeds)} seeds need {len(seeds)} distinct run directories, got {len(dirs)}")
    for d in dirs:  # check all before creating any, so a clash leaves nothing behind
        check_new_run_dir(d)
    return [create_run_dir(d) for d in dirs]


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


def _device(name: str) -> torch.device:
    """A torch device, or a user error that says what is wrong with the name."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device '{name}'; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device '{name}' requested, but this torch build has no usable CUDA")
    return device


class _ProgressBar:
    """A rich progress bar: steps, SPS, last episodic return, last eval."""

    def __init__(self, start: int, end: int):
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            BarColumn(bar_width=12),
            TextColumn("{task.completed}/{task.total} steps  {task.fields[sps]} SPS"),
            TextColumn("return {task.fields[ret]}  eval {task.fields[eval]}"),
            TimeRemainingColumn(),
        )
        self.task = self.progress.add_task("train", total=end, completed=start, sps="-", ret="-", eval="-")
        self.progress.start()
        self.last_refresh = 0.0

    def update(self, agent: OffPolicyAgent, force: bool = False) -> None:
        now = time.perf_counter()
        if now - self.last_refresh < 0.1 and not force:
            return
        self.last_refresh = now
        sps = f"{agent.global_step / agent.wall_seconds:.0f}" if agent.wall_seconds else "-"
        returns = [m.recent_returns[-1] for m in agent.members if m.recent_returns]  # mean over a group
        evals = [m.last_eval.mean_return for m in agent.members if m.last_eval]
        ret = f"{np.mean(returns):.1f}" if returns else "-"
        ev = f"{np.mean(evals):.1f}" if evals else "-"
        self.progress.update(self.task, completed=agent.global_step, sps=sps, ret=ret, eval=ev)

    def close(self) -> None:
        self.progress.stop()
