"""The Vicsek swarm: a fast model (``model``), a multi-agent Gymnasium environment (``env``) and its
PettingZoo view (``parallel_env``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actorcritic.envs.swarm.model import VicsekModel
from actorcritic.errors import UserError

if TYPE_CHECKING:
    from actorcritic.envs.swarm.parallel import SwarmParallelEnv

MARL_EXTRA = (
    'the swarm\'s PettingZoo env needs the [marl] extra: pip install -e ".[marl]" (or pip install "actorcritic[marl]")'
)


def parallel_env(**kwargs: Any) -> SwarmParallelEnv:
    """``Swarm-v0`` as a PettingZoo ``ParallelEnv``, one agent per particle; takes ``Swarm-v0``'s options.

    PettingZoo is imported here, not with the package, so that it stays an optional extra.
    """
    try:
        import pettingzoo  # noqa: F401
    except ImportError:
        raise UserError(MARL_EXTRA) from None
    from actorcritic.envs.swarm.parallel import SwarmParallelEnv

    return SwarmParallelEnv(**kwargs)


__all__ = ["VicsekModel", "parallel_env"]
