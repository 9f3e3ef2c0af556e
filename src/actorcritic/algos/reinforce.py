"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto ch. 13.4).

Every update learns from whole episodes (at least ``episodes_per_update`` of them, from ``num_envs``
envs; an episode still running when the batch is full is finished in the next one):

    G_t  = r_t + gamma r_{t+1} + ... + gamma^{T-t} r_T     the return to the episode's end
                                                         (+ gamma^{T-t+1} V(s_final) if it was truncated)
    L    = -mean (G_t - V(s_t)) log pi(a_t|s_t)  +  vf_coef * mean 0.5 (V(s_t) - G_t)^2  -  ent_coef * mean H

The baseline V(s_t) lowers the gradient's variance without biasing it. It is A2C's loss with Monte Carlo
returns over whole episodes instead of n-step returns: the same learner, fed whole episodes by the loop's
episode collector (``runtime/collectors.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from actorcritic.algos.a2c import A2CLearner
from actorcritic.algos.settings import OnPolicyConfig, need


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


REINFORCELearner = A2CLearner  # A2C's loss and step; what differs is the data, whole episodes
