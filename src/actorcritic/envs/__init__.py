"""Making envs: Gymnasium ids, a user's own ``module.path:Class``, vector envs."""

from actorcritic.envs.make import make_env, make_vector_env

__all__ = ["make_env", "make_vector_env"]
