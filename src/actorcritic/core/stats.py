"""Statistics for comparing runs: bootstrap confidence intervals, area under a learning curve.

With a handful of seeds per configuration (the usual 3-10), a mean alone says little: each number in a
sweep's summary comes with a 95% percentile-bootstrap confidence interval of the mean over seeds
(Efron & Tibshirani 1993; the practice Agarwal et al. 2021 recommend for deep RL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds and its confidence interval [low, high]."""

    mean: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.1f} [{self.low:.1f}, {self.high:.1f}]"


def bootstrap_ci(values: Sequence[float], confidence: float = 0.95, resamples: int = 10_000, seed: int = 0) -> Estimate:
    """The mean of ``values`` and its percentile-bootstrap confidence interval.

    Draw ``resamples`` samples of len(values) values with replacement, take each one's mean, and return
    the (1 - confidence)/2 and (1 + confidence)/2 quantiles of those means. One value gives [v, v].
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no values")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return Estimate(float(x.mean()), float(low), float(high), int(x.size))


def area_under_curve(steps: Sequence[float], returns: Sequence[float]) -> float:
    """The learning curve's mean height: its trapezoidal area divided by the steps it spans.

    This is the average evaluation return over training, in return units, so runs of different lengths
    compare; it rewards learning early as well as learning well. One point gives that point's return.
    """
    s, r = np.asarray(steps, dtype=np.float64), np.asarray(returns, dtype=np.float64)
    if s.size == 0:
        raise ValueError("empty learning curve")
    if s.size == 1 or s[-1] == s[0]:
        return float(r.mean())
    area = ((r[1:] + r[:-1]) / 2.0 * np.diff(s)).sum()  # the trapezoidal rule
    return float(area / (s[-1] - s[0]))
