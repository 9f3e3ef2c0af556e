"""Statistics for comparing runs, as recent deep-RL papers report them (Agarwal et al. 2021, "Deep RL at
the edge of the statistical precipice"): point estimates with stratified percentile-bootstrap confidence
intervals, the interquartile mean, the probability of improvement and performance profiles.

With a handful of seeds per configuration (the usual 3-10) a mean alone says little, and one diverged seed
moves it a lot; the IQM (the mean of the middle half of the runs) is nearly as efficient and far less
sensitive to such outliers. Every computation is scipy's; this module only chooses the statistic, holds the
seed of the resampling fixed (the same runs always give the same interval) and handles the degenerate cases
(one run, identical values) that scipy refuses or warns about. The one exception, ``area_under_curve``, is
not a statistic scipy has.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000

# scipy.stats is imported where a statistic is computed, not with this module: importing it takes about
# 0.9 s, which every `actorcritic train` paid at start-up (plots import this module) and never used.


@dataclass(frozen=True)
class Estimate:
    """A point estimate (a mean, an IQM, a probability) and its confidence interval [low, high]."""

    value: float
    low: float
    high: float

    def __format__(self, spec: str) -> str:
        """``f"{e:.2f}"`` -> ``0.72 [0.40, 1.00]``; plain ``str(e)`` uses one decimal, as returns read."""
        spec = spec or ".1f"
        return f"{self.value:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"

    def __str__(self) -> str:
        return format(self)


@dataclass(frozen=True)
class Profile:
    """A performance profile: for each threshold in ``taus``, the fraction of runs that score above it
    (``fraction``) and its confidence band [``low``, ``high``]."""

    taus: np.ndarray
    fraction: np.ndarray
    low: np.ndarray
    high: np.ndarray


def iqm(values: Sequence[float] | np.ndarray, axis: int | None = None) -> float | np.ndarray:
    """The interquartile mean: the mean of the values left after cutting the lowest and highest 25%
    (``scipy.stats.trim_mean``, as rliable computes it); over all values, or along ``axis``."""
    from scipy.stats import trim_mean

    return trim_mean(values, 0.25, axis=axis)


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[..., float | np.ndarray] = np.mean,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Estimate:
    """``statistic`` of ``values`` (np.mean, or ``iqm``; any function of an array and ``axis``) and its
    percentile-bootstrap confidence interval over the values (the seeds). One value, or identical ones,
    give the degenerate interval [v, v]."""
    return _estimate((values,), statistic, confidence, resamples, seed)


def aggregate_iqm(
    samples: Sequence[Sequence[float]], confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0
) -> Estimate:
    """The IQM of all runs of several tasks (or configurations) together, ``samples`` holding each one's
    runs, and its stratified-bootstrap confidence interval: each task's runs are resampled on their own,
    so every resample keeps every task with its number of runs (Agarwal et al. 2021, section 4)."""
    return _estimate(samples, lambda *xs, axis: iqm(np.concatenate(xs, axis=axis), axis=axis), confidence,
                     resamples, seed)  # fmt: skip


def probability_of_improvement(
    x: Sequence[float], y: Sequence[float], confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0
) -> Estimate:
    """P(X > Y) + P(X = Y) / 2 for a run X drawn from ``x`` and a run Y from ``y``: the Mann-Whitney U
    statistic of x over y divided by the number of pairs, with a bootstrap interval that resamples both
    samples. 1 when every run of x beats every run of y, 0.5 when neither tends to score higher."""
    return _estimate((x, y), _improvement, confidence, resamples, seed)


def average_probability_of_improvement(
    xs: Sequence[Sequence[float]],
    ys: Sequence[Sequence[float]],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Estimate:
    """The mean over tasks of ``probability_of_improvement(xs[i], ys[i])``: how often X's run beats Y's on
    a task chosen at random, with a stratified-bootstrap interval that resamples every task's runs of each
    side on their own (Agarwal et al. 2021's average probability of improvement)."""
    if len(xs) != len(ys) or not xs:
        raise ValueError("one sample of each side per task, and at least one task")
    tasks = len(xs)

    def average(*samples: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(
            [_improvement(x, y, axis) for x, y in zip(samples[:tasks], samples[tasks:], strict=True)], axis=0
        )

    return _estimate([*xs, *ys], average, confidence, resamples, seed)


def _improvement(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    # only the statistic is wanted: the asymptotic method skips the exact p-value's costly distribution
    from scipy.stats import mannwhitneyu

    u = mannwhitneyu(x, y, axis=axis, method="asymptotic").statistic
    return u / (x.shape[axis] * y.shape[axis])


def performance_profile(
    scores: Sequence[float],
    taus: Sequence[float],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Profile:
    """The fraction of runs whose score is above each threshold in ``taus``, with a bootstrap band over
    the runs: a whole distribution of results at a glance, read like a survival curve (one configuration's
    curve above another's everywhere dominates it stochastically)."""
    t = np.asarray(taus, dtype=np.float64)

    def above(x: np.ndarray, axis: int) -> np.ndarray:  # runs on the last axis, as _interval passes them
        # one value per tau, in front of the resample dimensions (the layout scipy expects)
        return np.moveaxis((x[..., None, :] > t[:, None]).mean(-1), -1, 0)

    fraction, low, high = _interval((scores,), above, confidence, resamples, seed)
    return Profile(t, fraction, low, high)


def _estimate(samples: Sequence[Sequence[float]], statistic: Callable[..., Any], *settings: Any) -> Estimate:
    """``_interval``'s result for a statistic of one number: confidence, resamples and seed pass through."""
    return Estimate(*(float(v) for v in _interval(samples, statistic, *settings)))


def _interval(
    samples: Sequence[Sequence[float]],
    statistic: Callable[..., float | np.ndarray],
    confidence: float,
    resamples: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``statistic(*samples, axis=-1)`` and its percentile-bootstrap interval, each sample resampled on its
    own (``paired=False``: stratified). A sample of one value or of identical values resamples to itself,
    so it is held fixed: scipy refuses samples of one value, and with nothing left to resample the
    interval is the point itself."""
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    if any(a.size == 0 for a in arrays):
        raise ValueError("no values")
    point = np.asarray(statistic(*arrays, axis=-1))
    varied = [i for i, a in enumerate(arrays) if np.ptp(a) > 0]
    if not varied:
        return point, point, point

    def resampled(*data: np.ndarray, axis: int) -> np.ndarray:
        # scipy hands over each resampled sample with its runs on the last axis (axis=-1), resamples before
        full = list(arrays)
        for i, d in zip(varied, data, strict=True):
            full[i] = d
        batch = data[0].shape[:-1]
        return statistic(*(np.broadcast_to(a, (*batch, a.shape[-1])) for a in full), axis=-1)

    from scipy.stats import bootstrap

    # scipy >= 1.15 seeds the resampling with rng=, older versions with random_state= (a Generator either way)
    seed_arg = "rng" if "rng" in inspect.signature(bootstrap).parameters else "random_state"
    # batch: resamples per vectorised call, so that a profile's runs x taus comparisons stay small in memory
    result = bootstrap(tuple(arrays[i] for i in varied), resampled, n_resamples=resamples, batch=1_000,
                       paired=False, vectorized=True, confidence_level=confidence, method="percentile",
                       **{seed_arg: np.random.default_rng(seed)})  # fmt: skip
    return point, np.asarray(result.confidence_interval.low), np.asarray(result.confidence_interval.high)


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
