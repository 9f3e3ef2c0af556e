"""DDPG (Lillicrap et al. 2015) and TD3 (Fujimoto et al. 2018): one update serves both.

    a'     = mu'(s')                                             DDPG (target_noise = 0)
           = clip(mu'(s') + clip(sigma eps, -c, c), -1, 1)        TD3 target policy smoothing, eps ~ N(0, 1)
    y      = r + gamma^n (1 - terminated) min_i Q'_i(s', a')     (one critic for DDPG: no min)
    L_Q    = sum_i mean (Q_i(s, a) - y)^2                        critic regression (or Huber)
    every policy_delay updates (DDPG: 1, TD3: 2), as the loop says:
      L_mu   = -mean Q_1(s, mu(s))                               deterministic policy gradient
      theta' <- (1 - tau) theta' + tau theta                     soft target update

DDPG is TD3 with one critic, no smoothing and a delay of 1: the same learner and the same update, with
other defaults. Tensors carry a leading members axis (one agent per seed, trained together); every loss
is one value per member. The loop owns time: it tells ``step`` whether the actor and the targets move.
TD3's smoothing noise eps is drawn before ``step``, so ``step`` is a function of tensors that compiles whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from actorcritic.algos.off_policy import OffPolicyLearner
from actorcritic.algos.settings import OffPolicyConfig, need
from actorcritic.core.buffers import Batch
from actorcritic.core.members import member_randn
from actorcritic.core.networks import DeterministicActor
from actorcritic.core.targets import TargetNetworks, make_target


@dataclass(frozen=True)
class DDPGConfig(OffPolicyConfig):
    """DDPG settings. The defaults solve Pendulum-v1 in a few thousand env steps.

    Every field of the off-policy loop (buffer, exploration, evaluation) is here too.
    """

    num_critics: int = 1
    """Critics in the ensemble; the target takes their minimum (DDPG: 1)."""
    target_noise: float = 0.0
    """Std of the target policy smoothing noise, in normalised action units (DDPG: 0, none)."""
    target_noise_clip: float = 0.5
    """Clip the smoothing noise to +-target_noise_clip."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(self.num_critics >= 1, f"num_critics must be >= 1, got {self.num_critics}")
        need(self.target_noise >= 0 and self.target_noise_clip >= 0, "target_noise and target_noise_clip must be >= 0")


@dataclass(frozen=True)
class TD3Config(DDPGConfig):
    """TD3 settings (defaults from Fujimoto et al. 2018 and CleanRL/SB3)."""

    num_critics: int = 2
    """Critics in the ensemble; clipped double-Q takes the minimum of their targets."""
    policy_delay: int = 2
    """Update the actor and the targets once every policy_delay critic updates."""
    target_noise: float = 0.2
    """Std of the target policy smoothing noise, in normalised action units."""


class DDPGLearner(OffPolicyLearner):
    """DDPG's and TD3's learner: a deterministic tanh actor and a Q ensemble, both with target copies."""

    metric_names = ("critic_loss", "actor_loss", "q_mean")
    checkpointed = ("actor", "actor_target", "critic", "critic_target", "actor_optim", "critic_optim")

    def __init__(self, cfg: DDPGConfig, obs_dim: int, action_dim: int, init_generators: Sequence[torch.Generator],
                 generators: Sequence[torch.Generator], device: torch.device):  # fmt: skip
        super().__init__(cfg, obs_dim, action_dim, init_generators, generators, device)
        self.actor_target = make_target(self.actor)
        self.targets = TargetNetworks([(self.actor, self.actor_target), (self.critic, self.critic_target)], cfg.tau)

    @staticmethod
    def exploration(cfg: DDPGConfig) -> tuple[str, float | None]:
        """The loop's exploration noise: (kind, default clip)."""
        return cfg.noise, None

    @staticmethod
    def make_actor(cfg: DDPGConfig, obs_dim: int, action_dim: int, init_generators: Sequence[torch.Generator],
                   device: torch.device | str) -> torch.nn.Module:  # fmt: skip
        """mu(s), one per member (a Ray rollout worker makes its copy of the policy here too)."""
        m, g = len(init_generators), list(init_generators)
        return DeterministicActor(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, m, g).to(device)

    @staticmethod
    def act(cfg: DDPGConfig, actor: torch.nn.Module, obs: torch.Tensor, deterministic: bool,
            generators: Sequence[torch.Generator] | None, eps: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        return actor(obs)  # exploration noise is the loop's

    def draw_noise(self, batch_size: int) -> torch.Tensor | None:
        """TD3's smoothing noise eps ~ N(0, 1), [M, B, action_dim] (None for DDPG)."""
        if self.config.target_noise == 0:
            return None
        return member_randn((self.members, batch_size, self.action_dim), self.generators, self.device)

    def step(self, batch: Batch, eps: torch.Tensor | None, update_actor: bool, update_targets: bool) -> dict[str, torch.Tensor]:  # fmt: skip
        cfg = self.config
        with torch.no_grad():
            # TD target: y = r + gamma^n (1 - terminated) min_i Q'_i(s', a'), with a' = mu'(s') ...
            next_actions = self.actor_target(batch.next_obs)
            if eps is not None:  # ... smoothed in TD3: a' = clip(mu'(s') + clip(sigma eps, -c, c), -1, 1), eq. 14
                smoothing = (cfg.target_noise * eps).clamp(-cfg.target_noise_clip, cfg.target_noise_clip)
                next_actions = (next_actions + smoothing).clamp(-1, 1)
            next_q = self.critic_target(batch.next_obs, next_actions).min(dim=-2).values
            y = cfg.reward_scale * batch.rewards + batch.discounts * next_q

        # Critic: regress every Q_i(s, a) on y, L_Q = sum_i mean (Q_i(s, a) - y)^2.
        critic_loss, q = self.regress_critic(batch, y)
        metrics = {"critic_loss": critic_loss, "q_mean": q.mean(dim=(-2, -1))}

        if update_actor:  # every policy_delay critic updates
            # Actor: ascend Q_1(s, mu(s)), the deterministic policy gradient; only the actor's weights move.
            metrics["actor_loss"] = self.actor_optim.minimize(
                lambda actor: -self.critic(batch.obs, actor(batch.obs), critics=1).mean(dim=(-2, -1))
            )
        if update_targets:  # after an actor update, every target_update_period of them
            self.targets.update()  # theta' <- (1 - tau) theta' + tau theta
        return metrics
