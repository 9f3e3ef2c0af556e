"""MLPs, actor and critic (core/networks.py) and the optimizer helpers (core/optim.py)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from actorcritic.core.networks import ACTIVATIONS, THIN_INPUTS, DeterministicActor, QEnsemble, StackedMLP, mlp
from actorcritic.core.optim import gradient_step, make_adam
from actorcritic.errors import UserError

# --------------------------------------------------------------------------- mlp


@pytest.mark.parametrize("hidden", [(), (16,), (32, 8), (5, 6, 7)])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_layer_sizes_and_activation(hidden, activation):
    net = mlp(3, hidden, 2, activation)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    sizes = [3, *hidden, 2]
    want = [(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == want
    acts = [m for m in net if not isinstance(m, nn.Linear)]
    assert len(acts) == len(hidden)
    assert all(type(a) is ACTIVATIONS[activation] for a in acts)
    assert isinstance(net[-1], nn.Linear)  # no activation after the output layer


def test_mlp_forward_is_linear_activation_chain():
    torch.manual_seed(0)
    net = mlp(4, (6, 5), 3, "tanh")
    x = torch.randn(7, 4)
    w = [m for m in net if isinstance(m, nn.Linear)]
    h = torch.tanh(x @ w[0].weight.T + w[0].bias)
    h = torch.tanh(h @ w[1].weight.T + w[1].bias)
    want = h @ w[2].weight.T + w[2].bias
    torch.testing.assert_close(net(x), want)


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("relu", torch.relu),
        ("elu", nn.functional.elu),
        ("gelu", nn.functional.gelu),
        ("silu", nn.functional.silu),
        ("leaky_relu", nn.functional.leaky_relu),
    ],
)
def test_activation_names_map_to_the_right_function(name, fn):
    x = torch.linspace(-3, 3, 13)
    torch.testing.assert_close(ACTIVATIONS[name]()(x), fn(x))


@pytest.mark.parametrize("bad", ["sigmoid", "ReLU", "", "softmax"])
def test_unknown_activation_is_a_user_error(bad):
    with pytest.raises(UserError, match="activation"):
        mlp(3, (4,), 2, bad)
    with pytest.raises(UserError):
        DeterministicActor(3, 2, (4,), bad)


# --------------------------------------------------------------------------- actor and critic


def test_deterministic_actor_output_shape_and_range():
    torch.manual_seed(0)
    actor = DeterministicActor(5, 3, (32, 32))
    obs = torch.randn(64, 5) * 100  # large inputs saturate tanh but never leave [-1, 1]
    out = actor(obs)
    assert out.shape == (64, 3)
    assert out.abs().max() <= 1.0
    torch.testing.assert_close(out, torch.tanh(actor.net(obs.unsqueeze(0))[0]))
    assert actor(torch.randn(5)).shape == (3,)  # unbatched works too


@pytest.mark.parametrize("n", [1, 2, 5])
def test_qensemble_members_are_independent_mlps_on_obs_then_action(n):
    torch.manual_seed(0)
    critic = QEnsemble(4, 2, (16, 8), "relu", num_critics=n)
    obs, act = torch.randn(10, 4), torch.randn(10, 2)
    q = critic(obs, act)
    assert q.shape == (n, 10)
    for i in range(n):  # member i by hand: its own slice of every layer, observation columns first
        w0, w1, w2 = (w[i] for w in critic.weights)
        b0, b1, b2 = (b[i, 0] for b in critic.biases)
        h = torch.relu(obs @ w0[:4] + act @ w0[4:] + b0)
        h = torch.relu(h @ w1 + b1)
        torch.testing.assert_close(q[i], (h @ w2 + b2).squeeze(-1))
    torch.testing.assert_close(critic(obs, act, critics=1), q[:1])


# Compiled, a first layer with THIN_INPUTS inputs is a sum of broadcast products, with one more a product; the
# last with 1 output a dot product per row, with 2 a product.
@pytest.mark.parametrize("out_dim", [1, 2])
@pytest.mark.parametrize("in_dim", [THIN_INPUTS, THIN_INPUTS + 1])
def test_stacked_mlp_traced_for_compiling_matches_eager_with_its_gradients(in_dim, out_dim):
    torch.manual_seed(0)
    net = StackedMLP(in_dim, (16, 8), out_dim, copies=3)
    x = torch.randn(3, 32, in_dim, requires_grad=True)

    def forward_and_grads(forward):
        net.zero_grad()
        x.grad = None
        out = forward(x)
        (out * torch.randn(out.shape, generator=torch.Generator().manual_seed(1))).sum().backward()
        return [out.detach(), x.grad, *(p.grad for p in net.parameters())]

    eager = forward_and_grads(net)
    traced = forward_and_grads(torch.compile(net, backend="aot_eager", fullgraph=True))  # is_compiling() inside
    assert eager[0].shape == (3, 32, out_dim)
    for e, t in zip(eager, traced, strict=True):
        torch.testing.assert_close(t, e)


# As in the actor's loss: a gradient through every member's critics to the actions, all critics or only the
# first of each member; compiled, a thin first layer is a sum of broadcast products (3 + 1 inputs), a wider one
# a product (3 + 3).
@pytest.mark.parametrize("obs_dim, action_dim", [(3, 1), (3, 3)])
@pytest.mark.parametrize("critics", [None, 1])
def test_qensemble_traced_for_compiling_gives_the_eager_action_gradient(obs_dim, action_dim, critics):
    torch.manual_seed(0)
    critic = QEnsemble(obs_dim, action_dim, (16, 8), "relu", num_critics=2, members=3)
    obs = torch.randn(3, 32, obs_dim)
    actions = torch.randn(3, 32, action_dim, requires_grad=True)

    def value_and_grads(forward):
        critic.zero_grad()
        actions.grad = None
        q = forward(obs, actions, critics)
        q.sum().backward()
        return [q.detach(), actions.grad, *(p.grad for p in critic.parameters())]

    eager = value_and_grads(critic)
    traced = value_and_grads(torch.compile(critic, backend="aot_eager", fullgraph=True))  # is_compiling() inside
    assert eager[0].shape == (3, 2 if critics is None else 1, 32)
    for e, t in zip(eager, traced, strict=True):
        torch.testing.assert_close(t, e)


def test_qensemble_gradient_of_one_member_touches_only_its_slice():
    critic = QEnsemble(3, 1, (8,), num_critics=3)
    critic(torch.randn(5, 3), torch.randn(5, 1))[1].sum().backward()
    for w in critic.weights:
        assert w.grad[1].abs().sum() > 0
        assert torch.all(w.grad[0] == 0) and torch.all(w.grad[2] == 0)


def test_qensemble_init_matches_nn_linear_bounds():
    critic = QEnsemble(30, 2, (64,), num_critics=2)
    for w, b in zip(critic.weights, critic.biases, strict=True):
        bound = 1 / math.sqrt(w.shape[1])
        assert w.abs().max() <= bound and b.abs().max() <= bound
        assert w.abs().max() > 0.9 * bound  # uniform over the whole range, not a tiny init
    assert not torch.equal(critic.weights[0][0], critic.weights[0][1])  # members differ


# --------------------------------------------------------------------------- optim


def actor_critic(seed=0):
    torch.manual_seed(seed)
    return DeterministicActor(4, 2, (16, 16)), QEnsemble(4, 2, (16, 16))


def test_make_adam_first_step_moves_each_weight_by_lr_against_the_gradient_sign():
    """Adam's first step: m_hat / sqrt(v_hat) = g / |g|, so delta = -lr * sign(g) (for |g| >> eps)."""
    _, critic = actor_critic()
    params = list(critic.parameters())
    lr = 1e-3
    optim = make_adam(params, lr)
    assert isinstance(optim, torch.optim.Adam)
    assert optim.param_groups[0]["lr"] == lr
    obs, act = torch.randn(32, 4), torch.randn(32, 2)
    loss = (critic(obs, act) - 1.0).pow(2).mean()
    grads = torch.autograd.grad(loss, params, retain_graph=True)
    before = [p.detach().clone() for p in params]
    gradient_step(optim, loss, params)
    for p, b, g in zip(params, before, grads, strict=True):
        big = g.abs() > 1e-5  # where eps = 1e-8 is negligible
        torch.testing.assert_close((p - b)[big], -lr * g.sign()[big], rtol=1e-3, atol=1e-7)


def test_gradient_step_on_actor_loss_leaves_critic_untouched():
    actor, critic = actor_critic()
    actor_params = list(actor.parameters())
    optim = make_adam(actor_params, 1e-2)
    obs = torch.randn(32, 4)
    critic_before = copy.deepcopy(critic.state_dict())
    actor_before = [p.detach().clone() for p in actor_params]
    loss = -critic(obs, actor(obs)).mean()
    gradient_step(optim, loss, actor_params)
    assert all(p.grad is None for p in critic.parameters())
    for k, v in critic.state_dict().items():
        assert torch.equal(v, critic_before[k]), k
    assert all(p.grad is not None for p in actor_params)
    assert any(not torch.equal(p, b) for p, b in zip(actor_params, actor_before, strict=True))


def actor_loss(seed: int, batch: int = 32):
    """The actor's parameters, the DDPG actor loss -mean Q(s, mu(s)) on a random batch, and its gradients."""
    actor, critic = actor_critic(seed)
    params = list(actor.parameters())
    obs = torch.randn(batch, 4)
    loss = -critic(obs, actor(obs)).mean()
    return params, loss, torch.autograd.grad(loss, params, retain_graph=True)


def test_gradient_step_gradients_match_autograd_on_the_same_loss():
    params, loss, want = actor_loss(1, 16)
    gradient_step(torch.optim.SGD(params, lr=0.0), loss, params)
    for p, g in zip(params, want, strict=True):
        torch.testing.assert_close(p.grad, g)


def total_norm(tensors) -> float:
    return torch.sqrt(sum((t.double() ** 2).sum() for t in tensors)).item()


@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_max_grad_norm_bounds_the_applied_gradient(fraction):
    params, loss, grads = actor_loss(2)
    norm = total_norm(grads)
    assert norm > 0
    max_norm = fraction * norm
    lr = 0.01 / max_norm  # a step of norm 0.01: large enough to read back exactly in float32
    before = [p.detach().clone() for p in params]
    gradient_step(torch.optim.SGD(params, lr=lr), loss, params, max_grad_norm=max_norm)
    applied = [(b - p.detach()) / lr for p, b in zip(params, before, strict=True)]  # plain SGD
    # clip_grad_norm_ scales by max_norm / (norm + 1e-6): with norms ~1e-3 that eps shows at 1e-3.
    assert total_norm(applied) == pytest.approx(max_norm, rel=1e-3)
    assert total_norm(applied) <= max_norm * (1 + 1e-4)
    scale = max_norm / norm  # clipping rescales, it keeps the direction
    for a, g in zip(applied, grads, strict=True):
        torch.testing.assert_close(a, scale * g, rtol=1e-3, atol=1e-6)
    assert total_norm([p.grad for p in params]) <= max_norm * (1 + 1e-4)


def test_max_grad_norm_above_the_norm_leaves_the_gradient_alone():
    params, loss, grads = actor_loss(3)
    before = [p.detach().clone() for p in params]
    gradient_step(torch.optim.SGD(params, lr=1.0), loss, params, max_grad_norm=10 * total_norm(grads))
    for p, b, g in zip(params, before, grads, strict=True):
        torch.testing.assert_close(b - p.detach(), g, rtol=1e-5, atol=1e-7)


def test_gradient_step_clears_stale_gradients():
    params, loss, want = actor_loss(4, 8)
    for p in params:
        p.grad = torch.full_like(p, 1e3)  # leftovers from elsewhere must not accumulate
    gradient_step(torch.optim.SGD(params, lr=0.0), loss, params)
    for p, g in zip(params, want, strict=True):
        torch.testing.assert_close(p.grad, g)
