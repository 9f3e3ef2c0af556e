"""DDPG (Lillicrap et al. 2015) and TD3 (Fujimoto et al. 2018): one update serves both.

    a'     = mu'(s')                                   DDPG
           = clip(mu'(s') + clip(eps, -c, c), -1, 1)    TD3 target policy smoothing, eps ~ N(0, sigma^2)
    y      = r + gamma^n (1 - terminated) min_i Q'_i(s', a')     (one critic for DDPG: no min)
    L_Q    = sum_i mean (Q_i(s, a) - y)^2                         critic regression (or Huber)
    every policy_delay updates (1 for DDPG):
      L_mu   = -mean Q_1(s, mu(s))                                deterministic policy gradient
      theta' <- (1 - tau) theta' + tau theta                      soft target update

DDPG is TD3 with one critic, no smoothing and delay 1: the TD3 class changes only where the target
action comes from and how often the actor moves. Tensors carry a leading members axis (one agent per
seed, trained together); every loss is one value per member.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from actorcritic.core.buffers import Batch
from actorcritic.core.members import member_randn
from actorcritic.core.networks import DeterministicActor, QEnsemble
from actorcritic.core.optim import make_adam
from actorcritic.core.targets import TargetNetworks, make_target
from actorcritic.errors import UserError
from actorcritic.train.off_policy import OffPolicyAgent, OffPolicyConfig


@dataclass(frozen=True)
class DDPGConfig(OffPolicyConfig):
    """DDPG settings. The defaults solve Pendulum-v1 in a few thousand env steps.

    Every field of the off-policy loop (buffer, exploration, evaluation) is here too.
    """

    num_critics: int = 1
    """Critics in the ensemble; the target takes their minimum (DDPG: 1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_critics < 1:
            raise UserError(f"num_critics must be >= 1, got {self.num_critics}")


@dataclass(frozen=True)
class TD3Config(DDPGConfig):
    """TD3 settings (defaults from Fujimoto et al. 2018 and CleanRL/SB3)."""

    num_critics: int = 2
    """Critics in the ensemble; clipped double-Q takes the minimum of their targets."""
    policy_delay: int = 2
    """Update the actor and the targets once every policy_delay critic updates."""
    target_noise: float = 0.2
    """Std of the target policy smoothing noise, in normalised action units."""
    target_noise_clip: float = 0.5
    """Clip the smoothing noise to +-target_noise_clip."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.policy_delay < 1:
            raise UserError(f"policy_delay must be >= 1, got {self.policy_delay}")
        if self.target_noise < 0 or self.target_noise_clip < 0:
            raise UserError("target_noise and target_noise_clip must be >= 0")


class DDPG(OffPolicyAgent):
    """Deep Deterministic Policy Gradient: a deterministic tanh actor and a Q critic (ensemble)."""

    algo = "ddpg"
    config_cls = DDPGConfig
    metric_names = ("critic_loss", "actor_loss", "q_mean")
    checkpointed = (
        "actor",
        "actor_target",
        "critic",
        "critic_target",
        "actor_optim",
        "critic_optim",
    )
    policy_delay = 1

    def build(self, obs_dim: int, action_dim: int) -> None:
        cfg, dev, m, g = self.config, self.device, self.num_members, self.init_generators
        self.actor = DeterministicActor(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, m, g).to(dev)
        self.critic = QEnsemble(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, cfg.num_critics, m, g).to(dev)
        self.actor_target, self.critic_target = make_target(self.actor), make_target(self.critic)
        self.actor_params, self.critic_params = (
            list(self.actor.parameters()),
            list(self.critic.parameters()),
        )
        self.actor_optim = make_adam(self.actor_params, cfg.actor_lr)
        self.critic_optim = make_adam(self.critic_params, cfg.critic_lr)
        self.targets = TargetNetworks(
            [(self.actor, self.actor_target), (self.critic, self.critic_target)],
            cfg.tau,
            cfg.target_update_period,
        )
        self.actor_loss = torch.zeros(m, device=dev)  # last actor losses, reported between delayed steps

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return self.actor(obs)  # exploration noise is added by the loop

    def target_actions(self, next_obs: torch.Tensor) -> torch.Tensor:
        """a' = mu'(s')."""
        return self.actor_target(next_obs)

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        # Critic: regress every Q_i(s, a) on y = r + gamma^n (1 - terminated) min_i Q'_i(s', a').
        with torch.no_grad():
            next_q = self.critic_target(batch.next_obs, self.target_actions(batch.next_obs)).min(dim=-2).values
        critic_loss, q = self.critic_step(batch, next_q)

        if self.num_updates % self.policy_delay == 0:
            # Actor: ascend Q_1(s, mu(s)); gradients flow into the actor's weights only.
            self.actor_loss = -self.critic(batch.obs, self.actor(batch.obs), critics=1).mean(dim=(-2, -1))
            self.gradient_step(self.actor_optim, self.actor_loss, self.actor_params)
            # Targets: theta' <- (1 - tau) theta' + tau theta, every target_update_period of these steps.
            self.targets.step()
        return {
            "critic_loss": critic_loss.detach(),
            "actor_loss": self.actor_loss.detach(),
            "q_mean": q.detach().mean(dim=(-2, -1)),
        }


class TD3(DDPG):
    """Twin Delayed DDPG: clipped double-Q, target policy smoothing, delayed actor updates."""

    algo = "td3"
    config_cls = TD3Config

    @property
    def policy_delay(self) -> int:
        return self.config.policy_delay

    def smoothing_noise(self, shape: torch.Size) -> torch.Tensor:
        """clip(eps, -c, c), eps ~ N(0, target_noise^2), in normalised action units."""
        cfg = self.config
        eps = member_randn(shape, self.generators, self.device) * cfg.target_noise  # each member its own stream
        return eps.clamp(-cfg.target_noise_clip, cfg.target_noise_clip)

    def target_actions(self, next_obs: torch.Tensor) -> torch.Tensor:
        """a' = clip(mu'(s') + clip(eps, -c, c), -1, 1)   (Fujimoto et al. 2018, eq. 14)."""
        actions = self.actor_target(next_obs)
        return (actions + self.smoothing_noise(actions.shape)).clamp(-1.0, 1.0)
