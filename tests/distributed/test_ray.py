"""The Ray back end on a local Ray instance with 2 CPUs: distributed DDPG (rollout workers and a
learner) solves Pendulum-v1, survives a killed worker and resumes after a learner crash; A3C's workers run
as Ray actors; sweeps run their runs as Ray tasks and bring the run directories back."""

import csv
import json
import os
import signal
import sys

import pytest

import actorcritic
from actorcritic import A3C, DDPG, TD3, A3CConfig, Callback, DDPGConfig, RayConfig, RunState, TD3Config
from actorcritic.backends.ray.collectors import worker_sigmas
from actorcritic.backends.ray.pool import pack_dir, require_ray, unpack_dir
from actorcritic.cli import main
from actorcritic.errors import UserError

ray = pytest.importorskip("ray")

FAST = {"hidden_sizes": (32, 32), "eval_episodes": 2, "eval_interval": 1000, "learning_starts": 500}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    from actorcritic.backends.ray import init_ray

    init_ray(num_cpus=2)
    yield
    ray.shutdown()


def metric_steps(run_dir) -> list[int]:
    with open(run_dir / "metrics.csv") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def learn_to_target(agent, budget: int) -> dict:
    """Train ``agent`` until its evaluation reaches the env's target or ``budget`` steps; its summary."""
    agent.learn(budget)
    agent.close()
    summary = json.loads((agent.run_dir / "summary.json").read_text())
    assert summary["solved_at_step"] is not None, summary
    return summary


@pytest.mark.learning
def test_distributed_ddpg_with_two_workers_solves_pendulum(tmp_path):
    """Budget: 10,000 env steps (the two workers' together); the defaults otherwise, as `train`'s."""
    config = DDPGConfig(eval_episodes=5, stop_at_target=True)
    agent = DDPG("Pendulum-v1", config, seed=0, run_dir=tmp_path / "run", backend=RayConfig(num_workers=2))
    summary = learn_to_target(agent, 10_000)
    assert summary["final_eval_mean_return"] >= -200
    assert summary["worker_restarts"] == 0
    # The same run directory as a local run: config, metrics, episodes from both workers, checkpoints, plots.
    info = json.loads((tmp_path / "run" / "config.json").read_text())
    assert info["backend"] == "ray" and info["backend_config"]["num_workers"] == 2
    with open(tmp_path / "run" / "episodes.csv") as f:
        envs = {int(row["env"]) for row in csv.DictReader(f)}
    assert envs == {0, 1}  # worker w's env e is env w * num_envs + e
    for name in ("checkpoints/latest.pt", "checkpoints/best.pt", "plots/returns.png"):
        assert (tmp_path / "run" / name).exists(), name


def test_a_killed_worker_is_restarted_and_training_goes_on(tmp_path):
    agent = DDPG("Pendulum-v1", DDPGConfig(**FAST), seed=1, run_dir=tmp_path / "run", backend="ray")
    killed = []

    class KillAWorker(Callback):
        def on_evaluation(self, s: RunState) -> None:
            kill_a_worker()

    def kill_a_worker() -> None:
        if not killed:
            worker = agent.trainer.pool.actors[0]
            pid = ray.get(worker.pid.remote())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            # Wait for Ray to bring it back (this call queues behind the retried fragment), so that the
            # retried fragment reaches the learner before the budget runs out even on a loaded machine.
            assert ray.get(worker.pid.remote()) != pid

    agent.learn(4000, callbacks=[KillAWorker()])
    agent.close()
    assert killed and agent.global_step >= 4000
    assert agent.summary()["worker_restarts"] == 1
    assert metric_steps(tmp_path / "run")[-1] == agent.global_step
    assert actorcritic.load(tmp_path / "run").clock.worker_restarts == 1  # the count is in the checkpoint


def test_a_crashed_learner_resumes_from_its_last_checkpoint(tmp_path, capsys):
    run_dir = tmp_path / "run"
    agent = TD3("Pendulum-v1", TD3Config(n_step=3, **FAST), seed=2, run_dir=run_dir, checkpoint_interval=1000,
                backend="ray")  # fmt: skip

    class Crash(Callback):
        def on_evaluation(self, s: RunState) -> None:
            if s.step >= 2000:
                raise RuntimeError("the learner crashed")

    with pytest.raises(RuntimeError, match="crashed"):
        agent.learn(3000, callbacks=[Crash()])
    agent.close()
    assert not (run_dir / "summary.json").exists()
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["total_steps"] >= 3000 and summary["worker_restarts"] == 0
    steps = metric_steps(run_dir)
    assert steps == sorted(set(steps))  # the crashed run's rows after its checkpoint were dropped
    assert "resuming TD3" in capsys.readouterr().out


@pytest.mark.learning
def test_a3c_on_ray_solves_cartpole(tmp_path):
    """Budget: 60,000 env steps; A3C's defaults (2 workers, 20-step rollouts)."""
    config = A3CConfig(eval_interval=2000, eval_episodes=5, stop_at_target=True)
    summary = learn_to_target(A3C("CartPole-v1", config, seed=0, run_dir=tmp_path / "run", backend="ray"), 60_000)
    assert summary["final_eval_mean_return"] >= 475
    assert summary["num_updates"] * 20 == summary["total_steps"]  # one gradient per 20-step rollout


def test_a_sweep_on_ray_brings_every_run_directory_back_and_resumes(tmp_path, capsys):
    sweep_dir = tmp_path / "sweep"
    args = ["sweep", "ddpg", "--grid", "tau=0.005,0.05", "--seeds", "1", "--total-steps", "1000", "--set",
            "hidden_sizes=(32, 32)", "--set", "eval_episodes=2", "--set", "eval_interval=500", "--set",
            "learning_starts=500", "--backend", "ray", "--sweep-dir", str(sweep_dir), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    runs = sorted(p.parent.parent.name for p in sweep_dir.glob("runs/*/seed0/summary.json"))
    assert runs == ["tau=0.005", "tau=0.05"]
    log = (sweep_dir / "logs" / "tau=0.05__seed0.log").read_text()
    assert f"run directory: {sweep_dir / 'runs' / 'tau=0.05' / 'seed0'}" in log  # the path it has here
    with open(sweep_dir / "sweep.csv") as f:
        assert [row["status"] for row in csv.DictReader(f)] == ["finished", "finished"]
    # A run killed after its last checkpoint: the sweep sends the run directory out again, to finish it.
    (sweep_dir / "runs" / "tau=0.05" / "seed0" / "summary.json").unlink()
    capsys.readouterr()
    assert main(args) == 0
    assert "finishing" in (sweep_dir / "logs" / "tau=0.05__seed0.log").read_text()
    assert (sweep_dir / "runs" / "tau=0.05" / "seed0" / "summary.json").exists()


def test_train_cli_with_the_ray_backend(tmp_path, capsys):
    run_dir = tmp_path / "run"
    args = ["train", "sac", "--backend", "ray", "--num-workers", "2", "--noise-spread", "2", "--fragment-steps", "20",
            "--total-steps", "1500", "--hidden-sizes", "32", "32", "--eval-episodes", "2", "--learning-starts", "500",
            "--run-dir", str(run_dir), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert "done: 1500 steps" in capsys.readouterr().out
    summary = json.loads((run_dir / "summary.json").read_text())
    # one update per env step from the fragment that reaches learning_starts on: fragments 25..75 of 20 steps
    assert summary["num_updates"] == 51 * 20


def test_user_errors_of_the_ray_backend(tmp_path, capsys):
    with pytest.raises(UserError, match="one seed"):
        DDPG("Pendulum-v1", DDPGConfig(), seed=[0, 1], run_dir=tmp_path / "group", backend="ray")
    assert not (tmp_path / "group").exists()  # refused before any run directory was made
    with pytest.raises(UserError, match="noise_spread"):
        RayConfig(noise_spread=0.5)
    assert main(["train", "ppo", "--ray-address", "auto"]) == 2
    assert "--ray-address needs --backend ray" in capsys.readouterr().err
    run_dir = tmp_path / "unreachable"
    assert main(["train", "ddpg", "--backend", "ray", "--ray-address", "127.0.0.1:1", "--run-dir", str(run_dir)]) == 2
    assert "error: cannot join the Ray cluster at '127.0.0.1:1'" in capsys.readouterr().err
    assert not run_dir.exists()


def test_worker_sigmas_spread_geometrically_around_sigma():
    assert worker_sigmas(0.1, 4.0, 1) == [0.1]
    sigmas = worker_sigmas(0.1, 4.0, 3)
    assert sigmas == pytest.approx([0.025, 0.1, 0.4])
    assert worker_sigmas(0.2, 1.0, 4) == [0.2] * 4


def test_run_directories_travel_whole(tmp_path):
    source = tmp_path / "a"
    (source / "checkpoints").mkdir(parents=True)
    (source / "checkpoints" / "latest.pt").write_bytes(b"\x00\x01" * 1000)
    (source / "metrics.csv").write_text("step\n1\n")
    dest = tmp_path / "b"
    dest.mkdir()
    (dest / "stale.txt").write_text("old")
    unpack_dir(pack_dir(source), dest)
    assert (dest / "checkpoints" / "latest.pt").read_bytes() == b"\x00\x01" * 1000
    assert (dest / "metrics.csv").read_text() == "step\n1\n"
    assert not (dest / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no staging left behind


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match=r"\[ray\] extra"):
        require_ray()
