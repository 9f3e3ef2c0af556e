"""The members of a run: one agent per seed, trained together as one batched computation.

A member has its seed and random streams, its exploration noise, its run directory and logger, its eval
env, and the statistics of its training (episodes, evaluations). Its networks, optimizer moments and
replay data are block m of the learner's and buffer's stacked ones.
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any

import torch

from actorcritic.core.seeding import Stream, stream_generator
from actorcritic.runtime.evaluation import EvalResult


class Member:
    """One agent of a group and what its training has seen so far."""

    def __init__(self, seed: int, device: torch.device, run_dir: Path | None = None, noise: Any = None):
        self.seed, self.noise, self.run_dir = seed, noise, run_dir
        self.init_generator = stream_generator(seed, Stream.INIT)  # network weights
        self.explore_generator = stream_generator(seed, Stream.EXPLORE)  # uniform warm-up actions
        # Randomness inside the algorithm (action samples, TD3's target smoothing, minibatch order).
        self.generator = stream_generator(seed, Stream.POLICY, device=device)
        self.logger: Any = None
        self.resume_step: int | None = None  # rows a resumed run's logs keep
        self.eval_envs: list[Any] = []  # made at its first evaluation
        self.episodes_done = 0
        self.recent_returns: deque[float] = deque(maxlen=20)
        self.recent_lengths: deque[int] = deque(maxlen=20)
        self.last_eval: EvalResult | None = None
        self.best_eval_return = -math.inf
        self.solved_at_step: int | None = None
        self.last_metrics: dict[str, Any] = {}  # the last row of metrics.csv (callbacks see it)

    def record_episode(self, step: int, env: int, ret: float, length: int) -> None:
        """A finished training episode: into the statistics and episodes.csv."""
        self.recent_returns.append(ret)
        self.recent_lengths.append(length)
        self.episodes_done += 1
        if self.logger is not None:
            self.logger.log_episode(step, env, ret, length)

    def record_eval(self, step: int, result: EvalResult, target_return: float | None) -> bool:
        """An evaluation's result; True when it is the best so far."""
        self.last_eval = result
        if self.solved_at_step is None and target_return is not None and result.mean_return >= target_return:
            self.solved_at_step = step
        if result.mean_return > self.best_eval_return:
            self.best_eval_return = result.mean_return
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        ev = self.last_eval
        return {
            "episodes_done": self.episodes_done,
            "recent_returns": list(self.recent_returns),
            "recent_lengths": list(self.recent_lengths),
            "best_eval_return": self.best_eval_return,
            "solved_at_step": self.solved_at_step,
            "last_eval": [ev.returns, ev.lengths, ev.metrics] if ev else None,
            "rng": {"explore": self.explore_generator.get_state(), "policy": self.generator.get_state()},
            "noise": self.noise.state_dict() if self.noise is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.episodes_done = state["episodes_done"]
        self.recent_returns.extend(state["recent_returns"])
        self.recent_lengths.extend(state["recent_lengths"])
        self.best_eval_return, self.solved_at_step = state["best_eval_return"], state["solved_at_step"]
        self.last_eval = EvalResult(*state["last_eval"]) if state["last_eval"] else None
        self.explore_generator.set_state(state["rng"]["explore"])
        self.generator.set_state(state["rng"]["policy"])
        if self.noise is not None:
            self.noise.load_state_dict(state["noise"])
