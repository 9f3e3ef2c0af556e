"""Sweep statistics (core/stats.py), each against something independent of scipy: the IQM by sorting by
hand, bootstrap intervals against a plain numpy (stratified) bootstrap, the probability of improvement by
counting pairs, the profile by counting runs, the AUC by the trapezoidal rule worked out by hand."""

import warnings

import numpy as np
import pytest

from actorcritic.core.stats import (
    aggregate_iqm,
    area_under_curve,
    average_probability_of_improvement,
    bootstrap_ci,
    iqm,
    performance_profile,
    probability_of_improvement,
)


def reference_interval(samples, statistic, resamples=200_000, seed=7):
    """The 95% percentile-bootstrap interval, each sample resampled on its own, by hand."""
    rng = np.random.default_rng(seed)
    resampled = [np.asarray(s)[rng.integers(0, len(s), size=(resamples, len(s)))] for s in samples]
    return np.quantile(statistic(*resampled), [0.025, 0.975])


def middle_half_mean(x):
    """The IQM of rows whose length is divisible by 4: sort, drop a quarter at each end, average the rest."""
    x = np.sort(x, axis=-1)
    q = x.shape[-1] // 4
    return x[..., q : x.shape[-1] - q].mean(-1)


def test_iqm_is_the_mean_of_the_middle_half():
    x = np.array([100.0, -5.0, 3.0, 1.0, 2.0, 4.0, -1000.0, 0.0])  # sorted: -1000 -5 | 0 1 2 3 | 4 100
    assert iqm(x) == pytest.approx(1.5)
    rows = np.random.default_rng(0).normal(size=(6, 12))
    np.testing.assert_allclose(iqm(rows, axis=-1), middle_half_mean(rows))


@pytest.mark.parametrize("statistic", ["mean", "iqm"])
def test_bootstrap_ci_matches_a_plain_percentile_bootstrap(statistic):
    values = np.random.default_rng(3).normal(-300.0, 80.0, size=8)
    fn, ref_fn = (np.mean, lambda x: x.mean(-1)) if statistic == "mean" else (iqm, middle_half_mean)
    ours = bootstrap_ci(values, fn, resamples=100_000, seed=1)
    low, high = reference_interval([values], ref_fn)
    assert ours.value == pytest.approx(ref_fn(values))
    spread = values.std() / np.sqrt(values.size)  # the Monte Carlo error of both is a small fraction of this
    assert abs(ours.low - low) < 0.05 * spread and abs(ours.high - high) < 0.05 * spread
    assert ours.low < ours.value < ours.high


def test_one_value_and_identical_values_give_a_degenerate_interval_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for statistic in (np.mean, iqm):
            assert bootstrap_ci([-120.0], statistic) == bootstrap_ci([-120.0, -120.0, -120.0], statistic)
            one = bootstrap_ci([-120.0], statistic)
            assert (one.value, one.low, one.high) == (-120.0, -120.0, -120.0)
        assert aggregate_iqm([[5.0], [5.0, 5.0]]).low == 5.0
    with pytest.raises(ValueError):
        bootstrap_ci([])


def test_bootstrap_ci_is_reproducible_contains_the_estimate_and_narrows_with_more_seeds():
    rng = np.random.default_rng(0)
    few, many = rng.normal(0, 1, 5), rng.normal(0, 1, 80)
    for statistic in (np.mean, iqm):
        a, b = bootstrap_ci(few, statistic), bootstrap_ci(many, statistic)
        assert a == bootstrap_ci(few, statistic)
        assert a.low <= a.value <= a.high and b.low <= b.value <= b.high
        assert b.high - b.low < a.high - a.low


def test_aggregate_iqm_resamples_each_task_on_its_own():
    """Tasks on different scales: a stratified resample keeps four runs of each, so its interval matches the
    hand-written stratified bootstrap and is narrower than pooling the runs and resampling them together."""
    rng = np.random.default_rng(4)
    tasks = [rng.normal(0.0, 10.0, 4), rng.normal(1000.0, 10.0, 4), rng.normal(500.0, 10.0, 4)]
    ours = aggregate_iqm(tasks, resamples=100_000)
    low, high = reference_interval(tasks, lambda *xs: middle_half_mean(np.concatenate(xs, axis=-1)))
    assert ours.value == pytest.approx(iqm(np.concatenate(tasks)))
    assert abs(ours.low - low) < 2.0 and abs(ours.high - high) < 2.0  # the interval is about 16 wide
    pooled = bootstrap_ci(np.concatenate(tasks), iqm)
    assert ours.high - ours.low < (pooled.high - pooled.low) / 3
    one_run = aggregate_iqm([[3.0], [1.0, 2.0, 4.0, 5.0]])  # a task of one run is held, not refused
    assert one_run.value == pytest.approx(3.0) and one_run.low <= 3.0 <= one_run.high


def test_probability_of_improvement_counts_pairs():
    separated = probability_of_improvement([10.0, 11.0, 12.0], [1.0, 2.0, 3.0, 4.0])
    assert (separated.value, separated.low, separated.high) == (1.0, 1.0, 1.0)
    assert probability_of_improvement([1.0, 2.0, 3.0], [10.0, 11.0]).value == 0.0
    same = [-200.0, -150.0, -180.0, -120.0, -170.0]
    assert probability_of_improvement(same, same).value == 0.5
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 6, 7).astype(float), rng.integers(0, 6, 9).astype(float)  # with ties
    pairs = [(a > b) + 0.5 * (a == b) for a in x for b in y]
    poi = probability_of_improvement(x, y)
    assert poi.value == pytest.approx(np.mean(pairs)) and poi.low <= poi.value <= poi.high
    assert 0.0 <= poi.low < poi.high <= 1.0


def test_average_probability_of_improvement_averages_tasks_and_resamples_each_on_its_own():
    rng = np.random.default_rng(8)
    xs = [rng.normal(0.0, 1.0, 6), rng.normal(5.0, 1.0, 5)]
    ys = [rng.normal(0.5, 1.0, 7), rng.normal(4.0, 1.0, 6)]
    pair_rates = [np.mean([(a > b) + 0.5 * (a == b) for a in x for b in y]) for x, y in zip(xs, ys, strict=True)]
    average = average_probability_of_improvement(xs, ys)
    assert average.value == pytest.approx(np.mean(pair_rates))

    def by_hand(x0, x1, y0, y1):  # resampled [resamples, runs] arrays: count pairs per resample
        return np.mean([((x[:, :, None] > y[:, None, :]) + 0.5 * (x[:, :, None] == y[:, None, :])).mean((1, 2))
                        for x, y in ((x0, y0), (x1, y1))], axis=0)  # fmt: skip

    low, high = reference_interval([*xs, *ys], by_hand, resamples=20_000)
    assert average.low == pytest.approx(low, abs=0.02) and average.high == pytest.approx(high, abs=0.02)
    one = average_probability_of_improvement([[10.0, 11.0]], [[1.0, 2.0]])  # one task: its own probability
    assert (one.value, one.low, one.high) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        average_probability_of_improvement([[1.0, 2.0]], [])


def test_performance_profile_counts_runs_above_each_tau():
    scores = np.random.default_rng(6).normal(-300.0, 80.0, 10)
    taus = np.linspace(scores.min() - 1.0, scores.max(), 50)
    profile = performance_profile(scores, taus)
    np.testing.assert_allclose(profile.fraction, [(scores > t).mean() for t in taus])
    assert profile.fraction[0] == 1.0 and profile.fraction[-1] == 0.0  # strictly above: none above the best
    for curve in (profile.fraction, profile.low, profile.high):
        assert np.all(np.diff(curve) <= 0)  # non-increasing in tau
    assert np.all(profile.low <= profile.fraction) and np.all(profile.fraction <= profile.high)
    assert np.any(profile.low < profile.high)
    flat = performance_profile([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    assert list(flat.fraction) == list(flat.low) == list(flat.high) == [1.0, 0.0, 0.0]


def test_area_under_curve_is_the_mean_height_by_the_trapezoidal_rule():
    # steps 0, 1000, 3000 with returns -1000, -500, -100: areas 1000 * -750 + 2000 * -300 = -1,350,000
    assert area_under_curve([0, 1000, 3000], [-1000, -500, -100]) == pytest.approx(-1_350_000 / 3000)
    assert area_under_curve([500], [-42.0]) == -42.0
    assert area_under_curve([0, 10], [3.0, 3.0]) == 3.0
