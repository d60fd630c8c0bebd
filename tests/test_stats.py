"""Known-answer tests for the statistics, against published tables and hand-worked examples."""

import math

import pytest

from dashboard import disclosure, metrics, stats


@pytest.mark.parametrize(
    "count, lower, upper",
    [
        # Exact Poisson 95% limits for an observed count (Garwood), as tabled e.g. in Ulm (1990).
        (0, 0.0, 3.6889),
        (1, 0.0253, 5.5716),
        (10, 4.7954, 18.3904),
        (100, 81.3640, 121.6268),
    ],
)
def test_exact_poisson_interval_matches_tables(count, lower, upper):
    estimate = stats.poisson_rate_interval(count, exposure=1000.0, per=1000.0)
    assert estimate.value == count
    assert estimate.lower == pytest.approx(lower, abs=1e-3)
    assert estimate.upper == pytest.approx(upper, abs=1e-3)


def test_rate_scales_with_exposure():
    # 45 incidents over 150 prisoner-years = 300 per 1,000 per year.
    estimate = stats.poisson_rate_interval(45, exposure=150.0)
    assert estimate.value == pytest.approx(300.0)
    assert estimate.lower < 300 < estimate.upper


def test_rate_without_exposure_is_not_a_number():
    assert math.isnan(stats.poisson_rate_interval(3, 0).value)


def test_paired_mean_interval_worked_example():
    # n = 10 differences, mean 1.0, SD 2.0: t(0.975, 9) = 2.262157, half-width = 2.262157 × 2 / √10 = 1.430714.
    estimate = stats.mean_interval(10, 1.0, 2.0)
    assert estimate.lower == pytest.approx(1.0 - 1.430714, abs=1e-6)
    assert estimate.upper == pytest.approx(1.0 + 1.430714, abs=1e-6)


def test_paired_interval_needs_two_pairs():
    assert math.isnan(stats.mean_interval(1, 0.5, float("nan")).lower)


def test_incident_rate_formula():
    assert metrics.incident_rate(30, 60.0) == pytest.approx(500.0)
    assert math.isnan(metrics.incident_rate(3, 0))


@pytest.mark.parametrize("n, shown", [(None, False), (0, False), (1, False), (4, False), (5, True), (120, True)])
def test_small_numbers_are_not_reported(n, shown):
    assert disclosure.is_reportable(n) is shown


def test_metric_formats():
    assert metrics.SESSIONS_DELIVERED_SHARE.format(0.875) == "88%"
    assert metrics.INCIDENT_RATE.format(1234.4) == "1,234"
    assert metrics.MEAN_SURVEY_CHANGE.format(float("nan")) == "–"
