"""Target networks (core/targets.py): against the naive soft-update formula, parameter by parameter."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actorcritic.core.targets import TargetNetworks, make_target, polyak_update


def net_with_batchnorm(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def perturb(net: nn.Module, seed: int) -> None:
    """Move the online parameters and running statistics away from the target's."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    net.train()
    net(torch.randn(16, 3, generator=g) * 3 + 1)  # updates running_mean/var, num_batches_tracked


def snapshot(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("tau", [0.005, 0.3, 0.9])
def test_step_is_naive_soft_update_on_every_parameter_and_float_buffer(tau):
    online = net_with_batchnorm(0)
    target = make_target(online)
    perturb(online, 1)
    perturb(target, 2)  # the target's own statistics differ too, so the blend is non-trivial
    old_t, old_o = snapshot(target), snapshot(online)
    TargetNetworks([(online, target)], tau=tau).update()
    new_t = target.state_dict()
    assert any("running_mean" in k for k in new_t) and any("num_batches_tracked" in k for k in new_t)
    for key, value in new_t.items():
        if torch.is_floating_point(value):
            want = (1 - tau) * old_t[key] + tau * old_o[key]
            torch.testing.assert_close(value, want, rtol=1e-6, atol=1e-6, msg=key)
        else:  # integer buffers (num_batches_tracked) are left alone
            assert torch.equal(value, old_t[key]), key
    # The online network is untouched.
    for key, value in online.state_dict().items():
        assert torch.equal(value, old_o[key]), key


def test_integer_buffers_differ_and_stay_different():
    online = net_with_batchnorm(0)
    target = make_target(online)
    perturb(online, 1)
    key = "1.num_batches_tracked"
    assert online.state_dict()[key].item() != target.state_dict()[key].item()
    before = target.state_dict()[key].clone()
    TargetNetworks([(online, target)], tau=1.0).update()
    assert torch.equal(target.state_dict()[key], before)


def test_tau_one_is_an_exact_copy_of_floats():
    online = net_with_batchnorm(0)
    target = make_target(online)
    perturb(online, 1)
    perturb(target, 3)
    TargetNetworks([(online, target)], tau=1.0).update()
    for key, value in target.state_dict().items():
        if torch.is_floating_point(value):
            assert torch.equal(value, online.state_dict()[key]), key


def test_several_pairs_are_all_updated():
    actor, critic = nn.Linear(3, 2), nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))
    actor_t, critic_t = make_target(actor), make_target(critic)
    perturb_params = [p for m in (actor, critic) for p in m.parameters()]
    with torch.no_grad():
        for i, p in enumerate(perturb_params):
            p.add_(i + 1.0)
    old = [snapshot(m) for m in (actor_t, critic_t, actor, critic)]
    TargetNetworks([(actor, actor_t), (critic, critic_t)], tau=0.25).update()
    for target, old_t, old_o in ((actor_t, old[0], old[2]), (critic_t, old[1], old[3])):
        for key, value in target.state_dict().items():
            torch.testing.assert_close(value, 0.75 * old_t[key] + 0.25 * old_o[key])


# The period (every target_update_period actor updates) is the loop's decision: tests/runtime/test_engine.py.


def test_make_target_is_a_frozen_separate_copy():
    online = net_with_batchnorm(0)
    target = make_target(online)
    assert all(p.requires_grad for p in online.parameters())  # the original keeps its gradients
    for (name, p), (tname, t) in zip(online.named_parameters(), target.named_parameters(), strict=True):
        assert name == tname
        assert not t.requires_grad
        assert torch.equal(p, t)
        assert p.data_ptr() != t.data_ptr()
    for b, t in zip(online.buffers(), target.buffers(), strict=True):
        assert torch.equal(b, t) and b.data_ptr() != t.data_ptr()
    with torch.no_grad():
        online[0].weight.add_(1.0)
    assert not torch.equal(online[0].weight, target[0].weight)
    out = target(torch.randn(4, 3))
    assert not out.requires_grad


def test_polyak_update_on_plain_tensors():
    g = torch.Generator().manual_seed(0)
    target = [torch.randn(3, 4, generator=g), torch.randn(5, generator=g)]
    online = [torch.randn(3, 4, generator=g), torch.randn(5, generator=g)]
    want = [0.9 * t + 0.1 * o for t, o in zip(target, online, strict=True)]
    online_before = [o.clone() for o in online]
    polyak_update(target, online, 0.1)
    for t, w in zip(target, want, strict=True):
        torch.testing.assert_close(t, w)
    for o, b in zip(online, online_before, strict=True):
        assert torch.equal(o, b)
    polyak_update(target, online, 1.0)
    for t, o in zip(target, online, strict=True):
        assert torch.equal(t, o)


def test_mismatched_pairs_are_rejected():
    with pytest.raises(ValueError):
        TargetNetworks([(nn.Linear(3, 2), nn.Linear(3, 4))], tau=0.1)
