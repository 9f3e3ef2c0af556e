"""Several agents in one process ("members", one per seed), trained as one batched computation.

Every stacked tensor (network parameters, optimizer moments) is laid out member-major along its first
dimension, so member m's part is block m of M equal blocks. That makes a member's state a slice of the
group's, and a group's state the concatenation of its members': a member's checkpoint is exactly the
checkpoint of a run trained alone, and a group can be assembled from such checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch


def member_block(tensor: torch.Tensor, member: int, members: int) -> torch.Tensor:
    """Block ``member`` of ``members`` equal blocks along dim 0 (a view)."""
    if tensor.shape[0] % members:
        raise ValueError(f"dimension 0 of shape {tuple(tensor.shape)} is not a multiple of {members} members")
    return tensor.view(members, tensor.shape[0] // members, *tensor.shape[1:])[member]


def member_state(tree: Any, member: int, members: int) -> Any:
    """A module's or optimizer's state_dict for one member: every tensor of rank >= 1 sliced to its block.

    Rank-0 tensors (Adam's shared step count) and non-tensors (hyperparameters) are kept as they are.
    """
    if isinstance(tree, torch.Tensor):
        return member_block(tree, member, members).clone() if tree.dim() else tree.clone()
    if isinstance(tree, dict):
        return type(tree)((k, member_state(v, member, members)) for k, v in tree.items())
    if isinstance(tree, list | tuple):
        return type(tree)(member_state(v, member, members) for v in tree)
    return tree


def stack_states(trees: Sequence[Any]) -> Any:
    """The inverse of ``member_state``: the members' states concatenated into the group's."""
    first = trees[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(list(trees)) if first.dim() else first.clone()
    if isinstance(first, dict):
        return type(first)((k, stack_states([t[k] for t in trees])) for k in first)
    if isinstance(first, list | tuple):
        return type(first)(stack_states([t[i] for t in trees]) for i in range(len(first)))
    return first


def member_randn(
    shape: Sequence[int], generators: Sequence[torch.Generator] | torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """Standard normal noise of ``shape`` = [M, ...]: member m's slice from generators[m], its own stream.

    Member m draws exactly what it would draw alone, whatever the other members do.
    """
    if generators is None or isinstance(generators, torch.Generator):
        return torch.randn(shape, generator=generators, device=device)
    if shape[0] != len(generators):
        raise ValueError(f"shape {tuple(shape)} does not start with the {len(generators)} members")
    out = torch.empty(shape, device=device)
    for row, g in zip(out.unbind(0), generators, strict=True):
        row.normal_(generator=g)  # torch.randn's draw, into the row in place
    return out


def member_copy(
    make: Callable[[], torch.nn.Module], stacked: torch.nn.Module, member: int, members: int
) -> torch.nn.Module:
    """Member ``member``'s block of a stacked module, as a one-member module from ``make()``."""
    module = make()
    module.load_state_dict(member_state(stacked.state_dict(), member, members))
    return module
