"""``compile=True`` (``--compile``): the update through torch.compile gives the eager update's result."""

import pytest
import torch
from batches import random_batch

from actorcritic import SAC, TD3


@pytest.mark.parametrize("cls", [TD3, SAC])
def test_compiled_update_matches_eager(cls, train_step, learner_modules):
    cfg = cls.config_cls(hidden_sizes=(16, 16), max_grad_norm=1.0)
    eager = cls("Pendulum-v1", cfg, seed=[0, 1])
    compiled = cls("Pendulum-v1", cfg, seed=[0, 1], compile=True)
    for step in range(4):  # TD3's policy delay 2: both branches of the update run, twice
        batch = random_batch(step, members=2)
        want, got = train_step(eager, batch), train_step(compiled, batch)
        assert want.keys() == got.keys()
        for k in want:
            torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6, msg=k)
    for name, module in learner_modules(eager).items():
        other = learner_modules(compiled)[name].state_dict()
        for k, t in module.state_dict().items():
            torch.testing.assert_close(other[k], t, rtol=1e-5, atol=1e-6, msg=f"{name}.{k}")
