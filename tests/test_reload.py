"""Extracts replaced while the app runs: picked up without a restart, and a broken replacement
never takes a table away (the last good version is served and the Data page says so)."""

import io
import os

import pandas as pd

from tests.apptest import open_page, rerun, start


def incidents_shown(at) -> int:
    (table,) = [f.value for f in at.dataframe if "Incidents" in f.value.columns and "95% CI low" in f.value.columns]
    return int(table["Incidents"].sum())


def touch_later(path):
    """Make sure a rewrite within the same clock tick still changes the modification time."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def test_new_extracts_are_picked_up_and_a_broken_one_keeps_the_last_good(monkeypatch, sample_copy):
    at = start(monkeypatch, data_dir=sample_copy)
    before = incidents_shown(at)
    path = sample_copy / "incidents.parquet"
    good = path.read_bytes()

    # A half-written replacement: the last good incidents are still served, and the Data page says so.
    path.write_bytes(good[: len(good) // 3])
    rerun(at)
    assert incidents_shown(at) == before
    at = open_page(at, "app_pages/data.py")
    assert any("incidents" in w.value and "still serves the version loaded" in w.value for w in at.warning)
    summary = at.dataframe[0].value.set_index("Extract")
    assert summary.at["incidents", "Status"] == "kept last good"

    # A valid new version with fewer rows is picked up without a restart.
    frame = pd.read_parquet(io.BytesIO(good))
    cutoff = (pd.Timestamp(frame["occurred_on"].max()) - pd.DateOffset(months=3)).date()
    newer = frame[frame["occurred_on"] < cutoff]
    newer.to_parquet(path, index=False)
    touch_later(path)
    at = open_page(at, "app_pages/overview.py")
    assert incidents_shown(at) < before
    at = open_page(at, "app_pages/data.py")
    summary = at.dataframe[0].value.set_index("Extract")
    assert summary.at["incidents", "Status"] == "loaded"
    assert summary.at["incidents", "Rows loaded"] == len(newer)


def test_a_table_that_was_never_good_is_reported_missing(monkeypatch, sample_copy):
    (sample_copy / "events.parquet").write_bytes(b"not parquet at all")
    at = start(monkeypatch, data_dir=sample_copy)
    at = open_page(at, "app_pages/data.py")
    assert at.dataframe[0].value.set_index("Extract").at["events", "Status"] == "unreadable"
