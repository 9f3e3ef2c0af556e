"""runtime/plots.py's plot_compare: runs overlaid (actorcritic plot) and groups of seeds with CI bands (a sweep)."""

from actorcritic.runtime.plots import plot_compare

PNG = b"\x89PNG"


def fake_run(path, seed, evals=(1000, 2000, 3000)):
    """A run directory with the CSV columns plots read: eval points in metrics.csv, episodes in episodes.csv."""
    path.mkdir(parents=True)
    rows = [f"{s},{-500 + s / 10 + seed},{10}" for s in evals] + ["3500,,"]
    (path / "metrics.csv").write_text("step,eval_return_mean,eval_return_std\n" + "\n".join(rows) + "\n")
    episodes = [f"{200 * i},0,{-600 + i * 5 + seed},200" for i in range(1, 18)]
    (path / "episodes.csv").write_text("step,env,return,length\n" + "\n".join(episodes) + "\n")
    return path


def test_runs_overlaid(tmp_path):
    runs = [fake_run(tmp_path / f"run{i}", i) for i in range(2)]
    out = plot_compare(runs, tmp_path / "out" / "compare.png")
    assert out == tmp_path / "out" / "compare.png" and out.read_bytes()[:4] == PNG
    assert sorted(p.name for p in out.parent.iterdir()) == ["compare.png"]  # no temp file left


def test_groups_with_bands(tmp_path):
    groups = {
        "tau=0.01": [fake_run(tmp_path / "a" / f"seed{s}", s) for s in range(3)],
        "tau=1": [fake_run(tmp_path / "b" / "seed0", 0, evals=(1000, 2000)), fake_run(tmp_path / "b" / "seed1", 1)],
        "lone": [fake_run(tmp_path / "c" / "seed0", 0)],
        "no runs finished": [],
    }
    out = plot_compare(groups, tmp_path / "compare.png", title="DDPG on Pendulum-v1")
    assert out.read_bytes()[:4] == PNG


def test_a_run_without_evaluations_still_plots(tmp_path):
    run = fake_run(tmp_path / "run", 0, evals=())
    assert plot_compare([run], tmp_path / "compare.png").read_bytes()[:4] == PNG
