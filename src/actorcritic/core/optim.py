"""Optimizer helpers shared by every algorithm: fused Adam, one gradient step, and ``Adam.minimize``, the
off-policy updates' step that ``torch.compile`` captures whole.

Parameters may stack several members (agents trained together, one per seed) along their first
dimension. A loss is then a vector of per-member losses: backpropagating their sum gives each member
exactly the gradient of its own loss, because no member's loss depends on another's parameters, and
Adam is elementwise, so one fused step over the stack is each member's own step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

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


def _clip_per_member_(grads: Sequence[torch.Tensor], max_norm: float, members: int) -> torch.Tensor:
    """Scale each member's block of ``grads`` in place to norm <= max_norm; returns the norms before, [members]."""
    flat = [g.view(members, -1) for g in grads]
    norms = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, dim=1) for g in flat]), dim=0)
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0).unsqueeze(1)
    for g in flat:
        g.mul_(scale)
    return norms


@torch.no_grad()
def clip_grad_norm_per_member_(params: Sequence[torch.nn.Parameter], max_norm: float, members: int = 1) -> torch.Tensor:
    """Scale each member's gradient (its slice of every parameter) to norm <= max_norm, like
    ``clip_grad_norm_`` would for that member alone. Returns the norms before clipping, [members]."""
    return _clip_per_member_([p.grad for p in params if p.grad is not None], max_norm, members)


class _ApplyTo(nn.Module):
    """``fn(module)`` as a module's forward, so ``functional_call`` can run any function of the module."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, fn: Callable[[nn.Module], Any]) -> Any:
        return fn(self.module)


ADAM_STATE = ("step", "exp_avg", "exp_avg_sq")


class Adam:
    """Kingma & Ba's Adam over one module's parameters, with a step that ``torch.compile`` captures whole.

    ``minimize(loss_of)`` computes the gradient of ``loss_of(module)`` and takes one Adam step, per member
    with ``max_grad_norm`` clipping. Eagerly it is autograd and torch's fused Adam kernel. Under
    ``torch.compile`` the gradient comes from ``torch.func.grad`` and the step from the same Adam as foreach
    ops on the state tensors, so forward, backward and step are one graph. (torch's own functional Adam
    does not trace on CPU, and its fused kernel cannot be functionalized: hence these few lines.)
    The state tensors never change identity (a loaded checkpoint is copied into them), so a compiled
    update keeps its graph across resumes. ``state_dict`` is torch.optim.Adam's, keys and layout, so
    checkpoints read either way. It is not a ``torch.optim.Optimizer``: building one imports torch's
    compiler (about 2 s), which an eager run never needs.
    """

    def __init__(self, module: nn.Module, lr: float, max_grad_norm: float | None = None, members: int = 1):
        self.module, self.max_grad_norm, self.members = module, max_grad_norm, members
        self._apply_to = _ApplyTo(module)
        self.names, params = zip(*self._apply_to.named_parameters(), strict=True)
        self.params = list(params)
        self.param_groups = [{"lr": lr, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                              "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                              "fused": None, "decoupled_weight_decay": False}]  # fmt: skip
        self.state = {p: {"step": torch.zeros((), device=p.device), "exp_avg": torch.zeros_like(p),
                          "exp_avg_sq": torch.zeros_like(p)} for p in self.params}  # fmt: skip
        self._lists = [[self.state[p][k] for p in self.params] for k in ADAM_STATE]

    def state_dict(self) -> dict[str, Any]:
        """torch.optim.Adam's: {"state": {i: {step, exp_avg, exp_avg_sq}}, "param_groups": [{lr, ..., params}]}."""
        return {"state": {i: dict(self.state[p]) for i, p in enumerate(self.params)},
                "param_groups": [{**self.param_groups[0], "params": list(range(len(self.params)))}]}  # fmt: skip

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Copy a saved state (this class's or torch.optim.Adam's) into this optimizer's own tensors."""
        (group,), saved = state_dict["param_groups"], state_dict["state"]
        if len(group["params"]) != len(self.params):
            raise ValueError(f"the saved optimizer has {len(group['params'])} parameters, this one {len(self.params)}")
        for i, p in zip(group["params"], self.params, strict=True):
            for k in ADAM_STATE:
                self.state[p][k].copy_(saved[i][k])
        self.param_groups[0].update({k: v for k, v in group.items() if k != "params"})

    def minimize(self, loss_of: Callable[[nn.Module], Any]) -> Any:
        """One step on ``loss_of(module)``: a loss (one per member), or (loss, aux). Returns them detached."""
        if torch.compiler.is_compiling():

            def objective(params: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, Any]:
                # loss_of(module), with the module's parameters swapped for these (any method sees them)
                out = torch.func.functional_call(self._apply_to, dict(zip(self.names, params, strict=True)), (loss_of,))
                loss, aux = out if isinstance(out, tuple) else (out, ())  # torch.func wants tensors, not None
                return loss.sum(), (loss, aux)

            grads, (loss, aux) = torch.func.grad(objective, has_aux=True)(tuple(self.params))
        else:
            out = loss_of(self.module)
            loss, aux = out if isinstance(out, tuple) else (out, ())
            grads = torch.autograd.grad(loss.sum(), self.params)
        self.descend(list(grads))
        return (loss.detach(), aux.detach()) if isinstance(aux, torch.Tensor) else loss.detach()

    @torch.no_grad()
    def descend(self, grads: list[torch.Tensor]) -> None:
        """theta <- theta - lr m_hat / (sqrt(v_hat) + eps), Kingma & Ba's Adam, after per-member clipping."""
        if self.max_grad_norm is not None:
            _clip_per_member_(grads, self.max_grad_norm, self.members)
        group, (steps, exp_avgs, exp_avg_sqs) = self.param_groups[0], self._lists
        (beta1, beta2), lr, eps = group["betas"], group["lr"], group["eps"]
        torch._foreach_add_(steps, 1)
        if not torch.compiler.is_compiling():
            torch._fused_adam_(self.params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=lr,
                               beta1=beta1, beta2=beta2, weight_decay=0.0, eps=eps, maximize=False)  # fmt: skip
            return
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)  # m <- beta1 m + (1 - beta1) g
        torch._foreach_mul_(exp_avg_sqs, beta2)  # v <- beta2 v + (1 - beta2) g^2
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
        # The bias corrections, reduced over the parameters' (equal) step counts: a reduction is computed
        # once, where inductor would inline a scalar expression into every parameter's loop, a pow per 8
        # floats (that made the compiled step 3x slower than torch's fused kernel).
        t = torch.stack(steps)
        correction2 = (1 - beta2**t).sqrt().amax()  # sqrt(1 - beta2^t)
        step_size = (-lr / (1 - beta1**t)).amax()  # -lr / (1 - beta1^t)
        denom = torch._foreach_div(torch._foreach_sqrt(exp_avg_sqs), correction2)
        torch._foreach_add_(denom, eps)
        moves = torch._foreach_div(exp_avgs, denom)
        torch._foreach_mul_(moves, step_size)
        torch._foreach_add_(self.params, moves)
