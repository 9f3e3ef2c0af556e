"""The Ray back end's settings: how many rollout workers, how much they send at a time, how often they
get new weights, and how their exploration differs. Apart from every algorithm's config, since only a
run on Ray has them."""

from __future__ import annotations

from dataclasses import dataclass

from actorcritic.algos.settings import need


@dataclass(frozen=True)
class RayConfig:
    """Off-policy training on Ray: num_workers rollout workers feed this process's replay buffer and learner."""

    num_workers: int = 2
    """Rollout-worker actors, each with num_envs envs, a copy of the policy and its own noise."""
    fragment_steps: int = 50
    """Vector steps a rollout worker collects per batch it sends to the learner."""
    sync_interval: int = 50
    """The learner publishes the policy's weights to the workers every this many updates."""
    noise_spread: float = 1.0
    """Per-worker exploration, as in Ape-X: worker i of K explores with noise_sigma *
    noise_spread ** (2i / (K - 1) - 1), from sigma / spread to sigma * spread; 1: every worker the same."""

    def __post_init__(self) -> None:
        for name in ("num_workers", "fragment_steps", "sync_interval"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        need(1 <= self.noise_spread < float("inf"), f"noise_spread must be >= 1 and finite, got {self.noise_spread}")
