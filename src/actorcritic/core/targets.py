"""Target networks: one fused, in-place update of every (online, target) pair an algorithm owns.

theta_target <- theta_target + tau * (theta - theta_target)      (Lillicrap et al. 2015, soft update)

applied every ``period`` updates (TF-Agents' ``target_update_period``); tau = 1 is a hard copy.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_target(net: nn.Module) -> nn.Module:
    """A frozen copy of ``net``: same weights, no gradients."""
    return copy.deepcopy(net).requires_grad_(False)


def _float_tensors(module: nn.Module) -> list[torch.Tensor]:
    """Parameters and floating-point buffers (e.g. running statistics), in a stable order."""
    tensors = [p.data for p in module.parameters()]
    tensors += [b for b in module.buffers() if torch.is_floating_point(b)]
    return tensors


class TargetNetworks:
    """Updates every target of an algorithm in one ``torch._foreach_lerp_`` call."""

    def __init__(self, pairs: list[tuple[nn.Module, nn.Module]], tau: float, period: int = 1):
        self.online = [t for online, _ in pairs for t in _float_tensors(online)]
        self.target = [t for _, target in pairs for t in _float_tensors(target)]
        if [t.shape for t in self.online] != [t.shape for t in self.target]:
            raise ValueError("online and target networks differ in shape")
        self.tau, self.period = tau, period
        self.num_calls = 0

    @torch.no_grad()
    def step(self) -> None:
        """Call once per update; the targets move every ``period`` calls."""
        self.num_calls += 1
        if self.num_calls % self.period == 0:
            polyak_update(self.target, self.online, self.tau)

    def state_dict(self) -> dict:
        return {"num_calls": self.num_calls}

    def load_state_dict(self, state: dict) -> None:
        self.num_calls = int(state["num_calls"])


@torch.no_grad()
def polyak_update(target: list[torch.Tensor], online: list[torch.Tensor], tau: float) -> None:
    """target <- (1 - tau) target + tau online, in place, fused over all tensors."""
    if tau == 1.0:
        torch._foreach_copy_(target, online)
    elif hasattr(torch, "_foreach_lerp_"):
        torch._foreach_lerp_(target, online, tau)
    else:  # pragma: no cover - old torch
        for t, o in zip(target, online, strict=True):
            t.lerp_(o, tau)
