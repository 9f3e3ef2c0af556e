"""A3C on Ray (``A3CConfig(backend="ray")``): the workers are Ray actors, the global model is the learner's.

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

from actorcritic.algos.a3c import A3CWorker
from actorcritic.distributed.ray_backend import PoolWorker, WorkerPool
from actorcritic.envs.make import episode_seed


class RayA3CWorker(A3CWorker, PoolWorker):
    """``A3CWorker`` as a Ray actor: one torch thread, and new episodes after Ray restarts it."""

    def __init__(self, env: str, config: Any, seed: int, env_kwargs: dict[str, Any]):
        torch.set_num_threads(1)
        super().__init__(env, config, self.seed_after_restart(seed), env_kwargs)


class RemoteA3CWorkers:
    """The learner's side: num_workers A3C workers on Ray, their gradients applied to the agent's model."""

    def __init__(self, agent: Any):
        self.agent = agent
        cfg = agent.config
        args = [
            (agent.env_id, cfg, episode_seed(agent.seed, 9, w, agent.global_step), agent.env_kwargs)
            for w in range(cfg.num_workers)
        ]
        self.pool = WorkerPool(RayA3CWorker, args, "A3C worker", restarts=agent.worker_restarts)
        for w in range(cfg.num_workers):
            self._submit(w)

    def _submit(self, worker: int) -> None:
        self.pool.submit(worker, "turn", [p.detach() for p in self.agent.params])

    def receive(self) -> None:
        """Apply the next gradient any worker sends; that worker starts its next turn."""
        agent = self.agent
        worker, (grads, metrics, episodes, steps) = self.pool.next()
        for p, g in zip(agent.params, grads, strict=True):
            p.grad = g
        agent.optim.step()
        agent.num_updates += 1
        agent.global_step += steps
        agent._record_metrics(metrics)
        for ret, length in episodes:
            agent._record_episode(0, worker, ret, length)
        agent.worker_restarts = self.pool.restarts
        self._submit(worker)

    def stop(self) -> None:
        self.pool.stop()
