"""The settings every algorithm shares: the loop's (envs, networks' shape, evaluation, logging), and each
family's (the off-policy loop, replay and exploration; the on-policy rollouts, loss and normalisers).

An algorithm's config (``DDPGConfig``, ``PPOConfig``, ...) extends one of these with its own fields. Each
setting is validated once, here or in the algorithm's ``__post_init__``: a bad value is a ``UserError``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Annotated, Literal

import tyro

from actorcritic.errors import UserError


def need(ok: bool, msg: str) -> None:
    """Raise a UserError with ``msg`` unless ``ok`` (config validation)."""
    if not ok:
        raise UserError(msg)


@dataclass(frozen=True)
class AgentConfig:
    """Settings every algorithm has: the envs, the networks' shape, evaluation and logging."""

    num_envs: int = 1
    """Parallel envs (gymnasium.vector); each vector step adds num_envs env steps."""
    vectorization: Literal["sync", "async"] = "sync"
    """Run the envs in this process ('sync') or one subprocess each ('async', for slow envs)."""
    gamma: float = 0.99
    """Discount factor."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the actor and critic MLPs."""
    activation: Literal["relu", "tanh", "elu", "gelu", "silu", "leaky_relu"] = "relu"
    """Hidden-layer activation."""
    max_grad_norm: float | None = None
    """Clip each network's gradient norm to this value (None: no clipping)."""
    eval_interval: int = 1000
    """Evaluate the deterministic policy every this many env steps (0: only at the end)."""
    eval_episodes: int = 10
    """Episodes per evaluation, each seeded by its number, up to 16 at a time on envs of their own."""
    target_return: float | None = None
    """Mean eval return that counts as solved (None: the env's reward_threshold, if known)."""
    stop_at_target: bool = False
    """Stop training as soon as an evaluation reaches target_return."""
    patience: int | None = None
    """Stop training when this many evaluations in a row have not beaten the best (None: never)."""
    log_interval: int = 1000
    """Write a metrics row (CSV + TensorBoard) every this many env steps."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # every float setting must be a finite number
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise UserError(f"{f.name} must be a finite number, got {value}")
        need(0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}")
        for name in ("num_envs", "eval_episodes", "log_interval"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        need(self.eval_interval >= 0, f"eval_interval must be >= 0, got {self.eval_interval}")
        need(self.patience is None or self.patience >= 1, f"patience must be >= 1, got {self.patience}")
        need(self.max_grad_norm is None or self.max_grad_norm > 0, "max_grad_norm must be positive")
        need(
            len(self.hidden_sizes) >= 1 and min(self.hidden_sizes) >= 1,
            "hidden_sizes must be positive",
        )


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
    """Update the targets every this many actor updates (TF-Agents; e.g. tau=1, period=200 for hard copies)."""
    policy_delay: int = 1
    """Update the actor (and then the targets) once every policy_delay critic updates (TD3: 2)."""
    actor_lr: float = 1e-3
    """Actor learning rate (Adam)."""
    critic_lr: float = 1e-3
    """Critic learning rate (Adam)."""
    precision: Literal["float32", "bf16"] = "float32"
    """The update's matrix products in float32, or in bfloat16 through autocast (CPUs with AVX-512 BF16 or
    AMX, recent GPUs); weights, gradients, Adam's moments and losses stay float32."""
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
            "policy_delay",
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


@dataclass(frozen=True)
class OnPolicyConfig(AgentConfig):
    """Settings shared by the on-policy algorithms: rollouts, the actor-critic network, the loss."""

    num_envs: int = 8
    """Parallel envs (gymnasium.vector); each vector step adds num_envs env steps."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy and value MLPs."""
    activation: Literal["relu", "tanh", "elu", "gelu", "silu", "leaky_relu"] = "tanh"
    """Hidden-layer activation."""
    max_grad_norm: float | None = 0.5
    """Clip the gradient norm to this value (None: no clipping)."""
    eval_interval: int = 10_000
    """Evaluate the deterministic policy every this many env steps (0: only at the end)."""
    log_interval: int = 5_000
    """Write a metrics row (CSV + TensorBoard) every this many env steps."""
    # --- rollouts and returns
    num_steps: int = 5
    """Steps of each env per rollout (the n of n-step returns); a rollout is num_steps * num_envs steps."""
    gae_lambda: float = 1.0
    """GAE lambda: 1 = Monte Carlo returns bootstrapped at the rollout's end, 0 = one-step TD targets."""
    # --- the loss and the optimizer
    learning_rate: float = 7e-4
    """Learning rate of the policy and value networks."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    """Adam (eps 1e-5), or RMSprop (alpha 0.99, eps 1e-5) as in the A2C/A3C papers."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over the run's total steps."""
    ent_coef: float = 0.01
    """Entropy bonus beta: the loss subtracts beta * H(pi(.|s))."""
    vf_coef: float = 0.5
    """Weight of the value loss 0.5 * (V(s) - G)^2."""
    normalize_advantage: bool = False
    """Standardise advantages within each (mini)batch."""
    # --- the network
    shared_trunk: bool = False
    """Policy and value share their hidden layers (two heads on one trunk) instead of two MLPs."""
    state_dependent_std: bool = False
    """Gaussian policies: the log-std is a head of the network, not a learned vector."""
    squash: bool = False
    """Gaussian policies: squash actions with tanh (otherwise they are clipped to the bounds)."""
    init_log_std: float = 0.0
    """Gaussian policies: initial log-std (state-independent)."""
    # --- normalisation
    normalize_obs: bool = False
    """Normalise observations by a running mean and std (kept in checkpoints, used in evaluation)."""
    normalize_reward: bool = False
    """Scale rewards by the running std of the discounted return (training only)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(self.num_steps >= 1, f"num_steps must be >= 1, got {self.num_steps}")
        need(0 <= self.gae_lambda <= 1, f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        need(self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}")
        need(self.ent_coef >= 0 and self.vf_coef >= 0, "ent_coef and vf_coef must be >= 0")
