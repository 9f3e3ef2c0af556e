"""The run's time: env steps, vector steps and updates, counted in one place each, and where it went."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Clock:
    global_step: int = 0
    """Env steps of each member so far (a vector step of num_envs envs adds num_envs)."""
    vector_steps: int = 0
    """Vector-env steps so far."""
    num_updates: int = 0
    """Learner updates so far."""
    total_steps: int | None = None
    """The step the current learn() trains until."""
    last_eval_step: int = -1
    wall_seconds: float = 0.0
    update_seconds: float = 0.0
    worker_restarts: int = 0
    """Back ends with workers: how often a worker's process died and was restarted."""

    def advance(self, vector_steps: int, env_steps: int) -> None:
        """Count env steps taken (locally, or by a back end's workers)."""
        self.vector_steps += vector_steps
        self.global_step += env_steps

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            if hasattr(self, key):
                setattr(self, key, value)
