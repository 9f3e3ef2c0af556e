"""actorcritic: fast, readable PyTorch actor-critic deep reinforcement learning."""

from actorcritic.agents import A2C, A3C, ALGOS, DDPG, PPO, REINFORCE, SAC, TD3, load
from actorcritic.algos import A2CConfig, A3CConfig, DDPGConfig, PPOConfig, REINFORCEConfig, SACConfig, TD3Config
from actorcritic.backends.a3c import A3CWorker
from actorcritic.backends.ray.config import RayConfig
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.runtime.callbacks import Callback, RunState, SaveEvery, StopAtTarget, StopOnNoImprovement
from actorcritic.runtime.threads import AutoThreads

__all__ = [
    "A2C",
    "A3C",
    "ALGOS",
    "DDPG",
    "PPO",
    "REINFORCE",
    "SAC",
    "TD3",
    "A2CConfig",
    "A3CConfig",
    "A3CWorker",
    "AutoThreads",
    "Callback",
    "DDPGConfig",
    "PPOConfig",
    "REINFORCEConfig",
    "RayConfig",
    "RunState",
    "SACConfig",
    "SaveEvery",
    "StopAtTarget",
    "StopOnNoImprovement",
    "TD3Config",
    "TrainingDiverged",
    "UserError",
    "load",
]
__version__ = "0.1.0"
