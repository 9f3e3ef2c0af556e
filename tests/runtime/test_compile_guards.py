"""``--compile`` runs the update through torch.compile; the update reads no counter, so after warm-up
(one graph for each of the loop's decisions) no update compiles again, not even after a checkpoint is
loaded into the running agent (a resume)."""

import pytest
import torch
from torch._dynamo.utils import counters

from actorcritic import DDPG, SAC, TD3
from actorcritic.algos.off_policy import bf16_supported
from actorcritic.runtime.state import load_state_dict, state_dict

NO_BF16 = pytest.mark.skipif(not bf16_supported("cpu"), reason="this CPU has no native bfloat16 (AVX-512 BF16 or AMX)")


@pytest.mark.parametrize(
    ("cls", "precision", "n_step"),
    [(DDPG, "float32", 1), (TD3, "float32", 3), (SAC, "float32", 1), pytest.param(SAC, "bf16", 1, marks=NO_BF16)],
)
def test_no_recompiles_after_warm_up(cls, precision, n_step):
    """The replay buffer's sampled transitions are gathered in the graph, n-step windows included."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=16, learning_starts=50, target_update_period=2,
                         precision=precision, n_step=n_step)  # fmt: skip
    agent = cls("Pendulum-v1", cfg, seed=0, compile=True)
    agent.trainer.start()
    for _ in range(60):
        agent.trainer.gather()
    agent.trainer.train(8)  # every decision the schedule makes, at least once
    saved = state_dict(agent)
    counters.clear()
    for _ in range(40):
        agent.trainer.gather()  # a new row in the buffer: the n-step windows' newest row moves
        agent.trainer.train(1)
    load_state_dict(agent, [saved])  # back to the checkpoint: new state, the same tensors
    agent.trainer.start()  # the envs again, as a resumed run starts them
    for _ in range(40):
        agent.trainer.gather()
        agent.trainer.train(1)
    assert not counters["recompiles"] and not counters["stats"].get("unique_graphs"), dict(counters)
    agent.close()


def test_many_compiled_learners_in_one_process():
    """torch.compile keeps at most 8 graphs per code object: with one shared ``step`` the fifth compiled
    TD3 agent in a process (two graphs each) failed with FailOnRecompileLimitHit, even with the others gone."""
    for seed in range(6):
        cfg = TD3.config_cls(hidden_sizes=(16, 16), batch_size=16, learning_starts=20)
        agent = TD3("Pendulum-v1", cfg, seed=seed, compile=True)
        agent.trainer.start()
        for _ in range(20):
            agent.trainer.gather()
        agent.trainer.train(2)  # both branches: the critic alone, then the actor and the targets too
        agent.close()


@pytest.mark.parametrize("cls", [TD3, SAC])
def test_a_checkpoint_loaded_under_captured_updates_is_what_they_read(cls):
    """Once captured, an update runs its graph on the tensors it read when captured
    (``actorcritic.core.capture``): a loaded checkpoint must be copied into those, so that the updates after
    it repeat, bit for bit, the ones that first followed it."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=16, learning_starts=20)
    agent = cls("Pendulum-v1", cfg, seed=0, compile=True)
    agent.trainer.start()
    for _ in range(40):
        agent.trainer.gather()
    agent.trainer.train(8)  # each branch of the update four times: captured
    assert all(agent.learner.step_from.graphs.values()) and agent.learner.step_from.graphs
    saved = state_dict(agent)

    def train() -> list[torch.Tensor]:
        agent.trainer.train(10)
        return [t.clone() for t in agent.learner.actor.state_dict().values()]

    first = train()
    load_state_dict(agent, [saved])
    again = train()
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    agent.close()
