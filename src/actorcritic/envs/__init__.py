"""Making envs: Gymnasium ids, a user's own ``module.path:Class``, vector envs, and our own ``Swarm-v0``."""

import gymnasium as gym

from actorcritic.envs.make import make_env, make_vector_env

if "Swarm-v0" not in gym.registry:
    gym.register("Swarm-v0", vector_entry_point="actorcritic.envs.swarm.env:SwarmEnv")

# What `actorcritic train --env ID` uses where the user sets nothing else (flags and --config win).
# Swarm-v0: steps count every particle's step (100 per swarm step in the small preset); DDPG with these
# reached 98-99% of the Vicsek rule's order parameter by 100k steps (about a minute) in bench runs.
TRAINING_DEFAULTS: dict[str, dict] = {
    "Swarm-v0": {
        "env_kwargs": "preset=small,noise=0.5",
        "total_steps": 200_000,
        "learning_starts": 10_000,
        "hidden_sizes": (64, 64),
        "gamma": 0.5,  # the reward (a turn's effect on the local order) is immediate; a short horizon learns fastest
        "gradient_steps": 2,
        "eval_interval": 50_000,
        "eval_episodes": 2,
        "log_interval": 10_000,
        "checkpoint_interval": 50_000,
    },
}

__all__ = ["TRAINING_DEFAULTS", "make_env", "make_vector_env"]
