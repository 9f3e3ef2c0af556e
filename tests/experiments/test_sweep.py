"""Sweeps (experiments/sweep.py and `actorcritic sweep`): grid expansion, the summary's statistics and
conclusions, the plots, and an interrupted sweep that, run again, ends with the same sweep.csv as an
uninterrupted one."""

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
    ranking,
    write_results,
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
    """A configuration's statistics with the intervals given, and seeds spread +-20 around each estimate."""
    spread = [20.0 * (2 * i / max(1, runs - 1) - 1) for i in range(runs)]
    return {
        "config": name,
        "final": Estimate(*final),
        "auc": Estimate(*auc),
        "values": {"final": [final[0] + d for d in spread], "auc": [auc[0] + d for d in spread]},
        "solved": solved,
        "runs": runs,
    }


def test_conclusion_separates_clear_differences_from_overlapping_intervals():
    configs = [
        stats("tau=1", (-900, -1000, -800), (-1000, -1100, -900), solved=0),
        stats("tau=0.01", (-150, -180, -120), (-400, -450, -350)),
        stats("tau=1e-05", (-170, -200, -140), (-600, -650, -550)),
    ]
    text = "\n".join(conclusion(configs, ranking(configs)))
    assert "Best mean final return: **tau=0.01**" in text
    assert "Clearly worse (CI entirely below the best's): tau=1." in text
    assert "(CIs overlap): tau=1e-05" in text
    # seeds at -170..-130 against -190..-150: of the 25 pairs 19 won, 3 tied (counting half): 20.5 / 25
    assert "[95% CI]: tau=1e-05 0.82 [" in text and "tau=1 1.00 [1.00, 1.00]." in text
    assert "Best mean area under the learning curve: **tau=0.01**" in text
    assert "Clearly worse (CI entirely below the best's): tau=1e-05, tau=1." in text
    assert "Never reached the target in any seed: tau=1." in text


def test_conclusion_ranks_nothing_with_fewer_than_five_seeds():
    """Two seeds give intervals far too wide to call anything worse, however far apart the means."""
    configs = [stats("tau=1", (-900, -1000, -800), (-1000, -1100, -900), runs=2),
               stats("tau=0.01", (-150, -180, -120), (-400, -450, -350), runs=2)]  # fmt: skip
    text = "\n".join(conclusion(configs, ranking(configs)))
    assert "too wide to rank" in text and "--seeds 5" in text
    assert "Clearly worse" not in text and "Best" not in text


def finished_rows(tmp_path, finals):
    """sweep.csv rows of finished runs with these final returns, each with a run directory that plots read."""
    rows = []
    for name, returns in finals.items():
        for seed, final in enumerate(returns):
            run_dir = tmp_path / "runs" / name / f"seed{seed}"
            run_dir.mkdir(parents=True)
            (run_dir / "metrics.csv").write_text(
                f"step,eval_return_mean,eval_return_std\n500,-1200,5\n1000,{final},5\n"
            )
            rows.append({"config": name, "seed": seed, "run_dir": str(run_dir.relative_to(tmp_path)),
                         "status": "finished", "total_steps": 1000, "final_eval_return": final,
                         "best_eval_return": final, "solved_at_step": None, "auc": (final - 1200) / 2,
                         "wall_seconds": 1.0})  # fmt: skip
    return rows


@pytest.mark.parametrize("seeds", [4, 5])
def test_results_report_iqm_and_mean_and_with_five_seeds_rank_and_profile(tmp_path, seeds):
    """One diverged seed (-1000) drags tau=0.01's mean far below its IQM; every other seed of it beats
    every seed of tau=1, so the probability of improvement is 4/5."""
    finals = {"tau=0.01": [-150.0, -140.0, -160.0, -145.0, -1000.0][-seeds:],
              "tau=1": [-900.0, -950.0, -880.0, -920.0, -910.0][:seeds]}  # fmt: skip
    sweep = Sweep("ddpg", "Pendulum-v1", [{"tau": 0.01}, {"tau": 1}], list(range(seeds)), 1000)
    for sub in ("runs", "plots"):
        (tmp_path / sub).mkdir(exist_ok=True)
    write_results(sweep, tmp_path, finished_rows(tmp_path, finals))
    md = (tmp_path / "summary.md").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "| configuration | runs | final return IQM | final return mean | AUC |" in md
    best = summary["configs"][0]["final_return"]
    assert (tmp_path / "plots" / "compare.png").read_bytes()[:4] == b"\x89PNG"
    if seeds == 5:  # sorted -1000 | -160 -150 -145 | -140: the IQM drops a quarter (one seed) at each end
        assert best["iqm"]["value"] == pytest.approx(-455 / 3) and best["mean"]["value"] == pytest.approx(-319.0)
        assert "| tau=0.01 | 5 | -151.7 [" in md and "] | -319.0 [" in md
        assert best["iqm"]["low"] <= best["iqm"]["value"] <= best["iqm"]["high"]
        ranked = summary["ranking"]["final_return"]
        assert ranked["best"] == "tau=0.01" and ranked["others"][0]["config"] == "tau=1"
        assert ranked["others"][0]["probability_of_improvement"]["value"] == pytest.approx(0.8)
        assert "Probability of improvement" in md and "tau=1 0.80 [" in md
        assert (tmp_path / "plots" / "profile.png").read_bytes()[:4] == b"\x89PNG"
        assert "plots/profile.png" in md and summary["plots"] == ["plots/compare.png", "plots/profile.png"]
    else:  # sorted -1000 | -160 -145 | -140
        assert best["iqm"]["value"] == pytest.approx(-152.5) and best["mean"]["value"] == pytest.approx(-361.25)
        assert summary["ranking"] is None and "too wide to rank" in md
        assert not (tmp_path / "plots" / "profile.png").exists()
        assert "profile.png" not in md and summary["plots"] == ["plots/compare.png"]


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
    one_seed = json.loads((tmp_path / "straight" / "summary.json").read_text())
    assert [c["runs"] for c in one_seed["configs"]] == [1, 1] and one_seed["plots"] == ["plots/compare.png"]
    assert not (tmp_path / "straight" / "plots" / "profile.png").exists()

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
