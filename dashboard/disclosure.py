"""Small-number rules: the one place that decides whether a count may be shown."""

from __future__ import annotations

DEFAULT_THRESHOLD = 5


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
