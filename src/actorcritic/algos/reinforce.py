"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto ch. 13.4).

Every update learns from whole episodes (at least ``episodes_per_update`` of them, from ``num_envs``
envs; an episode still running when the batch is full is finished in the next one):

    G_t  = r_t + gamma r_{t+1} + ... + gamma^{T-t} r_T     the return to the episode's end
                                                         (+ gamma^{T-t+1} V(s_final) if it was truncated)
    L    = -mean (G_t - V(s_t)) log pi(a_t|s_t)  +  vf_coef * mean 0.5 (V(s_t) - G_t)^2  -  ent_coef * mean H

The baseline V(s_t) lowers the gradient's variance without biasing it. It is A2C's loss with Monte Carlo
returns over whole episodes instead of n-step returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from actorcritic.algos.a2c import A2C
from actorcritic.core.buffers import RolloutBuffer
from actorcritic.train.agent import need
from actorcritic.train.on_policy import OnPolicyConfig


@dataclass(frozen=True)
class REINFORCEConfig(OnPolicyConfig):
    """REINFORCE settings (the defaults learn CartPole-v1)."""

    num_envs: int = 4
    """Parallel envs (gymnasium.vector)."""
    episodes_per_update: int = 4
    """Whole episodes per gradient step."""
    num_steps: int = 1
    """Not used: REINFORCE's rollouts are whole episodes."""
    learning_rate: float = 1e-3
    """Learning rate (Adam)."""
    ent_coef: float = 0.0
    """Entropy bonus beta."""
    normalize_advantage: bool = True
    """Standardise G_t - V(s_t) over each batch."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(self.episodes_per_update >= 1, f"episodes_per_update must be >= 1, got {self.episodes_per_update}")


class REINFORCE(A2C):
    """Monte Carlo policy gradient over whole episodes, with a learned value baseline: A2C's update, with
    a rollout of whole episodes in place of n-step segments."""

    algo = "reinforce"
    config_cls = REINFORCEConfig  # A2C's update (one step of the actor-critic loss) on whole episodes

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pending: list[list[tuple]] = [[] for _ in range(self.config.num_envs)]  # each env's running episode

    @torch.no_grad()
    def collect(self) -> RolloutBuffer:
        """Step the envs until ``episodes_per_update`` episodes are complete; they make the rollout,
        one after another along time (one column)."""
        cfg = self.config
        complete: list[list[tuple]] = []
        while len(complete) < cfg.episodes_per_update:
            obs, actions, log_probs, values, rewards, terminated, truncated, final_values = self._collect_step()
            for j in range(cfg.num_envs):
                self.pending[j].append((obs[j], actions[j], log_probs[j], values[j], float(rewards[j]),
                                        bool(terminated[j]), bool(truncated[j]), final_values[j]))  # fmt: skip
                if terminated[j] or truncated[j]:
                    complete.append(self.pending[j])
                    self.pending[j] = []
        steps = [step for episode in complete for step in episode]
        rollout = RolloutBuffer(len(steps), 1, self.obs_dim, self.action_shape, self.discrete, self.device)
        obs, actions, log_probs, values, rewards, terminated, truncated, final_values = zip(*steps, strict=True)
        rollout.obs[:, 0], rollout.actions[:, 0] = torch.stack(obs), torch.stack(actions)
        rollout.log_probs[:, 0], rollout.values[:, 0] = torch.stack(log_probs), torch.stack(values)
        rollout.rewards[:, 0] = torch.tensor(rewards)
        rollout.terminated[:, 0], rollout.truncated[:, 0] = torch.tensor(terminated), torch.tensor(truncated)
        rollout.final_values[:, 0] = torch.stack(final_values)
        rollout.step = rollout.num_steps
        rollout.finish(torch.zeros(1, device=self.device), cfg.gamma, cfg.gae_lambda)  # every episode ends inside
        return rollout

    def _resume_mid_episode(self, mask: np.ndarray) -> None:
        for j in np.flatnonzero(mask):  # an episode cut by the checkpoint is not learned from
            self.pending[j] = []
        super()._resume_mid_episode(mask)
