"""Sweeps (experiments/sweep.py and `actorcritic sweep`): grid expansion, the summary's conclusions, and
an interrupted sweep that, run again, ends with the same sweep.csv as an uninterrupted one."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from actorcritic.cli import main
from actorcritic.core.stats import Estimate
from actorcritic.errors import UserError
from actorcritic.experiments.sweep import (
    PRESETS,
    Sweep,
    _check_configs,
    conclusion,
    config_name,
    expand_grid,
    parse_grid,
)


def test_grid_expansion_is_the_cartesian_product_in_order():
    grid = parse_grid(["tau=1,0.01,1e-5", "actor-lr=1e-3,1e-4", "noise=ou"])
    assert grid == {"tau": [1, 0.01, 1e-5], "actor_lr": [1e-3, 1e-4], "noise": ["ou"]}
    configs = expand_grid(grid)
    assert len(configs) == 6
    assert configs[0] == {"tau": 1, "actor_lr": 1e-3, "noise": "ou"}
    assert configs[1] == {"tau": 1, "actor_lr": 1e-4, "noise": "ou"}
    assert configs[-1] == {"tau": 1e-5, "actor_lr": 1e-4, "noise": "ou"}
    assert len({config_name(c) for c in configs}) == 6
    assert config_name({"tau": 0.01, "hidden_sizes": (64, 64)}) == "tau=0.01,hidden_sizes=64x64"
    assert expand_grid({}) == [{}] and config_name({}) == "default"


@pytest.mark.parametrize("items", [["tau"], ["tau="], ["=1,2"], ["tau=1", "tau=2"], ["bad key=1"]])
def test_bad_grid_items_are_user_errors(items):
    with pytest.raises(UserError):
        parse_grid(items)


def test_unknown_or_invalid_fields_fail_before_any_run():
    with pytest.raises(UserError, match="taux"):
        _check_configs(Sweep("ddpg", "Pendulum-v1", [{"taux": 1}], [0], 100))
    with pytest.raises(UserError, match="tau"):
        _check_configs(Sweep("ddpg", "Pendulum-v1", [{"tau": 3.0}], [0], 100))
    for preset in PRESETS.values():  # the presets' settings are valid configs
        _check_configs(Sweep(preset["algo"], preset["env"], preset["configs"], preset["seeds"], 10, preset["settings"]))


def stats(name, final, auc, solved=3, runs=5):
    return {
        "config": name,
        "final": Estimate(*final, runs),
        "auc": Estimate(*auc, runs),
        "solved": solved,
        "runs": runs,
    }


def test_conclusion_separates_clear_differences_from_overlapping_intervals():
    text = "\n".join(conclusion([
        stats("tau=1", (-900, -1000, -800), (-1000, -1100, -900), solved=0),
        stats("tau=0.01", (-150, -180, -120), (-400, -450, -350)),
        stats("tau=1e-05", (-170, -200, -140), (-600, -650, -550)),
    ]))  # fmt: skip
    assert "Best final return: **tau=0.01**" in text
    assert "Clearly worse (CI entirely below the best's): tau=1." in text
    assert "(CIs overlap): tau=1e-05" in text
    assert "Best area under the learning curve: **tau=0.01**" in text
    assert "Clearly worse (CI entirely below the best's): tau=1e-05, tau=1." in text
    assert "Never reached the target in any seed: tau=1." in text


def test_conclusion_ranks_nothing_with_fewer_than_five_seeds():
    """Two seeds give intervals far too wide to call anything worse, however far apart the means."""
    text = "\n".join(conclusion([stats("tau=1", (-900, -1000, -800), (-1000, -1100, -900), runs=2),
                                 stats("tau=0.01", (-150, -180, -120), (-400, -450, -350), runs=2)]))  # fmt: skip
    assert "too wide to rank" in text and "--seeds 5" in text
    assert "Clearly worse" not in text and "Best" not in text


SWEEP = ["sweep", "ddpg", "--grid", "tau=0.01,1e-5", "--seeds", "1", "--total-steps", "1600", "--workers", "2",
         "--checkpoint-interval", "400", "--set", "eval_interval=400", "--set", "eval_episodes=2",
         "--set", "learning_starts=200", "--set", "hidden_sizes=(16,16)", "--set", "batch_size=32", "--no-progress"]  # fmt: skip


def read_csv(path):
    with open(path) as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


def test_an_interrupted_sweep_resumes_to_the_same_results(tmp_path, capsys):
    assert main([*SWEEP, "--sweep-dir", str(tmp_path / "straight")]) == 0
    straight = read_csv(tmp_path / "straight" / "sweep.csv")
    assert [r["status"] for r in straight] == ["finished", "finished"]
    assert (tmp_path / "straight" / "plots" / "compare.png").stat().st_size > 0
    summary = (tmp_path / "straight" / "summary.md").read_text()
    assert "| tau=0.01 | 1 |" in summary and "## Conclusion" in summary

    # Kill the whole sweep (its run processes too) once a run has a checkpoint but has not finished.
    cut = tmp_path / "cut"
    cmd = [sys.executable, "-m", "actorcritic", *SWEEP, "--sweep-dir", str(cut)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = list((cut / "runs").glob("*/seed*")) if (cut / "runs").exists() else []
        if any((r / "checkpoints" / "latest.pt").exists() and not (r / "summary.json").exists() for r in runs):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (cut / "sweep.csv").exists()

    capsys.readouterr()
    assert main([*SWEEP, "--sweep-dir", str(cut)]) == 0
    assert read_csv(cut / "sweep.csv") == straight
    assert "resuming" in "".join(p.read_text() for p in (cut / "logs").glob("*.log"))

    # A third time: nothing left to run, the same results.
    assert main([*SWEEP, "--sweep-dir", str(cut)]) == 0
    assert read_csv(cut / "sweep.csv") == straight


def test_a_different_sweep_in_the_same_directory_is_refused(tmp_path, capsys):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "sweep.json").write_text(json.dumps({"algo": "td3"}))
    code = main([*SWEEP, "--sweep-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "different sweep" in err


def test_a_run_that_stopped_at_its_target_counts_as_finished(tmp_path):
    from actorcritic.experiments.sweep import _finished

    (tmp_path / "summary.json").write_text(json.dumps({"total_steps": 3000, "planned_total_steps": 6000}))
    assert _finished(tmp_path, 6000) and not _finished(tmp_path, 8000)
    assert not _finished(tmp_path / "missing", 10)


def test_a_grid_that_repeats_a_configuration_is_refused():
    with pytest.raises(UserError, match="repeats"):
        _check_configs(Sweep("ddpg", "Pendulum-v1", expand_grid(parse_grid(["tau=0.01,0.01"])), [0], 100))
