"""MLP actor and critic. Hidden sizes and activation come from the config."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from actorcritic.errors import UserError

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}


def mlp(
    in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: str = "relu"
) -> nn.Sequential:
    """Linear -> activation -> ... -> Linear (no activation after the last layer)."""
    if activation not in ACTIVATIONS:
        raise UserError(f"unknown activation '{activation}'; choose one of {sorted(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    sizes = [in_dim, *hidden_sizes]
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(sizes[-1], out_dim))
    return nn.Sequential(*layers)


class DeterministicActor(nn.Module):
    """mu(s): an MLP ending in tanh, so actions are normalised to [-1, 1]."""

    def __init__(
        self, obs_dim: int, action_dim: int, hidden_sizes: Sequence[int], activation: str = "relu"
    ):
        super().__init__()
        self.net = mlp(obs_dim, hidden_sizes, action_dim, activation)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs))


class QCritic(nn.Module):
    """Q(s, a): an MLP on the concatenated state and (normalised) action; returns shape [batch]."""

    def __init__(
        self, obs_dim: int, action_dim: int, hidden_sizes: Sequence[int], activation: str = "relu"
    ):
        super().__init__()
        self.net = mlp(obs_dim + action_dim, hidden_sizes, 1, activation)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, actions], dim=-1)).squeeze(-1)
