"""``precision="bf16"`` (``--precision bf16``): the update's matrix products in bfloat16 through autocast,
everything else in float32. One update moves the networks as the float32 update does, up to bfloat16's
rounding; compiled and eager bf16 agree; a machine without bf16 support is refused with one line."""

import pytest
import torch
from batches import random_batch

from actorcritic import DDPG, SAC, TD3
from actorcritic.algos import off_policy
from actorcritic.errors import UserError

pytestmark = pytest.mark.skipif(
    not off_policy.bf16_supported("cpu"), reason="this CPU has no native bfloat16 (AVX-512 BF16 or AMX)"
)


def parameters(agent) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in [*agent.learner.actor.parameters(), *agent.learner.critic.parameters()]])  # fmt: skip


@pytest.mark.parametrize("cls", [DDPG, TD3, SAC])
def test_a_bf16_update_moves_the_networks_as_float32_does(cls, train_step):
    agents = {p: cls("Pendulum-v1", cls.config_cls(hidden_sizes=(64, 64), precision=p), seed=[0, 1]) for p in ("float32", "bf16")}  # fmt: skip
    before = parameters(agents["float32"])
    assert torch.equal(before, parameters(agents["bf16"]))  # the same start: precision changes no weight
    metrics = {}
    for p, agent in agents.items():
        for step in range(2):  # TD3: the actor moves on the second
            metrics[p] = train_step(agent, random_batch(step, members=2))
    deltas = {p: parameters(agent) - before for p, agent in agents.items()}
    cosine = torch.nn.functional.cosine_similarity(deltas["float32"], deltas["bf16"], dim=0)
    assert cosine > 0.95, cosine
    assert all(t.dtype == torch.float32 for t in agents["bf16"].learner.critic.parameters())
    torch.testing.assert_close(
        metrics["bf16"]["critic_loss"].float(), metrics["float32"]["critic_loss"], rtol=0.05, atol=1e-3
    )


def test_compiled_bf16_matches_eager_bf16(train_step):
    cfg = SAC.config_cls(hidden_sizes=(16, 16), precision="bf16")
    eager, compiled = SAC("Pendulum-v1", cfg, seed=0), SAC("Pendulum-v1", cfg, seed=0, compile=True)
    for step in range(3):
        batch = random_batch(step, members=1)
        want, got = train_step(eager, batch), train_step(compiled, batch)
        for k in want:
            torch.testing.assert_close(got[k].float(), want[k].float(), rtol=2e-2, atol=2e-2, msg=k)
    torch.testing.assert_close(parameters(compiled), parameters(eager), rtol=2e-2, atol=2e-3)


def test_no_bf16_support_is_one_clear_error(monkeypatch, tmp_path, capsys):
    from actorcritic.cli import main

    monkeypatch.setattr(off_policy, "bf16_supported", lambda device_type: False)
    with pytest.raises(UserError, match="bfloat16 support"):
        TD3("Pendulum-v1", TD3.config_cls(precision="bf16"))
    code = main(["train", "--precision", "bf16", "--run-dir", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: precision bf16 needs a CPU with bfloat16 support") and "\n" not in err
    assert not (tmp_path / "run").exists()  # refused before anything was written
