"""The Vicsek swarm: a fast model (``model``) and a multi-agent Gymnasium environment (``env``)."""

from actorcritic.envs.swarm.model import VicsekModel

__all__ = ["VicsekModel"]
