"""Small-number rules: the one place that decides how a count may be shown to a funder or the public.

The design, as official statistics use it (ONS and DfE round to base 5), survives differencing:

- a count of 0 is shown as 0; a count from 1 to k-1 as "<k" (k = 5 unless configured);
- every other count is rounded to the nearest multiple of k (halves up), so a shown count is 0,
  "<k" or a multiple of k;
- a rate is computed from the rounded count, and its interval too, so rate × prisoner-years gives
  back only the rounded count;
- a share is shown only when neither its part nor the rest is a count from 1 to k-1, and is
  worked out from the rounded counts (`share`), as is an average per person or per gift;
- a total with a hidden part is shown as "hidden".

A funder may choose any prisons and any months, and compare any two views: the difference of two
shown counts is always a multiple of k, never a count from 1 to k-1. Rounding bounds a count, it
does not pin it: that is the protection. A part is never hidden to protect another (the old
secondary suppression showed such a cell as "<5", which was false); only a total with a hidden
part is, and it is shown as "hidden", because at the edges of the rounding bands a total and its
other parts could pin the hidden one (see `protect`).
"""

from __future__ import annotations

import os

import pandas as pd

DEFAULT_THRESHOLD = 5
THRESHOLD_VARIABLE = "PRISON_DASHBOARD_SMALL_COUNT"
HIDDEN_TOTAL = "hidden"  # a total with a hidden part (see `protect`)


def configured_threshold() -> int:
    """k: counts from 1 to k-1 are hidden, others rounded to base k. 5 unless PRISON_DASHBOARD_SMALL_COUNT says otherwise."""
    value = os.environ.get(THRESHOLD_VARIABLE, "")
    return int(value) if value.strip().isdigit() and int(value) >= 2 else DEFAULT_THRESHOLD


def rounded(n: int | float | None, threshold: int = DEFAULT_THRESHOLD) -> int | None:
    """The count as it may be used for a funder: None when it is from 1 to k-1 (hidden), otherwise
    rounded to the nearest multiple of k, halves up (0 stays 0)."""
    if n is None or pd.isna(n):
        return None
    n = int(n)
    if 0 < n < threshold:
        return None
    return (2 * n + threshold) // (2 * threshold) * threshold  # nearest multiple, halves up, in integers


def shown_count(n: int | float | str | None, threshold: int = DEFAULT_THRESHOLD, protected: bool = True) -> str:
    """A count as text: exact for viewers who may see small counts, else 0, "<k" or rounded to base k
    (a count already shown as text is returned as it is)."""
    if isinstance(n, str):
        return n
    if n is None or pd.isna(n):
        return "–"
    if not protected:
        return f"{int(n):,}"
    value = rounded(n, threshold)
    return f"<{threshold}" if value is None else f"{value:,}"


# Workshop hours are a count in disguise: a workshop is mostly 2.5 hours, so hours to the nearest k (or
# exact) beside "<k workshops" give the workshops back. One rule wherever a funder sees hours (the
# delivery panel, the targets table, the report, the data zip): hidden when the workshops behind them
# are, otherwise to the nearest 2k.
HOURS_BASE = 2


def rounded_hours(hours: float | None, workshops: int | None, threshold: int = DEFAULT_THRESHOLD) -> int | None:
    """Hours as a funder may use them: None when the workshops they come from are hidden (1 to k-1),
    otherwise rounded to the nearest multiple of 2k."""
    if hours is None or pd.isna(hours) or rounded(workshops, threshold) is None:
        return None
    return rounded(round(hours), HOURS_BASE * threshold)


def hours_could_be(hours: float, workshops: int, threshold: int = DEFAULT_THRESHOLD) -> tuple[float, float]:
    """Every exact number of hours the shown figure could stand for: the range a funder can infer anyway."""
    shown = rounded_hours(hours, workshops, threshold)
    if shown is None:  # hidden with its workshops: 1 to k-1 workshops of any length
        return 0.0, float("inf")
    base = HOURS_BASE * threshold
    return max(0.0, shown - base / 2), shown + base / 2 - 0.5


def rule_statement(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The rule in words, for every page and report that applies it."""
    return (f"Counts of people and incidents are rounded to the nearest {threshold}, counts from 1 to {threshold - 1} are "
            f"shown as <{threshold}, and a total with such a count in it is hidden; rates, shares, averages and intervals "
            f"are worked out from the rounded counts, and a total may differ from the sum of its rounded parts. So no two views, "
            f"whatever their prisons and months, give back a count under {threshold}.")


def is_hidden(shown: str) -> bool:
    """Whether a shown count stands for a hidden value ("<k", or a total shown as hidden)."""
    return shown.startswith("<") or shown == HIDDEN_TOTAL


def is_reportable(n: int | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A figure built on fewer than `threshold` people (but more than none) is not reported."""
    return n is not None and n >= threshold


def too_few_message(n: int, threshold: int = DEFAULT_THRESHOLD) -> str:
    return f"too few to report (fewer than {threshold})" if n else "none yet"


def share_is_reportable(part: int, whole: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A share part/whole may be shown when neither it nor its complement gives back a small count."""
    return whole >= threshold and not (0 < part < threshold) and not (0 < whole - part < threshold)


def protect(parts: dict[str, int], total: tuple[str, int] | None = None, threshold: int = DEFAULT_THRESHOLD,
            enabled: bool = True) -> dict[str, str]:
    """Counts as they may be shown: each part (and the total, if given as (label, value)) through
    `shown_count`, each rounded on its own.

    A total with a hidden part is hidden too. Otherwise the total and the other parts bound the
    hidden one, and at the edges of the rounding bands they pin it ("<5" and "<5" making "10" can
    only be 4 and 4; "<5", "<5" and "5" making "5" only 1, 1 and 5). Hiding every such total, not
    only those that pin, means "hidden" tells nothing that the "<5" beside it does not."""
    shown = {label: shown_count(v, threshold, enabled) for label, v in parts.items()}
    if total:
        any_hidden = any(is_hidden(v) for v in shown.values())
        shown[total[0]] = HIDDEN_TOTAL if enabled and any_hidden else shown_count(total[1], threshold, enabled)
    return shown


def protect_column(values: pd.Series, threshold: int = DEFAULT_THRESHOLD, enabled: bool = True) -> tuple[pd.Series, str]:
    """A column of counts as shown (text), and its total as shown (`protect` down the column)."""
    shown = protect(dict(enumerate(values.fillna(0))), ("total", values.fillna(0).sum()), threshold, enabled)
    return pd.Series([shown[i] for i in range(len(values))], index=values.index), shown["total"]


def share(part: int, whole: int, threshold: int = DEFAULT_THRESHOLD, protected: bool = True) -> float | None:
    """part / whole as a protected viewer may see it: None unless reportable (`share_is_reportable`),
    and then worked out from the rounded counts (an exact share beside rounded counts gives them
    back: 58% with "5 of 10" shown can only be 7 of 12)."""
    if not whole:
        return None
    if not protected:
        return part / whole
    if not share_is_reportable(part, whole, threshold):
        return None
    return rounded(part, threshold) / rounded(whole, threshold)
