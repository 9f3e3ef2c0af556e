"""actorcritic: fast, readable PyTorch actor-critic deep reinforcement learning."""

from actorcritic.algos.ddpg_td3 import DDPG, DDPGConfig
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.registry import ALGOS, load

__all__ = ["ALGOS", "DDPG", "DDPGConfig", "TrainingDiverged", "UserError", "load"]
__version__ = "0.1.0"
