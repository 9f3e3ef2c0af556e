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

import os
import warnings
from typing import Any

import torch

from actorcritic.algos.a3c import A3CWorker
from actorcritic.distributed.ray_backend import WorkerPool
from actorcritic.envs.make import episode_seed


class RayA3CWorker(A3CWorker):
    """``A3CWorker`` as a Ray actor: one torch thread, and new episodes after Ray restarts it."""

    def __init__(self, env: str, config: Any, seed: int, env_kwargs: dict[str, Any]):
        import ray

        torch.set_num_threads(1)
        with warnings.catch_warnings():  # Ray's own property warns about Ray's own deprecated API
            warnings.simplefilter("ignore")
            self.restarted = ray.get_runtime_context().was_current_actor_reconstructed
        super().__init__(env, config, episode_seed(seed, os.getpid()) if self.restarted else seed, env_kwargs)

    def remote_turn(self, params: list[torch.Tensor]) -> tuple:
        """``turn``, and whether Ray restarted this worker since its last turn."""
        restarted, self.restarted = self.restarted, False
        return *self.turn(params), restarted


class RemoteA3CWorkers:
    """The learner's side: num_workers A3C workers on Ray, their gradients applied to the agent's model."""

    def __init__(self, agent: Any):
        self.agent = agent
        cfg = agent.config
        args = [
            (agent.env_id, cfg, episode_seed(agent.seed, 9, w, agent.global_step), agent.env_kwargs)
            for w in range(cfg.num_workers)
        ]
        self.pool = WorkerPool(RayA3CWorker, args, "A3C worker")
        for w in range(cfg.num_workers):
            self._submit(w)

    def _submit(self, worker: int) -> None:
        self.pool.submit(worker, "remote_turn", [p.detach() for p in self.agent.params])

    def receive(self) -> None:
        """Apply the next gradient any worker sends; that worker starts its next turn."""
        agent = self.agent
        worker, (grads, metrics, episodes, steps, restarted) = self.pool.next()
        for p, g in zip(agent.params, grads, strict=True):
            p.grad = g
        agent.optim.step()
        agent.num_updates += 1
        agent.global_step += steps
        agent._record_metrics(metrics)
        for ret, length in episodes:
            agent._record_episode(0, worker, ret, length)
        agent.worker_restarts += int(restarted)
        self._submit(worker)

    def stop(self) -> None:
        self.pool.stop()
