"""Plots of a run (returns, losses) and of several runs compared, from the runs' CSVs."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actorcritic.core.files import atomic_path
from actorcritic.core.stats import Estimate, bootstrap_ci, performance_profile
from actorcritic.errors import UserError
from actorcritic.runtime.logging import BASE_COLUMNS, EVAL_COLUMNS, eval_points, read_csv
from actorcritic.runtime.run_dir import CONFIG, EPISODES, METRICS, SUMMARY


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    return plt


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` values (shorter at the start)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(0, idx - window)
    return (csum[idx] - csum[start]) / (idx - start)


def _read_run(run_dir: Path) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    if not (run_dir / METRICS).is_file():
        raise UserError(f"'{run_dir}' is not a run directory (no {METRICS})")
    episodes = read_csv(run_dir / EPISODES) if (run_dir / EPISODES).is_file() else []
    return read_csv(run_dir / METRICS), episodes


def _run_title(run_dir: Path) -> tuple[str, float | None]:
    """ "ALGO on ENV (run name)" and the target return, from the run's config.json and summary.json."""
    info, target = {}, None
    with contextlib.suppress(OSError, ValueError):
        info = json.loads((run_dir / CONFIG).read_text())
    with contextlib.suppress(OSError, ValueError):
        target = json.loads((run_dir / SUMMARY).read_text()).get("target_return")
    if target is None:
        target = (info.get("config") or {}).get("target_return")
    head = f"{str(info['algo']).upper()} on {info['env']}" if "algo" in info and "env" in info else run_dir.name
    return (f"{head} ({run_dir.name})" if head != run_dir.name else head), target


def _steps_axis(ax: Any) -> None:
    """Env steps on x, few ticks, as 10k / 1.5M: readable in a narrow panel too."""
    from matplotlib.ticker import EngFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.set_xlabel("env steps")


def _robust_ylim(ax: Any, values: Sequence[float]) -> None:
    """Limits that fit the curve after its first points, when those (the first updates' losses, often orders
    of magnitude larger) would otherwise squash the rest of it; they are left off the scale."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 4:
        return
    rest = v[max(1, len(v) // 10) :]
    lo, hi = float(rest.min()), float(rest.max())
    span = max(hi - lo, 1e-9)
    if v.max() > hi + 2 * span or v.min() < lo - 2 * span:
        ax.set_ylim(lo - 0.1 * span, hi + 0.1 * span)


def _panels(plt: Any, keys: list[str], title: str) -> tuple[Any, Any]:
    """One panel per key, side by side, under one title."""
    n = max(1, len(keys))
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.6), squeeze=False)
    fig.suptitle(title)
    return fig, axes[0]


def plot_run(run_dir: str | Path, window: int = 10) -> list[Path]:
    """Write ``plots/returns.png`` and ``plots/losses.png`` for one run, and ``plots/env_metrics.png`` when
    the env reports metrics of its own (the swarm's order parameter)."""
    plt = _pyplot()
    run_dir = Path(run_dir)
    metrics, episodes = _read_run(run_dir)
    out_dir = run_dir / "plots"
    title, target = _run_title(run_dir)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    if episodes:
        steps = [e["step"] for e in episodes]
        returns = [e["return"] for e in episodes]
        ax.plot(steps, returns, ".", color="tab:blue", alpha=0.3, ms=4, label="episodic return")
        ax.plot(steps, moving_average(returns, window), color="tab:blue", label=f"moving average ({window})")
    eval_steps, eval_mean, eval_std = eval_points(metrics)
    if len(eval_steps):
        ax.plot(eval_steps, eval_mean, "o-", color="tab:orange", label="eval (deterministic)")
        ax.fill_between(eval_steps, eval_mean - eval_std, eval_mean + eval_std, color="tab:orange", alpha=0.2)
    if target is not None:
        ax.axhline(target, color="tab:green", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set(ylabel="return", title=f"Returns: {title}")
    _steps_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    written = [_save(fig, out_dir / "returns.png")]

    columns = list(metrics[0]) if metrics else []
    env_keys = [k for k in columns if f"eval_{k}" in columns and k not in BASE_COLUMNS + EVAL_COLUMNS]
    loss_keys = [
        k for k in columns if k not in BASE_COLUMNS + EVAL_COLUMNS + env_keys + [f"eval_{e}" for e in env_keys]
    ]
    fig, axes = _panels(plt, loss_keys, f"Training metrics: {title}")
    for ax, key in zip(axes, loss_keys, strict=False):
        pts = [(r["step"], r[key]) for r in metrics if not math.isnan(r[key])]
        if pts:
            ax.plot(*zip(*pts, strict=True), color="tab:red")
            _robust_ylim(ax, [v for _, v in pts])
        ax.set(title=key, ylabel=key.replace("_", " "))
        _steps_axis(ax)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    written.append(_save(fig, out_dir / "losses.png"))

    if env_keys:  # the env's own measure of success, in training (mean over steps) and in evaluation
        fig, axes = _panels(plt, env_keys, f"Env metrics: {title}")
        for ax, key in zip(axes, env_keys, strict=False):
            for column, style, label in ((key, "-", "training"), (f"eval_{key}", "o-", "eval")):
                pts = [(r["step"], r[column]) for r in metrics if not math.isnan(r[column])]
                if pts:
                    ax.plot(*zip(*pts, strict=True), style, ms=3, label=label)
            ax.set(title=key, ylabel=key.replace("_", " "))
            _steps_axis(ax)
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
        fig.tight_layout()
        written.append(_save(fig, out_dir / "env_metrics.png"))
    return written


def run_labels(runs: Sequence[str | Path]) -> list[str]:
    """Each run's name, with as many parent folders as it takes to tell runs apart (a/seed0, b/seed0)."""
    parts = [Path(r).resolve().parts for r in runs]
    for depth in range(1, max((len(p) for p in parts), default=1) + 1):
        labels = ["/".join(p[-depth:]) for p in parts]
        if len(set(labels)) == len(labels):
            return labels
    return [str(r) for r in runs]


def plot_compare(
    runs: Sequence[str | Path] | Mapping[str, Sequence[str | Path]],
    output: str | Path,
    window: int = 10,
    title: str | None = None,
) -> Path:
    """Compare runs on one plot of eval return against env steps; the one comparison plot of the package.

    ``runs`` is either run directories, each drawn on its own and labelled by its name (``actorcritic plot``),
    or labelled groups of them (a sweep: the seeds of each configuration). A group of several runs is drawn
    as its mean curve with a 95% bootstrap CI band; a lone run as its evaluations (solid) and its episodic
    return's moving average (faint). Runs without an evaluation add no curve to a group.
    """
    # pairs, not a dict: two runs of the same directory name (a/seed0, b/seed0) are two curves
    groups = (
        list(runs.items())
        if isinstance(runs, Mapping)
        else [(lb, [r]) for lb, r in zip(run_labels(runs), runs, strict=True)]
    )
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, run_dirs) in enumerate(groups):
        color = colors[i % len(colors)]
        data = [_read_run(Path(d)) for d in run_dirs]
        curves = [c for c in (eval_points(metrics)[:2] for metrics, _ in data) if len(c[0])]
        if len(data) == 1 and data[0][1]:
            episodes = data[0][1]
            returns = moving_average([e["return"] for e in episodes], window)
            ax.plot([e["step"] for e in episodes], returns, color=color, alpha=0.35)
        if len(curves) == 1:
            ax.plot(*curves[0], "o-", color=color, ms=3, label=label)
        elif curves:
            steps, estimates = _mean_curve(curves)
            ax.plot(steps, [e.value for e in estimates], color=color, label=f"{label} ({len(curves)} runs)")
            ax.fill_between(steps, [e.low for e in estimates], [e.high for e in estimates], color=color,
                            alpha=0.2, linewidth=0)  # fmt: skip
    several = any(len(run_dirs) > 1 for _, run_dirs in groups)
    ylabel = "eval return (mean over runs, 95% CI)" if several else "return"
    ax.set(ylabel=ylabel, title=title or _compare_title(groups))
    _steps_axis(ax)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return _save(fig, Path(output))


def plot_profile(scores: Mapping[str, Sequence[float]], output: str | Path, title: str | None = None) -> Path:
    """Performance profiles (Agarwal et al. 2021): for each labelled group of runs' scores (a sweep: each
    configuration's final returns), the fraction of its runs that score above tau against tau, with a 95%
    bootstrap CI band. It shows the whole distribution over seeds where a mean shows one number: a curve
    above another everywhere is better at every level of ambition, and crossing curves trade reliability
    for peak return."""
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in scores.values()])
    lo, hi = float(values.min()), float(values.max())
    margin = 0.05 * (hi - lo) if hi > lo else max(1.0, 0.05 * abs(hi))
    taus = np.linspace(lo - margin, hi + margin, 201)  # from every run above tau to none
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, runs) in enumerate(scores.items()):
        color = colors[i % len(colors)]
        profile = performance_profile(runs, taus)
        ax.plot(taus, profile.fraction, color=color, label=f"{label} ({len(runs)} runs)")
        ax.fill_between(taus, profile.low, profile.high, color=color, alpha=0.2, linewidth=0)
    ax.set(xlabel="final eval return tau", ylabel="fraction of runs with final return > tau", ylim=(-0.02, 1.02),
           title=f"{title}: performance profiles (95% CI)" if title else "performance profiles (95% CI)")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
    fig.tight_layout()
    return _save(fig, Path(output))


def _compare_title(groups: list[tuple[str, Sequence[str | Path]]]) -> str:
    """The runs' algorithms and envs (from their config.json), then what the lines mean."""
    heads = sorted({_run_title(Path(d))[0].split(" (")[0] for _, dirs in groups for d in dirs})
    what = "eval return (solid), episodic moving average (faint)"
    return f"{', '.join(heads)}: {what}" if heads and len(heads) <= 3 else what


def _mean_curve(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list[float], list[Estimate]]:
    """The k-th evaluation of every run, at the runs' median step (on-policy rollouts end a little apart, so
    seeds evaluate at slightly different steps), as a bootstrap estimate per k, up to the shortest run."""
    length = min(len(steps) for steps, _ in curves)
    steps = [float(np.median([c[0][k] for c in curves])) for k in range(length)]
    return steps, [bootstrap_ci([c[1][k] for c in curves]) for k in range(length)]


def _save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` atomically, in the format its suffix names (png without one), and close it."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100, format=path.suffix.lstrip(".").lower() or "png")
    finally:
        _pyplot().close(fig)
    return path
