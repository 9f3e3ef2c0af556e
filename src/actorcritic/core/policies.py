"""Stochastic policies for the on-policy algorithms, as ``torch.distributions`` over actions.

- ``CategoricalPolicy``: discrete actions, pi(a|s) = softmax(logits(s))_a. A Bernoulli policy for a
  two-action env is the special case of two logits.
- ``GaussianPolicy``: continuous actions, N(mean(s), std^2) with a state-independent log-std (a learned
  vector, the usual choice for PPO) or a state-dependent one (a second head). With ``squash`` the
  sample u goes through tanh, and the log-probability carries the change-of-variables correction
  -sum_i log(1 - tanh(u_i)^2), computed in the stable form 2 (log 2 - u - softplus(-2u)).

``distribution(obs)`` returns the torch distribution; ``log_prob_entropy(obs, actions)`` gives what the
losses need. For a squashed Gaussian the entropy has no closed form: it is estimated by -log pi(a|s)
at the given actions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

from actorcritic.core.networks import mlp, squash_correction


class CategoricalPolicy(nn.Module):
    def __init__(self, obs_dim: int, num_actions: int, hidden_sizes: Sequence[int], activation: str = "tanh"):
        super().__init__()
        self.net = mlp(obs_dim, hidden_sizes, num_actions, activation)

    def distribution(self, obs: torch.Tensor) -> Categorical:
        return Categorical(logits=self.net(obs))

    def log_prob_entropy(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dist = self.distribution(obs)
        return dist.log_prob(actions.long()), dist.entropy()

    def act(self, obs: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        dist = self.distribution(obs)
        return dist.probs.argmax(-1) if deterministic else dist.sample()


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
        return Independent(Normal(mean, log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX).exp()), 1)

    def log_prob_entropy(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dist = self.gaussian(obs)
        if not self.squash:
            return dist.log_prob(actions), dist.entropy()
        u = torch.atanh(actions.clamp(-1 + 1e-6, 1 - 1e-6))
        log_prob = dist.log_prob(u) - squash_correction(u)
        return log_prob, -log_prob  # no closed form: a one-sample estimate at the given actions

    def act(self, obs: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        dist = self.gaussian(obs)
        u = dist.mean if deterministic else dist.sample()
        return torch.tanh(u) if self.squash else u
