"""Stochastic policies for the on-policy algorithms, as ``torch.distributions`` over actions.

- ``CategoricalPolicy``: discrete actions, pi(a|s) = softmax(logits(s))_a. A Bernoulli policy for a
  two-action env is the special case of two logits.
- ``GaussianPolicy``: continuous actions, N(mean(s), std^2) with a state-independent log-std (a learned
  vector, the usual choice for PPO) or a state-dependent one (a second head). With ``squash`` the
  sample u goes through tanh, and the log-probability carries the change-of-variables correction
  -sum_i log(1 - tanh(u_i)^2), computed in the stable form 2 (log 2 - u - softplus(-2u)).

``distribution(obs)`` returns the torch distribution; ``log_prob_entropy(obs, actions)`` gives what the
losses need. For a squashed Gaussian the entropy has no closed form: it is estimated by -log pi(a|s)
at the given actions. ``act`` samples from a ``torch.Generator`` when given one, so a run's action
samples are its own stream (and resume exactly).

``ActorCritic`` pairs a policy with a value network V(s): two separate MLPs, or one shared trunk with
a policy head and a value head. Weights start orthogonal (gain sqrt 2 in hidden layers, 0.01 on the
policy's output, 1 on the value's), the initialisation PPO and A2C implementations use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

from actorcritic.core.networks import activation_module, mlp, squash_correction


class CategoricalPolicy(nn.Module):
    def __init__(self, obs_dim: int, num_actions: int, hidden_sizes: Sequence[int], activation: str = "tanh"):
        super().__init__()
        self.net = mlp(obs_dim, hidden_sizes, num_actions, activation)

    def distribution(self, obs: torch.Tensor) -> Categorical:
        return Categorical(logits=self.net(obs), validate_args=False)

    def log_prob_entropy(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dist = self.distribution(obs)
        return dist.log_prob(actions.long()), dist.entropy()

    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(a ~ pi(.|s), log pi(a|s)) from one forward pass."""
        log_p = self.net(obs).log_softmax(-1)
        flat = log_p.exp().reshape(-1, log_p.shape[-1])
        actions = torch.multinomial(flat, 1, generator=generator).view(log_p.shape[:-1])
        return actions, log_p.gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def act(
        self, obs: torch.Tensor, deterministic: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        probs = self.distribution(obs).probs
        if deterministic:
            return probs.argmax(-1)
        flat = probs.reshape(-1, probs.shape[-1])
        return torch.multinomial(flat, 1, generator=generator).view(probs.shape[:-1])


class GaussianPolicy(nn.Module):
    LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        hidden_sizes: Sequence[int],
        activation: str = "tanh",
        state_dependent_std: bool = False,
        squash: bool = False,
        init_log_std: float = 0.0,
    ):
        super().__init__()
        self.state_dependent_std, self.squash = state_dependent_std, squash
        self.net = mlp(obs_dim, hidden_sizes, action_dim * (2 if state_dependent_std else 1), activation)
        if not state_dependent_std:
            self.log_std = nn.Parameter(torch.full((action_dim,), float(init_log_std)))

    def gaussian(self, obs: torch.Tensor) -> Independent:
        """The distribution of the pre-squash action u (of the action itself when not squashed)."""
        out = self.net(obs)
        if self.state_dependent_std:
            mean, log_std = out.chunk(2, dim=-1)
        else:
            mean, log_std = out, self.log_std.expand_as(out)
        std = log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX).exp()
        return Independent(Normal(mean, std, validate_args=False), 1, validate_args=False)

    def log_prob_entropy(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dist = self.gaussian(obs)
        if not self.squash:
            return dist.log_prob(actions), dist.entropy()
        u = torch.atanh(actions.clamp(-1 + 1e-6, 1 - 1e-6))
        log_prob = dist.log_prob(u) - squash_correction(u)
        return log_prob, -log_prob  # no closed form: a one-sample estimate at the given actions

    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(a ~ pi(.|s), log pi(a|s)) from one forward pass."""
        dist = self.gaussian(obs)
        u = dist.mean + dist.stddev * torch.randn(dist.mean.shape, generator=generator, device=dist.mean.device)
        if not self.squash:
            return u, dist.log_prob(u)
        return torch.tanh(u), dist.log_prob(u) - squash_correction(u)

    def act(
        self, obs: torch.Tensor, deterministic: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        normal = self.gaussian(obs).base_dist
        u = normal.mean
        if not deterministic:
            u = u + normal.stddev * torch.randn(u.shape, generator=generator, device=u.device)
        return torch.tanh(u) if self.squash else u


class ActorCritic(nn.Module):
    """pi(a|s) and V(s) for the on-policy algorithms, with separate networks or a shared trunk.

    ``num_actions`` makes a Categorical policy (a Discrete action space), ``action_dim`` a Gaussian one.
    """

    def __init__(
        self,
        obs_dim: int,
        hidden_sizes: Sequence[int],
        activation: str = "tanh",
        *,
        num_actions: int | None = None,
        action_dim: int | None = None,
        shared_trunk: bool = False,
        state_dependent_std: bool = False,
        squash: bool = False,
        init_log_std: float = 0.0,
    ):
        super().__init__()
        if (num_actions is None) == (action_dim is None):
            raise ValueError("give exactly one of num_actions (discrete) and action_dim (continuous)")
        if shared_trunk:  # the hidden layers are shared; each head is one linear layer on their features
            self.trunk: nn.Module = nn.Sequential(
                mlp(obs_dim, hidden_sizes[:-1], hidden_sizes[-1], activation), activation_module(activation)
            )
            features, head_hidden = hidden_sizes[-1], ()
        else:
            self.trunk, features, head_hidden = nn.Identity(), obs_dim, tuple(hidden_sizes)
        if num_actions is not None:
            self.pi: CategoricalPolicy | GaussianPolicy = CategoricalPolicy(
                features, num_actions, head_hidden, activation
            )
        else:
            self.pi = GaussianPolicy(
                features, action_dim, head_hidden, activation, state_dependent_std, squash, init_log_std
            )
        self.v = mlp(features, head_hidden, 1, activation)
        for module in (self.trunk, self.pi.net, self.v):
            orthogonal_init(module, math.sqrt(2))
        orthogonal_init(self.pi.net[-1], 0.01)
        orthogonal_init(self.v[-1], 1.0)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(s), shape [...] for observations [..., obs_dim]."""
        return self.v(self.trunk(obs)).squeeze(-1)

    def act(
        self, obs: torch.Tensor, deterministic: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        return self.pi.act(self.trunk(obs), deterministic, generator)

    def sample(
        self, obs: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(a ~ pi(.|s), log pi(a|s), V(s)): what a rollout stores at each step."""
        features = self.trunk(obs)
        actions, log_prob = self.pi.sample(features, generator)
        return actions, log_prob, self.v(features).squeeze(-1)

    def evaluate_actions(
        self, obs: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log pi(a|s), entropy of pi(.|s), V(s)) for the losses; the trunk runs once."""
        features = self.trunk(obs)
        log_prob, entropy = self.pi.log_prob_entropy(features, actions)
        return log_prob, entropy, self.v(features).squeeze(-1)


class DeterministicHead(nn.Module):
    """The policy half of an ActorCritic (its trunk and policy head): obs -> the deterministic action."""

    def __init__(self, model: ActorCritic):
        super().__init__()
        self.trunk, self.pi = model.trunk, model.pi

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.pi.act(self.trunk(obs), deterministic=True)


def orthogonal_init(module: nn.Module, gain: float) -> None:
    """Orthogonal weights with ``gain`` and zero biases for every linear layer in ``module``."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain)
            nn.init.zeros_(layer.bias)
