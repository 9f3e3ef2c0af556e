"""``actorcritic train --compile auto`` (the default) compiles the update when the run plans enough updates
to pay back compiling them, and says so; ``--compile off`` never does; ``--compile`` alone means on."""

import pytest
from torch._dynamo.utils import counters

from actorcritic import DDPG
from actorcritic.cli import main
from actorcritic.runtime.trainers import planned_updates

SHORT = ["--total-steps", "300", "--learning-starts", "100", "--hidden-sizes", "16", "16", "--batch-size", "16",
         "--eval-interval", "0", "--no-progress", "--threads", "1"]  # fmt: skip


@pytest.mark.parametrize(
    ("num_envs", "train_freq", "gradient_steps", "start"), [(1, 1, 1, 0), (3, 2, 2, 0), (2, 1, 3, 120)]
)
def test_planned_updates_are_the_updates_the_trainer_makes(num_envs, train_freq, gradient_steps, start):
    cfg = DDPG.config_cls(hidden_sizes=(8, 8), batch_size=8, learning_starts=50, num_envs=num_envs,
                          train_freq=train_freq, gradient_steps=gradient_steps, eval_interval=0)  # fmt: skip
    agent = DDPG("Pendulum-v1", cfg, seed=0)
    if start:
        agent.learn(start)
    before = agent.num_updates
    agent.learn(300)
    made = agent.num_updates - before
    planned = planned_updates(cfg, agent.global_step - 300, agent.global_step)
    assert planned > 0 and abs(made - planned) <= 2 * gradient_steps, (made, planned)  # a phase either side
    agent.close()


@pytest.mark.parametrize(("flags", "compiled"), [([], True), (["--compile", "off"], False), (["--compile"], True)])
def test_auto_compiles_a_run_with_enough_updates(tmp_path, capsys, monkeypatch, flags, compiled):
    monkeypatch.setattr("actorcritic.runtime.agent.COMPILE_PAYS_AFTER", 150)  # the run below plans 200
    counters.clear()
    assert main(["train", *SHORT, "--run-dir", str(tmp_path / "run"), *flags]) == 0
    out = capsys.readouterr().out
    assert ("compiling the update" in out) == (flags == []), out  # auto says so; --compile asked for it
    assert bool(counters["stats"].get("unique_graphs")) == compiled, dict(counters)


def test_auto_leaves_short_runs_and_on_policy_algorithms_eager(tmp_path, capsys):
    counters.clear()
    assert main(["train", *SHORT, "--run-dir", str(tmp_path / "ddpg")]) == 0  # 200 updates: too few to pay
    assert main(["train", "ppo", "--env", "CartPole-v1", "--total-steps", "256", "--num-steps", "64", "--no-progress",
                 "--run-dir", str(tmp_path / "ppo"), "--threads", "1"]) == 0  # fmt: skip
    assert "compiling" not in capsys.readouterr().out
    assert not counters["stats"].get("unique_graphs"), dict(counters)


def test_compile_on_for_an_on_policy_algorithm_is_a_user_error(tmp_path, capsys):
    assert main(["train", "ppo", "--env", "CartPole-v1", "--compile", "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --compile is for DDPG, TD3 and SAC") and not (tmp_path / "run").exists(), err


def test_a_wrong_compile_value_names_the_choices(tmp_path, capsys):
    assert main(["train", "--compile", "maybe", "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "maybe" in err, err
    assert all(choice in err for choice in ("auto", "on", "off")) and not (tmp_path / "run").exists(), err
