"""Returns: n-step bootstrapped targets for replay (GAE for rollouts comes with the on-policy family)."""

from __future__ import annotations

import torch


def nstep_window(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    episode_end: torch.Tensor,
    available: torch.Tensor,
    gamma: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n-step return over windows of consecutive transitions of one env, cut at episode ends.

    Args:
        rewards, terminated, episode_end: [..., n] for steps t, t+1, ..., t+n-1 of the same env.
            ``episode_end`` is terminated or truncated: the next row belongs to a new episode.
        available: [...] how many of the n steps have been written (the newest data may be fewer).
        gamma: discount.

    Returns:
        returns: [...]  sum_{k<L} gamma^k r_{t+k}
        length:  [...]  L, the number of steps used (1 <= L <= n): stops after an episode end.
        discounts: [...] gamma^L * (1 - terminated_{t+L-1}): the factor on Q(s_{t+L}, .); zero
            after termination, so the target never bootstraps past a terminal state.
    """
    n = rewards.shape[-1]
    k = torch.arange(n, device=rewards.device)
    ended = episode_end.to(torch.int32)
    ended_before = (torch.cumsum(ended, dim=-1) - ended) > 0  # an episode end at some step < k
    include = (k < available.unsqueeze(-1)) & ~ended_before
    powers = gamma ** k.to(rewards.dtype)
    returns = (rewards * powers * include).sum(dim=-1)
    length = include.sum(dim=-1)
    last_terminated = terminated.gather(-1, (length - 1).unsqueeze(-1)).squeeze(-1)
    discounts = gamma ** length.to(rewards.dtype) * (~last_terminated).to(rewards.dtype)
    return returns, length, discounts


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) over a rollout [T, num_envs].

        delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t)
        A_t     = delta_t + gamma lam (1 - done_t) A_{t+1},     done_t = terminated_t or truncated_t

    ``next_values`` is V(s'_t), the value of step t's true next observation: V(s_{t+1}) within an
    episode, V(final observation) where the episode was truncated (so truncation bootstraps), anything
    where it terminated (never used). The recursion stops at every episode end and at the rollout's end,
    which bootstraps from V(s'_{T-1}). lam = 1 gives the Monte Carlo return minus V, lam = 0 the one-step
    TD error. Returns (advantages, returns = advantages + values).
    """
    not_terminal = (~terminated).to(rewards.dtype)
    continues = (~(terminated | truncated)).to(rewards.dtype)
    deltas = rewards + gamma * not_terminal * next_values - values
    advantages = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * lam * continues[t] * running
        advantages[t] = running
    return advantages, advantages + values
