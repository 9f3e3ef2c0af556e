"""The Ray back end: remote rollout collectors for off-policy training, A3C workers, sweeps and tuning on a cluster."""

from actorcritic.backends.ray.config import RayConfig
from actorcritic.backends.ray.pool import init_ray

__all__ = ["RayConfig", "init_ray"]
