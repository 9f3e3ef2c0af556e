"""Run logging: ``metrics.csv`` (one row per log point), ``episodes.csv`` (one row per episode) and
TensorBoard events, with a position that a checkpoint records so a resume continues cleanly."""

from __future__ import annotations

import csv
import math
import weakref
from pathlib import Path
from typing import IO

import numpy as np

from actorcritic.core.files import atomic_write
from actorcritic.runtime.run_dir import EPISODES, METRICS

BASE_COLUMNS = [
    "step",
    "wall_time",
    "sps",
    "updates",
    "episodes",
    "episodic_return",
    "episodic_length",
]
EVAL_COLUMNS = ["eval_return_mean", "eval_return_std", "eval_length_mean", "eval_length_std"]
EPISODE_COLUMNS = ["step", "env", "return", "length"]


def read_csv(path: str | Path) -> list[dict[str, float]]:
    """Rows of a metrics/episodes CSV as floats (empty cells become NaN)."""
    with open(path, newline="") as f:
        return [{k: float(v) if v != "" else math.nan for k, v in row.items()} for row in csv.DictReader(f)]


def eval_points(metrics: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, mean returns, their stds) of the metrics rows (``read_csv``) that carry an evaluation."""
    rows = [r for r in metrics if not math.isnan(r.get("eval_return_mean", math.nan))]
    steps = np.array([r["step"] for r in rows])
    return steps, np.array([r["eval_return_mean"] for r in rows]), np.array([r["eval_return_std"] for r in rows])


def _truncate_csv(path: Path, max_step: int) -> None:
    """Drop rows logged after ``max_step`` (written after the checkpoint we resume from)."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and float(r[0]) <= max_step]
    atomic_write(path, lambda f: csv.writer(f).writerows(kept))


class RunLogger:
    """Writes one run's CSVs and TensorBoard events. ``resume_step`` continues an existing run.

    ``metric_names`` are the columns between the loop's own and the evaluation's; those among them in
    ``env_metric_names`` (an env's own measures, e.g. a swarm's order parameter) are tagged ``env/...`` in
    TensorBoard, the others ``losses/...``.
    """

    def __init__(self, run_dir: Path, metric_names: list[str], resume_step: int | None = None,
                 env_metric_names: tuple[str, ...] = ()):  # fmt: skip
        from torch.utils.tensorboard import (
            SummaryWriter,  # heavy import, only when a run dir is used
        )

        self.run_dir = Path(run_dir)
        self.columns = BASE_COLUMNS + list(metric_names) + EVAL_COLUMNS
        self.env_metric_names = frozenset(env_metric_names)
        metrics, episodes = self.run_dir / METRICS, self.run_dir / EPISODES
        if resume_step is not None:
            _truncate_csv(metrics, resume_step)
            _truncate_csv(episodes, resume_step)
        self._metrics_file = open(metrics, "a", newline="")  # noqa: SIM115 - kept open for the run
        self._episodes_file = open(episodes, "a", newline="")  # noqa: SIM115
        # An agent dropped without close() (a notebook, a script's end) still closes its CSVs, flushed, when it is
        # collected: quietly, not as a ResourceWarning raised wherever the garbage collector happens to run.
        self._close_files = weakref.finalize(self, _close_all, self._metrics_file, self._episodes_file)
        self._metrics = csv.DictWriter(self._metrics_file, self.columns)
        self._episodes = csv.writer(self._episodes_file)
        if self._metrics_file.tell() == 0:
            self._metrics.writeheader()
        if self._episodes_file.tell() == 0:
            self._episodes.writerow(EPISODE_COLUMNS)
        purge = None if resume_step is None else resume_step + 1
        self.tb = SummaryWriter(str(self.run_dir), purge_step=purge)

    def log_episode(self, step: int, env: int, episodic_return: float, length: int) -> None:
        self._episodes.writerow([step, env, episodic_return, length])
        self.tb.add_scalar("charts/episodic_return", episodic_return, step)
        self.tb.add_scalar("charts/episodic_length", length, step)

    def log(self, row: dict[str, float]) -> None:
        """One log point: a CSV row and a TensorBoard scalar per value."""
        self._metrics.writerow({k: ("" if v is None else v) for k, v in row.items()})
        self._metrics_file.flush()  # one row per log point: cheap, and `tail -f metrics.csv` works
        self._episodes_file.flush()
        step = int(row["step"])
        for key, value in row.items():
            # Episodic return and length go to TensorBoard once per episode (log_episode), not here.
            if key in ("step", "wall_time", "episodic_return", "episodic_length") or value is None or value != value:
                continue
            self.tb.add_scalar(self._tag(key), value, step)

    def _tag(self, key: str) -> str:
        if key.startswith("eval_"):
            return "eval/" + key.removeprefix("eval_")
        if key in BASE_COLUMNS:
            return "charts/" + ("SPS" if key == "sps" else key)
        return ("env/" if key in self.env_metric_names else "losses/") + key

    def flush(self) -> None:
        self._metrics_file.flush()
        self._episodes_file.flush()
        self.tb.flush()

    def close(self) -> None:
        self.flush()
        self._close_files()
        self.tb.close()


def _close_all(*files: IO[str]) -> None:
    for f in files:
        f.close()
