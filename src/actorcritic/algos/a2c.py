"""A2C, advantage actor-critic (Mnih et al. 2016, the synchronous variant of A3C).

Every update: a rollout of ``num_steps`` steps from ``num_envs`` synchronous envs, then one gradient step.

    G_t  = GAE(lambda) return: r_t + gamma r_{t+1} + ... + gamma^n V(s_{t+n})  (lambda = 1, cut at episode ends)
    A_t  = G_t - V(s_t)
    L    = -mean A_t log pi(a_t|s_t)  +  vf_coef * mean 0.5 (V(s_t) - G_t)^2  -  ent_coef * mean H(pi(.|s_t))

with the gradient norm clipped to max_grad_norm. The one-step actor-critic of the lecture is
num_steps=1, num_envs=1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from actorcritic.core.buffers import RolloutBuffer
from actorcritic.train.on_policy import OnPolicyAgent, OnPolicyConfig


@dataclass(frozen=True)
class A2CConfig(OnPolicyConfig):
    """A2C settings: 5-step rollouts of 8 envs, one gradient step on the 40 transitions (the defaults
    solve CartPole-v1)."""


class A2C(OnPolicyAgent):
    """Advantage actor-critic: n-step returns, a value baseline, an entropy bonus, synchronous envs."""

    algo = "a2c"
    config_cls = A2CConfig
    metric_names = ("policy_loss", "value_loss", "entropy")

    def update(self, rollout: RolloutBuffer) -> dict[str, torch.Tensor]:
        b = rollout.batch()
        loss, metrics = self.actor_critic_loss(b.obs, b.actions, b.advantages, b.returns)
        self.gradient_step(loss)
        return metrics
