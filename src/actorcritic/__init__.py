"""actorcritic: fast, readable PyTorch actor-critic deep reinforcement learning."""

from actorcritic.algos.ddpg_td3 import DDPG, TD3, DDPGConfig, TD3Config
from actorcritic.algos.sac import SAC, SACConfig
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.registry import ALGOS, load

__all__ = [
    "ALGOS",
    "DDPG",
    "SAC",
    "TD3",
    "DDPGConfig",
    "SACConfig",
    "TD3Config",
    "TrainingDiverged",
    "UserError",
    "load",
]
__version__ = "0.1.0"
