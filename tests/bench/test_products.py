"""bench/updates.py's list of the matrix products an update needs, all of them and those run as bmm."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from updates import required_products


def test_ddpg_needs_28_products_of_which_the_compiled_graph_runs_the_10_of_its_hidden_layers():
    # Per pass of a 3-layer MLP: 3 forward products; a backward adds a weight gradient per layer and an
    # input gradient per layer but the first. DDPG: target actor and critic, the critic's step, and the
    # actor's step through the critic (no critic weight gradients there): 28 in all.
    assert len(required_products("ddpg", hidden=64)) == 28
    hidden_only = required_products("ddpg", hidden=64, as_bmm=True)
    # The hidden 64x64 layer of each: 2 forward passes for the targets, 3 for the critic's step, 5 for the actor's.
    assert len(hidden_only) == 10
    assert all(min(shape) >= 64 for shape in hidden_only)  # no layer with 3-4 inputs or one output


def test_sacs_actor_has_two_outputs_per_action_so_its_last_layer_stays_a_product():
    assert sorted({shape for shape in required_products("sac", hidden=64, as_bmm=True) if 2 in shape}) == [
        (2, 256, 64),  # the weight gradient of the actor's [64 -> 2] layer: mean and log-std
        (256, 2, 64),  # its input gradient
        (256, 64, 2),  # its forward product
    ]
