"""On-policy policies (core/policies.py): log-probabilities and entropies against closed forms."""

import math

import pytest
import torch

from actorcritic.core.policies import CategoricalPolicy, GaussianPolicy


def test_categorical_log_prob_and_entropy_are_the_softmax_closed_forms():
    torch.manual_seed(0)
    policy = CategoricalPolicy(4, 3, (16,))
    obs = torch.randn(10, 4)
    actions = torch.randint(0, 3, (10,))
    log_prob, entropy = policy.log_prob_entropy(obs, actions)
    logits = policy.net(obs)
    p = torch.exp(logits - torch.logsumexp(logits, -1, keepdim=True))
    torch.testing.assert_close(log_prob, torch.log(p[torch.arange(10), actions]))
    torch.testing.assert_close(entropy, -(p * torch.log(p)).sum(-1))


def test_two_action_categorical_is_a_bernoulli_policy():
    torch.manual_seed(1)
    policy = CategoricalPolicy(2, 2, (8,))
    obs = torch.randn(6, 2)
    logits = policy.net(obs)
    p1 = torch.sigmoid(logits[:, 1] - logits[:, 0])  # P(a = 1) of a Bernoulli on the logit difference
    log_prob, entropy = policy.log_prob_entropy(obs, torch.ones(6))
    torch.testing.assert_close(log_prob, torch.log(p1))
    torch.testing.assert_close(entropy, -(p1 * torch.log(p1) + (1 - p1) * torch.log(1 - p1)))


@pytest.mark.parametrize("state_dependent", [False, True])
def test_gaussian_log_prob_and_entropy_are_the_normal_closed_forms(state_dependent):
    torch.manual_seed(2)
    policy = GaussianPolicy(3, 2, (16,), state_dependent_std=state_dependent, init_log_std=-0.5)
    obs, actions = torch.randn(8, 3), torch.randn(8, 2)
    log_prob, entropy = policy.log_prob_entropy(obs, actions)
    out = policy.net(obs)
    mean, log_std = out.chunk(2, -1) if state_dependent else (out, policy.log_std.expand_as(out))
    std = log_std.exp()
    want = (-0.5 * ((actions - mean) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
    torch.testing.assert_close(log_prob, want)
    torch.testing.assert_close(entropy, (0.5 * math.log(2 * math.pi * math.e) + log_std).sum(-1))
    if not state_dependent:
        assert policy.log_std.shape == (2,) and torch.all(policy.log_std == -0.5)


def test_squashed_gaussian_log_prob_is_the_density_of_tanh_u_and_finite_at_the_bounds():
    torch.manual_seed(3)
    policy = GaussianPolicy(2, 1, (8,), squash=True)
    obs = torch.randn(5, 2)
    u = torch.randn(5, 1) * 0.7
    log_prob, _ = policy.log_prob_entropy(obs, torch.tanh(u))
    mean, std = policy.net(obs), policy.log_std.exp()
    gaussian = (-0.5 * ((u - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(-1)
    torch.testing.assert_close(log_prob, gaussian - torch.log(1 - torch.tanh(u) ** 2).sum(-1), atol=1e-4, rtol=1e-4)
    edge, _ = policy.log_prob_entropy(obs, torch.ones(5, 1))
    assert torch.isfinite(edge).all()
    assert policy.act(obs).abs().max() <= 1.0
