"""A2C, advantage actor-critic (Mnih et al. 2016, the synchronous variant of A3C).

Every update: a rollout of ``num_steps`` steps from ``num_envs`` synchronous envs, then one gradient step.

    G_t  = GAE(lambda) return: r_t + gamma r_{t+1} + ... + gamma^n V(s_{t+n})  (lambda = 1, cut at episode ends)
    A_t  = G_t - V(s_t)
    L    = -mean A_t log pi(a_t|s_t)  +  vf_coef * mean 0.5 (V(s_t) - G_t)^2  -  ent_coef * mean H(pi(.|s_t))

with the gradient norm clipped to max_grad_norm. The one-step actor-critic of the lecture is
num_steps=1, num_envs=1. REINFORCE with baseline and A3C learn with this same loss.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from actorcritic.algos.settings import OnPolicyConfig
from actorcritic.core.buffers import RolloutBatch, RolloutBuffer
from actorcritic.core.optim import gradient_step
from actorcritic.core.policies import ActorCritic, DeterministicHead


@dataclass(frozen=True)
class A2CConfig(OnPolicyConfig):
    """A2C settings: 5-step rollouts of 8 envs, one gradient step on the 40 transitions (the defaults
    solve CartPole-v1)."""


class ActorCriticLearner:
    """What every on-policy learner holds: pi(a|s) and V(s) in one ``ActorCritic`` network, its optimizer,
    and the generator its action samples and minibatch order come from. An algorithm adds ``update``."""

    metric_names: tuple[str, ...] = ("policy_loss", "value_loss", "entropy")
    checkpointed = ("model", "optim")

    def __init__(self, cfg: OnPolicyConfig, obs_dim: int, action_dim: int, init_generators: Sequence[torch.Generator],
                 generators: Sequence[torch.Generator], device: torch.device, discrete: bool = False):  # fmt: skip
        self.config, self.generator, self.members = cfg, generators[0], 1
        kind = {"num_actions": action_dim} if discrete else {"action_dim": action_dim}
        with torch.random.fork_rng():  # the initial weights come from the seed alone
            torch.manual_seed(init_generators[0].initial_seed())
            self.model = ActorCritic(
                obs_dim, cfg.hidden_sizes, cfg.activation, **kind, shared_trunk=cfg.shared_trunk,
                state_dependent_std=cfg.state_dependent_std, squash=cfg.squash, init_log_std=cfg.init_log_std,
            ).to(device)  # fmt: skip
        self.params = list(self.model.parameters())
        self.optim = make_optimizer(cfg, self.params)

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return self.model.act(obs, deterministic, self.generator)

    def deterministic_actor(self, member: int = 0) -> torch.nn.Module:
        """A CPU copy of the policy half of the network, obs -> its deterministic action (for export)."""
        return DeterministicHead(copy.deepcopy(self.model).cpu())

    def set_learning_rate(self, lr: float) -> None:
        for group in self.optim.param_groups:
            group["lr"] = lr


class A2CLearner(ActorCriticLearner):
    """Advantage actor-critic: n-step returns, a value baseline, an entropy bonus, one step per rollout."""

    def loss(self, b: RolloutBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """L = -mean A log pi(a|s)  +  vf_coef * mean 0.5 (V(s) - G)^2  -  ent_coef * mean H(pi(.|s))."""
        cfg = self.config
        log_prob, entropy, value = self.model.evaluate_actions(b.obs, b.actions)
        advantages = normalize(b.advantages) if cfg.normalize_advantage else b.advantages
        policy_loss = -(advantages * log_prob).mean()
        value_loss = 0.5 * (value - b.returns).pow(2).mean()
        loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy.mean()
        metrics = {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy.mean()}
        return loss, {k: v.detach() for k, v in metrics.items()}

    def update(self, rollout: RolloutBuffer) -> dict[str, torch.Tensor]:
        loss, metrics = self.loss(rollout.batch())
        gradient_step(self.optim, loss, self.params, self.config.max_grad_norm)
        return metrics


def make_optimizer(cfg: OnPolicyConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """Adam (eps 1e-5), or RMSprop (alpha 0.99, eps 1e-5) as in the A2C/A3C papers."""
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, cfg.learning_rate, alpha=0.99, eps=1e-5)
    return torch.optim.Adam(params, cfg.learning_rate, eps=1e-5)


def normalize(x: torch.Tensor) -> torch.Tensor:
    """Standardise to mean 0, std 1 (advantage normalisation); a single value is only centred."""
    centred = x - x.mean()
    return centred / (x.std() + 1e-8) if x.numel() > 1 else centred
