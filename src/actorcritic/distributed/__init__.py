"""The Ray back end: distributed rollout workers and learner, A3C workers, sweeps and tuning on a cluster."""

from actorcritic.distributed.ray_backend import init_ray

__all__ = ["init_ray"]
