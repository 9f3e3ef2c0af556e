"""``core.optim.Adam``: torch's Adam, eagerly and compiled whole, and state that keeps its tensors on load."""

import pytest
import torch

from actorcritic.core.networks import QEnsemble
from actorcritic.core.optim import Adam, clip_grad_norm_per_member_


def critic_and_copy(members: int = 2) -> tuple[torch.nn.Module, torch.nn.Module]:
    gens = [torch.Generator().manual_seed(m) for m in range(members)]
    net = QEnsemble(3, 1, (16, 16), num_critics=2, members=members, generators=gens)
    copy = QEnsemble(3, 1, (16, 16), num_critics=2, members=members)
    copy.load_state_dict(net.state_dict())
    return net, copy


def batches(members: int = 2, steps: int = 5) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(members, 32, 3, generator=g), torch.rand(members, 32, 1, generator=g) * 2 - 1,
             torch.randn(members, 32, generator=g) * 10) for _ in range(steps)]  # fmt: skip


def loss_of(obs: torch.Tensor, actions: torch.Tensor, y: torch.Tensor):
    return lambda critic: (critic(obs, actions) - y.unsqueeze(1)).pow(2).mean(dim=-1).sum(dim=-1)


@pytest.mark.parametrize("compiled", [False, True])
def test_minimize_takes_torch_adams_steps_with_per_member_clipping(compiled):
    """The same weights as torch.optim.Adam on the same losses, each member's gradient clipped on its own."""
    net, ref = critic_and_copy()
    adam = Adam(net, lr=1e-2, max_grad_norm=0.5, members=2)
    ref_adam = torch.optim.Adam(ref.parameters(), lr=1e-2)
    step = torch.compile(lambda *b: adam.minimize(loss_of(*b)), fullgraph=True) if compiled else None
    for b in batches():
        got = step(*b) if compiled else adam.minimize(loss_of(*b))
        ref_adam.zero_grad()
        want = loss_of(*b)(ref)
        want.sum().backward()
        clip_grad_norm_per_member_(list(ref.parameters()), 0.5, members=2)
        ref_adam.step()
        torch.testing.assert_close(got, want.detach())
    for p, q in zip(net.parameters(), ref.parameters(), strict=True):  # float tolerance: Adam divides by sqrt(v)
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)
    assert adam.state_dict()["state"][0]["step"] == ref_adam.state_dict()["state"][0]["step"] == 5


def test_minimize_returns_the_aux_detached_and_moves_only_its_own_module():
    net, other = critic_and_copy()
    adam = Adam(net, lr=1e-2)
    obs, actions, y = batches(steps=1)[0]
    before = [p.detach().clone() for p in other.parameters()]
    loss, q = adam.minimize(
        lambda critic: (loss_of(obs, actions, y)(critic) + other(obs, actions).mean(), other(obs, actions))
    )
    assert loss.shape == (2,) and not loss.requires_grad and not q.requires_grad
    assert all(p.grad is None for p in other.parameters())
    assert all(torch.equal(p, b) for p, b in zip(other.parameters(), before, strict=True))


def test_load_state_dict_copies_into_the_same_tensors():
    """A compiled step holds the state tensors, so a loaded checkpoint must land in them."""
    net, _ = critic_and_copy()
    adam = Adam(net, lr=1e-2)
    tensors = [t for st in adam.state.values() for t in st.values()]
    obs, actions, y = batches(steps=1)[0]
    saved = {k: v for k, v in adam.state_dict().items()}
    saved = torch.utils._pytree.tree_map(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, saved)
    adam.minimize(loss_of(obs, actions, y))
    adam.load_state_dict(saved)
    assert [t for st in adam.state.values() for t in st.values()] == tensors
    assert all(float(st["step"]) == 0 and not st["exp_avg"].any() for st in adam.state.values())


def test_its_state_dict_is_torch_adams_and_loads_torch_adams():
    """Checkpoints written when ``Adam`` was a torch.optim.Adam (and torch's own) load into it, and the
    other way round: the same keys, layout and values after the same steps."""
    net, ref = critic_and_copy()
    adam, ref_adam = Adam(net, lr=1e-2), torch.optim.Adam(ref.parameters(), lr=1e-2)
    for b in batches(steps=3):
        adam.minimize(loss_of(*b))
        ref_adam.zero_grad()
        loss_of(*b)(ref).sum().backward()
        ref_adam.step()
    ours, theirs = adam.state_dict(), ref_adam.state_dict()
    assert ours["param_groups"] == theirs["param_groups"] and ours["state"].keys() == theirs["state"].keys()
    for i, st in theirs["state"].items():
        assert st.keys() == ours["state"][i].keys()
        for k, t in st.items():
            torch.testing.assert_close(ours["state"][i][k], t, rtol=1e-4, atol=1e-6)
    fresh = Adam(critic_and_copy()[0], lr=1e-3)
    fresh.load_state_dict(theirs)
    assert fresh.param_groups[0]["lr"] == 1e-2 and all(float(s["step"]) == 3 for s in fresh.state.values())
    ref_adam.load_state_dict(ours)  # and torch's Adam reads ours
