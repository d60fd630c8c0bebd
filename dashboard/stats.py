"""Statistics used on the pages: plain functions, no Streamlit, tested against worked examples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    value: float
    lower: float
    upper: float


def poisson_rate_interval(count: int, exposure: float, per: float = 1000.0, level: float = 0.95) -> Estimate:
    """Rate count/exposure × per with the exact (Garwood) Poisson interval."""
    if exposure <= 0:
        return Estimate(math.nan, math.nan, math.nan)
    alpha = 1 - level
    lower = 0.0 if count == 0 else stats.chi2.ppf(alpha / 2, 2 * count) / 2
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    scale = per / exposure
    return Estimate(count * scale, lower * scale, upper * scale)


def mean_interval(n: int, mean: float, sd: float, level: float = 0.95) -> Estimate:
    """Mean with a Student t interval, from n, mean and sample SD (paired change: the SD of differences)."""
    if n < 2 or sd is None or math.isnan(sd):
        return Estimate(mean if n else math.nan, math.nan, math.nan)
    half = stats.t.ppf(1 - (1 - level) / 2, n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half)


# --- Statistical process control: XmR chart (NHS "Making Data Count") ---------------------

XMR_SCALE = 2.66  # 3 / d2 for moving ranges of two points (d2 = 1.128)
RUN_LENGTH = 7  # points in a row on one side of the mean
TREND_LENGTH = 7  # points in a row each rising or each falling


@dataclass(frozen=True)
class XmR:
    """An XmR chart: per point its segment's mean and limits and which special-cause rules it meets."""

    values: list[float]
    mean: list[float]
    upper: list[float]
    lower: list[float]
    outside_limits: list[bool]
    run: list[bool]
    trend: list[bool]
    two_of_three: list[bool]
    trend_direction: list[int]  # +1 in a rising trend, -1 in a falling one, 0 otherwise

    @property
    def special_cause(self) -> list[bool]:
        return [any(flags) for flags in zip(self.outside_limits, self.run, self.trend, self.two_of_three)]

    def direction(self, i: int) -> int:
        """+1 above the mean, -1 below, 0 on it."""
        return (self.values[i] > self.mean[i]) - (self.values[i] < self.mean[i])

    def signals(self, lower_is_better: bool = True) -> list[str]:
        """'improvement', 'concern' or 'common cause' for each point, as NHSRplotthedots classifies
        them: the first rule a point meets decides, in the order outside the limits (by side of the
        mean), a trend (by its direction, wherever it sits), 2 of 3 near a limit (by side), a run
        (by side)."""
        out = []
        for i in range(len(self.values)):
            if self.outside_limits[i] or not (self.trend[i] or self.two_of_three[i] or self.run[i]):
                way = self.direction(i) if self.outside_limits[i] else 0
            elif self.trend[i]:
                way = self.trend_direction[i]
            else:
                way = self.direction(i)
            if way == 0:
                out.append("common cause")
            else:
                out.append("improvement" if (way < 0) == lower_is_better else "concern")
        return out


MR_SCREEN = 3.267  # a moving range this many times the average or more is left out of the average


def _segment_limits(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the limits: 2.66 × the average moving range, the moving ranges of
    3.267 × the average or more screened out first (NHSRplotthedots' default, screen_outliers)."""
    mean = sum(values) / len(values)
    moving_ranges = [abs(b - a) for a, b in zip(values, values[1:])]
    if not moving_ranges:
        return mean, 0.0
    average = sum(moving_ranges) / len(moving_ranges)
    kept = [r for r in moving_ranges if r < MR_SCREEN * average]
    return mean, XMR_SCALE * (sum(kept) / len(kept) if kept else 0.0)


def two_in_three(close: list[int], side: list[int]) -> list[bool]:
    """The points flagged by "2 of 3": in 3 consecutive points all on the same side of the mean, at
    least 2 are close to a limit (beyond two-thirds of the way to it, not beyond it); the close ones
    are flagged. As NHSRplotthedots' ptd_two_in_three and ptd_part_of_two_in_three."""
    flagged = [False] * len(close)
    for i in range(len(close) - 2):
        window = range(i, i + 3)
        if sum(bool(close[j]) for j in window) >= 2 and abs(sum(side[j] for j in window)) == 3:
            for j in window:
                flagged[j] = flagged[j] or bool(close[j])
    return flagged


def _runs(flags_side: list[int], length: int) -> list[bool]:
    """Mark every point in a run of `length` or more consecutive equal non-zero sides."""
    marked = [False] * len(flags_side)
    start = 0
    for i in range(1, len(flags_side) + 1):
        if i == len(flags_side) or flags_side[i] != flags_side[start] or flags_side[i] == 0:
            if flags_side[start] != 0 and i - start >= length:
                marked[start:i] = [True] * (i - start)
            start = i
    return marked


def xmr(values: list[float], rebase_at: list[int] | None = None) -> XmR:
    """XmR chart with limits at mean ± 2.66 × mean moving range, recalculated from each rebase index.

    Rules (each evaluated within a segment): a point outside the limits; 7 or more in a row on
    one side of the mean (a point on the mean breaks the run); 7 or more in a row each rising or
    each falling (a repeated value breaks it); 2 of 3 consecutive points, all on one side of the
    mean, between two-thirds of the way to a limit and the limit (those points are flagged).
    Limits screen out large moving ranges (see `_segment_limits`)."""
    values = [float(v) for v in values]
    n = len(values)
    cuts = sorted({0, *[i for i in (rebase_at or []) if 0 < i < n], n})
    mean, upper, lower = [0.0] * n, [0.0] * n, [0.0] * n
    outside, run, trend, two_of_three = [False] * n, [False] * n, [False] * n, [False] * n
    trend_direction = [0] * n
    for start, end in zip(cuts, cuts[1:]):
        segment = values[start:end]
        m, half_width = _segment_limits(segment)
        for i in range(start, end):
            mean[i], upper[i], lower[i] = m, m + half_width, m - half_width
            outside[i] = values[i] > upper[i] or values[i] < lower[i]
        sides = [(v > m) - (v < m) for v in segment]
        for i, flag in enumerate(_runs(sides, RUN_LENGTH)):
            run[start + i] = flag
        steps = [(b > a) - (b < a) for a, b in zip(segment, segment[1:])]
        # A trend of 7 points is 6 steps in the same direction; mark the points, not the steps.
        step_runs = _runs(steps, TREND_LENGTH - 1)
        for i, flag in enumerate(step_runs):
            if flag:
                trend[start + i] = trend[start + i + 1] = True
                trend_direction[start + i] = trend_direction[start + i + 1] = steps[i]
        zone = 2 / 3 * half_width
        close = [int(not outside[start + i] and abs(v - m) > zone) if half_width > 0 else 0 for i, v in enumerate(segment)]
        for i, flag in enumerate(two_in_three(close, sides)):
            two_of_three[start + i] = flag
    return XmR(values, mean, upper, lower, outside, run, trend, two_of_three, trend_direction)


# --- Funnel plots (Spiegelhalter 2005) --------------------------------------------------------


def poisson_funnel_limit(expected, probability: float):
    """Exact Poisson control limit on the count scale for expected count(s) `expected`.

    The discrete quantile is interpolated so the limit is smooth in the expected count
    (Spiegelhalter 2005, appendix A.1.1). Takes a number or an array (one call for a whole funnel).
    """
    e = np.asarray(expected, dtype=float)
    safe = np.where(e > 0, e, 1.0)
    r = stats.poisson.ppf(probability, safe)
    below = stats.poisson.cdf(r - 1, safe)
    at = stats.poisson.cdf(r, safe)
    step = at - below
    alpha = np.divide(at - probability, step, out=np.zeros_like(step), where=step > 0)
    limit = np.where(e > 0, np.maximum(0.0, r - alpha), 0.0)
    return float(limit) if limit.ndim == 0 else limit


def funnel_limits(reference_rate: float, exposure, level: float, per: float = 1000.0, phi: float = 1.0):
    """Lower and upper funnel limits on the rate scale for an exposure (a number or an array).

    `reference_rate` is per `per` units of exposure. With phi > 1 (over-dispersion) the limits
    are widened multiplicatively: E ± z × sqrt(phi × E) on the count scale.
    """
    exposure = np.asarray(exposure, dtype=float)
    expected = reference_rate * exposure / per
    tail = (1 - level) / 2
    if phi > 1:
        half = stats.norm.ppf(1 - tail) * np.sqrt(phi * expected)
        low, high = np.maximum(0.0, expected - half), expected + half
    else:
        low, high = poisson_funnel_limit(expected, tail), poisson_funnel_limit(expected, 1 - tail)
    low, high = low / exposure * per, high / exposure * per
    return (float(low), float(high)) if np.ndim(low) == 0 else (low, high)


def overdispersion_factor(observed: list[float], expected: list[float], winsorize: float = 0.1) -> float:
    """Multiplicative over-dispersion phi = mean of squared z-scores, z = (O - E) / sqrt(E), after
    winsorizing the z-scores at `winsorize` in each tail (Spiegelhalter 2005, section 4.1)."""
    z = [(o - e) / math.sqrt(e) for o, e in zip(observed, expected) if e > 0]
    if len(z) < 3:
        return 1.0
    ordered = sorted(z)
    k = int(math.floor(winsorize * len(z)))
    low, high = ordered[k], ordered[len(z) - 1 - k]
    clipped = [min(max(v, low), high) for v in z]
    return sum(v * v for v in clipped) / len(clipped)


# --- Difference in differences of rates -------------------------------------------------------


@dataclass(frozen=True)
class RateRatioOfChanges:
    programme_change: float  # rate after ÷ rate before, on the programme wing
    comparison_change: float  # the same on the comparison wings
    ratio: float  # programme change ÷ comparison change
    lower: float
    upper: float
    corrected: bool  # 0.5 added to every count because one was zero
    log_se: float = math.nan  # standard error of log(ratio): sqrt(1/a + 1/b + 1/c + 1/d)


@lru_cache(maxsize=8)
def _normal_quantile(p: float) -> float:
    return float(stats.norm.ppf(p))  # scipy's call costs ~0.1 ms: a page asks for the same few hundreds of times


def ratio_of_rate_changes(
    programme_before: tuple[float, float],
    programme_after: tuple[float, float],
    comparison_before: tuple[float, float],
    comparison_after: tuple[float, float],
    level: float = 0.95,
) -> RateRatioOfChanges:
    """Difference-in-differences on the ratio scale: (a/Ea ÷ b/Eb) ÷ (c/Ec ÷ d/Ed) for (count, exposure)
    pairs, with a Wald interval on the log scale: var = 1/a + 1/b + 1/c + 1/d (Poisson counts)."""
    cells = [programme_before, programme_after, comparison_before, comparison_after]
    if any(e <= 0 for _, e in cells):
        return RateRatioOfChanges(math.nan, math.nan, math.nan, math.nan, math.nan, False)
    corrected = any(c == 0 for c, _ in cells)
    (a, ea), (b, eb), (c, ec), (d, ed) = [((n + 0.5) if corrected else n, e) for n, e in cells]
    programme_change = (b / eb) / (a / ea)
    comparison_change = (d / ed) / (c / ec)
    ratio = programme_change / comparison_change
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = _normal_quantile(1 - (1 - level) / 2)
    return RateRatioOfChanges(
        programme_change, comparison_change, ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se), corrected, se
    )


def cohens_dz(mean_change: float, sd_change: float) -> float:
    """Cohen's d for paired data (d_z): the mean change over the SD of the changes."""
    if sd_change is None or math.isnan(sd_change) or sd_change == 0:
        return math.nan
    return mean_change / sd_change
