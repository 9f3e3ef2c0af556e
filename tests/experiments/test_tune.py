"""`actorcritic tune` (experiments/tune.py): a study in SQLite that resumes, pruning through the
evaluation hook, and a best.json that `actorcritic train --config` accepts."""

import builtins
import csv
import json

import pytest

from actorcritic import DDPG, Callback, DDPGConfig
from actorcritic.cli import main
from actorcritic.errors import UserError
from actorcritic.experiments.tune import SEARCH_SPACES, decode

optuna = pytest.importorskip("optuna")

TUNE = ["tune", "a2c", "--env", "CartPole-v1", "--total-steps", "600", "--set", "eval_interval=200",
        "--set", "eval_episodes=2", "--set", "num_envs=2", "--startup-trials", "1", "--seed", "3"]  # fmt: skip


def test_study_resumes_and_best_json_trains(tmp_path, capsys):
    tune_dir = tmp_path / "t"
    assert main([*TUNE, "--trials", "3", "--tune-dir", str(tune_dir)]) == 0
    assert main([*TUNE, "--trials", "2", "--tune-dir", str(tune_dir)]) == 0  # the same study, two more trials
    out = capsys.readouterr().out
    study = optuna.load_study(study_name="actorcritic", storage=f"sqlite:///{tune_dir / 'study.db'}")
    assert len(study.trials) == 5 and all(t.state.is_finished() for t in study.trials)
    with open(tune_dir / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3, 4]
    assert all(r["hidden_sizes"].startswith("[") for r in rows)  # categorical values, not indices
    best = json.loads((tune_dir / "best.json").read_text())
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    top = max(complete, key=lambda t: t.value)
    assert best == {"algo": "a2c", "env": "CartPole-v1", "total_steps": 600, "eval_interval": 200, "eval_episodes": 2,
                    "num_envs": 2, **decode(top.params, SEARCH_SPACES["a2c"])}  # fmt: skip
    assert "train it:" in out
    run = tmp_path / "best-run"
    assert main(["train", "--config", str(tune_dir / "best.json"), "--run-dir", str(run), "--no-progress"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["algo"] == "a2c" and config["config"]["learning_rate"] == best["learning_rate"]


def test_evaluation_hook_sees_every_evaluation_and_can_stop_training():
    seen = []

    class Stop(Exception):
        pass

    class Hook(Callback):
        def on_evaluation(self, s):
            seen.append(s.step)
            if s.step >= 400:
                raise Stop

    agent = DDPG("Pendulum-v1", DDPGConfig(hidden_sizes=(16, 16), learning_starts=100, batch_size=16,
                                           eval_interval=200, eval_episodes=1), seed=0)  # fmt: skip
    with pytest.raises(Stop):
        agent.learn(1000, callbacks=[Hook()])
    assert seen == [200, 400] and agent.global_step == 400


def test_missing_optuna_names_the_extra(monkeypatch, tmp_path, capsys):
    real_import = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna":
            raise ImportError("No module named 'optuna'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    code = main([*TUNE, "--trials", "1", "--tune-dir", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert code == 2 and "[tune] extra" in err and "pip install" in err


def test_bad_fixed_setting_fails_before_any_trial(tmp_path):
    from actorcritic.experiments.tune import tune

    with pytest.raises(UserError, match="learning_rate"):
        tune("a2c", "CartPole-v1", 1, 100, tmp_path / "t", settings={"learning_rate": -1.0})
    assert not (tmp_path / "t" / "study.db").exists()
