"""Exploration noise, batched over envs, in normalised action units ([-1, 1] is the whole range).

``sigma`` is relative to the action range: sigma = 0.1 adds noise with a standard deviation of 10% of
the half-range ``(high - low) / 2``, whatever the env's units are (CleanRL's
``exploration_noise * action_scale``). Each noise process draws from its own seeded generator, so a
checkpoint can restore it exactly.
"""

from __future__ import annotations

import math

import torch


def decayed_sigma(step: int, max_sigma: float, min_sigma: float | None, decay_period: int) -> float:
    """Linear decay from max_sigma to min_sigma over decay_period env steps (constant if min_sigma is None)."""
    if min_sigma is None or decay_period <= 0:
        return max_sigma
    frac = min(1.0, step / decay_period)
    return max_sigma - (max_sigma - min_sigma) * frac


class ActionNoise:
    """Base: no noise. ``sample(step)`` returns a [num_envs, action_dim] tensor, clipped to +-clip if given;
    ``sample(step, out)`` writes it into ``out`` (a group's collector fills one row per member)."""

    def __init__(self, num_envs: int, action_dim: int, seed: int = 0, device: str = "cpu", clip: float | None = None):
        self.shape = (num_envs, action_dim)
        self.device = torch.device(device)
        self.generator = torch.Generator(self.device).manual_seed(seed)
        self.clip = clip

    def _clipped(self, noise: torch.Tensor) -> torch.Tensor:
        return noise if self.clip is None else noise.clamp_(-self.clip, self.clip)

    def sample(self, step: int, out: torch.Tensor | None = None) -> torch.Tensor:
        return torch.zeros(self.shape, device=self.device) if out is None else out.zero_()

    def _standard_normal(self, out: torch.Tensor | None) -> torch.Tensor:
        """N(0, 1) draws of the noise's shape from its generator, into ``out`` if given (torch.randn's draws)."""
        out = torch.empty(self.shape, device=self.device) if out is None else out
        return out.normal_(generator=self.generator)

    def reset(self, mask: torch.Tensor | None = None) -> None:
        """Reset the state of the envs in ``mask`` (all envs if None); stateless noise ignores it."""

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class GaussianNoise(ActionNoise):
    """i.i.d. N(0, sigma^2) per action dimension, optionally clipped to +-clip; sigma may decay
    linearly with env steps."""

    def __init__(
        self,
        num_envs: int,
        action_dim: int,
        sigma: float = 0.1,
        min_sigma: float | None = None,
        decay_period: int = 0,
        clip: float | None = None,
        seed: int = 0,
        device: str = "cpu",
    ):
        super().__init__(num_envs, action_dim, seed, device, clip)
        self.max_sigma, self.min_sigma, self.decay_period = sigma, min_sigma, decay_period

    def sample(self, step: int, out: torch.Tensor | None = None) -> torch.Tensor:
        sigma = decayed_sigma(step, self.max_sigma, self.min_sigma, self.decay_period)
        return self._clipped(self._standard_normal(out).mul_(sigma))


class OrnsteinUhlenbeckNoise(ActionNoise):
    """Temporally correlated noise: dx = theta (mu - x) dt + sigma sqrt(dt) dW, one process per env.

    Sigma decays linearly from max_sigma to min_sigma over decay_period env steps; the state of an
    env's process returns to mu when that env's episode ends. ``clip`` clips the samples, not the process.
    """

    def __init__(
        self,
        num_envs: int,
        action_dim: int,
        sigma: float = 0.3,
        min_sigma: float | None = None,
        decay_period: int = 0,
        theta: float = 0.15,
        mu: float = 0.0,
        dt: float = 1.0,
        clip: float | None = None,
        seed: int = 0,
        device: str = "cpu",
    ):
        super().__init__(num_envs, action_dim, seed, device, clip)
        self.max_sigma, self.min_sigma, self.decay_period = sigma, min_sigma, decay_period
        self.theta, self.mu, self.dt = theta, mu, dt
        self.state = torch.full(self.shape, mu, device=self.device)

    def sample(self, step: int, out: torch.Tensor | None = None) -> torch.Tensor:
        sigma = decayed_sigma(step, self.max_sigma, self.min_sigma, self.decay_period)
        dw = self._standard_normal(out)
        self.state += self.theta * (self.mu - self.state) * self.dt + sigma * math.sqrt(self.dt) * dw
        return self._clipped(dw.copy_(self.state))

    def reset(self, mask: torch.Tensor | None = None) -> None:
        if mask is None:
            self.state.fill_(self.mu)
        else:
            self.state[torch.as_tensor(mask, device=self.device)] = self.mu

    def state_dict(self) -> dict:
        return {**super().state_dict(), "state": self.state.clone()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.state.copy_(state["state"])
