"""The audit trail: who signed in (or was refused), which pages they viewed with which filters, and
what they downloaded, one JSON line per event appended to one file that every session and replica
shares. Plain Python, no Streamlit.

A line is written with a single `write` to a file opened for appending, so lines from concurrent
sessions never interleave; a line cut short by a crash is finished with a newline by the next writer,
and the reader counts it as unreadable rather than guess. What a line may hold is a closed list of
fields, none of them a person in prison: pages, filters (prison and wing codes, months), file names."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dashboard.text import moment_label

AUDIT_VARIABLE = "PRISON_DASHBOARD_AUDIT"
DEFAULT_AUDIT_FILE = Path(__file__).resolve().parent.parent / "logs" / "audit.jsonl"

EVENTS = ("sign_in", "refused_sign_in", "page_view", "download", "report", "import_published", "import_rolled_back")  # their words: the registry's "audit_event" labels
# What an event may say besides time, user, role and event: nothing else is ever written.
FIELDS = {"page", "filters", "file", "campaign", "scope", "reason", "import_id"}
COLUMNS = ["time", "user", "role", "event", "reason", "import_id", "page", "file", "campaign", "filters", "scope"]
MAX_TEXT = 320  # characters of any one text written (a claim can hold anything, of any length)


def audit_file() -> Path:
    return Path(os.environ.get(AUDIT_VARIABLE) or DEFAULT_AUDIT_FILE)


def _text(value: str) -> str:
    """Any text as the trail can always write it: a lone surrogate or another code point UTF-8 cannot
    encode is written as its escape (\\ud800), and a text is cut at MAX_TEXT characters."""
    value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT - 1] + "…"


def _plain(value):
    """Filters as JSON can hold them: dates as ISO text, tuples as lists, texts always writable."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def record(event: str, user: str | None, role: str | None, path: Path | None = None, **what) -> None:
    """Append one event. Raises ValueError for an unknown event or field (a caller's mistake, found by
    the tests, never a way to write something else into the trail)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    if unknown := set(what) - FIELDS:
        raise ValueError(f"audit fields not allowed: {sorted(unknown)}")
    line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "user": _plain(user), "role": role, "event": event,
                       **{k: _plain(v) for k, v in what.items() if v is not None}}, ensure_ascii=False, separators=(",", ":"))
    path = path or audit_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        # a line another writer left unfinished (it crashed mid-write) is closed first, so ours parses
        size = os.fstat(fd).st_size
        ended = size == 0 or os.pread(fd, 1, size - 1) == b"\n"
        os.write(fd, (("" if ended else "\n") + line + "\n").encode())  # one write: lines never interleave
    finally:
        os.close(fd)


def read(path: Path | None = None) -> tuple[pd.DataFrame, int]:
    """Every event in the trail, newest first, and how many lines could not be read (cut short)."""
    path = path or audit_file()
    rows, unreadable = [], 0
    if path.exists():
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    unreadable += 1
    frame = pd.DataFrame(rows).reindex(columns=COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
    for column in ("filters", "scope"):
        frame[column] = frame[column].map(lambda v: "" if not isinstance(v, dict) else
                                          "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in v.items()))
    # newest first; lines of the same millisecond in reverse order of writing
    return frame.iloc[::-1].sort_values("time", ascending=False, kind="stable").reset_index(drop=True), unreadable


def chosen(events: pd.DataFrame, users=(), roles=(), kinds=(), first=None, last=None) -> pd.DataFrame:
    """The events an administrator asked for (an empty choice is everything), as a table under registry
    keys, newest first."""
    keep = pd.Series(True, index=events.index)
    for column, values in (("user", users), ("role", roles), ("event", kinds)):
        if values:
            keep &= events[column].isin(list(values))
    day = events["time"].dt.date
    if first is not None:
        keep &= day >= first
    if last is not None:
        keep &= day <= last
    shown = events[keep]
    return pd.DataFrame({
        # a time as dates are written everywhere, to the second
        "audit_time": shown["time"].map(lambda t: f"{moment_label(t)}:{t:%S}"), "audit_user": shown["user"], "audit_role": shown["role"],
        "audit_event": shown["event"], "audit_reason": shown["reason"], "audit_import": shown["import_id"], "audit_page": shown["page"], "audit_file": shown["file"], "audit_campaign": shown["campaign"],
        "audit_filters": shown["filters"], "audit_scope": shown["scope"],
    })


def sentence(shown: pd.DataFrame) -> str:
    """How many events the table holds, by how many people, over which days."""
    if shown.empty:
        return "**No event matches these choices.**"
    people = shown["audit_user"].nunique()
    return (f"**{len(shown):,} event{'s' if len(shown) != 1 else ''} by {people:,} {'person' if people == 1 else 'people'}**, "
            f"from {shown['audit_time'].iloc[-1]} to {shown['audit_time'].iloc[0]} UTC, newest first.")
