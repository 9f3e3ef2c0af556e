"""bench/peers.py's per-repeat ratios of a peer's time per env step to ours."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from peers import command, paired_ratios


def test_each_repeat_is_compared_with_the_fastest_of_ours_in_that_repeat():
    sides = ["ours", "ours --compile", "SBX"]
    rates = {
        "ours": [8.0, 9.0, 10.0],
        "ours --compile": [4.0, 6.0, 2.0],  # the fastest of ours in every repeat
        "SBX": [6.0, 6.0, 5.0],
    }
    # Repeat by repeat: 6 / 4, 6 / 6, 5 / 2; the median of the three and their range.
    assert paired_ratios(rates, "SBX", sides) == "1.50x (1.00-2.50)"


def test_a_faster_ours_side_in_one_repeat_is_the_one_compared_there():
    sides = ["ours", "ours --compile", "SB3"]
    rates = {"ours": [3.0, 9.0], "ours --compile": [4.0, 3.0], "SB3": [6.0, 6.0]}
    assert paired_ratios(rates, "SB3", sides) == "2.00x (2.00-2.00)"


def test_ours_and_the_peers_train_the_env_on_the_device_asked_for(tmp_path):
    """``--env`` and ``--device`` reach every side: ours as its CLI's flags, SB3 as its script's arguments."""
    ours = command("ours --compile", "td3", 4000, 1000, 2000, "auto", str(tmp_path), "HalfCheetah-v5", "cuda")
    flag = lambda name: ours[ours.index(name) + 1]  # noqa: E731
    assert (flag("train"), flag("--env"), flag("--device"), flag("--compile")) == (
        "td3",
        "HalfCheetah-v5",
        "cuda",
        "on",
    )
    sb3 = command("SB3", "sac", 4000, 1000, 2000, "auto", str(tmp_path), "HalfCheetah-v5", "cuda")
    assert sb3[3:5] == ["sb3", "sac"] and sb3[-2:] == ["HalfCheetah-v5", "cuda"]
