"""The Vicsek swarm: a fast model (``model``) and a multi-agent Gymnasium environment (``env``)."""
