"""GAE (core/returns.py) against a brute-force sum over each step's own episode, with terminations and
truncations mixed in."""

import pytest
import torch

from actorcritic.core.returns import gae


def brute_force(rewards, values, next_values, terminated, truncated, gamma, lam):
    """A_t = sum_k (gamma lam)^k delta_{t+k}, over steps t..end of t's episode or of the rollout."""
    steps, envs = rewards.shape
    advantages = torch.zeros(steps, envs, dtype=torch.float64)
    for e in range(envs):
        for t in range(steps):
            total, weight = 0.0, 1.0
            for k in range(t, steps):
                bootstrap = 0.0 if terminated[k, e] else gamma * float(next_values[k, e])
                delta = float(rewards[k, e]) + bootstrap - float(values[k, e])
                total += weight * delta
                if terminated[k, e] or truncated[k, e]:
                    break
                weight *= gamma * lam
            advantages[t, e] = total
    return advantages


@pytest.mark.parametrize("lam", [0.0, 0.5, 0.95, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_matches_brute_force_with_terminations_and_truncations(lam, seed):
    g = torch.Generator().manual_seed(seed)
    steps, envs, gamma = 17, 4, 0.9
    rewards = torch.randn(steps, envs, generator=g, dtype=torch.float64)
    values = torch.randn(steps, envs, generator=g, dtype=torch.float64)
    next_values = torch.randn(steps, envs, generator=g, dtype=torch.float64)
    ends = torch.rand(steps, envs, generator=g)
    terminated, truncated = ends < 0.15, (ends >= 0.15) & (ends < 0.3)
    adv, ret = gae(rewards, values, next_values, terminated, truncated, gamma, lam)
    want = brute_force(rewards, values, next_values, terminated, truncated, gamma, lam)
    torch.testing.assert_close(adv, want)
    torch.testing.assert_close(ret, want + values)


def test_lambda_zero_is_the_one_step_td_target_and_one_the_monte_carlo_return():
    rewards = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=torch.float64)
    values = torch.tensor([[0.5], [0.25], [2.0], [1.0]], dtype=torch.float64)
    next_values = torch.tensor([[0.25], [2.0], [9.0], [7.0]], dtype=torch.float64)  # step 2 truncated: V(final) = 9
    terminated = torch.tensor([[False], [False], [False], [True]])
    truncated = torch.tensor([[False], [False], [True], [False]])
    gamma = 0.5
    _, td = gae(rewards, values, next_values, terminated, truncated, gamma, 0.0)
    expected_td = rewards + gamma * next_values * (~terminated)  # r + gamma V(s'), never past a termination
    torch.testing.assert_close(td, expected_td)
    _, mc = gae(rewards, values, next_values, terminated, truncated, gamma, 1.0)
    # First episode (steps 0-2) truncated after step 2: bootstrap from V(final) = 9; second terminates.
    torch.testing.assert_close(mc[:, 0], torch.tensor([1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 9, 2 + 0.5 * 3 + 0.25 * 9,
                                                       3 + 0.5 * 9, 4.0], dtype=torch.float64))  # fmt: skip
