"""DDPG (Lillicrap et al. 2015, "Continuous control with deep reinforcement learning").

The update, in paper order (Algorithm 1):

    y      = r + gamma^n (1 - terminated) Q'(s', mu'(s'))        critic target from the target nets
    L_Q    = mean (Q(s, a) - y)^2                                 critic regression (or Huber)
    L_mu   = -mean Q(s, mu(s))                                    deterministic policy gradient
    theta' <- (1 - tau) theta' + tau theta                        soft target update

TD3 (Fujimoto et al. 2018) is this update with twin critics, target smoothing and a policy delay;
it will live in this file and share this update.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from actorcritic.core.buffers import Batch
from actorcritic.core.networks import DeterministicActor, QCritic
from actorcritic.core.optim import gradient_step, make_adam
from actorcritic.core.targets import TargetNetworks, make_target
from actorcritic.train.off_policy import OffPolicyAgent, OffPolicyConfig

CRITIC_LOSSES = {"mse": F.mse_loss, "huber": F.huber_loss}


@dataclass(frozen=True)
class DDPGConfig(OffPolicyConfig):
    """DDPG settings. The defaults solve Pendulum-v1 in a few thousand env steps.

    Every field of the off-policy loop (buffer, exploration, evaluation) is here too.
    """


class DDPG(OffPolicyAgent):
    """Deep Deterministic Policy Gradient: a deterministic tanh actor and one Q critic."""

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

    def build(self, obs_dim: int, action_dim: int) -> None:
        cfg, dev = self.config, self.device
        self.actor = DeterministicActor(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation).to(
            dev
        )
        self.critic = QCritic(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation).to(dev)
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
        self.critic_loss_fn = CRITIC_LOSSES[cfg.critic_loss]

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return self.actor(obs)  # exploration noise is added by the loop

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        cfg = self.config
        # Critic: regress Q(s, a) on y = r + gamma^n (1 - terminated) Q'(s', mu'(s')).
        with torch.no_grad():
            next_q = self.critic_target(batch.next_obs, self.actor_target(batch.next_obs))
            y = cfg.reward_scale * batch.rewards + batch.discounts * next_q
        q = self.critic(batch.obs, batch.actions)
        critic_loss = self.critic_loss_fn(q, y)
        gradient_step(self.critic_optim, critic_loss, self.critic_params, cfg.max_grad_norm)

        # Actor: ascend Q(s, mu(s)); gradients flow into the actor's weights only.
        actor_loss = -self.critic(batch.obs, self.actor(batch.obs)).mean()
        gradient_step(self.actor_optim, actor_loss, self.actor_params, cfg.max_grad_norm)

        # Targets: theta' <- (1 - tau) theta' + tau theta, every target_update_period updates.
        self.targets.step()
        return {
            "critic_loss": critic_loss.detach(),
            "actor_loss": actor_loss.detach(),
            "q_mean": q.detach().mean(),
        }
