"""Optimizer helpers shared by every algorithm: fused Adam, and one gradient step.

Parameters may stack several members (agents trained together, one per seed) along their first
dimension. A loss is then a vector of per-member losses: backpropagating their sum gives each member
exactly the gradient of its own loss, because no member's loss depends on another's parameters, and
Adam is elementwise, so one fused step over the stack is each member's own step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

CRITIC_LOSSES = {"mse": F.mse_loss, "huber": F.huber_loss}


def ensemble_critic_loss(kind: str, q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per member, the sum over critics of each critic's mean loss against the shared target.

    q: [M, n, B] and y: [M, B] give [M]; one member's q: [n, B] and y: [B] give a scalar.
    """
    return CRITIC_LOSSES[kind](q, y.unsqueeze(-2).expand_as(q), reduction="none").mean(dim=-1).sum(dim=-1)


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
    members: int = 1,
) -> None:
    """Backpropagate into ``params`` only, clip each member's gradient norm, step.

    ``loss`` is a scalar or one loss per member. ``backward(inputs=params)`` prunes the graph: in the
    actor step no gradient is computed for the critic's weights, only the path through them to the action.
    """
    optim.zero_grad(set_to_none=True)
    loss.sum().backward(inputs=list(params))
    if max_grad_norm is not None:
        clip_grad_norm_per_member_(params, max_grad_norm, members)
    optim.step()


@torch.no_grad()
def clip_grad_norm_per_member_(params: Sequence[torch.nn.Parameter], max_norm: float, members: int = 1) -> torch.Tensor:
    """Scale each member's gradient (its slice of every parameter) to norm <= max_norm, like
    ``clip_grad_norm_`` would for that member alone. Returns the norms before clipping, [members]."""
    grads = [p.grad.view(members, -1) for p in params if p.grad is not None]
    norms = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, dim=1) for g in grads]), dim=0)
    scale = (max_norm / (norms + 1e-6)).clamp_(max=1.0).unsqueeze(1)
    for g in grads:
        g.mul_(scale)
    return norms
