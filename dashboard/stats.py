"""Statistics used on the pages: plain functions, no Streamlit, tested against worked examples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from scipy import special

# The distributions' quantiles and tails below are scipy.stats's own formulas (each distribution's
# _ppf, _cdf or _sf, which call these scipy.special functions; checked identical to the last bit,
# tests/test_stats.py): importing scipy.stats costs a fresh process about 0.6 s before its first page
# (a restart, a new replica), scipy.special 0.1 s. The few uses with no such one-liner (ranks for
# FunnelPlotR's truncation) import scipy.stats where they are needed.


def _chi2_ppf(p, df):
    return 2 * special.gammaincinv(np.asarray(df, dtype=float) / 2, p)


def _poisson_ppf(p: float, mu):
    """scipy.stats.poisson.ppf for 0 < p < 1 and mu > 0."""
    at = np.ceil(special.pdtrik(p, mu))
    below = np.maximum(at - 1, 0)
    return np.where(special.pdtr(below, mu) >= p, below, at)


def _poisson_cdf(k, mu):
    """scipy.stats.poisson.cdf for whole k (0 below the support)."""
    k = np.asarray(k, dtype=float)
    return np.where(k < 0, 0.0, special.pdtr(np.maximum(k, 0), mu))


@dataclass(frozen=True)
class Estimate:
    value: float
    lower: float
    upper: float


def poisson_rate_intervals(counts, exposures, per: float = 1000.0, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rates count/exposure × per with exact (Garwood) Poisson intervals, for arrays of counts and
    exposures at once (rate, lower, upper; NaN where the exposure is not positive)."""
    counts = np.asarray(counts, dtype=float)
    exposures = np.asarray(exposures, dtype=float)
    alpha = 1 - level
    lower = np.where(counts == 0, 0.0, _chi2_ppf(alpha / 2, np.maximum(2 * counts, 1e-300)) / 2)
    upper = _chi2_ppf(1 - alpha / 2, 2 * counts + 2) / 2
    scale = np.where(exposures > 0, per / np.where(exposures > 0, exposures, 1.0), np.nan)
    return counts * scale, lower * scale, upper * scale


def poisson_rate_interval(count: int, exposure: float, per: float = 1000.0, level: float = 0.95) -> Estimate:
    """Rate count/exposure × per with the exact (Garwood) Poisson interval."""
    rate, lower, upper = poisson_rate_intervals([count], [exposure], per, level)
    return Estimate(float(rate[0]), float(lower[0]), float(upper[0]))


def mean_interval(n: int, mean: float, sd: float, level: float = 0.95) -> Estimate:
    """Mean with a Student t interval, from n, mean and sample SD (paired change: the SD of differences)."""
    if n < 2 or sd is None or math.isnan(sd):
        return Estimate(mean if n else math.nan, math.nan, math.nan)
    half = special.stdtrit(n - 1, 1 - (1 - level) / 2) * sd / math.sqrt(n)
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
    r = _poisson_ppf(probability, safe)
    below = _poisson_cdf(r - 1, safe)
    at = _poisson_cdf(r, safe)
    step = at - below
    alpha = np.divide(at - probability, step, out=np.zeros_like(step), where=step > 0)
    limit = np.where(e > 0, np.maximum(0.0, r - alpha), 0.0)
    return float(limit) if limit.ndim == 0 else limit


def funnel_limits(reference_rate: float, exposure, level: float, per: float = 1000.0):
    """Lower and upper exact Poisson funnel limits on the rate scale for an exposure (a number or an
    array); `reference_rate` is per `per` units of exposure."""
    exposure = np.asarray(exposure, dtype=float)
    expected = reference_rate * exposure / per
    tail = (1 - level) / 2
    low, high = poisson_funnel_limit(expected, tail), poisson_funnel_limit(expected, 1 - tail)
    low, high = low / exposure * per, high / exposure * per
    return (float(low), float(high)) if np.ndim(low) == 0 else (low, high)


# --- Funnel plots with additive random-effects over-dispersion (Spiegelhalter 2005, QSHC) -------
#
# A line-by-line port, for indirectly standardised ratios (O / E, FunnelPlotR's data_type "SR"), of
# the R package FunnelPlotR 0.6.0 (nhs-r-community/FunnelPlotR, commit 9020d49): the z-scores of
# R/od_adjustment.R::transformed_zscore, its winsorisation() and truncation(), phi_func(),
# tau_func(), and the limits of R/calculate_limits.R. Where this port departs from it, the
# docstrings say so.

SR_METHODS = ("SHMI", "CQC")


@dataclass(frozen=True)
class Overdispersion:
    """An over-dispersion assessment of observed counts against expected counts (see
    `sr_overdispersion`). Arrays are per unit, in the order given."""

    method: str  # "SHMI" (log scale, truncated) or "CQC" (square-root scale, winsorised)
    z: np.ndarray  # z-score on the transformed scale; nan where unusable (E <= 0), -inf for O = 0 under SHMI
    z_used: np.ndarray  # the z-score as it enters phi (CQC: winsorised); nan where truncated or left out
    s: np.ndarray  # within-unit standard error on the transformed scale: 1/sqrt(E) or 1/(2 sqrt(E))
    n: int  # number of z-scores phi is the mean of
    phi: float  # dispersion ratio: mean of the squared z-scores used
    tau2: float  # between-unit variance on the transformed scale (DerSimonian-Laird moment estimate)
    statistic: float  # n × phi
    df: int  # n - 1
    p_value: float  # P(chi-square with n - 1 df >= n × phi): the test of over-dispersion

    @property
    def overdispersed(self) -> bool:
        """FunnelPlotR's switch (R/funnel_plot.R, `phi <= 1` → unadjusted limits): adjust only when
        phi > 1. It uses no significance test."""
        return bool(self.phi > 1)

    @property
    def tau2_for_limits(self) -> float:
        """tau² to widen the limits with: tau² when phi > 1, else 0 (FunnelPlotR then draws the
        unadjusted limits; tau² itself can be slightly above 0 for (n - 1)/n <= phi <= 1)."""
        return self.tau2 if self.overdispersed else 0.0


def _check_sr_method(method: str) -> str:
    if method not in SR_METHODS:
        raise ValueError(f"method must be one of {SR_METHODS}, not {method!r}")
    return method


def sr_zscores(observed, expected, method: str = "SHMI") -> tuple[np.ndarray, np.ndarray]:
    """Unadjusted z-scores and standard errors of standardised ratios O/E on FunnelPlotR's
    transformed scales (R/od_adjustment.R::transformed_zscore, data_type "SR"):

    - "SHMI" (NHS Digital's SHMI method): y = log(O/E), s = 1/sqrt(E), target 0, so
      z = sqrt(E) × log(O/E). A count of 0 gives z = -inf, exactly as FunnelPlotR (log(0) in R).
    - "CQC" (Spiegelhalter's square-root method): y = sqrt(O/E), s = 1/(2 sqrt(E)), target 1, so
      z = (sqrt(O/E) - 1) / s = 2 (sqrt(O) - sqrt(E)); finite for O = 0.

    Units with E <= 0 or a missing/negative count get nan for both (FunnelPlotR has no rule for
    them: R would give NaN/Inf)."""
    method = _check_sr_method(method)
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    valid = np.isfinite(o) & np.isfinite(e) & (e > 0) & (o >= 0)
    safe_e = np.where(valid, e, 1.0)
    safe_o = np.where(valid, o, 1.0)
    with np.errstate(divide="ignore"):
        if method == "SHMI":
            s = 1 / np.sqrt(safe_e)
            z = np.sqrt(safe_e) * np.log(safe_o / safe_e)
        else:
            s = 1 / (2 * np.sqrt(safe_e))
            z = (np.sqrt(safe_o / safe_e) - 1) / s
    return np.where(valid, z, np.nan), np.where(valid, s, np.nan)


def _truncation_keep(z: np.ndarray, trim: float) -> np.ndarray:
    """FunnelPlotR's truncation() (the SHMI method): rank the z-scores (ties averaged, as R's
    rank), put each in group floor(rank × k / (N + 1)) with k = 1/trim, and keep groups 1 to k - 2,
    that is drop about `trim` of the units at each end."""
    if trim == 0:  # FunnelPlotR would drop everything (k = Inf); no truncation is what is meant
        return np.ones(len(z), dtype=bool)
    from scipy import stats

    k = 1 / trim
    group = np.floor(stats.rankdata(z, method="average") * k / (len(z) + 1))
    return (group > 0) & (group < k - 1)


def _winsorise(z: np.ndarray, trim: float) -> np.ndarray:
    """FunnelPlotR's winsorisation() (the CQC method): z-scores beyond the `trim` and 1 - `trim`
    quantiles (R's default type 7, numpy's default 'linear') are set to those quantiles."""
    low, high = np.quantile(z, [trim, 1 - trim])
    return np.clip(z, low, high)


def dersimonian_laird_tau2(n: int, phi: float, s) -> float:
    """FunnelPlotR's tau_func(): tau² = max(0, (n phi - (n - 1)) / (Σw - Σw²/Σw)), w = 1/s², over
    the units whose z-scores made phi; 0 when n phi < n - 1 (and, here, when the denominator is 0,
    i.e. fewer than two units, where R would divide by 0)."""
    w = 1 / np.asarray(s, dtype=float) ** 2
    if n == 0 or len(w) == 0 or not n * phi >= n - 1:
        return 0.0
    denominator = w.sum() - (w**2).sum() / w.sum()
    if denominator <= 0:
        return 0.0
    return float(max(0.0, (n * phi - (n - 1)) / denominator))


def sr_overdispersion(observed, expected, method: str = "SHMI", trim: float = 0.1) -> Overdispersion:
    """Over-dispersion of observed counts O against expected counts E (E = reference rate ×
    exposure), as FunnelPlotR's funnel_plot() for data_type "SR" (Spiegelhalter 2005, "Handling
    over-dispersion of performance indicators", Qual Saf Health Care 14:347; additive random
    effects, DerSimonian & Laird 1986):

    1. z-scores from `sr_zscores` (SHMI: log scale; CQC: square-root scale).
    2. Outlying z-scores tamed, `trim` (default 10%) at each end: SHMI *truncates* them (drops the
       units from phi and tau², FunnelPlotR's truncation()); CQC *winsorises* them (sets them to
       the 10th/90th percentile, FunnelPlotR's winsorisation()).
    3. phi = Σ z² / n over the n z-scores kept (phi_func).
    4. tau² = max(0, (n phi - (n - 1)) / (Σw - Σw²/Σw)), w = 1/s², over the same units, and 0 when
       n phi < n - 1 (tau_func).

    The p-value is not in FunnelPlotR (which adjusts whenever phi > 1, see
    `Overdispersion.overdispersed`): it compares n phi with a chi-square on n - 1 degrees of
    freedom, the heterogeneity test (Cochran's Q) whose null expectation n - 1 is the one the tau²
    formula subtracts; n - 1 rather than n because the reference rate is estimated from the same
    units. With truncated or winsorised z-scores the statistic is smaller than an untrimmed one, so
    the test is conservative (SHMI's truncation markedly so).

    Departures from FunnelPlotR: units with E <= 0 are left out; a z-score of -inf (O = 0 under
    SHMI) that survives truncation is left out of phi and tau² (FunnelPlotR returns phi = tau² =
    Inf then; with 10 or more units a single zero is truncated anyway, as in FunnelPlotR);
    trim = 0 means no truncation. FunnelPlotR by default first rounds E to 2 decimals for SHMI
    (SHMI_rounding = TRUE); pass rounded E to reproduce that."""
    method = _check_sr_method(method)
    if not 0 <= trim < 0.5:
        raise ValueError("trim must be in [0, 0.5)")
    z, s = sr_zscores(observed, expected, method)
    valid = ~np.isnan(z)
    z_used = np.full(len(z), np.nan)
    if valid.any():
        zv = z[valid]
        if method == "SHMI":
            kept = np.where(_truncation_keep(zv, trim), zv, np.nan)
        else:
            kept = _winsorise(zv, trim) if trim > 0 else zv
        z_used[valid] = np.where(np.isfinite(kept), kept, np.nan)
    used = ~np.isnan(z_used)
    n = int(used.sum())
    phi = float((z_used[used] ** 2).sum() / n) if n else math.nan
    tau2 = dersimonian_laird_tau2(n, phi, s[used]) if n else 0.0
    statistic = n * phi if n else math.nan
    p_value = float(special.chdtrc(n - 1, statistic)) if n >= 2 else math.nan
    return Overdispersion(method, z, z_used, s, n, phi, tau2, statistic, max(n - 1, 0), p_value)


def random_effects_funnel_limits(expected, level: float, tau2: float = 0.0, method: str = "SHMI"):
    """Lower and upper funnel limits for the standardised ratio O/E at expected count(s) E (a number
    or an array), widened by the between-unit variance tau² (additive random effects, Spiegelhalter
    2005): target ± z × sqrt(s² + tau²) on the transformed scale, z the normal quantile for `level`
    (0.95 or 0.998; FunnelPlotR hard-codes 1.959964 and 3.090232), back-transformed:

    - "SHMI": exp(± z sqrt(1/E + tau²)), as FunnelPlotR's R/calculate_limits.R.
    - "CQC": (1 ± z sqrt(1/(4E) + tau²))², the lower one 0 once 1 - z sqrt(...) <= 0. FunnelPlotR
      (calculate_limits.R, CQC branch) omits the squaring and returns 1 ± z sqrt(...), i.e. the
      limits on the square-root scale (its open issue #33); this port squares them.

    With tau² = 0 they are the plain normal-approximation limits on that scale. E <= 0 gives nan.
    To use them for rates, multiply by the reference rate (see `random_effects_rate_limits`)."""
    method = _check_sr_method(method)
    e = np.asarray(expected, dtype=float)
    z = special.ndtri(1 - (1 - level) / 2)
    safe = np.where(e > 0, e, np.nan)
    if method == "SHMI":
        half = z * np.sqrt(1 / safe + tau2)
        low, high = np.exp(-half), np.exp(half)
    else:
        half = z * np.sqrt(1 / (4 * safe) + tau2)
        low, high = np.maximum(0.0, 1 - half) ** 2, (1 + half) ** 2
    return (float(low), float(high)) if low.ndim == 0 else (low, high)


def random_effects_rate_limits(
    reference_rate: float, exposure, level: float, tau2: float = 0.0, per: float = 1000.0, method: str = "SHMI"
):
    """`random_effects_funnel_limits` on the rate scale, like `funnel_limits`: E = reference_rate ×
    exposure / per, and a rate limit is reference_rate × the ratio limit."""
    expected = reference_rate * np.asarray(exposure, dtype=float) / per
    low, high = random_effects_funnel_limits(expected, level, tau2, method)
    return reference_rate * low, reference_rate * high


def sr_exact_limits(expected, level: float):
    """FunnelPlotR's unadjusted ("Poisson") limits for O/E at expected count(s) E (a number or an
    array), R/calculate_limits.R with draw_adjusted = FALSE: the exact (Garwood) chi-square interval
    with E in place of the count, chi2(α/2; 2E) / 2E and chi2(1 - α/2; 2(E + 1)) / 2E. These are
    what FunnelPlotR draws when phi <= 1; `poisson_funnel_limit` is this dashboard's own exact
    limit (interpolated Poisson quantile), which differs slightly."""
    e = np.asarray(expected, dtype=float)
    tail = (1 - level) / 2
    safe = np.where(e > 0, e, np.nan)
    low = _chi2_ppf(tail, 2 * safe) / (2 * safe)
    high = _chi2_ppf(1 - tail, 2 * (safe + 1)) / (2 * safe)
    return (float(low), float(high)) if low.ndim == 0 else (low, high)


# --- Two rates compared ----------------------------------------------------------------------


def rate_ratio(count: int, exposure: float, base_count: int, base_exposure: float, level: float = 0.95) -> Estimate:
    """Rate ratio (count/exposure) ÷ (base_count/base_exposure) with R's `poisson.test` interval:
    conditioning on the total count makes the first count binomial, so the exact (Clopper-Pearson)
    interval of its share converts to the ratio as p/(1-p) × base_exposure/exposure. The Clopper-Pearson
    limits are the beta quantiles (what `binomtest(...).proportion_ci(method="exact")` finds by root
    search, several times slower)."""
    if exposure <= 0 or base_exposure <= 0 or count + base_count == 0:
        return Estimate(math.nan, math.nan, math.nan)
    x, n, alpha = int(count), int(count + base_count), 1 - level
    share = SimpleNamespace(low=0.0 if x == 0 else float(special.betaincinv(x, n - x + 1, alpha / 2)),
                            high=1.0 if x == n else float(special.betaincinv(x + 1, n - x, 1 - alpha / 2)))
    scale = base_exposure / exposure

    def odds(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * scale

    ratio = (count / exposure) / (base_count / base_exposure) if base_count else math.inf
    return Estimate(ratio, odds(share.low), odds(share.high))


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
def normal_quantile(p: float) -> float:
    return float(special.ndtri(p))  # cached: a page asks for the same few hundreds of times


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
    z = normal_quantile(1 - (1 - level) / 2)
    return RateRatioOfChanges(
        programme_change, comparison_change, ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se), corrected, se
    )


def cohens_dz(mean_change: float, sd_change: float) -> float:
    """Cohen's d for paired data (d_z): the mean change over the SD of the changes."""
    if sd_change is None or math.isnan(sd_change) or sd_change == 0:
        return math.nan
    return mean_change / sd_change


# --- What the data can detect: two proportions ------------------------------------------------


def power_prop_test(n: float, p1: float, p2: float, sig_level: float = 0.05) -> float:
    """Power of a two-sided test of two proportions with `n` in each group, as R's `power.prop.test`
    computes it (normal approximation, strict = FALSE)."""
    q1, q2 = 1 - p1, 1 - p2
    z = special.ndtri(1 - sig_level / 2)
    return float(special.ndtr((math.sqrt(n) * abs(p1 - p2) - z * math.sqrt((p1 + p2) * (q1 + q2) / 2))
                                / math.sqrt(p1 * q1 + p2 * q2)))


def n_for_power(p1: float, p2: float, power: float = 0.8, sig_level: float = 0.05) -> float:
    """People needed in each group to detect `p1` against `p2` with `power` (R's `power.prop.test`
    solving for n, by the same root search)."""
    if p1 == p2:
        return math.inf
    from scipy.optimize import brentq

    return float(brentq(lambda n: power_prop_test(n, p1, p2, sig_level) - power, 2, 1e7, xtol=1e-10))


def smallest_detectable_difference(n1: int, n2: int, baseline: float, power: float = 0.8, sig_level: float = 0.05,
                                   lower: bool = True) -> float:
    """The smallest difference from `baseline` (a proportion in the group of `n2`) that groups of `n1`
    and `n2` detect with `power` in a two-sided test at `sig_level`, by the same normal approximation
    with unequal groups: |p1 − p2| = z(α/2)·√(p̄q̄(1/n1 + 1/n2)) + z(β)·√(p1q1/n1 + p2q2/n2), p̄ pooled.
    With n1 = n2 it is R's `power.prop.test` solved for p1."""
    from scipy.optimize import brentq

    z_alpha, z_beta = special.ndtri(1 - sig_level / 2), special.ndtri(power)

    def gap(p1: float) -> float:
        pooled = (n1 * p1 + n2 * baseline) / (n1 + n2)
        need = (z_alpha * math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
                + z_beta * math.sqrt(p1 * (1 - p1) / n1 + baseline * (1 - baseline) / n2))
        return abs(p1 - baseline) - need

    edge = 1e-9 if lower else 1 - 1e-9
    if gap(edge) < 0:  # no difference in that direction is detectable
        return math.nan
    p1 = brentq(gap, edge, baseline) if lower else brentq(gap, baseline, edge)
    return abs(p1 - baseline)


# --- What the data can detect: a ratio estimated on the log scale ------------------------------


def detectable_multiplier(power: float = 0.8, sig_level: float = 0.05) -> float:
    """How many standard errors a true effect must be for a two-sided Wald test at `sig_level` to find it
    `power` of the time: z(1 − α/2) + z(power), Bloom's (1995) minimum detectable effect multiplier
    (2.80 at 80% power and the 5% level; the far tail's chance of a wrong-way rejection is ignored)."""
    return normal_quantile(1 - sig_level / 2) + normal_quantile(power)


def smallest_detectable_ratio(log_se: float, power: float = 0.8, sig_level: float = 0.05) -> float:
    """The smallest fall, as a ratio below 1, that an estimate with standard error `log_se` on the log
    scale detects with `power` at `sig_level`: exp(−multiplier × SE)."""
    if not log_se > 0:
        return math.nan
    return math.exp(-detectable_multiplier(power, sig_level) * log_se)


def units_needed(units: float, log_se: float, ratio: float, power: float = 0.8, sig_level: float = 0.05) -> float:
    """How many units of data (cohort-months, say) would detect `ratio` when `units` give standard
    error `log_se`: the variance of a pooled log ratio falls as 1/units when the added units are like
    the ones already there, so units × (SE ÷ the SE that `ratio` needs)²."""
    if not log_se > 0 or ratio <= 0 or ratio == 1:
        return math.nan
    needed_se = abs(math.log(ratio)) / detectable_multiplier(power, sig_level)
    return units * (log_se / needed_se) ** 2
