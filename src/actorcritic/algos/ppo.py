"""PPO, proximal policy optimization with the clipped surrogate objective (Schulman et al. 2017).

Every update: a rollout of ``num_steps`` steps from ``num_envs`` envs, GAE(lambda) advantages, then
``update_epochs`` passes over it in ``num_minibatches`` random minibatches:

    r_t(theta) = pi_theta(a_t|s_t) / pi_old(a_t|s_t)
    L_clip     = -mean min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t)         A_t standardised per minibatch
    L_V        = mean 0.5 (V(s_t) - G_t)^2     (clipped: mean 0.5 max((V - G)^2, (V_old + clip(V - V_old, -eps, eps) - G)^2))
    L          = L_clip + vf_coef L_V - ent_coef mean H(pi(.|s_t))

Epochs stop early when the approximate KL to the old policy, mean((r - 1) - log r), passes target_kl.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from actorcritic.algos.a2c import ActorCriticLearner, normalize
from actorcritic.algos.settings import OnPolicyConfig, need
from actorcritic.core.buffers import RolloutBuffer
from actorcritic.core.optim import gradient_step


@dataclass(frozen=True)
class PPOConfig(OnPolicyConfig):
    """PPO settings (defaults from CleanRL's ppo.py; they solve CartPole-v1)."""

    num_envs: int = 4
    """Parallel envs (gymnasium.vector); each vector step adds num_envs env steps."""
    num_steps: int = 128
    """Steps of each env per rollout; a rollout is num_steps * num_envs steps."""
    learning_rate: float = 2.5e-4
    """Learning rate of the policy and value networks (Adam)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over the run's total steps."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    normalize_advantage: bool = True
    """Standardise advantages within each minibatch."""
    update_epochs: int = 4
    """Passes over each rollout."""
    num_minibatches: int = 4
    """Minibatches per pass."""
    clip_coef: float = 0.2
    """The clip range epsilon of the probability ratio (and of the value change, with clip_value_loss)."""
    clip_value_loss: bool = False
    """Clip the value update around the rollout's values, like the ratio."""
    target_kl: float | None = None
    """Stop the epochs early once the approximate KL to the rollout's policy exceeds this (None: never)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(self.update_epochs >= 1 and self.num_minibatches >= 1, "update_epochs and num_minibatches must be >= 1")
        need(
            self.num_minibatches <= self.num_steps * self.num_envs,
            f"num_minibatches ({self.num_minibatches}) is more than the rollout's {self.num_steps * self.num_envs} steps",
        )
        need(self.clip_coef > 0, f"clip_coef must be positive, got {self.clip_coef}")
        need(self.target_kl is None or self.target_kl > 0, "target_kl must be positive")


def clipped_surrogate_loss(ratio: torch.Tensor, advantages: torch.Tensor, clip: float) -> torch.Tensor:
    """-mean min(r A, clip(r, 1 - clip, 1 + clip) A): the pessimistic bound of the policy improvement."""
    return -torch.min(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages).mean()


def value_loss(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float | None
) -> torch.Tensor:
    """mean 0.5 (V - G)^2; with ``clip``, the larger of that and the loss of V_old + clip(V - V_old)."""
    loss = (values - returns).pow(2)
    if clip is not None:
        clipped = old_values + (values - old_values).clamp(-clip, clip)
        loss = torch.max(loss, (clipped - returns).pow(2))
    return 0.5 * loss.mean()


class PPOLearner(ActorCriticLearner):
    """Proximal policy optimization: clipped surrogate, minibatch epochs, GAE, advantage normalisation."""

    metric_names = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")

    def update(self, rollout: RolloutBuffer) -> dict[str, torch.Tensor]:
        cfg = self.config
        stats = []
        for _ in range(cfg.update_epochs):
            for b in rollout.minibatches(cfg.num_minibatches, self.generator):
                log_prob, entropy, values = self.model.evaluate_actions(b.obs, b.actions)
                log_ratio = log_prob - b.log_probs
                ratio = log_ratio.exp()  # r_t(theta) = pi_theta(a|s) / pi_old(a|s)
                advantages = normalize(b.advantages) if cfg.normalize_advantage else b.advantages
                policy_loss = clipped_surrogate_loss(ratio, advantages, cfg.clip_coef)
                v_loss = value_loss(values, b.values, b.returns, cfg.clip_coef if cfg.clip_value_loss else None)
                loss = policy_loss + cfg.vf_coef * v_loss - cfg.ent_coef * entropy.mean()
                gradient_step(self.optim, loss, self.params, cfg.max_grad_norm)
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - log_ratio).mean()  # Schulman's low-variance estimator of KL(old || new)
                    clip_fraction = ((ratio - 1).abs() > cfg.clip_coef).float().mean()
                stats.append(torch.stack([policy_loss.detach(), v_loss.detach(), entropy.mean().detach(), approx_kl, clip_fraction]))  # fmt: skip
            if cfg.target_kl is not None and float(approx_kl) > cfg.target_kl:
                break
        return dict(zip(self.metric_names, torch.stack(stats).mean(0), strict=True))
