"""Optimizer helpers shared by every algorithm: fused Adam, and one gradient step."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.nn.utils import clip_grad_norm_

CRITIC_LOSSES = {"mse": F.mse_loss, "huber": F.huber_loss}


def ensemble_critic_loss(kind: str, q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over critics of each critic's mean loss against the shared target (q: [n, B], y: [B])."""
    return CRITIC_LOSSES[kind](q, y.expand_as(q), reduction="none").mean(dim=1).sum()


def make_adam(params: Sequence[torch.nn.Parameter], lr: float) -> torch.optim.Adam:
    """Adam with the fused kernel (one call for all parameters) where this torch has it."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - a device/torch without fused Adam
        return torch.optim.Adam(params, lr=lr, foreach=True)


def gradient_step(
    optim: torch.optim.Optimizer,
    loss: torch.Tensor,
    params: Sequence[torch.nn.Parameter],
    max_grad_norm: float | None = None,
) -> None:
    """Backpropagate into ``params`` only, clip, step.

    ``backward(inputs=params)`` prunes the graph: in the actor step no gradient is computed for the
    critic's weights, only the path through them to the action.
    """
    optim.zero_grad(set_to_none=True)
    loss.backward(inputs=list(params))
    if max_grad_norm is not None:
        clip_grad_norm_(params, max_grad_norm, foreach=True)
    optim.step()
