"""The algorithms: one file each, with its Config, its learner (networks, optimizers) and its update.

``SPECS`` names each one with what the loop needs to train it: its config, its learner, and the kind of
data it learns from (single steps into a replay buffer, rollouts, whole episodes, or asynchronous
workers' gradients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from actorcritic.algos.a2c import A2CConfig, A2CLearner
from actorcritic.algos.a3c import A3CConfig, A3CLearner
from actorcritic.algos.ddpg import DDPGConfig, DDPGLearner, TD3Config
from actorcritic.algos.ppo import PPOConfig, PPOLearner
from actorcritic.algos.reinforce import REINFORCEConfig, REINFORCELearner
from actorcritic.algos.sac import SACConfig, SACLearner
from actorcritic.algos.settings import AgentConfig, OffPolicyConfig, OnPolicyConfig


@dataclass(frozen=True)
class AlgoSpec:
    """An algorithm as the loop sees it."""

    name: str
    config_cls: type[AgentConfig]
    learner_cls: type[Any]
    data: Literal["steps", "rollouts", "episodes", "async"]
    """steps: off-policy, transitions into a replay buffer; rollouts: on-policy segments; episodes: whole
    episodes (REINFORCE); async: workers send gradients (A3C)."""

    @property
    def off_policy(self) -> bool:
        return self.data == "steps"


SPECS: dict[str, AlgoSpec] = {
    "ddpg": AlgoSpec("ddpg", DDPGConfig, DDPGLearner, "steps"),
    "td3": AlgoSpec("td3", TD3Config, DDPGLearner, "steps"),
    "sac": AlgoSpec("sac", SACConfig, SACLearner, "steps"),
    "reinforce": AlgoSpec("reinforce", REINFORCEConfig, REINFORCELearner, "episodes"),
    "a2c": AlgoSpec("a2c", A2CConfig, A2CLearner, "rollouts"),
    "a3c": AlgoSpec("a3c", A3CConfig, A3CLearner, "async"),
    "ppo": AlgoSpec("ppo", PPOConfig, PPOLearner, "rollouts"),
}

__all__ = [
    "SPECS",
    "A2CConfig",
    "A3CConfig",
    "AgentConfig",
    "AlgoSpec",
    "DDPGConfig",
    "OffPolicyConfig",
    "OnPolicyConfig",
    "PPOConfig",
    "REINFORCEConfig",
    "SACConfig",
    "TD3Config",
]
