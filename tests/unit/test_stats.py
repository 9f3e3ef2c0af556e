"""Sweep statistics (experiments/stats.py): the bootstrap CI against scipy's, the AUC by hand."""

import numpy as np
import pytest

from actorcritic.core.stats import area_under_curve, bootstrap_ci


@pytest.mark.parametrize("n", [3, 5, 10])
def test_bootstrap_ci_matches_scipy_percentile_bootstrap(n):
    scipy_stats = pytest.importorskip("scipy.stats")
    values = np.random.default_rng(n).normal(-300.0, 80.0, size=n)
    ours = bootstrap_ci(values, resamples=200_000, seed=1)
    ref = scipy_stats.bootstrap((values,), np.mean, confidence_level=0.95, n_resamples=200_000,
                                method="percentile", random_state=np.random.default_rng(2)).confidence_interval  # fmt: skip
    assert ours.mean == pytest.approx(values.mean())
    spread = values.std() / np.sqrt(n)  # the Monte Carlo error of both is a small fraction of this
    assert abs(ours.low - ref.low) < 0.03 * spread and abs(ours.high - ref.high) < 0.03 * spread
    assert ours.low < ours.mean < ours.high and ours.n == n


def test_bootstrap_ci_of_identical_values_and_of_one_value():
    assert (bootstrap_ci([5.0, 5.0, 5.0]).low, bootstrap_ci([5.0, 5.0, 5.0]).high) == (5.0, 5.0)
    one = bootstrap_ci([-120.0])
    assert (one.mean, one.low, one.high) == (-120.0, -120.0, -120.0)
    with pytest.raises(ValueError):
        bootstrap_ci([])


def test_bootstrap_ci_is_reproducible_and_narrows_with_more_seeds():
    rng = np.random.default_rng(0)
    few, many = rng.normal(0, 1, 4), rng.normal(0, 1, 64)
    assert bootstrap_ci(few) == bootstrap_ci(few)
    assert (bootstrap_ci(many).high - bootstrap_ci(many).low) < (bootstrap_ci(few).high - bootstrap_ci(few).low)


def test_area_under_curve_is_the_mean_height_by_the_trapezoidal_rule():
    # steps 0, 1000, 3000 with returns -1000, -500, -100: areas 1000 * -750 + 2000 * -300 = -1,350,000
    assert area_under_curve([0, 1000, 3000], [-1000, -500, -100]) == pytest.approx(-1_350_000 / 3000)
    assert area_under_curve([500], [-42.0]) == -42.0
    assert area_under_curve([0, 10], [3.0, 3.0]) == 3.0
