"""Small-number rules: the one place that decides whether a count may be shown.

Counts from 1 to k-1 (k = 5 unless configured) are shown as "<k" wherever a funder or a public
export can see them, with secondary suppression so no total, difference or share gives one back.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

DEFAULT_THRESHOLD = 5
THRESHOLD_VARIABLE = "PRISON_DASHBOARD_SMALL_COUNT"


def is_reportable(n: int | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A figure built on fewer than `threshold` people (but more than none) is not reported."""
    return n is not None and n >= threshold


def too_few_message(n: int, threshold: int = DEFAULT_THRESHOLD) -> str:
    return f"too few to report (fewer than {threshold})" if n else "none yet"


def suppress(n: int | None, threshold: int = DEFAULT_THRESHOLD) -> str:
    """A count as shown to funders and the public: 1 to threshold-1 become "<threshold"."""
    if n is None:
        return "–"
    return f"<{threshold}" if 0 < n < threshold else f"{int(n):,}"


def share_is_reportable(part: int, whole: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A share part/whole may be shown when neither it nor its complement gives back a small count."""
    return whole >= threshold and not (0 < part < threshold) and not (0 < whole - part < threshold)


def configured_threshold() -> int:
    """k: counts from 1 to k-1 are suppressed. 5 unless PRISON_DASHBOARD_SMALL_COUNT says otherwise."""
    value = os.environ.get(THRESHOLD_VARIABLE, "")
    return int(value) if value.strip().isdigit() and int(value) >= 2 else DEFAULT_THRESHOLD


def hidden_cells(parts: Sequence[int], total: int | None = None, threshold: int = DEFAULT_THRESHOLD) -> tuple[list[bool], bool]:
    """Which of `parts` (and whether their `total`) must be hidden so none of 1..threshold-1 is shown
    or can be worked out.

    Primary suppression hides each small part. Secondary suppression: when the total is shown and
    exactly one part is hidden, the total minus the shown parts would give it back, so the smallest
    other non-zero part is hidden too (or, with none, the total).
    """
    parts = [int(p) for p in parts]
    hide = [0 < p < threshold for p in parts]
    hide_total = total is not None and 0 < int(total) < threshold
    if total is not None and not hide_total and sum(hide) == 1:
        others = [i for i, p in enumerate(parts) if not hide[i] and p > 0]
        if others:
            hide[min(others, key=lambda i: parts[i])] = True
        else:
            hide_total = True
    return hide, hide_total


def protect(parts: dict[str, int], total: tuple[str, int] | None = None, threshold: int = DEFAULT_THRESHOLD,
            enabled: bool = True) -> dict[str, str]:
    """Counts as they may be shown: each part (and the total, if given as (label, value)) formatted,
    or "<threshold" where `hidden_cells` hides it (nothing is hidden when not `enabled`, for viewers
    who may see small counts). A share or rate built on a hidden cell must be hidden too: the caller
    checks `is_hidden(shown[label])`."""
    if enabled:
        hide, hide_total = hidden_cells(list(parts.values()), total[1] if total else None, threshold)
    else:
        hide, hide_total = [False] * len(parts), False
    shown = {label: (f"<{threshold}" if h else f"{int(v):,}") for (label, v), h in zip(parts.items(), hide)}
    if total:
        shown[total[0]] = f"<{threshold}" if hide_total else f"{int(total[1]):,}"
    return shown


def is_hidden(shown: str) -> bool:
    return shown.startswith("<")


def protect_column(values: pd.Series, with_total: bool = True, threshold: int = DEFAULT_THRESHOLD) -> tuple[pd.Series, str]:
    """A column of counts as shown (strings), and its total as shown (when `with_total`, the total is
    on screen too, so secondary suppression applies down the column)."""
    shown = protect(dict(enumerate(values.fillna(0))), ("total", values.sum()) if with_total else None, threshold)
    return pd.Series([shown[i] for i in range(len(values))], index=values.index), shown.get("total", "")
