"""SAC (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications").

    a', log pi(a'|s') ~ pi(.|s')                                     squashed Gaussian, reparameterised
    y     = r + gamma^n (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s'))     soft target
    L_Q   = sum_i mean (Q_i(s, a) - y)^2
    L_pi  = mean (alpha log pi(a~|s) - min_i Q_i(s, a~)),  a~ ~ pi(.|s)              (eq. 7)
    L_a   = -mean log alpha (log pi(a~|s) + H_target)                              (eq. 18, in log alpha)
    theta' <- (1 - tau) theta' + tau theta, every target_update_period updates

The actor and temperature steps run every policy_delay updates (1 by default, as in the paper). The
reparameterisation noise of both samples is drawn before ``step``, so ``step`` compiles whole.

The deterministic variant (``deterministic=True``) sets alpha = 0 and uses a deterministic tanh
actor, exploring with clipped Gaussian noise: the same update with log pi = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from actorcritic.algos.off_policy import OffPolicyLearner
from actorcritic.algos.settings import OffPolicyConfig, need
from actorcritic.core.buffers import Batch
from actorcritic.core.members import member_randn
from actorcritic.core.networks import DeterministicActor, SquashedGaussianActor
from actorcritic.core.optim import Adam
from actorcritic.core.targets import TargetNetworks


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
        need(self.num_critics >= 1, f"num_critics must be >= 1, got {self.num_critics}")
        need(self.alpha >= 0 and self.alpha_lr > 0, "alpha must be >= 0 and alpha_lr > 0")
        need(
            not (self.autotune and not self.deterministic and self.alpha == 0),
            "autotune starts from alpha, which must be > 0 (or pass --no-autotune --alpha 0)",
        )


class SACLearner(OffPolicyLearner):
    """Soft Actor-Critic's learner: a squashed Gaussian actor, twin critics with targets, a temperature per member."""

    metric_names = ("critic_loss", "actor_loss", "q_mean", "alpha", "entropy")
    checkpointed = ("actor", "critic", "critic_target", "log_alpha", "actor_optim", "critic_optim", "alpha_optim")

    def __init__(self, cfg: SACConfig, obs_dim: int, action_dim: int, init_generators: Sequence[torch.Generator],
                 generators: Sequence[torch.Generator], device: torch.device):  # fmt: skip
        super().__init__(cfg, obs_dim, action_dim, init_generators, generators, device)
        self.targets = TargetNetworks([(self.critic, self.critic_target)], cfg.tau)
        log_alpha = torch.full((self.members,), math.log(cfg.alpha) if cfg.alpha > 0 else 0.0, device=device)
        self.log_alpha = LogAlpha(log_alpha)
        self.alpha_optim = Adam(self.log_alpha, cfg.alpha_lr)
        self.target_entropy = cfg.target_entropy if cfg.target_entropy is not None else -float(action_dim)
        self.tune_alpha = cfg.autotune and not cfg.deterministic

    @staticmethod
    def exploration(cfg: SACConfig) -> tuple[str, float | None]:
        """The loop's exploration noise (kind, default clip): none for the stochastic policy; the
        deterministic variant explores with clipped noise, Gaussian unless told otherwise."""
        if cfg.deterministic:
            return ("gaussian" if cfg.noise == "none" else cfg.noise), 0.5
        return cfg.noise, None

    def alpha(self) -> torch.Tensor:
        """Each member's temperature, [M] (0 for the deterministic variant)."""
        cfg, log_alpha = self.config, self.log_alpha.value
        if cfg.deterministic:
            return torch.zeros_like(log_alpha)
        return log_alpha.detach().exp() if cfg.autotune else torch.full_like(log_alpha, cfg.alpha)

    def sample(self, actor: Any, obs: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions and their log-probabilities (log pi = 0 for the deterministic variant)."""
        if self.config.deterministic:
            actions = actor(obs)
            return actions, torch.zeros(actions.shape[:-1], device=actions.device)
        return actor.sample(obs, eps=eps)

    @staticmethod
    def make_actor(cfg: SACConfig, obs_dim: int, action_dim: int, init_generators: Sequence[torch.Generator],
                   device: torch.device) -> torch.nn.Module:  # fmt: skip
        """pi(.|s), one per member (a Ray rollout worker makes its copy of the policy here too)."""
        actor_cls = DeterministicActor if cfg.deterministic else SquashedGaussianActor
        m, g = len(init_generators), list(init_generators)
        return actor_cls(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, m, g).to(device)

    @staticmethod
    def act(cfg: SACConfig, actor: torch.nn.Module, obs: torch.Tensor, deterministic: bool,
            generators: Sequence[torch.Generator] | None, eps: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        if deterministic or cfg.deterministic:
            return actor(obs)  # the mean action tanh(mean) for evaluation
        return actor.explore(obs, generators, eps)

    def draw_act_noise(self, obs: torch.Tensor) -> torch.Tensor | None:
        """eps ~ N(0, 1) for one exploration action per env, [M, n, action_dim] (None: the deterministic variant)."""
        if self.config.deterministic:
            return None
        return member_randn((*obs.shape[:-1], self.action_dim), self.generators, self.device)

    def draw_noise(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """eps ~ N(0, 1) for the two reparameterised samples, a' at s' and a~ at s: [2, M, B, action_dim]."""
        shape = (self.members, 2, batch_size, self.action_dim)
        return member_randn(shape, self.generators, self.device).unbind(1)

    def step(self, batch: Batch, noise: tuple[torch.Tensor, torch.Tensor], update_actor: bool,
             update_targets: bool) -> dict[str, torch.Tensor]:  # fmt: skip
        cfg, alpha = self.config, self.alpha().unsqueeze(-1)  # [M, 1]: each member's own
        with torch.no_grad():
            # Soft TD target: y = r + gamma^n (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s')).
            next_actions, next_log_prob = self.sample(self.actor, batch.next_obs, noise[0])
            next_q = self.critic_target(batch.next_obs, next_actions).min(dim=-2).values
            y = cfg.reward_scale * batch.rewards + batch.discounts * (next_q - alpha * next_log_prob)

        # Critic: regress every Q_i(s, a) on y, L_Q = sum_i mean (Q_i(s, a) - y)^2.
        critic_loss, q = self.regress_critic(batch, y)
        metrics = {"critic_loss": critic_loss, "q_mean": q.mean(dim=(-2, -1)), "alpha": alpha[:, 0]}

        if update_actor:
            # Actor: minimise alpha log pi(a~|s) - min_i Q_i(s, a~), a~ reparameterised (eq. 7).
            def actor_loss(actor: Any) -> tuple[torch.Tensor, torch.Tensor]:
                actions, log_prob = self.sample(actor, batch.obs, noise[1])
                return (alpha * log_prob - self.critic(batch.obs, actions).min(dim=-2).values).mean(dim=-1), log_prob

            metrics["actor_loss"], log_prob = self.actor_optim.minimize(actor_loss)
            metrics["entropy"] = -log_prob.mean(dim=-1)
            if self.tune_alpha:
                # Temperature: move log alpha so that the policy's entropy tracks the target (eq. 18).
                target = (log_prob + self.target_entropy).detach()
                self.alpha_optim.minimize(lambda log_alpha: -(log_alpha().unsqueeze(-1) * target).mean(dim=-1))
        if update_targets:
            self.targets.update()  # theta' <- (1 - tau) theta' + tau theta
        return metrics


class LogAlpha(torch.nn.Module):
    """log alpha, one per member, as a module: checkpoints, device moves and Adam treat it like any network."""

    def __init__(self, log_alpha: torch.Tensor):
        super().__init__()
        self.value = torch.nn.Parameter(log_alpha)

    def forward(self) -> torch.Tensor:
        return self.value
