"""Random replay batches for update tests."""

import torch

from actorcritic.core.buffers import Batch


def random_batch(
    seed: int = 0, n: int = 32, obs_dim: int = 3, act_dim: int = 1, p_terminal: float = 0.2, members: int = 1
) -> Batch:
    """A batch shaped like the replay buffer's: [members, n, ...]."""
    g = torch.Generator().manual_seed(seed)
    m = members
    terminated = torch.rand(m, n, generator=g) < p_terminal
    return Batch(
        obs=torch.randn(m, n, obs_dim, generator=g),
        actions=torch.rand(m, n, act_dim, generator=g) * 2 - 1,
        rewards=torch.randn(m, n, generator=g),
        next_obs=torch.randn(m, n, obs_dim, generator=g),
        terminated=terminated,
        discounts=0.99 * (~terminated).float(),
    )
