"""`actorcritic tune --backend ray` (experiments/tune.py) on a local Ray instance with 2 CPUs: trials run
two at a time on Ray actors, the study stays in the driver, and each trial's run directory comes back."""

import csv
import itertools
import json

import pytest

from actorcritic.cli import main
from actorcritic.errors import UserError
from actorcritic.experiments.tune import tune

ray = pytest.importorskip("ray")
optuna = pytest.importorskip("optuna")

FAST = {"hidden_sizes": [32, 32], "eval_interval": 500, "eval_episodes": 2, "learning_starts": 500}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    from actorcritic.backends.ray import init_ray

    init_ray(num_cpus=2)
    yield
    ray.shutdown()


def test_trials_run_two_at_a_time_and_their_run_dirs_come_back(tmp_path, capsys):
    tune_dir = tmp_path / "t"
    sets = [a for k, v in FAST.items() for a in ("--set", f"{k}={json.dumps(v).replace(' ', '')}")]
    args = ["tune", "ddpg", "--env", "Pendulum-v1", "--trials", "4", "--total-steps", "1000", "--startup-trials",
            "1", "--backend", "ray", "--workers", "2", "--tune-dir", str(tune_dir), *sets]  # fmt: skip
    assert main(args) == 0
    assert "2 at a time on Ray" in capsys.readouterr().out
    with open(tune_dir / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3]
    assert {r["state"] for r in rows} <= {"COMPLETE", "PRUNED"} and rows[0]["state"] == "COMPLETE"
    for r in rows:  # every trial's run directory is here, whichever node (actor process) trained it
        run = tune_dir / "trials" / f"trial{r['number']}"
        assert (run / "config.json").exists() and (run / "episodes.csv").exists(), r
        with open(run / "metrics.csv") as f:
            steps = [int(row["step"]) for row in csv.DictReader(f)]
        complete = r["state"] == "COMPLETE"
        assert (run / "summary.json").exists() == complete
        assert steps[-1:] == ([1000] if complete else [])  # a pruned trial stops before logging its evaluation
    study = optuna.load_study(study_name="actorcritic", storage=f"sqlite:///{tune_dir / 'study.db'}")
    spans = [(t.datetime_start, t.datetime_complete) for t in study.trials]
    assert any(a[0] < b[1] and b[0] < a[1] for a, b in itertools.combinations(spans, 2)), spans  # in parallel
    best = json.loads((tune_dir / "best.json").read_text())
    assert best["algo"] == "ddpg" and best["hidden_sizes"] == [32, 32]
    run = tmp_path / "best-run"
    assert main(["train", "--config", str(tune_dir / "best.json"), "--run-dir", str(run), "--total-steps", "200",
                 "--no-progress"]) == 0  # fmt: skip
    assert json.loads((run / "config.json").read_text())["config"]["actor_lr"] == best["actor_lr"]


def test_an_error_in_a_trial_reaches_the_user_unwrapped(tmp_path):
    with pytest.raises(UserError, match="NoSuchEnv") as raised:  # raised in the actor, a RayTaskError here
        tune("ddpg", "NoSuchEnv-v0", 1, 100, tmp_path / "t", settings=FAST, workers=1, backend="ray")
    assert type(raised.value) is UserError  # so the CLI prints its one line, not Ray's traceback


def test_parallel_trials_need_the_ray_backend(tmp_path, capsys):
    assert main(["tune", "ddpg", "--workers", "2", "--trials", "2", "--tune-dir", str(tmp_path / "t")]) == 2
    assert "--backend ray" in capsys.readouterr().err
    with pytest.raises(UserError, match="backend"):
        tune("ddpg", "Pendulum-v1", 1, 100, tmp_path / "u", workers=1, backend="dask")
