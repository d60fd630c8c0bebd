"""What the wing comparison could detect: the smallest ratio of changes found with 80% power at the 5%
level, and the cohort-months a 20% reduction needs. Checked against statsmodels' power solver,
Bloom's published multipliers, a simulation of the test itself, and the pooled estimate recomputed
over more cohorts."""

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower

from dashboard import analysis, stats


@pytest.mark.parametrize("power, alpha", [(0.8, 0.05), (0.9, 0.05), (0.8, 0.01), (0.95, 0.1)])
def test_the_multiplier_is_what_statsmodels_solves_for(power, alpha):
    # a one-sample z-test with one observation of unit SD: the effect it detects is the multiplier
    effect = NormalIndPower().solve_power(effect_size=None, nobs1=1, alpha=alpha, power=power, ratio=0)
    assert stats.detectable_multiplier(power, alpha) == pytest.approx(effect, abs=1e-4)


@pytest.mark.parametrize("power, multiplier", [(0.8, 2.80), (0.9, 3.24)])
def test_the_multiplier_matches_blooms_published_table(power, multiplier):
    # Bloom (1995), "Minimum detectable effects", Evaluation Review 19(5): two-tailed tests at 0.05
    assert round(stats.detectable_multiplier(power, 0.05), 2) == multiplier


def _se(before, after, comparison_before, comparison_after):
    return math.sqrt(1 / before + 1 / after + 1 / comparison_before + 1 / comparison_after)


def test_a_true_ratio_at_the_smallest_detectable_is_found_80_percent_of_the_time():
    # one cohort: 300 incidents before on its wing, 300 before and 300 after on the comparison wings;
    # the ratio is the fixed point where the standard error at that ratio's expected counts gives it back
    ratio = 0.8
    for _ in range(50):
        ratio = stats.smallest_detectable_ratio(_se(300, 300 * ratio, 300, 300))
    assert 0.6 < ratio < 0.85
    rng = np.random.default_rng(20261124)
    a, b = rng.poisson(300, 40_000), rng.poisson(300 * ratio, 40_000)
    c, d = rng.poisson(300, 40_000), rng.poisson(300, 40_000)
    log_ratio = np.log(b / a) - np.log(d / c)
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    found = np.abs(log_ratio / se) > stats.normal_quantile(0.975)
    assert found.mean() == pytest.approx(0.80, abs=0.01)


def _identical_cohorts(n: int, se: float) -> pd.DataFrame:
    return pd.DataFrame({"cohort_id": [f"c{i}" for i in range(n)], "ratio": [0.9] * n, "ratio_low": [0.9 * math.exp(-1.96 * se)] * n,
                         "ratio_high": [0.9 * math.exp(1.96 * se)] * n, "log_ratio_se": [se] * n, "note": [""] * n})


def test_the_cohort_months_needed_do_detect_a_fifth_when_pooled():
    window, se = 6, 0.35
    view = analysis.ProgrammeView(table := _identical_cohorts(4, se), analysis.pooled(table), pd.DataFrame())
    found = analysis.programme_detectable(view, window)
    assert found.cohort_months == 24
    assert found.ratio == pytest.approx(math.exp(-stats.detectable_multiplier() * se / 2))  # 4 alike: SE halves
    # pool as many cohorts like these as the answer says, and the comparison detects a 20% reduction
    enough = math.ceil(found.needed_for_fifth / window)
    more = analysis.ProgrammeView(table := _identical_cohorts(enough, se), analysis.pooled(table), pd.DataFrame())
    assert analysis.programme_detectable(more, window).ratio >= 0.8
    fewer = analysis.ProgrammeView(table := _identical_cohorts(enough - 1, se), analysis.pooled(table), pd.DataFrame())
    assert analysis.programme_detectable(fewer, window).ratio < 0.8
    assert found.more_needed == math.ceil(found.needed_for_fifth) - 24


def test_the_sentence_says_what_more_is_needed_or_that_it_is_enough():
    few = analysis.detectable_sentence(analysis.Detectable(0.62, 24, 80.4), 6)
    assert "0.62 or lower (a fall of 38% or more" in few
    assert "The 24 cohort-months compared" in few and "about 57 more cohort-months (10 more cohorts like these)" in few
    many = analysis.detectable_sentence(analysis.Detectable(0.85, 120, 80.4), 6)
    assert "are enough to detect a 20% reduction" in many and "more cohort" not in many
    assert analysis.detectable_sentence(None, 6) == ""


def test_no_pooled_estimate_detects_nothing():
    empty = analysis.ProgrammeView(pd.DataFrame(columns=["cohort_id", "note"]), None, pd.DataFrame())
    assert analysis.programme_detectable(empty, 6) is None
    assert math.isnan(stats.smallest_detectable_ratio(0.0)) and math.isnan(stats.units_needed(10, 0.2, 1.0))
