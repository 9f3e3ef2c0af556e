"""A real training run: the default DDPG solves Pendulum-v1 within a fixed budget."""

import pytest

from actorcritic import DDPG, DDPGConfig

BUDGET = 8_000  # env steps; the default config solves at 3,500-4,500 steps on seeds 0-3 (bench)


@pytest.mark.learning
def test_default_ddpg_solves_pendulum():
    agent = DDPG("Pendulum-v1", DDPGConfig(eval_interval=2_000), seed=0).learn(BUDGET)
    # A fresh 10-episode deterministic evaluation, on episodes the training evals never saw.
    result = agent.evaluate(10, round_id=-1)
    assert result.mean_return >= -200, result.returns
    assert agent.solved_at_step is not None and agent.solved_at_step <= BUDGET
