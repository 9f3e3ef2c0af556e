"""MLP actor and critic. Hidden sizes and activation come from the config."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
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


def mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: str = "relu") -> nn.Sequential:
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

    def __init__(self, obs_dim: int, action_dim: int, hidden_sizes: Sequence[int], activation: str = "relu"):
        super().__init__()
        self.net = mlp(obs_dim, hidden_sizes, action_dim, activation)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs))


class QEnsemble(nn.Module):
    """n independent Q(s, a) MLPs evaluated as one batched computation.

    Member i's layer weights are slice i of a [n, in, out] tensor, so every layer is one batched
    matrix product for all critics. DDPG uses n = 1, TD3 and SAC n = 2; any n works. Each member is
    initialised like ``nn.Linear`` (uniform in +-1/sqrt(fan_in)). Returns Q values of shape [n, batch].
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        hidden_sizes: Sequence[int],
        activation: str = "relu",
        num_critics: int = 1,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise UserError(f"unknown activation '{activation}'; choose one of {sorted(ACTIVATIONS)}")
        self.num_critics = num_critics
        self.activation = ACTIVATIONS[activation]()
        sizes = [obs_dim + action_dim, *hidden_sizes, 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for n_in, n_out in itertools.pairwise(sizes):
            bound = 1.0 / math.sqrt(n_in)
            self.weights.append(nn.Parameter(torch.empty(num_critics, n_in, n_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(num_critics, 1, n_out).uniform_(-bound, bound)))

    def forward(self, obs: torch.Tensor, actions: torch.Tensor, members: int | None = None) -> torch.Tensor:
        """Q values [members, batch] of the first ``members`` critics (default: all)."""
        n = self.num_critics if members is None else members
        x = torch.cat([obs, actions], dim=-1).expand(n, -1, -1)  # [n, B, in], no copy
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b[:n], x, w[:n])
            if i < last:
                x = self.activation(x)
        return x.squeeze(-1)


class SquashedGaussianActor(nn.Module):
    """SAC's policy: a = tanh(u), u ~ N(mean(s), std(s)^2), log-std clamped to [-20, 2].

    ``forward`` gives the deterministic (mean) action tanh(mean) used for evaluation; ``sample``
    gives a reparameterised action and its exact log-probability under the squashed density:

        log pi(a|s) = log N(u; mean, std) - sum_i log(1 - tanh(u_i)^2)          (Haarnoja et al. 2018, eq. 21)

    with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite as |u| grows.
    """

    LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0

    def __init__(self, obs_dim: int, action_dim: int, hidden_sizes: Sequence[int], activation: str = "relu"):
        super().__init__()
        self.net = mlp(obs_dim, hidden_sizes, 2 * action_dim, activation)

    def distribution(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.net(obs).chunk(2, dim=-1)
        return mean, log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.distribution(obs)[0])

    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.distribution(obs)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        u = mean + log_std.exp() * eps
        gaussian_log_prob = (-0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_det_jacobian = (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
        return torch.tanh(u), gaussian_log_prob - log_det_jacobian
