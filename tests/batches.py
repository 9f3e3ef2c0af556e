"""Random replay batches for update tests."""

import torch

from actorcritic.core.buffers import Batch


def random_batch(seed: int = 0, n: int = 32, obs_dim: int = 3, act_dim: int = 1, p_terminal: float = 0.2) -> Batch:
    g = torch.Generator().manual_seed(seed)
    terminated = torch.rand(n, generator=g) < p_terminal
    return Batch(
        obs=torch.randn(n, obs_dim, generator=g),
        actions=torch.rand(n, act_dim, generator=g) * 2 - 1,
        rewards=torch.randn(n, generator=g),
        next_obs=torch.randn(n, obs_dim, generator=g),
        terminated=terminated,
        discounts=0.99 * (~terminated).float(),
    )
