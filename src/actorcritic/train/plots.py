"""Plots of a run (returns, losses) and of several runs overlaid, from the run's CSVs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from actorcritic.errors import UserError
from actorcritic.train.logging import BASE_COLUMNS, EVAL_COLUMNS, read_csv
from actorcritic.train.run_dir import EPISODES, METRICS


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


def _eval_points(metrics: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [r for r in metrics if not math.isnan(r.get("eval_return_mean", math.nan))]
    steps = np.array([r["step"] for r in rows])
    return (
        steps,
        np.array([r["eval_return_mean"] for r in rows]),
        np.array([r["eval_return_std"] for r in rows]),
    )


def _read_run(run_dir: Path) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    if not (run_dir / METRICS).is_file():
        raise UserError(f"'{run_dir}' is not a run directory (no {METRICS})")
    episodes = read_csv(run_dir / EPISODES) if (run_dir / EPISODES).is_file() else []
    return read_csv(run_dir / METRICS), episodes


def plot_run(run_dir: str | Path, window: int = 10) -> list[Path]:
    """Write ``plots/returns.png`` and ``plots/losses.png`` for one run."""
    plt = _pyplot()
    run_dir = Path(run_dir)
    metrics, episodes = _read_run(run_dir)
    out_dir = run_dir / "plots"
    out_dir.mkdir(exist_ok=True)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    if episodes:
        steps = [e["step"] for e in episodes]
        returns = [e["return"] for e in episodes]
        ax.plot(steps, returns, ".", color="tab:blue", alpha=0.3, ms=4, label="episodic return")
        ax.plot(
            steps,
            moving_average(returns, window),
            color="tab:blue",
            label=f"moving average ({window})",
        )
    eval_steps, eval_mean, eval_std = _eval_points(metrics)
    if len(eval_steps):
        ax.plot(eval_steps, eval_mean, "o-", color="tab:orange", label="eval (deterministic)")
        ax.fill_between(eval_steps, eval_mean - eval_std, eval_mean + eval_std, color="tab:orange", alpha=0.2)
    ax.set(xlabel="env steps", ylabel="return", title=f"Returns: {run_dir.name}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    returns_png = out_dir / "returns.png"
    fig.savefig(returns_png, dpi=100)
    plt.close(fig)

    loss_keys = [k for k in (metrics[0] if metrics else {}) if k not in BASE_COLUMNS + EVAL_COLUMNS]
    fig, axes = plt.subplots(1, max(1, len(loss_keys)), figsize=(4 * max(1, len(loss_keys)), 3.5), squeeze=False)
    for ax, key in zip(axes[0], loss_keys, strict=False):
        pts = [(r["step"], r[key]) for r in metrics if not math.isnan(r[key])]
        if pts:
            ax.plot(*zip(*pts, strict=True), color="tab:red")
        ax.set(xlabel="env steps", title=key)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    losses_png = out_dir / "losses.png"
    fig.savefig(losses_png, dpi=100)
    plt.close(fig)
    return [returns_png, losses_png]


def plot_compare(run_dirs: Sequence[str | Path], output: str | Path, window: int = 10) -> Path:
    """Overlay several runs: eval returns (solid) and the episodic moving average (faint)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, run_dir in enumerate(map(Path, run_dirs)):
        metrics, episodes = _read_run(run_dir)
        color = colors[i % len(colors)]
        if episodes:
            steps = [e["step"] for e in episodes]
            ax.plot(
                steps,
                moving_average([e["return"] for e in episodes], window),
                color=color,
                alpha=0.35,
            )
        eval_steps, eval_mean, _ = _eval_points(metrics)
        ax.plot(eval_steps, eval_mean, "o-", color=color, ms=3, label=run_dir.name)
    ax.set(
        xlabel="env steps",
        ylabel="return",
        title="eval return (solid), episodic moving average (faint)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=100)
    plt.close(fig)
    return output
