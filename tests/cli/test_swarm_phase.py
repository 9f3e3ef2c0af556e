"""Trained swarm policies against the Vicsek rule: `swarm phase-diagram --policy` and the env options of
`swarm evaluate`, on tiny swarms and runs of a few hundred steps."""

import csv
import json

import numpy as np
import pytest

from actorcritic.cli import main
from actorcritic.envs.swarm.env import SwarmEnv, vicsek_policy
from actorcritic.runtime.evaluation import evaluate_multi_agent

ENV = {"n": 30, "episode_steps": 10, "neighbours_observed": 4}
TINY = ["--total-steps", "600", "--learning-starts", "300", "--batch-size", "32", "--hidden-sizes", "16", "16",
        "--eval-episodes", "1", "--no-progress"]  # fmt: skip


def train(run_dir, seed, noise=0.5):
    kwargs = ",".join(f"{k}={v}" for k, v in {**ENV, "noise": noise}.items())
    code = main(["train", "ddpg", "--env", "Swarm-v0", "--env-kwargs", kwargs, "--seed", str(seed),
                 "--run-dir", str(run_dir), *TINY])  # fmt: skip
    assert code == 0
    assert json.loads((run_dir / "summary.json").read_text())["num_updates"] > 0  # the update really ran
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two seeds of one configuration, and a run of another noise."""
    home = tmp_path_factory.mktemp("swarm_runs")
    return [train(home / "s0", 0), train(home / "s1", 1), train(home / "other", 2, noise=1.0)]


def one_error_line(capsys, args) -> str:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_phase_diagram_of_trained_runs_beside_the_baselines(runs, tmp_path, capsys, monkeypatch):
    resets = []  # (noise, seed) of every episode the sweep plays
    original = SwarmEnv.reset

    def recording_reset(self, *, seed=None, options=None):
        resets.append((self.model_kwargs["noise"], seed))
        return original(self, seed=seed, options=options)

    monkeypatch.setattr(SwarmEnv, "reset", recording_reset)
    out = tmp_path / "pd"
    args = ["swarm", "phase-diagram", "--noise", "0.5:1.5:1", "--policy", runs[0], runs[1], "--repeats", "2",
            "--steps", "8", "--output", out, "--no-progress"]  # fmt: skip
    assert main([str(a) for a in args]) == 0
    assert str(out / "phase_diagram.png") in capsys.readouterr().out
    assert (out / "phase_diagram.png").read_bytes()[:4] == b"\x89PNG"

    with (out / "phase_diagram.csv").open() as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["noise", "policy", "runs", "episodes", "mean_order", "ci_low", "ci_high", "ci_over",
                              "vicsek_ratio"]  # fmt: skip
    assert sorted((float(r["noise"]), r["policy"]) for r in table) == sorted(
        (eta, p) for eta in (0.5, 1.5) for p in ("vicsek", "random", "none", "trained")
    )
    with (out / "phase_diagram_episodes.csv").open() as f:
        episodes = list(csv.DictReader(f))
    assert len(episodes) == 2 * 5 * 2  # noises x (3 baselines + 2 runs) x episodes

    # every policy played the same two episodes at each noise: each seed 5 times, as the CSV says
    for eta in (0.5, 1.5):
        seeds = [s for noise, s in resets if noise == eta]
        assert len(set(seeds)) == 2 and all(seeds.count(s) == 5 for s in seeds)
        assert {int(e["episode_seed"]) for e in episodes if float(e["noise"]) == eta} == set(seeds)

    for row in table:
        assert float(row["ci_low"]) <= float(row["mean_order"]) <= float(row["ci_high"])
        mine = [float(e["order"]) for e in episodes if e["noise"] == row["noise"] and e["policy"] == row["policy"]]
        assert float(row["mean_order"]) == pytest.approx(np.mean(mine))
        if row["policy"] == "trained":  # the CI is over the two seeds: within their means
            assert (row["runs"], row["episodes"], row["ci_over"]) == ("2", "2", "seeds")
            per_run = [np.mean([float(e["order"]) for e in episodes if e["noise"] == row["noise"] and e["run"] == str(r)])
                       for r in runs[:2]]  # fmt: skip
            assert min(per_run) - 1e-12 <= float(row["ci_low"]) <= float(row["ci_high"]) <= max(per_run) + 1e-12
        else:
            assert (row["runs"], row["episodes"], row["ci_over"]) == ("0", "2", "episodes")
    rule = {r["noise"]: float(r["mean_order"]) for r in table if r["policy"] == "vicsek"}
    for row in table:
        assert float(row["vicsek_ratio"]) == pytest.approx(float(row["mean_order"]) / rule[row["noise"]])

    # a second code path: a no-turn episode replayed by hand from its recorded seed, 8 steps (--steps), not 10
    played = next(e for e in episodes if e["policy"] == "none" and e["noise"] == "1.5")
    swarm = SwarmEnv(**{**ENV, "episode_steps": 8}, noise=1.5)
    original(swarm, seed=int(played["episode_seed"]))
    orders = [swarm.step(np.zeros((30, 1)))[4]["order_parameter"] for _ in range(8)]
    assert float(played["order"]) == pytest.approx(np.mean(orders[4:]))

    assert "exists" in one_error_line(capsys, args)  # never overwrites


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--policy", "{s0}", "{other}"], ["one configuration", "env_kwargs", "noise 1.0 vs 0.5"]),
        (["--policy", "{s0}", "{s0}"], ["same seed"]),
        (["--policy", "{s0}", "--dim", "3"], ["model flags"]),
        (["--policy", "{s0}", "--steps", "0"], ["steps"]),
        (["--policy", "{s0}", "{missing}"], ["cannot read"]),
        (["--policy", "{s0}", "--repeats", "0"], ["repeats"]),
    ],
)
def test_phase_diagram_refuses_bad_runs_in_one_line(runs, tmp_path, capsys, extra, words):
    names = {"s0": runs[0], "other": runs[2], "missing": tmp_path / "nope"}
    out = tmp_path / "pd"
    line = one_error_line(capsys, ["swarm", "phase-diagram", "--noise", "0.5", "--output", out,
                                   *(a.format(**names) for a in extra)])  # fmt: skip
    for word in words:
        assert word in line, line
    assert not out.exists()


def test_swarm_evaluate_opens_every_env_option_to_the_baselines(capsys):
    args = ["swarm", "evaluate", "--policy", "vicsek", "--noise", "0.2", "--mode", "knn_radius", "--k", "6",
            "--env-kwargs", "episode_steps=20", "--episodes", "1", "--json"]  # fmt: skip
    results = {}
    for dim in (2, 3):
        assert main([*args, "--dim", str(dim)]) == 0
        results[dim] = json.loads(capsys.readouterr().out)
        assert (results[dim]["dim"], results[dim]["mode"], results[dim]["k"], results[dim]["episode_steps"]) == (
            dim, "knn_radius", 6, 20)  # fmt: skip
        # the same env made directly gives the same number
        env = SwarmEnv(preset="small", noise=0.2, dim=dim, mode="knn_radius", k=6, episode_steps=20)
        alone = evaluate_multi_agent(env, lambda obs, env=env: vicsek_policy(env), 1, 0, -1, ("order_parameter",))
        assert results[dim]["mean_order"] == pytest.approx(alone.metrics["order_parameter"])
    assert results[2]["mean_order"] != pytest.approx(results[3]["mean_order"], abs=1e-3)


def test_swarm_evaluate_options_checked_in_one_line(runs, capsys):
    line = one_error_line(capsys, ["swarm", "evaluate", runs[0], "--dim", "3"])
    assert "observations of size 8" in line and "dim" in line
    line = one_error_line(capsys, ["swarm", "evaluate", "--policy", "none", "--env-kwargs", "dim=3", "--dim", "2"])
    assert "dim" in line and "once" in line
    assert "bad env option" in one_error_line(capsys, ["swarm", "evaluate", "--policy", "none", "--env-kwargs", "nn=3"])
