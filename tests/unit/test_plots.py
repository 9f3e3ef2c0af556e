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


def full_run(path, env_metric=False):
    """A run directory as training leaves it: config.json, summary.json (its target), metrics with losses."""
    import json

    from actorcritic.runtime.logging import BASE_COLUMNS, EVAL_COLUMNS

    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"algo": "td3", "env": "Pendulum-v1", "config": {}}))
    (path / "summary.json").write_text(json.dumps({"target_return": -200.0}))
    extra = ["order_parameter", "eval_order_parameter"] if env_metric else []
    columns = [*BASE_COLUMNS, "critic_loss", "actor_loss", *extra, *EVAL_COLUMNS]
    rows = []
    for i, step in enumerate(range(1000, 11000, 1000)):
        values = {"step": step, "critic_loss": 5000.0 if i == 0 else 1.0 + 0.1 * i, "actor_loss": -i,
                  "order_parameter": 0.5 + 0.04 * i, "eval_order_parameter": 0.6, "eval_return_mean": -1000 + 90 * i,
                  "eval_return_std": 10}  # fmt: skip
        rows.append(",".join(str(values.get(c, "")) for c in columns))
    (path / "metrics.csv").write_text(",".join(columns) + "\n" + "\n".join(rows) + "\n")
    (path / "episodes.csv").write_text("step,env,return,length\n200,0,-1200,200\n400,0,-1100,200\n")
    return path


def captured(monkeypatch):
    """The figures plot_run would write, by file name, instead of writing them."""
    from actorcritic.runtime import plots

    figs = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: figs.setdefault(path.name, fig) and path)
    return figs


def test_run_plots_name_the_run_draw_the_target_and_label_every_axis(tmp_path, monkeypatch):
    from actorcritic.runtime.plots import plot_run

    figs = captured(monkeypatch)
    plot_run(full_run(tmp_path / "run"))
    returns = figs["returns.png"].axes[0]
    assert "TD3 on Pendulum-v1" in returns.get_title()
    target = [line for line in returns.get_lines() if line.get_label() == "target -200"]
    assert target and set(target[0].get_ydata()) == {-200.0}
    losses = figs["losses.png"].axes
    assert [ax.get_title() for ax in losses] == ["critic_loss", "actor_loss"]
    assert all(ax.get_ylabel() and ax.get_xlabel() == "env steps" for ax in losses)
    assert losses[0].get_ylim()[1] < 10  # the first update's loss of 5000 is off the scale, not squashing the rest
    assert "env_metrics.png" not in figs


def test_env_metrics_get_their_own_plot(tmp_path, monkeypatch):
    from actorcritic.runtime.plots import plot_run

    figs = captured(monkeypatch)
    plot_run(full_run(tmp_path / "swarm", env_metric=True))
    assert [ax.get_title() for ax in figs["losses.png"].axes] == ["critic_loss", "actor_loss"]
    (ax,) = figs["env_metrics.png"].axes
    assert ax.get_title() == "order_parameter" and {ln.get_label() for ln in ax.get_lines()} == {"training", "eval"}


def test_compared_runs_with_the_same_folder_name_get_different_labels(tmp_path):
    from actorcritic.runtime.plots import run_labels

    runs = [tmp_path / "td3" / "seed0", tmp_path / "sac" / "seed0", tmp_path / "sac" / "seed1"]
    assert run_labels(runs) == ["td3/seed0", "sac/seed0", "sac/seed1"]
    assert run_labels([tmp_path / "a", tmp_path / "b"]) == ["a", "b"]


def test_performance_profiles_fall_from_all_runs_to_none_with_a_band_each(tmp_path, monkeypatch):
    from actorcritic.runtime.plots import plot_profile

    scores = {"tau=0.01": [-150.0, -140.0, -160.0, -145.0, -1000.0], "tau=1": [-900.0, -950.0, -880.0, -920.0, -910.0]}
    assert plot_profile(scores, tmp_path / "profile.png").read_bytes()[:4] == PNG
    figs = captured(monkeypatch)
    plot_profile(scores, tmp_path / "profile.png", title="DDPG on Pendulum-v1")
    (ax,) = figs["profile.png"].axes
    assert "DDPG on Pendulum-v1" in ax.get_title() and "> tau" in ax.get_ylabel()
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["tau=0.01 (5 runs)", "tau=1 (5 runs)"]
    for line, runs in zip(lines, scores.values(), strict=True):
        taus, fraction = line.get_xdata(), line.get_ydata()
        assert fraction[0] == 1.0 and fraction[-1] == 0.0 and all(fraction[1:] <= fraction[:-1])
        assert list(fraction) == [sum(r > t for r in runs) / len(runs) for t in taus]
    assert len(ax.collections) == 2  # one CI band per configuration
