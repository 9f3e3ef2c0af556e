"""The agent every speed benchmark starts from: Pendulum-v1, a replay buffer already filled with
``warmup`` random-action steps, so the next update or env step is one of real training."""

from __future__ import annotations

from actorcritic import ALGOS
from actorcritic.runtime.denormals import flush_denormals
from actorcritic.runtime.heap import keep_freed_memory


def warm_agent(algo: str, seeds: int | list[int] = 0, hidden: int = 256, batch: int = 256, warmup: int = 1_000,
               compile: bool = False, precision: str = "float32", device: str = "cpu"):  # fmt: skip
    """An agent of ``algo`` (one seed, or a group) whose buffer holds ``warmup`` steps; the policy acts next."""
    cls = ALGOS[algo]
    cfg = cls.config_cls(hidden_sizes=(hidden, hidden), batch_size=batch, learning_starts=warmup, eval_interval=0,
                         precision=precision)  # fmt: skip
    agent = cls("Pendulum-v1", cfg, seed=seeds, compile=compile, device=device)
    flush_denormals()  # as the loop does before it starts the trainer
    keep_freed_memory()
    agent.trainer.start()  # the envs
    for _ in range(warmup):
        agent.trainer.gather()  # random actions: fill the buffer, no updates
    return agent
