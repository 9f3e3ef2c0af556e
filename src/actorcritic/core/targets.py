"""Target networks: one fused, in-place update of every (online, target) pair an algorithm owns.

theta_target <- theta_target + tau * (theta - theta_target)      (Lillicrap et al. 2015, soft update)

The loop decides when (every ``target_update_period`` actor updates, TF-Agents' period); tau = 1 is a
hard copy. An update holds no counter of its own, so it can be compiled whole.
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
    tensors = list(module.parameters())  # the Parameters themselves (not .data): a compiled update sees one tensor
    tensors += [b for b in module.buffers() if torch.is_floating_point(b)]
    return tensors


class TargetNetworks:
    """Every target of an algorithm, moved towards its online network in one ``torch._foreach_lerp_`` call."""

    def __init__(self, pairs: list[tuple[nn.Module, nn.Module]], tau: float):
        self.online = [t for online, _ in pairs for t in _float_tensors(online)]
        self.target = [t for _, target in pairs for t in _float_tensors(target)]
        if [t.shape for t in self.online] != [t.shape for t in self.target]:
            raise ValueError("online and target networks differ in shape")
        self.tau = tau

    def update(self) -> None:
        """theta' <- (1 - tau) theta' + tau theta for every pair."""
        polyak_update(self.target, self.online, self.tau)


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
