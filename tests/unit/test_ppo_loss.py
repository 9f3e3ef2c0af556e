"""PPO's clipped objectives (algos/ppo.py) against hand computations."""

import torch

from actorcritic.algos.ppo import clipped_surrogate_loss, value_loss


def test_clipped_surrogate_against_a_hand_computation():
    ratio = torch.tensor([0.5, 0.9, 1.0, 1.5, 1.5, 0.5])
    adv = torch.tensor([1.0, -2.0, -1.0, 1.0, -1.0, -1.0])
    # min(r A, clip(r, 0.8, 1.2) A), element by element:
    #  r=0.5 A=+1: min(0.5, 0.8) = 0.5     (below the range, positive A: unclipped, the pessimistic one)
    #  r=0.9 A=-2: min(-1.8, -1.8) = -1.8  (inside the range)
    #  r=1.0 A=-1: -1.0
    #  r=1.5 A=+1: min(1.5, 1.2) = 1.2     (above the range, positive A: clipped, no gain past 1 + eps)
    #  r=1.5 A=-1: min(-1.5, -1.2) = -1.5  (above the range, negative A: unclipped)
    #  r=0.5 A=-1: min(-0.5, -0.8) = -0.8  (below the range, negative A: clipped)
    want = -(0.5 - 1.8 - 1.0 + 1.2 - 1.5 - 0.8) / 6
    torch.testing.assert_close(clipped_surrogate_loss(ratio, adv, 0.2), torch.tensor(want))


def test_clipped_surrogate_gradient_vanishes_where_clipped():
    ratio = torch.tensor([1.5, 0.5, 1.1], requires_grad=True)
    clipped_surrogate_loss(ratio, torch.tensor([1.0, -1.0, 1.0]), 0.2).backward()
    torch.testing.assert_close(ratio.grad, torch.tensor([0.0, 0.0, -1.0 / 3]))


def test_value_loss_plain_and_clipped_against_hand_computations():
    values, old, returns = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.1]), torch.tensor([3.0, 1.0])
    torch.testing.assert_close(value_loss(values, old, returns, None), torch.tensor(0.5 * (1.0 + 1.0) / 2))
    # clip 0.5: V_clipped = [1.5, 0.0]; losses max((V-G)^2, (V_clipped-G)^2) = [max(1, 2.25), max(1, 1)]
    torch.testing.assert_close(value_loss(values, old, returns, 0.5), torch.tensor(0.5 * (2.25 + 1.0) / 2))
