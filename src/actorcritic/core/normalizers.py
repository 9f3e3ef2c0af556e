"""Running normalisers of the on-policy algorithms (PPO's usual wrappers, kept with the agent so that
evaluation, export and checkpoints see the same statistics).

- observations: (obs - mean) / std by a running mean and variance, clipped to +-10 (as gymnasium's and
  SB3's normalisers do);
- rewards: r / std(discounted return), the return tracked per env and reset at episode ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium.wrappers.utils import RunningMeanStd

OBS_CLIP = 10.0


class ObsNormalizer:
    """(obs - mean) / sqrt(var + 1e-8), clipped to +-OBS_CLIP, by running statistics."""

    def __init__(self, obs_dim: int, device: torch.device):
        self.rms, self.obs_dim, self.device = RunningMeanStd(shape=(obs_dim,)), obs_dim, device
        self._stats: tuple[torch.Tensor, torch.Tensor] | None = None  # the statistics as tensors, until they move

    def __call__(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        """Normalised ``obs``; ``update`` first adds them to the statistics (collection does, evaluation never)."""
        if update:
            self.rms.update(obs.reshape(-1, self.obs_dim).cpu().numpy().astype(np.float64))
            self._stats = None
        mean, std = self.mean_std()
        return ((obs - mean) / std).clamp(-OBS_CLIP, OBS_CLIP)

    def mean_std(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and std (sqrt(var + 1e-8)) as float32 tensors, as the normalisation uses them."""
        if self._stats is None:
            mean = torch.as_tensor(self.rms.mean, dtype=torch.float32, device=self.device)
            std = torch.as_tensor(np.sqrt(self.rms.var + 1e-8), dtype=torch.float32, device=self.device)
            self._stats = (mean, std)
        return self._stats

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.rms.mean.tolist(), "var": self.rms.var.tolist(), "count": float(self.rms.count)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.mean, self.rms.var, self.rms.count = (
            np.asarray(state["mean"]),
            np.asarray(state["var"]),
            state["count"],
        )
        self._stats = None


class ReturnScaler:
    """r / std(discounted return), the discounted return tracked per env and reset at episode ends."""

    def __init__(self, num_envs: int, gamma: float):
        self.rms, self.gamma = RunningMeanStd(shape=()), gamma
        self.discounted_return = np.zeros(num_envs)

    def __call__(self, rewards: np.ndarray, done: np.ndarray) -> np.ndarray:
        self.discounted_return = self.discounted_return * self.gamma + rewards
        self.rms.update(self.discounted_return)
        self.discounted_return[done] = 0.0
        return rewards / np.sqrt(self.rms.var + 1e-8)

    def new_episodes(self, mask: np.ndarray) -> None:
        self.discounted_return[mask] = 0.0

    def state_dict(self) -> dict[str, Any]:
        return {
            "mean": self.rms.mean.tolist(),
            "var": self.rms.var.tolist(),
            "count": float(self.rms.count),
            "discounted_return": self.discounted_return.tolist(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.mean, self.rms.var, self.rms.count = (
            np.asarray(state["mean"]),
            np.asarray(state["var"]),
            state["count"],
        )
        self.discounted_return = np.asarray(state["discounted_return"], dtype=np.float64)
