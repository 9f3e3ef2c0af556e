"""Shared fixtures of the algorithm tests."""

from collections.abc import Callable

import pytest
import torch

from actorcritic.core.buffers import Batch


def run_update(agent, batch: Batch) -> dict[str, torch.Tensor]:
    """One update of an off-policy agent on ``batch``, through its trainer: the loop's schedule decides
    whether the actor and the targets move (TD3's policy delay, the target update period), the update is
    ``learner.update`` on the batch (compiled with ``compile=True``; the trainer's own, ``update_from``,
    gathers its batch from the replay buffer) and ``agent.num_updates`` counts it. Returns the metrics
    the update reported."""
    trainer, learner, reported = agent.trainer, agent.learner, {}
    update = trainer.update

    def spy(index: None, update_actor: bool, update_targets: bool) -> dict[str, torch.Tensor]:
        metrics = learner.update(batch, update_actor, update_targets)
        reported.update(metrics)
        return metrics

    trainer.update, trainer.buffer.draw = spy, lambda batch_size: None
    try:
        trainer.train(1)
    finally:
        trainer.update = update
        del trainer.buffer.draw  # the buffer's own method again
    return reported


@pytest.fixture
def train_step() -> Callable[..., dict[str, torch.Tensor]]:
    """``train_step(agent, batch)``: one update on a given batch, as the loop's trainer schedules it."""
    return run_update


def modules(agent) -> dict[str, torch.nn.Module]:
    """The learner's networks that checkpoints save, by name."""
    items = {name: getattr(agent.learner, name) for name in agent.learner.checkpointed}
    return {name: x for name, x in items.items() if isinstance(x, torch.nn.Module)}


@pytest.fixture
def learner_modules() -> Callable[..., dict[str, torch.nn.Module]]:
    """``learner_modules(agent)``: the learner's checkpointed networks by name."""
    return modules
