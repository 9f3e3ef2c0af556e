"""``--compile`` runs the update through torch.compile; the update reads no counter, so after warm-up
(one graph for each of the loop's decisions) no update compiles again."""

import pytest
from torch._dynamo.utils import counters

from actorcritic import DDPG, SAC, TD3


@pytest.mark.parametrize("cls", [DDPG, TD3, SAC])
def test_no_recompiles_after_warm_up(cls):
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=16, learning_starts=50, target_update_period=2)
    agent = cls("Pendulum-v1", cfg, seed=0, compile=True)
    agent.trainer.start()
    for _ in range(60):
        agent.trainer.gather()
    agent.trainer.train(8)  # every decision the schedule makes, at least once
    counters.clear()
    agent.trainer.train(40)
    assert not counters["recompiles"] and not counters["stats"].get("unique_graphs"), dict(counters)
    agent.close()
