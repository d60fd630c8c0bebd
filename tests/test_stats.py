"""Known-answer tests for the statistics, against published tables and hand-worked examples."""

import math

import pandas as pd
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
    assert metrics.fmt("sessions_delivered_share", 0.875) == "88%"
    assert metrics.INCIDENT_RATE.format(1234.4) == "1,234"
    assert metrics.fmt("mean_survey_change", float("nan")) == "–"


# --- XmR (Making Data Count) -----------------------------------------------------------------


def test_xmr_limits_hand_worked():
    # mean = 91 / 8 = 11.375; moving ranges 2,1,2,1,1,1,2 -> mean 10/7; limits 11.375 ± 2.66 × 1.428571
    chart = stats.xmr([10, 12, 11, 13, 12, 11, 10, 12])
    assert chart.mean[0] == pytest.approx(11.375)
    assert chart.upper[0] == pytest.approx(15.175)
    assert chart.lower[0] == pytest.approx(7.575)
    assert not any(chart.special_cause)


def test_point_outside_limits_and_run_below_the_mean():
    # nine points alternating 5 and 6, then 20: mean 69/10 = 6.9; moving ranges eight 1s and 15,
    # average 23/9 = 2.556; 15 >= 3.267 x 2.556 is screened out, so the average is 1 and the
    # limits 6.9 ± 2.66. The 20 is outside; the nine points below the mean are a run.
    chart = stats.xmr([5, 6, 5, 6, 5, 6, 5, 6, 5, 20])
    assert chart.upper[0] == pytest.approx(6.9 + 2.66)
    assert chart.outside_limits == [False] * 9 + [True]
    assert chart.run == [True] * 9 + [False]
    assert chart.signals() == ["improvement"] * 9 + ["concern"]
    assert chart.signals(lower_is_better=False)[-1] == "improvement"


def test_large_moving_ranges_are_screened_out_of_the_limits():
    # moving ranges 2, 2, 2, 2, 30: average 7.6; 30 >= 3.267 x 7.6 = 24.8 is left out, so the
    # average is 2 and the half-width 5.32 (NHSRplotthedots, screen_outliers = TRUE by default).
    chart = stats.xmr([10, 12, 10, 12, 10, 40])
    assert chart.mean[0] == pytest.approx(94 / 6)
    assert chart.upper[0] - chart.mean[0] == pytest.approx(2.66 * 2)


def test_a_point_on_the_mean_breaks_a_run():
    assert stats._runs([1, 1, 1, 0, 1, 1, 1, 1], 7) == [False] * 8
    assert stats._runs([-1] * 7 + [1], 7) == [True] * 7 + [False]
    assert stats._runs([-1] * 6 + [1], 7) == [False] * 7


def test_seven_rising_points_are_a_trend_and_a_tie_breaks_it():
    rising = stats.xmr([1, 2, 3, 4, 5, 6, 7, 3, 3])
    assert rising.trend == [True] * 7 + [False, False]
    assert rising.trend_direction[:7] == [1] * 7
    tied = stats.xmr([1, 2, 3, 3, 4, 5, 6, 7])
    assert not any(tied.trend)
    falling = stats.xmr([9, 8, 7, 6, 5, 4, 3, 6, 6, 6])
    assert falling.trend[:7] == [True] * 7
    # A falling trend in something where lower is better is an improvement.
    assert falling.signals()[3] == "improvement"


def test_two_of_three_needs_all_three_points_on_one_side_of_the_mean():
    # mean 265/23 = 11.5217; mean MR 55/22 = 2.5; UCL 18.17; two-thirds zone above 15.955. The 11
    # between the two 17s is below the mean, so the window does not count (issue #143 upstream).
    chart = stats.xmr([10, 12] * 10 + [17, 11, 17])
    assert chart.upper[0] == pytest.approx(11.521739 + 6.65, abs=1e-5)
    assert chart.outside_limits[-3:] == [False, False, False]
    assert not any(chart.two_of_three)
    # with the middle point above the mean too, the two near the limit are flagged
    chart = stats.xmr([10, 12] * 10 + [17, 12, 17])
    assert chart.two_of_three[-3:] == [True, False, True]


# NHSRplotthedots' own cases (tests/testthat/test-ptd_calculate_point_type.R): close to a limit,
# side of the mean, and the points ptd_part_of_two_in_three flags.
@pytest.mark.parametrize("close, side, flagged", [
    ([1, 0, 1], [1, 1, 1], [1, 0, 1]),
    ([0, 1, 1], [1, 1, 1], [0, 1, 1]),
    ([1, 1, 0], [1, 1, 1], [1, 1, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 0, 1, 0, 0]),
    ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 0, 1, 1, 0, 0, 0]),
    ([1, 0, 0, 1], [1] * 4, [0, 0, 0, 0]),
    ([1, 0, 0, 1, 1], [1] * 5, [0, 0, 0, 1, 1]),
    # points on opposite sides of the mean
    ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
    ([0, 1, 1], [1, -1, 1], [0, 0, 0]),
    ([1, 1, 0], [1, -1, 1], [0, 0, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], [0] * 7),
    ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], [0] * 7),
    ([], [], []),
])
def test_two_in_three_matches_nhsrplotthedots(close, side, flagged):
    assert stats.two_in_three(close, side) == [bool(f) for f in flagged]


def test_the_first_rule_a_point_meets_decides_its_signal_as_nhsrplotthedots_does():
    """Upstream's ptd_special_cause_type case: y = 1..8, above the mean for the first four; a trend
    (increasing) on points 1-2, a run on 3-4, 2-in-3 on 5, outside the limits on 6-7. Expected
    types there: trend increasing x2, 7 points above x2, 2 in 3 below, below LCL x2, common cause."""
    chart = stats.XmR(
        values=[1, 2, 3, 4, 5, 6, 7, 8], mean=[0] * 4 + [9] * 4, upper=[20] * 8, lower=[-20] * 8,
        outside_limits=[False] * 5 + [True, True, False], run=[False, False, True, True] + [False] * 4,
        trend=[True, True] + [False] * 6, two_of_three=[False] * 4 + [True] + [False] * 3,
        trend_direction=[1, 1] + [0] * 6,
    )
    assert chart.signals() == ["concern"] * 4 + ["improvement"] * 3 + ["common cause"]
    assert chart.signals(lower_is_better=False) == ["improvement"] * 4 + ["concern"] * 3 + ["common cause"]


def test_a_falling_trend_above_the_mean_is_improvement_where_lower_is_better():
    """Part of a trend and of a run above the mean: the trend decides, by its slope."""
    chart = stats.XmR(values=[9, 8, 7, 6, 5, 4, 3], mean=[1] * 7, upper=[20] * 7, lower=[-20] * 7,
                      outside_limits=[False] * 7, run=[True] * 7, trend=[True] * 7, two_of_three=[False] * 7,
                      trend_direction=[-1] * 7)
    assert chart.signals() == ["improvement"] * 7


def test_rebasing_recalculates_limits_per_segment():
    values = [10, 12] * 6 + [20, 22] * 6
    single = stats.xmr(values)
    rebased = stats.xmr(values, rebase_at=[12])
    assert rebased.mean[0] == pytest.approx(11) and rebased.mean[-1] == pytest.approx(21)
    assert rebased.upper[0] == pytest.approx(11 + 2.66 * 2)
    assert any(single.special_cause) and not any(rebased.special_cause)


# --- Funnel plots ----------------------------------------------------------------------------


def test_poisson_funnel_limit_interpolates_the_exact_quantile():
    # E = 10: the 97.5% quantile is 17; P(X<=16) = 0.972958, P(X<=17) = 0.985722 (scipy.stats.poisson)
    # alpha = (0.985722 - 0.975) / (0.985722 - 0.972958) = 0.840; limit = 17 - 0.840 = 16.160
    assert stats.poisson_funnel_limit(10, 0.975) == pytest.approx(16.160, abs=1e-3)
    assert stats.poisson_funnel_limit(10, 0.025) == pytest.approx(3.775, abs=1e-3)


def test_funnel_limits_approach_the_normal_for_large_counts():
    low, high = stats.funnel_limits(reference_rate=500, exposure=20000, level=0.95)
    expected = 10000
    half = 1.959964 * expected ** 0.5
    assert high == pytest.approx((expected + half) / 20, rel=2e-3)
    assert low == pytest.approx((expected - half) / 20, rel=2e-3)


def test_funnel_narrows_with_exposure():
    narrow = stats.funnel_limits(400, 5000, 0.998)
    wide = stats.funnel_limits(400, 500, 0.998)
    assert wide[0] < narrow[0] < 400 < narrow[1] < wide[1]


# --- Difference in differences of rates ------------------------------------------------------


def test_ratio_of_rate_changes_worked_example():
    # Programme wing 100 -> 60 over 50 prisoner-years each (×0.6); other wings 200 -> 190 (×0.95).
    # Ratio 0.6 / 0.95 = 0.631579; se(log) = √(1/100 + 1/60 + 1/200 + 1/190) = 0.192171;
    # 95% CI 0.631579 × exp(∓1.959964 × 0.192171) = 0.43336 to 0.92046.
    result = stats.ratio_of_rate_changes((100, 50), (60, 50), (200, 100), (190, 100))
    assert result.programme_change == pytest.approx(0.6)
    assert result.comparison_change == pytest.approx(0.95)
    assert result.ratio == pytest.approx(0.631579, abs=1e-6)
    assert result.lower == pytest.approx(0.43336, abs=1e-4)
    assert result.upper == pytest.approx(0.92046, abs=1e-4)
    assert not result.corrected


def test_ratio_of_rate_changes_with_a_zero_count_is_corrected():
    result = stats.ratio_of_rate_changes((4, 10), (0, 10), (50, 100), (50, 100))
    assert result.corrected and result.ratio == pytest.approx(0.5 / 4.5)
    assert math.isnan(stats.ratio_of_rate_changes((4, 0), (0, 10), (50, 100), (50, 100)).ratio)


def test_cohens_dz_worked_example():
    # Changes 1, 2, 3, 4: mean 2.5, SD √(5/3) = 1.290994; d_z = 2.5 / 1.290994 = 1.936492.
    assert stats.cohens_dz(2.5, (5 / 3) ** 0.5) == pytest.approx(1.936492, abs=1e-6)
    assert math.isnan(stats.cohens_dz(0.4, 0.0))


@pytest.mark.parametrize("n, shown", [
    (0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (7, "5"), (8, "10"), (12, "10"), (13, "15"), (1234, "1,235"), (None, "–"),
])
def test_counts_are_hidden_under_5_and_rounded_to_the_nearest_5(n, shown):
    assert disclosure.shown_count(n) == shown


@pytest.mark.parametrize("part, whole, ok", [(61, 75, True), (3, 75, False), (73, 75, False), (2, 4, False), (0, 10, True), (10, 10, True)])
def test_a_share_never_gives_back_a_suppressed_count(part, whole, ok):
    assert disclosure.share_is_reportable(part, whole) is ok


def test_every_shown_count_differs_from_another_by_a_multiple_of_k():
    """Any two views' counts, whatever they cover, never differ by 1 to k-1."""
    for k in (5, 10):
        shown = {disclosure.rounded(n, k) for n in range(0, 500)} - {None}
        assert all(value % k == 0 for value in shown)


@pytest.mark.parametrize("size", [2, 3])
def test_no_hidden_part_can_be_worked_out_from_its_total_and_the_other_parts(size):
    """Brute force over small tables of two and three parts and their total: among every table that
    shows the same cells, a hidden part always has more than one possible value."""
    import itertools

    def cells(parts):
        shown = disclosure.protect(dict(enumerate(parts)), ("total", sum(parts)))
        return tuple(shown.values())

    values = range(0, 40 if size == 2 else 18)
    seen: dict[tuple, list[tuple]] = {}
    for parts in itertools.product(values, repeat=size):
        seen.setdefault(cells(parts), []).append(parts)
    for parts in itertools.product(range(0, 30 if size == 2 else 14), repeat=size):
        same = seen[cells(parts)]
        for i, part in enumerate(parts):
            if 0 < part < 5:
                assert len({other[i] for other in same}) > 1, (parts, cells(parts))


def test_a_total_with_a_hidden_part_is_shown_as_hidden_not_as_a_small_number():
    assert disclosure.protect({"a": 4, "b": 4}, ("all", 8)) == {"a": "<5", "b": "<5", "all": "hidden"}
    assert disclosure.protect({"a": 3, "b": 0}, ("all", 3)) == {"a": "<5", "b": "0", "all": "hidden"}
    assert disclosure.protect({"a": 3, "b": 9}, ("all", 12)) == {"a": "<5", "b": "10", "all": "hidden"}
    assert disclosure.protect({"a": 8, "b": 9}, ("all", 17)) == {"a": "10", "b": "10", "all": "15"}


def test_protect_formats_and_threshold_is_configurable(monkeypatch):
    # each cell rounded on its own: the 10 is shown as 10, not hidden to protect the 3
    assert disclosure.protect({"prisoners": 3, "staff": 10}, ("all", 13)) == {"prisoners": "<5", "staff": "10", "all": "hidden"}
    assert disclosure.protect({"prisoners": 3, "staff": 10}, ("all", 13), enabled=False) == {"prisoners": "3", "staff": "10", "all": "13"}
    assert disclosure.protect({"a": 7, "b": 14}, None, threshold=10) == {"a": "<10", "b": "10"}
    shown, total = disclosure.protect_column(pd.Series([40, 2, 7, 0]))
    assert list(shown) == ["40", "<5", "5", "0"] and total == "hidden"
    monkeypatch.setenv("PRISON_DASHBOARD_SMALL_COUNT", "10")
    assert disclosure.configured_threshold() == 10
    monkeypatch.setenv("PRISON_DASHBOARD_SMALL_COUNT", "zero")
    assert disclosure.configured_threshold() == 5


def test_rate_ratio_matches_r_poisson_test():
    """R's own example (?poisson.test, eba1977): poisson.test(c(11, 6+8+7), c(800, 1083+1050+878))
    gives rate ratio 1.971488, 95% CI 0.8584264 to 4.2772659."""
    result = stats.rate_ratio(11, 800, 6 + 8 + 7, 1083 + 1050 + 878)
    assert result.value == pytest.approx(1.971488, abs=1e-6)
    assert result.lower == pytest.approx(0.8584264, abs=1e-7)
    assert result.upper == pytest.approx(4.2772659, abs=1e-7)


def test_rate_ratio_edges():
    assert math.isnan(stats.rate_ratio(0, 10, 0, 10).value)
    none_before = stats.rate_ratio(5, 10, 0, 10)
    assert none_before.value == math.inf and none_before.upper == math.inf and none_before.lower > 0
    assert stats.rate_ratio(0, 10, 5, 10).lower == 0


def test_distribution_functions_are_scipy_stats_own_to_the_last_bit():
    """dashboard/stats.py takes its quantiles and tails from scipy.special with scipy.stats's own
    formulas (importing scipy.stats cost a fresh process 0.6 s before its first page): every one gives
    exactly what scipy.stats gives, over the values the pages use."""
    import numpy as np
    from scipy import special
    from scipy import stats as scipy_stats

    counts, alpha = np.arange(0, 3000, dtype=float), 1 - 0.95  # the level as the function turns it into tails
    lower, upper = stats.poisson_rate_intervals(counts, np.full_like(counts, 10.0), per=10.0)[1:]
    assert np.array_equal(lower, np.where(counts == 0, 0.0, scipy_stats.chi2.ppf(alpha / 2, np.maximum(2 * counts, 1e-300)) / 2))
    assert np.array_equal(upper, scipy_stats.chi2.ppf(1 - alpha / 2, 2 * counts + 2) / 2)
    for n in (2, 3, 10, 57, 400):
        assert stats.mean_interval(n, 0.5, 1.2).upper == 0.5 + scipy_stats.t.ppf(0.975, n - 1) * 1.2 / math.sqrt(n)
    rng = np.random.default_rng(7)
    expected = np.concatenate([rng.random(3000) * 500, [1e-3, 0.5, 1.0, 2.0]])
    for p in (0.001, 0.00135, 0.025, 0.975, 0.99865, 0.999):
        r = scipy_stats.poisson.ppf(p, expected)
        assert np.array_equal(stats._poisson_ppf(p, expected), r)
        assert np.array_equal(stats._poisson_cdf(r - 1, expected), scipy_stats.poisson.cdf(r - 1, expected))
    for _ in range(2000):
        x = int(rng.integers(0, 400))
        n = x + int(rng.integers(0, 400))
        if n == 0:
            continue
        ratio = stats.rate_ratio(x, 100.0, n - x, 100.0)
        low = 0.0 if x == 0 else scipy_stats.beta.ppf(alpha / 2, x, n - x + 1)
        high = 1.0 if x == n else scipy_stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
        assert ratio.lower == (low / (1 - low) if low < 1 else math.inf)
        assert ratio.upper == (math.inf if high >= 1 else high / (1 - high))
    q = rng.random(500)
    assert np.array_equal(special.ndtri(q), scipy_stats.norm.ppf(q)) and stats.normal_quantile(0.975) == scipy_stats.norm.ppf(0.975)
    assert stats.power_prop_test(50, 0.3, 0.5) == scipy_stats.norm.cdf(
        (math.sqrt(50) * 0.2 - scipy_stats.norm.ppf(0.975) * math.sqrt(0.8 * 1.2 / 2)) / math.sqrt(0.3 * 0.7 + 0.5 * 0.5))
    x, df = rng.random(500) * 80, rng.integers(1, 200, 500)
    assert np.array_equal(special.chdtrc(df, x), scipy_stats.chi2.sf(x, df))
    e = np.array([0.5, 3.0, 40.0, 900.0])
    low, high = stats.funnel_limits(100.0, e * 10, 0.998, per=1000.0)
    assert np.all(np.isfinite(low)) and np.all(high > low)


def test_the_first_page_does_not_import_scipy_stats():
    """A fresh process's first page (the Overview) needs no scipy.stats: its import is most of what a
    restart would otherwise add before the first page."""
    import subprocess
    import sys
    from pathlib import Path

    project = Path(__file__).resolve().parent.parent
    script = ("import sys; from streamlit.testing.v1 import AppTest; "
              f"at = AppTest.from_file({str(project / 'app.py')!r}, default_timeout=120).run(); "
              "assert not at.exception, at.exception; print('scipy.stats' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
