"""Statistics used on the pages: plain functions, no Streamlit, tested against worked examples."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
