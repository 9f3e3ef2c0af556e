"""A3C, asynchronous advantage actor-critic (Mnih et al. 2016).

``num_workers`` workers run in parallel, each with its own env and its own copy of the network. Each
worker repeats:

    take the global parameters                     theta_w <- theta
    collect a rollout of num_steps (20) steps      (n-step returns, as A2C)
    compute the gradient of A2C's loss on it       g = grad_theta_w L(theta_w)   (norm clipped)
    send it to the global model                    theta <- Adam(theta, g)   (shared optimizer statistics)

so the global model moves with whichever worker finishes first, on gradients computed with slightly stale
parameters. ``A3CLearner`` is both sides: a worker's copy calls ``compute_gradients``, the global model
calls ``apply_gradients``. Where the workers run is a back end's business: processes on this machine
sharing the model's memory (``backends/a3c.py``), or Ray actors (``backends/ray/a3c.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from actorcritic.algos.a2c import A2CConfig, A2CLearner
from actorcritic.algos.settings import need
from actorcritic.core.buffers import RolloutBuffer
from actorcritic.core.optim import clip_grad_norm_per_member_


@dataclass(frozen=True)
class A3CConfig(A2CConfig):
    """A3C settings: each worker runs num_envs envs and 20-step rollouts (the defaults solve CartPole-v1
    with 2 workers)."""

    num_workers: int = 2
    """Worker processes, each with its own env(s) and network copy (one per core is fastest)."""
    num_envs: int = 1
    """Envs per worker."""
    num_steps: int = 20
    """Steps per rollout, t_max: each gradient a worker sends comes from num_steps * num_envs steps."""
    learning_rate: float = 1e-3
    """Learning rate of the shared optimizer."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(self.num_workers >= 1, f"num_workers must be >= 1, got {self.num_workers}")
        need(self.vectorization == "sync", "A3C workers are processes already; use vectorization sync")
        need(
            not (self.normalize_obs or self.normalize_reward),
            "A3C does not support normalize_obs or normalize_reward (each worker would keep its own statistics)",
        )
        need(not self.anneal_lr, "A3C does not support anneal_lr (its workers step one shared optimizer)")


class A3CLearner(A2CLearner):
    """A2C's loss, split in two: a worker computes the gradient on its own rollout, the global model
    applies it whenever it arrives."""

    def compute_gradients(self, rollout: RolloutBuffer) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
        """A worker's half: g = grad L(theta_w) of A2C's loss on its rollout, its norm clipped."""
        loss, metrics = self.loss(rollout.batch())
        for p in self.params:
            p.grad = None
        loss.backward()
        if self.config.max_grad_norm is not None:
            clip_grad_norm_per_member_(self.params, self.config.max_grad_norm)
        return [p.grad for p in self.params], metrics

    def apply_gradients(self, grads: Sequence[torch.Tensor]) -> None:
        """The global model's half: theta <- Adam(theta, g), with whichever worker's gradient came in."""
        apply_gradients(self.optim, self.params, grads)

    @torch.no_grad()
    def set_parameters(self, params: Sequence[torch.Tensor]) -> None:
        """A worker takes the global parameters, in the order of ``model.parameters()``."""
        torch._foreach_copy_(self.params, list(params))


def apply_gradients(
    optim: torch.optim.Optimizer, params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor]
) -> None:
    """theta <- optimizer step with gradient ``grads`` (a worker's, computed on its own parameters)."""
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    optim.step()
