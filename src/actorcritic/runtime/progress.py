"""The one progress bar: training (steps, SPS, last return, last eval), a sweep's runs, a phase diagram's runs.

A training loop:

    bar = ProgressBar(end, completed=start, unit="steps", fields={"sps": "SPS", "ret": "return", "eval": "eval"})
    bar.update(step, sps=1234, ret=-150.2, eval=None)  # at most ~10 redraws a second; force=True at the end
    bar.close()

Finished items:

    with ProgressBar(len(runs), description="sweep", unit="runs") as bar:
        ...
        bar.advance()
"""

from __future__ import annotations

import numbers
import time
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

REFRESH_SECONDS = 0.1  # a training loop calls update every step; redrawing that often would cost time


class ProgressBar:
    """A rich progress bar of ``completed``/``total`` ``unit``, with a ``description`` before it and one
    ``label value`` column per entry of ``fields`` (key -> label) after it; values start as "-".

    ``disable`` shows nothing (so callers need no ``if progress`` around every call); ``transient`` clears
    the bar when it closes. Also a context manager that closes it.
    """

    def __init__(
        self,
        total: int,
        completed: int = 0,
        description: str = "",
        unit: str = "",
        fields: dict[str, str] | None = None,
        transient: bool = False,
        disable: bool = False,
    ):
        fields = fields or {}
        columns = [TextColumn(description)] if description else []
        columns += [BarColumn(bar_width=20), TextColumn(f"{{task.completed:.0f}}/{{task.total:.0f}} {unit}".rstrip())]
        columns += [TextColumn(f"{label} {{task.fields[{key}]}}") for key, label in fields.items()]
        columns.append(TimeRemainingColumn(elapsed_when_finished=True))
        self.progress = Progress(*columns, transient=transient, disable=disable)
        self.task = self.progress.add_task(description, total=total, completed=completed, **dict.fromkeys(fields, "-"))
        self.progress.start()
        self.last_update = 0.0

    def update(self, completed: int, force: bool = False, **fields: Any) -> None:
        """Show ``completed`` and the ``fields`` given (a float with one decimal, None as "-"); skipped when the
        last update was under 0.1 s ago, unless ``force``."""
        now = time.perf_counter()
        if not force and now - self.last_update < REFRESH_SECONDS:
            return
        self.last_update = now
        self.progress.update(self.task, completed=completed, **{k: _show(v) for k, v in fields.items()})

    def due(self) -> bool:
        """Whether an update now would redraw (so a caller computes its fields only then)."""
        return time.perf_counter() - self.last_update >= REFRESH_SECONDS

    def advance(self, count: int = 1) -> None:
        """``count`` more items finished (a sweep's runs): every call shows, there is no rate limit."""
        self.progress.advance(self.task, count)

    def close(self) -> None:
        self.progress.stop()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):  # numpy floats too
        return f"{value:.1f}"
    return str(value)
