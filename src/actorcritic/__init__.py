"""actorcritic: fast, readable PyTorch actor-critic deep reinforcement learning."""

from actorcritic.algos.a2c import A2C, A2CConfig
from actorcritic.algos.a3c import A3C, A3CConfig, A3CWorker
from actorcritic.algos.ddpg_td3 import DDPG, TD3, DDPGConfig, TD3Config
from actorcritic.algos.ppo import PPO, PPOConfig
from actorcritic.algos.reinforce import REINFORCE, REINFORCEConfig
from actorcritic.algos.sac import SAC, SACConfig
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.registry import ALGOS, load

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
    "DDPGConfig",
    "PPOConfig",
    "REINFORCEConfig",
    "SACConfig",
    "TD3Config",
    "TrainingDiverged",
    "UserError",
    "load",
]
__version__ = "0.1.0"
