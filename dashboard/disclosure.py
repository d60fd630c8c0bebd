"""Small-number rules: the one place that decides whether a count may be shown."""

from __future__ import annotations

DEFAULT_THRESHOLD = 5


def is_reportable(n: int | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A figure built on fewer than `threshold` people (but more than none) is not reported."""
    return n is not None and n >= threshold


def too_few_message(n: int, threshold: int = DEFAULT_THRESHOLD) -> str:
    return f"too few to report (fewer than {threshold})" if n else "none yet"
