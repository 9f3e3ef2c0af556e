"""On-policy policies (core/policies.py): log-probabilities and entropies against closed forms."""

import math

import pytest
import torch

from actorcritic.core.policies import ActorCritic, CategoricalPolicy, GaussianPolicy


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


@pytest.mark.parametrize("kind", ["categorical", "gaussian", "squashed"])
def test_sample_returns_the_log_prob_of_its_action_and_follows_the_generator(kind):
    torch.manual_seed(4)
    if kind == "categorical":
        policy = CategoricalPolicy(3, 4, (8,))
    else:
        policy = GaussianPolicy(3, 2, (8,), squash=kind == "squashed", init_log_std=-0.3)
    obs = torch.randn(7, 3)
    actions, log_prob = policy.sample(obs, torch.Generator().manual_seed(0))
    want, _ = policy.log_prob_entropy(obs, actions)
    torch.testing.assert_close(log_prob, want, atol=1e-4, rtol=1e-4)
    again, _ = policy.sample(obs, torch.Generator().manual_seed(0))
    torch.testing.assert_close(actions, again)
    assert torch.equal(policy.act(obs, generator=torch.Generator().manual_seed(0)), actions)


def test_categorical_samples_follow_the_softmax_probabilities():
    policy = CategoricalPolicy(1, 3, ())
    with torch.no_grad():
        policy.net[-1].weight.zero_()
        policy.net[-1].bias.copy_(torch.log(torch.tensor([0.2, 0.3, 0.5])))
    actions, _ = policy.sample(torch.zeros(20_000, 1), torch.Generator().manual_seed(1))
    freq = torch.bincount(actions, minlength=3) / 20_000.0
    torch.testing.assert_close(freq, torch.tensor([0.2, 0.3, 0.5]), atol=0.015, rtol=0)


@pytest.mark.parametrize("shared", [False, True])
def test_actor_critic_separate_or_shared_trunk(shared):
    torch.manual_seed(5)
    model = ActorCritic(4, (32, 16), "tanh", num_actions=2, shared_trunk=shared)
    obs = torch.randn(5, 4)
    log_prob, entropy, value = model.evaluate_actions(obs, torch.tensor([0, 1, 1, 0, 1]))
    assert log_prob.shape == entropy.shape == value.shape == (5,)
    torch.testing.assert_close(value, model.value(obs))
    # A shared trunk: the value loss moves the layers the policy reads; separate nets: it never does.
    value.sum().backward()
    policy_grads = [p.grad for p in model.pi.net.parameters()]
    trunk_grads = [p.grad for p in model.trunk.parameters()]
    assert all(g is None for g in policy_grads)
    assert (len(trunk_grads) > 0) == shared and all(g is not None and g.abs().sum() > 0 for g in trunk_grads)
    # Orthogonal init: the policy's output layer starts with gain 0.01 (near-uniform actions).
    w = model.pi.net[-1].weight
    torch.testing.assert_close(w @ w.T, 0.01**2 * torch.eye(2), atol=1e-6, rtol=0)


def test_actor_critic_needs_exactly_one_action_kind():
    with pytest.raises(ValueError):
        ActorCritic(3, (8,), num_actions=2, action_dim=1)
