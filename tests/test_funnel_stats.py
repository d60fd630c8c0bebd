"""Funnel plots with additive random-effects over-dispersion (Spiegelhalter 2005, QSHC 14:347), as
the R package FunnelPlotR does them for standardised ratios O/E (data_type "SR").

Known answers come from FunnelPlotR 0.6.0, github.com/nhs-r-community/FunnelPlotR at commit
9020d4972873d863e10b8a16555975f0e322adfc: its tests/testthat files and its README. Where one of its
assertions cannot hold here, the test says why.
"""

import math

import numpy as np
import pytest
from scipy import stats as sps

from dashboard import stats

# FunnelPlotR's tests/testthat/test-funnel_plot.R and test-classes_methods.R: six groups a to f.
NUM = [100, 150, 180, 80, 120, 225]
DENOM = [108, 112, 165, 95, 100, 220]


# --- FunnelPlotR's published test cases ------------------------------------------------------


def test_phi_of_funnelplotr_six_group_example():
    # tests/testthat/test-classes_methods.R: funnel_plot(dt, num, denom, group) with its defaults
    # (SR, sr_method "SHMI", trim_by 0.1) -> expect_equal(round(phi.funnelplot(a), 6), 2.948033).
    od = stats.sr_overdispersion(NUM, DENOM)
    assert round(od.phi, 6) == 2.948033
    # With 6 groups the SHMI truncation keeps them all: groups floor(rank × 10 / 7) = 1, 2, 4, 5, 7, 8.
    assert od.n == 6 and not np.isnan(od.z_used).any()
    assert od.overdispersed  # phi > 1, so FunnelPlotR draws the adjusted limits
    # tau² by tau_func, worked by hand: w = 1/s² = E, Σw = 800, Σw² = 118,858:
    # (6 × 2.948033 - 5) / (800 - 118858/800) = 12.688198 / 651.4275 = 0.0194775.
    assert od.tau2 == pytest.approx(12.688198 / 651.4275, rel=1e-6)


@pytest.mark.parametrize(
    "level, lower, upper",
    [
        # tests/testthat/test-poisson_limits.R: calculate_limits(data.frame(number_seq = c(15, 20, 30)),
        # target = 1, draw_adjusted = FALSE); lower rounded to 7 places, upper to 6.
        (0.95, [0.5596924, 0.6108260, 0.6746958], [1.649348, 1.544419, 1.427562]),
        (0.998, [0.3862650, 0.4479107, 0.5289724], [2.082907, 1.902094, 1.702771]),
    ],
)
def test_unadjusted_limits_match_funnelplotr(level, lower, upper):
    low, high = stats.sr_exact_limits([15, 20, 30], level)
    assert list(np.round(low, 7)) == lower
    assert list(np.round(high, 6)) == upper


def test_adjusted_lower_limit_is_below_the_unadjusted_one():
    # tests/testthat/test-funnel_plot.R: expect_gt(b[[3]]$LCL95[5], a[[3]]$OD95LCL[5]): at group e
    # (E = 100) the unadjusted 95% lower limit is above the SHMI over-dispersed one.
    od = stats.sr_overdispersion(NUM, DENOM)
    unadjusted_low, _ = stats.sr_exact_limits(100, 0.95)
    adjusted_low, _ = stats.random_effects_funnel_limits(100, 0.95, od.tau2_for_limits)
    assert unadjusted_low > adjusted_low
    assert adjusted_low == pytest.approx(math.exp(-1.959964 * math.sqrt(1 / 100 + od.tau2)), rel=1e-6)


def test_cqc_limit_differs_from_funnelplotr_only_by_the_back_transform():
    # tests/testthat/test-funnel_plot.R: expect_lt(b[[3]]$OD95LCL[5], c[[3]]$OD95LCL[5]), b with
    # tau² = 0 (SHMI, multiplier 100), c sr_method "CQC", trim_by 0.05, multiplier 100.
    # FunnelPlotR's CQC limit is 1 - z sqrt(s² + tau²) *not squared* (calculate_limits.R; its
    # open issue #33); ours is that squared, so the assertion holds for the square root of ours only.
    b_low, _ = stats.random_effects_funnel_limits(100, 0.95, 0.0, "SHMI")
    od = stats.sr_overdispersion(NUM, DENOM, method="CQC", trim=0.05)
    c_low, _ = stats.random_effects_funnel_limits(100, 0.95, od.tau2_for_limits, "CQC")
    funnelplotr_c_low = 1 - 1.959964 * math.sqrt(1 / (4 * 100) + od.tau2)
    assert math.sqrt(c_low) == pytest.approx(funnelplotr_c_low, rel=1e-6)
    assert 100 * b_low < 100 * math.sqrt(c_low)  # FunnelPlotR's assertion, on its (square-root) scale
    assert c_low < b_low  # on the ratio scale the correctly back-transformed limit is the wider one


def test_shmi_limits_over_funnelplotr_limits_lookup_grid():
    # tests/testthat/test-build_limits_lookup.R: build_limits_lookup(10, 250, ..., draw_adjusted = TRUE,
    # tau2 = 0.02, "SR", "SHMI") on number_seq = seq(1.1, 250, length.out = 1000). The values are
    # FunnelPlotR's formula (calculate_limits.R) with its hard-coded 1.959964 and 3.090232.
    e = np.linspace(1.1, 250, 1000)
    for level, z in ((0.95, 1.959964), (0.998, 3.090232)):
        low, high = stats.random_effects_funnel_limits(e, level, 0.02)
        np.testing.assert_allclose(low, np.exp(-z * np.sqrt(1 / e + 0.02)), rtol=1e-6)
        np.testing.assert_allclose(high, np.exp(z * np.sqrt(1 / e + 0.02)), rtol=1e-6)


# The README's example: COUNT::medpar (1991 Arizona Medicare, 1,495 stays, 54 providers), length of
# stay against a Poisson GLM's prediction, los ~ hmo + died + age80 + factor(type), summed by
# provider. The data came from a copy of medpar.csv (github.com/eschirmacher/pmmfa, commit
# 6d9a68b6566f22d9f618d16e8cb1f6bf1542963c); the GLM was refitted with statsmodels, whose
# coefficients agree with those printed in the README to its 5 decimals (2.26875, -0.07637,
# -0.24574, -0.02141, 0.24921, 0.74869). E is rounded to 2 decimals, as FunnelPlotR's default
# SHMI_rounding = TRUE does. (provider, observed bed-days, expected bed-days)
MEDPAR = [
    (30001, 406, 523.70), (30002, 642, 612.98), (30003, 46, 53.79), (30006, 764, 763.72),
    (30007, 82, 120.94), (30008, 201, 250.19), (30009, 193, 155.49), (30010, 569, 484.71),
    (30011, 404, 362.22), (30012, 134, 188.93), (30013, 614, 554.38), (30014, 491, 616.74),
    (30016, 501, 360.15), (30017, 131, 245.61), (30018, 274, 263.56), (30019, 124, 154.66),
    (30022, 456, 475.02), (30023, 48, 38.93), (30024, 429, 445.10), (30025, 14, 28.80),
    (30030, 369, 347.54), (30033, 8, 7.56), (30035, 37, 73.21), (30036, 128, 118.11),
    (30037, 145, 273.34), (30038, 493, 449.79), (30043, 104, 172.38), (30044, 6, 19.20),
    (30055, 308, 321.86), (30059, 34, 36.56), (30060, 7, 19.96), (30061, 935, 851.72),
    (30062, 134, 198.94), (30064, 339, 302.39), (30065, 458, 410.16), (30067, 22, 45.87),
    (30068, 2, 9.67), (30069, 160, 212.34), (30073, 87, 38.92), (30078, 55, 31.74),
    (30080, 252, 285.64), (30083, 174, 186.66), (30084, 43, 33.98), (30085, 228, 255.65),
    (30086, 210, 242.03), (30087, 321, 279.48), (30088, 631, 619.26), (30089, 543, 626.13),
    (30092, 105, 145.67), (30093, 389, 413.86), (30094, 92, 111.26), (32000, 1012, 685.59),
    (32002, 283, 181.11), (32003, 95, 24.81),
]


def _outliers(ratio, low, high) -> int:
    # FunnelPlotR's outliers_func: a point on a limit is inside.
    return int(((ratio < low) | (ratio > high)).sum())


def test_medpar_readme_outlier_counts():
    observed = np.array([o for _, o, _ in MEDPAR], dtype=float)
    expected = np.array([e for _, _, e in MEDPAR])
    ratio = observed / expected
    assert len(MEDPAR) == 54  # README: "A funnel plot object with 54 points"

    # README: draw_unadjusted = TRUE, draw_adjusted = FALSE, limit = 99 -> "54 points of which 25
    # are outliers" (the 99.8% chi-square limits of calculate_limits.R).
    assert _outliers(ratio, *stats.sr_exact_limits(expected, 0.998)) == 25

    # README: draw_adjusted = TRUE, sr_method = "SHMI", limit = 99 -> "54 points of which 9 are
    # outliers. Plot is adjusted for overdispersion."
    od = stats.sr_overdispersion(observed, expected, "SHMI")
    assert od.overdispersed
    assert od.n == 44  # 5 providers truncated at each end: floor(rank × 10 / 55) is 0 or 9
    assert _outliers(ratio, *stats.random_effects_funnel_limits(expected, 0.998, od.tau2_for_limits)) == 9

    # phi and tau² are not printed by FunnelPlotR's README; these are this port's values (a
    # regression check, not a published number). Every point is at least 0.01 from every limit,
    # so the counts above do not hang on the GLM refit's last digits.
    assert od.phi == pytest.approx(8.53285, rel=1e-5)
    assert od.tau2 == pytest.approx(0.0284102, rel=1e-5)
    assert od.p_value < 1e-50


# --- The method, step by step ------------------------------------------------------------------


def test_zscores_on_each_scale():
    z, s = stats.sr_zscores([120, 80], [100, 100], "SHMI")
    np.testing.assert_allclose(z, [10 * math.log(1.2), 10 * math.log(0.8)])
    np.testing.assert_allclose(s, [0.1, 0.1])
    z, s = stats.sr_zscores([121, 81], [100, 100], "CQC")
    np.testing.assert_allclose(z, [2 * (11 - 10), 2 * (9 - 10)])  # 2 (sqrt(O) - sqrt(E))
    np.testing.assert_allclose(s, [0.05, 0.05])


def test_shmi_truncation_drops_a_tenth_at_each_end():
    # 20 units: groups floor(rank × 10 / 21); ranks 1-2 give 0 and ranks 19-20 give 9, so 4 go.
    e = np.full(20, 100.0)
    o = 100 * np.exp(np.linspace(-0.5, 0.5, 20))
    od = stats.sr_overdispersion(o, e, "SHMI")
    assert od.n == 16
    assert np.isnan(od.z_used[[0, 1, 18, 19]]).all() and not np.isnan(od.z_used[2:18]).any()
    assert od.phi == pytest.approx(np.mean(od.z[2:18] ** 2))
    assert od.tau2 == pytest.approx(max(0.0, (16 * od.phi - 15) / (1600 - 16 * 100**2 / 1600)))


def test_cqc_winsorises_at_type7_quantiles():
    # FunnelPlotR's winsorisation: R's quantile(type 7) at 0.05 and 0.95 for 6 z-scores sits a
    # quarter of the way between the two lowest (and the two highest) values.
    od = stats.sr_overdispersion(NUM, DENOM, "CQC", trim=0.05)
    z = np.sort(od.z)
    low, high = z[0] + 0.25 * (z[1] - z[0]), z[5] - 0.25 * (z[5] - z[4])
    np.testing.assert_allclose(np.sort(od.z_used), np.clip(z, low, high))
    assert od.n == 6
    w = 4 * np.array(DENOM, dtype=float)  # 1/s² with s = 1/(2 sqrt(E))
    assert od.tau2 == pytest.approx((6 * od.phi - 5) / (w.sum() - (w**2).sum() / w.sum()))


def test_chi_square_test_of_overdispersion():
    od = stats.sr_overdispersion(NUM, DENOM)
    assert od.statistic == pytest.approx(6 * od.phi)
    assert od.df == 5
    assert od.p_value == pytest.approx(sps.chi2.sf(6 * 2.948033, 5), rel=1e-5)
    assert od.p_value < 0.01


# --- Properties -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["SHMI", "CQC"])
def test_no_overdispersion_gives_zero_tau2_and_plain_normal_limits(method):
    expected = np.array([20.0, 50, 80, 120, 200, 300, 450, 600, 800, 1000, 1500, 2000])
    od = stats.sr_overdispersion(expected, expected, method)  # every unit exactly on target
    assert od.phi == 0 and od.tau2 == 0 and od.tau2_for_limits == 0 and not od.overdispersed
    assert od.p_value == pytest.approx(1.0)
    for level in (0.95, 0.998):
        z = sps.norm.ppf(1 - (1 - level) / 2)
        low, high = stats.random_effects_funnel_limits(expected, level, od.tau2_for_limits, method)
        if method == "SHMI":  # log scale: exp(± z / sqrt(E))
            np.testing.assert_allclose(low, np.exp(-z / np.sqrt(expected)))
            np.testing.assert_allclose(high, np.exp(z / np.sqrt(expected)))
        else:  # square-root scale: (1 ± z / (2 sqrt(E)))²
            np.testing.assert_allclose(low, (1 - z / (2 * np.sqrt(expected))) ** 2)
            np.testing.assert_allclose(high, (1 + z / (2 * np.sqrt(expected))) ** 2)


def test_poisson_data_are_not_flagged_as_overdispersed():
    rng = np.random.default_rng(20050)
    expected = rng.uniform(50, 2000, 200)
    observed = rng.poisson(expected)
    od = stats.sr_overdispersion(observed, expected, "SHMI")
    assert not od.overdispersed and od.tau2_for_limits == 0
    assert od.p_value > 0.5  # truncated z-scores: the chi-square test is conservative


def test_tau2_is_only_used_when_phi_exceeds_one():
    # CQC, no trimming, 10 units with z-scores whose mean square is 0.95: n phi = 9.5 > n - 1 = 9,
    # so tau_func gives tau² > 0, but FunnelPlotR draws unadjusted limits because phi <= 1.
    e = np.linspace(100, 1000, 10)
    z = np.sqrt(0.95) * np.array([1, -1] * 5)
    o = (np.sqrt(e) + z / 2) ** 2
    od = stats.sr_overdispersion(o, e, "CQC", trim=0)
    assert od.phi == pytest.approx(0.95)
    assert od.tau2 > 0 and not od.overdispersed and od.tau2_for_limits == 0


@pytest.mark.parametrize("method", ["SHMI", "CQC"])
def test_limits_widen_as_tau2_grows(method):
    expected = np.array([5.0, 30, 100, 1000, 10000])
    previous = None
    for tau2 in (0.0, 0.001, 0.01, 0.05, 0.2):
        low, high = stats.random_effects_funnel_limits(expected, 0.998, tau2, method)
        assert (low < 1).all() and (high > 1).all()
        if previous is not None:
            assert (high > previous[1]).all()
            assert ((low < previous[0]) | (previous[0] == 0)).all()
        previous = low, high
    # With tau² > 0 the funnel no longer closes to 1 as E grows: it tends to exp(± z tau) (SHMI).
    low, high = stats.random_effects_funnel_limits(1e12, 0.95, 0.01, "SHMI")
    assert high == pytest.approx(math.exp(sps.norm.ppf(0.975) * 0.1), rel=1e-5)
    assert low == pytest.approx(math.exp(-sps.norm.ppf(0.975) * 0.1), rel=1e-5)


def test_limits_narrow_with_expected_count():
    low, high = stats.random_effects_funnel_limits([10, 100, 1000], 0.95, 0.01)
    assert (np.diff(low) > 0).all() and (np.diff(high) < 0).all()


def test_cqc_lower_limit_stops_at_zero():
    low, high = stats.random_effects_funnel_limits(1.0, 0.998, 0.5, "CQC")
    assert low == 0.0 and high > 1


def test_zero_count_under_shmi_is_minus_infinity_and_truncated_like_funnelplotr():
    # FunnelPlotR takes log(0) = -Inf; with 10 or more units the rank-1 unit falls in group 0 and is
    # truncated, so a single zero never reaches phi.
    expected = np.linspace(20, 400, 12)
    observed = np.round(expected * np.array([1.0, 1.1, 0.9, 1.2, 0.8, 1.05, 0.95, 1.15, 0.85, 1.3, 0.7, 1.0]))
    observed[3] = 0
    od = stats.sr_overdispersion(observed, expected, "SHMI")
    assert od.z[3] == -math.inf and np.isnan(od.z_used[3])
    assert math.isfinite(od.phi) and math.isfinite(od.tau2)
    assert od.n == 10  # ranks 1 (the zero) and 12 truncated: floor(12 × 10 / 13) = 9


def test_zero_count_surviving_truncation_is_left_out():
    # With 6 units truncation drops nothing; FunnelPlotR would give phi = tau² = Inf. Here the zero
    # is left out of phi and tau² and they come from the other 5.
    observed = [0, 150, 180, 80, 120, 225]
    od = stats.sr_overdispersion(observed, DENOM, "SHMI")
    assert od.z[0] == -math.inf and od.n == 5
    rest = stats.sr_overdispersion(observed[1:], DENOM[1:], "SHMI")
    assert od.phi == pytest.approx(rest.phi) and od.tau2 == pytest.approx(rest.tau2)


def test_zero_count_under_cqc_is_finite():
    od = stats.sr_overdispersion([0, 150, 180, 80, 120, 225], DENOM, "CQC")
    assert od.z[0] == pytest.approx(-2 * math.sqrt(108)) and od.n == 6
    assert math.isfinite(od.phi)


def test_units_without_expected_count_are_left_out():
    od = stats.sr_overdispersion(NUM + [3], DENOM + [0], "SHMI")
    assert np.isnan(od.z[6]) and od.n == 6
    assert od.phi == pytest.approx(stats.sr_overdispersion(NUM, DENOM).phi)
    low, high = stats.random_effects_funnel_limits([0.0, 10.0], 0.95, 0.01)
    assert np.isnan(low[0]) and np.isnan(high[0]) and low[1] < 1 < high[1]


def test_scalar_and_array_inputs_and_bad_arguments():
    low, high = stats.random_effects_funnel_limits(100, 0.95, 0.01)
    assert isinstance(low, float) and isinstance(high, float)
    low, high = stats.sr_exact_limits(100, 0.95)
    assert isinstance(low, float) and low < 1 < high
    with pytest.raises(ValueError):
        stats.sr_overdispersion(NUM, DENOM, method="log")
    with pytest.raises(ValueError):
        stats.sr_overdispersion(NUM, DENOM, trim=0.5)


def test_rate_scale_limits_are_the_reference_rate_times_the_ratio_limits():
    # 400 incidents per 1,000 prisoner-years; 250 prisoner-years -> E = 100.
    low, high = stats.random_effects_rate_limits(400, np.array([250.0, 2500.0]), 0.95, tau2=0.02)
    ratio_low, ratio_high = stats.random_effects_funnel_limits(np.array([100.0, 1000.0]), 0.95, 0.02)
    np.testing.assert_allclose(low, 400 * ratio_low)
    np.testing.assert_allclose(high, 400 * ratio_high)


def test_existing_exact_poisson_funnel_is_unchanged():
    # The dashboard's own exact limits keep their values (also tested in test_stats.py).
    assert stats.poisson_funnel_limit(10, 0.975) == pytest.approx(16.160, abs=1e-3)
    low, high = stats.funnel_limits(400, 5000, 0.998)
    assert low < 400 < high
