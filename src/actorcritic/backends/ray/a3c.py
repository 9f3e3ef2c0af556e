"""A3C on Ray (``A3C(..., backend="ray")``): the workers are Ray actors, the global model is the learner's.

    worker i (a Ray actor running ``A3CWorker``)          the learner (this process: the A3C agent)
      take the parameters it was sent               <----   sends its current parameters with each turn
      collect num_steps steps, compute the gradient  ---->  applies each gradient as it arrives (the
      of A2C's loss on them                                 optimizer's step), in the order they finish

Each worker always has one turn in flight, so the gradients the learner applies were computed on
parameters a few updates old: A3C's asynchrony, with a parameter server in place of shared memory. The
learner only applies gradients between turns, so evaluations and checkpoints need no pause.
"""

from __future__ import annotations

from typing import Any

import torch

from actorcritic.backends.a3c import A3CWorker
from actorcritic.backends.ray.pool import PoolWorker, WorkerPool
from actorcritic.core.seeding import Stream, stream_seed
from actorcritic.runtime.trainers import Trainer


class RayA3CWorker(A3CWorker, PoolWorker):
    """``A3CWorker`` as a Ray actor: one torch thread, and new episodes after Ray restarts it."""

    def __init__(self, env: str, config: Any, seed: int, env_kwargs: dict[str, Any]):
        torch.set_num_threads(1)
        super().__init__(env, config, self.seed_after_restart(seed), env_kwargs)


class RayA3C:
    """A3C's back end on Ray: num_workers worker actors, their gradients applied to the agent's model."""

    name, config = "ray", None

    def check(self, agent: Any, seeds: list[int]) -> None:
        pass

    def make_trainer(self, agent: Any) -> Trainer:
        return RayA3CTrainer(agent)


class RayA3CTrainer(Trainer):
    def __init__(self, agent: Any):
        self.agent, self.learner, self.clock, self.pool = agent, agent.learner, agent.clock, None

    def start(self) -> None:
        if self.pool is not None:
            return
        agent, workers = self.agent, self.agent.config.num_workers
        args = [
            (
                agent.env_id,
                agent.config,
                stream_seed(agent.seed, Stream.A3C_WORKER, w, self.clock.global_step),
                agent.env_kwargs,
            )
            for w in range(workers)
        ]
        self.pool = WorkerPool(RayA3CWorker, args, "A3C worker", restarts=self.clock.worker_restarts)
        for w in range(workers):
            self._submit(w)

    def _submit(self, worker: int) -> None:
        self.pool.submit(worker, "turn", [p.detach() for p in self.learner.params])

    def turn(self) -> None:
        """Apply the next gradient any worker sends; that worker starts its next turn."""
        worker, (grads, metrics, episodes, steps) = self.pool.next()
        self.learner.apply_gradients(grads)
        self.clock.num_updates += 1
        self.clock.advance(0, steps)
        self.agent.metrics.add(metrics)
        for ret, length in episodes:
            self.agent.members[0].record_episode(self.clock.global_step, worker, ret, length)
        self.clock.worker_restarts = self.pool.restarts
        self._submit(worker)

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool = None
