"""The rollout buffer (core/buffers.py RolloutBuffer): bootstrapping at truncation and rollout ends,
none at termination; lambda = 1 is the Monte Carlo return, lambda = 0 the one-step TD target."""

import pytest
import torch

from actorcritic.core.buffers import RolloutBuffer

GAMMA = 0.9


def filled(lam: float) -> tuple[RolloutBuffer, torch.Tensor]:
    """One env, 6 steps, rewards 1..6: episode A ends by termination after step 1, episode B by
    truncation after step 3 (V(final obs) = 10), episode C runs past the rollout (V(s_6) = 20)."""
    buf = RolloutBuffer(6, 1, obs_dim=2)
    values = torch.tensor([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    ends = {1: "terminated", 3: "truncated"}
    for t in range(6):
        if ends.get(t) == "truncated":
            buf.final_values[buf.step, 0] = 10.0
        buf.add(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), torch.zeros(1), values[t : t + 1],
                [t + 1.0], [ends.get(t) == "terminated"], [ends.get(t) == "truncated"])  # fmt: skip
    buf.finish(torch.tensor([20.0]), GAMMA, lam)
    return buf, values


def test_lambda_one_gives_monte_carlo_returns_cut_at_episode_ends():
    buf, _ = filled(1.0)
    g = GAMMA
    want = [
        1 + g * 2,  # episode A: terminated after step 1, no bootstrap
        2,
        3 + g * 4 + g**2 * 10,  # episode B: truncated after step 3, bootstrap from V(final obs) = 10
        4 + g * 10,
        5 + g * 6 + g**2 * 20,  # episode C: bootstrap from V(s_6) at the rollout's end
        6 + g * 20,
    ]
    torch.testing.assert_close(buf.returns[:, 0], torch.tensor(want))


def test_lambda_zero_gives_one_step_td_targets():
    buf, values = filled(0.0)
    next_values = [values[1], 0.0, values[3], 10.0, values[5], 20.0]  # V(s') (0: terminated)
    want = torch.tensor([r + GAMMA * float(v) for r, v in zip(range(1, 7), next_values, strict=True)])
    torch.testing.assert_close(buf.returns[:, 0], want)
    torch.testing.assert_close(buf.advantages[:, 0], want - values)


def test_finish_needs_a_full_rollout():
    buf = RolloutBuffer(3, 2, obs_dim=1)
    with pytest.raises(RuntimeError, match="1 of 3"):
        buf.add(torch.zeros(2, 1), torch.zeros(2, dtype=torch.long), torch.zeros(2), torch.zeros(2),
                [0.0, 0.0], [False, False], [False, False])  # fmt: skip
        buf.finish(torch.zeros(2), GAMMA, 1.0)


def test_minibatches_partition_the_rollout():
    buf = RolloutBuffer(8, 3, obs_dim=1, action_shape=(2,), discrete=False)
    buf.obs[..., 0] = torch.arange(24.0).view(8, 3)
    seen = torch.cat([b.obs[:, 0] for b in buf.minibatches(4, torch.Generator().manual_seed(0))])
    assert len(seen) == 24 and sorted(seen.tolist()) == list(range(24))
    assert [len(b.obs) for b in buf.minibatches(4)] == [6, 6, 6, 6]
    assert buf.batch().actions.shape == (24, 2)
