"""SAC (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications").

    a', log pi(a'|s') ~ pi(.|s')                                     squashed Gaussian, reparameterised
    y     = r + gamma^n (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s'))     soft target
    L_Q   = sum_i mean (Q_i(s, a) - y)^2
    L_pi  = mean (alpha log pi(a~|s) - min_i Q_i(s, a~)),  a~ ~ pi(.|s)              (eq. 7)
    L_a   = -mean log alpha (log pi(a~|s) + H_target)                              (eq. 18, in log alpha)
    theta' <- (1 - tau) theta' + tau theta, every target_update_period updates

The deterministic variant (``deterministic=True``) sets alpha = 0 and uses a deterministic tanh
actor, exploring with clipped Gaussian noise: the same update with log pi = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from actorcritic.core.buffers import Batch
from actorcritic.core.networks import DeterministicActor, QEnsemble, SquashedGaussianActor
from actorcritic.core.noise import ActionNoise
from actorcritic.core.optim import gradient_step, make_adam
from actorcritic.core.targets import TargetNetworks, make_target
from actorcritic.errors import UserError
from actorcritic.train.off_policy import OffPolicyAgent, OffPolicyConfig, make_noise


@dataclass(frozen=True)
class SACConfig(OffPolicyConfig):
    """SAC settings (defaults from Haarnoja et al. 2018 and SB3/CleanRL, tuned for Pendulum-v1)."""

    noise: Literal["gaussian", "ou", "none"] = "none"
    """Extra exploration noise (none: the policy is stochastic; --deterministic uses clipped Gaussian)."""
    num_critics: int = 2
    """Critics in the ensemble; targets and the actor use their minimum."""
    alpha: float = 0.2
    """Entropy temperature; with autotune it is only the starting value."""
    autotune: bool = True
    """Tune alpha automatically towards target_entropy."""
    alpha_lr: float = 1e-3
    """Learning rate of log alpha."""
    target_entropy: float | None = None
    """Entropy target for autotune (None: -|A|, minus the action dimension)."""
    deterministic: bool = False
    """The deterministic-policy variant: alpha = 0, a deterministic actor, clipped Gaussian exploration."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_critics < 1:
            raise UserError(f"num_critics must be >= 1, got {self.num_critics}")
        if self.alpha < 0 or self.alpha_lr <= 0:
            raise UserError("alpha must be >= 0 and alpha_lr > 0")
        if self.autotune and not self.deterministic and self.alpha == 0:
            raise UserError("autotune starts from alpha, which must be > 0 (or pass --no-autotune --alpha 0)")


class SAC(OffPolicyAgent):
    """Soft Actor-Critic: maximum-entropy RL with a squashed Gaussian actor and twin critics."""

    algo = "sac"
    config_cls = SACConfig
    metric_names = ("critic_loss", "actor_loss", "q_mean", "alpha", "entropy")
    checkpointed = (
        "actor",
        "critic",
        "critic_target",
        "log_alpha",
        "actor_optim",
        "critic_optim",
        "alpha_optim",
    )

    def build(self, obs_dim: int, action_dim: int) -> None:
        cfg, dev, m, g = self.config, self.device, self.num_members, self.init_generators
        actor_cls = DeterministicActor if cfg.deterministic else SquashedGaussianActor
        self.actor = actor_cls(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, m, g).to(dev)
        self.critic = QEnsemble(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, cfg.num_critics, m, g).to(dev)
        self.critic_target = make_target(self.critic)
        self.actor_params, self.critic_params = (
            list(self.actor.parameters()),
            list(self.critic.parameters()),
        )
        self.actor_optim = make_adam(self.actor_params, cfg.actor_lr)
        self.critic_optim = make_adam(self.critic_params, cfg.critic_lr)
        self.targets = TargetNetworks([(self.critic, self.critic_target)], cfg.tau, cfg.target_update_period)
        # log alpha (one per member) is a module so checkpoints and the device move treat it like any parameter.
        log_alpha = torch.full((m,), math.log(cfg.alpha) if cfg.alpha > 0 else 0.0, device=dev)
        self.log_alpha = torch.nn.ParameterDict({"value": torch.nn.Parameter(log_alpha)})
        self.alpha_optim = make_adam([self.log_alpha["value"]], cfg.alpha_lr)
        self.target_entropy = cfg.target_entropy if cfg.target_entropy is not None else -float(action_dim)

    @property
    def alpha(self) -> torch.Tensor:
        """Each member's temperature, [M]."""
        cfg = self.config
        if cfg.deterministic:
            return torch.zeros(self.num_members, device=self.device)
        if not cfg.autotune:
            return torch.full((self.num_members,), cfg.alpha, device=self.device)
        return self.log_alpha["value"].detach().exp()

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions and their log-probabilities (log pi = 0 for the deterministic variant)."""
        if self.config.deterministic:
            actions = self.actor(obs)
            return actions, torch.zeros(actions.shape[:-1], device=actions.device)
        return self.actor.sample(obs, self.generators)

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        if deterministic or self.config.deterministic:
            return self.actor(obs)  # the mean action tanh(mean) for evaluation
        return self.sample(obs)[0]

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        cfg, alpha = self.config, self.alpha.unsqueeze(-1)  # [M, 1]: each member's own temperature
        # Critic: soft target y = r + gamma^n (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s')).
        with torch.no_grad():
            next_actions, next_log_prob = self.sample(batch.next_obs)
            next_q = self.critic_target(batch.next_obs, next_actions).min(dim=-2).values
        critic_loss, q = self.critic_step(batch, next_q - alpha * next_log_prob)

        # Actor: minimise alpha log pi(a~|s) - min_i Q_i(s, a~), a~ reparameterised.
        actions, log_prob = self.sample(batch.obs)
        actor_loss = (alpha * log_prob - self.critic(batch.obs, actions).min(dim=-2).values).mean(dim=-1)
        self.gradient_step(self.actor_optim, actor_loss, self.actor_params)

        # Temperature: move log alpha so that the policy's entropy tracks the target.
        if cfg.autotune and not cfg.deterministic:
            log_alpha = self.log_alpha["value"].unsqueeze(-1)
            alpha_loss = -(log_alpha * (log_prob.detach() + self.target_entropy)).mean(dim=-1)
            gradient_step(self.alpha_optim, alpha_loss, [self.log_alpha["value"]])

        self.targets.step()
        return {
            "critic_loss": critic_loss.detach(),
            "actor_loss": actor_loss.detach(),
            "q_mean": q.detach().mean(dim=(-2, -1)),
            "alpha": alpha.squeeze(-1),
            "entropy": -log_prob.detach().mean(dim=-1),
        }

    def _make_noise(self, seed: int) -> ActionNoise:
        cfg = self.config
        if cfg.deterministic:  # the variant explores with clipped noise: Gaussian unless told otherwise
            kind = "gaussian" if cfg.noise == "none" else cfg.noise
            return make_noise(cfg, kind, cfg.num_envs, self.action_dim, seed, self.device, default_clip=0.5)
        return super()._make_noise(seed)
