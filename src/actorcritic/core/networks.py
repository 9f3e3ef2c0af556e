"""Actors and critics as stacked MLPs: many independent networks evaluated as one batched computation.

Every network here holds ``copies`` independent MLPs whose layer weights are slices of [copies, in, out]
tensors, so each layer is one ``torch.baddbmm`` for all of them. That one mechanism serves two things:
the critic ensemble (n critics) and training several seeds at once (``members`` agents, each with its
own networks). Tensors are laid out member-major: [members, ...] for actors, [members * n, ...] for
critics, so member m's parameters are one contiguous block.

Inputs are [members, batch, features]; a 2-D [batch, features] (or 1-D) input is one member's.
Each copy is initialised like ``nn.Linear`` (uniform in +-1/sqrt(fan_in)); with ``generators`` (one per
member) member m's weights come from its own generator, so a member starts from the same weights
whether it trains alone or in a group.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from actorcritic.core.members import member_randn
from actorcritic.errors import UserError

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}


def activation_module(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise UserError(f"unknown activation '{name}'; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: str = "relu") -> nn.Sequential:
    """Linear -> activation -> ... -> Linear (no activation after the last layer)."""
    layers: list[nn.Module] = []
    sizes = [in_dim, *hidden_sizes]
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), activation_module(activation)]
    layers.append(nn.Linear(sizes[-1], out_dim))
    return nn.Sequential(*layers)


THIN_INPUTS = 4  # compiled, a layer with at most this many inputs is a sum of broadcast products, not a bmm


class StackedMLP(nn.Module):
    """``copies`` independent MLPs; layer l of copy c is ``weights[l][c]`` ([in, out]) and ``biases[l][c]``."""

    def __init__(
        self,
        in_dim: int,
        hidden_sizes: Sequence[int],
        out_dim: int,
        activation: str = "relu",
        copies: int = 1,
        generators: Sequence[torch.Generator] | None = None,
    ):
        super().__init__()
        self.activation = activation_module(activation)
        self.copies = copies
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for n_in, n_out in itertools.pairwise([in_dim, *hidden_sizes, out_dim]):
            self.weights.append(nn.Parameter(torch.empty(copies, n_in, n_out)))
            self.biases.append(nn.Parameter(torch.empty(copies, 1, n_out)))
        # The (weight, bias) pairs as a plain list: iterating a ParameterList costs ~5 µs a layer per call,
        # which shows at batch size 1 (acting). Moving devices and loading state keep the same Parameters.
        self._layers = list(zip(self.weights, self.biases, strict=True))
        self.reset_parameters(generators)

    @torch.no_grad()
    def reset_parameters(self, generators: Sequence[torch.Generator] | None = None) -> None:
        """nn.Linear's init per copy; copy c draws from generators[c // (copies / len(generators))]."""
        gens = list(generators) if generators else [None]
        if self.copies % len(gens):
            raise ValueError(f"{self.copies} copies cannot be split among {len(gens)} generators")
        per = self.copies // len(gens)
        for w, b in zip(self.weights, self.biases, strict=True):
            bound = 1.0 / math.sqrt(w.shape[1])
            for c in range(self.copies):
                w[c].uniform_(-bound, bound, generator=gens[c // per])
                b[c].uniform_(-bound, bound, generator=gens[c // per])

    def forward(self, x: torch.Tensor, groups: int = 1, first: int | None = None) -> torch.Tensor:
        """x: [copies, B, in] -> [copies, B, out].

        With ``first``, the copies are read as [groups, copies / groups] and only the first ``first`` of
        each group run (x is then [groups * first, B, in]); e.g. critic 1 of every member.
        """
        last, compiling = len(self._layers) - 1, torch.compiler.is_compiling()
        # Compiled, the update runs through torch.func.functional_call, which swaps the ParameterLists' entries.
        layers = zip(self.weights, self.biases, strict=True) if compiling else self._layers
        for i, (w, b) in enumerate(layers):
            if first is not None:
                w = w.view(groups, -1, *w.shape[1:])[:, :first].reshape(-1, *w.shape[1:])
                b = b.view(groups, -1, *b.shape[1:])[:, :first].reshape(-1, *b.shape[1:])
            if not compiling:
                x = torch.baddbmm(b, x, w)
            elif w.shape[-1] == 1:
                # One output (a critic's value, a 1-D action) is a dot product per row: compiled as a sum it
                # fuses with the activation before it and with its gradients, where bmm costs a [B, K] x [K, 1]
                # call of its own (37 µs for 8 members at 64-64, as long as 1/3 of a 64x64 product).
                x = (x * w.transpose(-1, -2)).sum(-1, keepdim=True) + b
            elif w.shape[-2] <= THIN_INPUTS:
                # A few inputs (Pendulum's 3 observations, or 4 with the action) is a sum of that many
                # broadcast products, elementwise, so it fuses with the bias and the activation after it: bmm
                # runs a [B, 3] x [3, N] product at 30-110 GFLOP/s, as long as its call, not its work.
                x = sum((x[..., j : j + 1] * w[:, j : j + 1] for j in range(w.shape[-2])), b)
            else:
                # Compiled, the bias joins the activation's kernel after the product (baddbmm would first copy
                # it into the product's output: 0.3 ms of a 3.4 ms DDPG update).
                x = torch.bmm(x, w) + b
            if i < last:
                x = self.activation(x)
        return x


def _as_members(x: torch.Tensor) -> torch.Tensor:
    """[M, B, d] stays; one member's [B, d] or [d] becomes [1, B, d]."""
    return x if x.dim() == 3 else x.reshape(1, -1, x.shape[-1])


class _Actor(nn.Module):
    """An MLP per member from observations to ``outputs_per_action`` numbers per action dimension."""

    outputs_per_action: ClassVar[int] = 1

    def __init__(self, obs_dim: int, action_dim: int, hidden_sizes: Sequence[int], activation: str = "relu",
                 members: int = 1, generators: Sequence[torch.Generator] | None = None):  # fmt: skip
        super().__init__()
        out_dim = self.outputs_per_action * action_dim
        self.net = StackedMLP(obs_dim, hidden_sizes, out_dim, activation, members, generators)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(_as_members(obs)).reshape(*obs.shape[:-1], -1)


class DeterministicActor(_Actor):
    """mu(s): an MLP ending in tanh, so actions are normalised to [-1, 1]. One per member."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.features(obs))


class QEnsemble(nn.Module):
    """n independent Q(s, a) MLPs per member, evaluated as one batched computation.

    DDPG uses n = 1, TD3 and SAC n = 2; any n works. Critic i of member m is copy m * n + i of the
    stacked MLP. Returns Q values [M, n, B] (or [n, B] for one member's 2-D input).
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        hidden_sizes: Sequence[int],
        activation: str = "relu",
        num_critics: int = 1,
        members: int = 1,
        generators: Sequence[torch.Generator] | None = None,
    ):
        super().__init__()
        self.num_critics, self.members = num_critics, members
        self.net = StackedMLP(obs_dim + action_dim, hidden_sizes, 1, activation, members * num_critics, generators)

    @property
    def weights(self) -> nn.ParameterList:
        return self.net.weights

    @property
    def biases(self) -> nn.ParameterList:
        return self.net.biases

    def forward(self, obs: torch.Tensor, actions: torch.Tensor, critics: int | None = None) -> torch.Tensor:
        """Q values [M, critics, B] of the first ``critics`` critics of each member (default: all)."""
        x = _as_members(torch.cat([obs, actions], dim=-1))  # [M, B, in]
        m, batch, width = x.shape
        n = self.num_critics if critics is None else critics
        x = x.unsqueeze(1).expand(m, n, batch, width).reshape(m * n, batch, width)  # a view when n = 1
        q = self.net(x, groups=m, first=None if n == self.num_critics else n).view(m, n, batch)
        return q if obs.dim() == 3 else q.squeeze(0)


class SquashedGaussianActor(_Actor):
    """SAC's policy: a = tanh(u), u ~ N(mean(s), std(s)^2), log-std clamped to [-20, 2]. One per member.

    ``forward`` gives the deterministic (mean) action tanh(mean) used for evaluation; ``sample``
    gives a reparameterised action and its exact log-probability under the squashed density:

        log pi(a|s) = log N(u; mean, std) - sum_i log(1 - tanh(u_i)^2)          (Haarnoja et al. 2018, eq. 21)

    with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite as |u| grows.
    """

    LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
    outputs_per_action = 2  # mean and log-std

    def distribution(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.features(obs).chunk(2, dim=-1)
        return mean, log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.distribution(obs)[0])

    def sample(
        self,
        obs: torch.Tensor,
        generators: Sequence[torch.Generator] | torch.Generator | None = None,
        eps: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """a = tanh(mean + std eps) and log pi(a|s), with eps ~ N(0, 1) drawn here or given (a compiled update)."""
        mean, log_std = self.distribution(obs)
        eps = _standard_normal(mean, generators) if eps is None else eps
        u = mean + log_std.exp() * eps
        gaussian_log_prob = (-0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        return torch.tanh(u), gaussian_log_prob - squash_correction(u)

    def explore(
        self,
        obs: torch.Tensor,
        generators: Sequence[torch.Generator] | torch.Generator | None = None,
        eps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The action of ``sample`` (the same draw of eps, or the given one) without its log-probability, which
        acting never reads."""
        mean, log_std = self.distribution(obs)
        eps = _standard_normal(mean, generators) if eps is None else eps
        return torch.tanh(mean + log_std.exp() * eps)


def _standard_normal(
    like: torch.Tensor, generators: Sequence[torch.Generator] | torch.Generator | None
) -> torch.Tensor:
    """eps ~ N(0, 1) shaped like ``like`` ([M, ..., d]), member m's from generators[m]; one member's [..., d]
    (fewer than 3 dimensions) from its generator alone."""
    if like.dim() < 3:
        generators = generators[0] if isinstance(generators, Sequence) else generators
    return member_randn(like.shape, generators, like.device)


def squash_correction(u: torch.Tensor) -> torch.Tensor:
    """sum_i log(1 - tanh(u_i)^2) = sum_i 2 (log 2 - u_i - softplus(-2 u_i)): the log-determinant of tanh's
    Jacobian, in a form that stays finite as |u| grows."""
    return (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
