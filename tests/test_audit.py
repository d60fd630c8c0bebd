"""The audit trail: one JSON line per sign-in, refused sign-in, page view, download and report;
lines never interleave or hold a person in prison; a line cut short by a crash is counted, never
glued to the next; the Audit page (administrators only) reads it."""

import json
import multiprocessing
import re

import pytest

from dashboard import audit
from dashboard.pages import PAGE_TABLE
from tests.apptest import open_page, rerun, start


def test_a_line_holds_only_what_it_may(tmp_path):
    path = tmp_path / "audit.jsonl"
    audit.record("page_view", "ann@example.org", "governor", path, page="wing-trends", filters={"prison": ["WSI"]},
                 scope={"prisons": ["WSI"], "sdm": None})
    (line,) = path.read_text().splitlines()
    assert set(json.loads(line)) == {"time", "user", "role", "event", "page", "filters", "scope"}
    with pytest.raises(ValueError, match="not allowed"):
        audit.record("download", "ann@example.org", "governor", path, participant_id="P000123")
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.record("looked_at_prisoner", "ann@example.org", "governor", path)
    assert len(path.read_text().splitlines()) == 1


def test_a_line_cut_short_by_a_crash_is_counted_and_the_next_still_reads(tmp_path):
    path = tmp_path / "audit.jsonl"
    audit.record("sign_in", "ann@example.org", "admin", path)
    with path.open("a") as trail:
        trail.write('{"time":"2026-11-24T09:00:00.000+00:00","user":"bo')  # the writer died here
    audit.record("download", "ann@example.org", "admin", path, page="data", file="rejected.csv")
    events, unreadable = audit.read(path)
    assert unreadable == 1 and list(events["event"]) == ["download", "sign_in"]


def _write_many(args):
    path, writer = args
    for i in range(200):
        audit.record("page_view", f"writer{writer}@example.org", "sdm", path, page="cohorts", filters={"i": [str(i)] * 20})


def test_concurrent_writers_never_interleave_their_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_write_many, [(path, w) for w in range(4)])
    events, unreadable = audit.read(path)
    assert unreadable == 0 and len(events) == 800
    assert events.groupby("user").size().tolist() == [200] * 4


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_funders_session_writes_its_sign_in_and_views_and_nothing_of_an_administrators(monkeypatch, tmp_path, raw):
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(path))
    at = open_page(start(monkeypatch, session_state={"view_as": "funder"}), "app_pages/campaign.py")
    rerun(at)  # a rerun with nothing changed writes no second page view
    lines = _lines(path)
    kinds = [line["event"] for line in lines]
    assert kinds.count("sign_in") == 1 and kinds.count("page_view") == 2
    views = [line for line in lines if line["event"] == "page_view"]
    assert views[-1]["page"] == "campaign" and views[-1]["filters"] == {"campaign": "CAMP-2019-XMAS", "months_after": 12}
    assert views[0]["page"] == "overview" and views[0]["filters"]["period_start"] == "2016-01-01"
    # a funder's session: a funder's role on every line, and no page only administrators may open
    admin_only = {p.url_path for p in PAGE_TABLE if p.roles == ("admin",)}
    assert {line["role"] for line in lines} == {"funder"} and not {line.get("page") for line in lines} & admin_only
    participant_ids = set(raw("participants")["participant_id"])
    assert not any(pid in path.read_text() for pid in participant_ids) and not re.search(r"\bP\d{6}\b", path.read_text())


def test_a_download_is_written_when_its_file_is_made_with_who_and_where_from_when_it_was_drawn(monkeypatch, tmp_path):
    """Streamlit makes a download's file on its own thread, outside the page's run: the line carries the
    viewer and page of the run that drew the button (the browser tests click real buttons)."""
    from dashboard import ui
    from dashboard.access import Viewer

    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(path))
    state = {ui.VIEWER: Viewer(role="governor", prisons=("WSI",), email="ann@example.org"), "_page_path": "wing-trends"}
    monkeypatch.setattr(ui.st, "session_state", state)
    made = ui.audited(lambda: b"a,b\n", file="wings.csv")
    monkeypatch.setattr(ui.st, "session_state", {})  # the file is made later, with no page run around it
    assert made() == b"a,b\n"
    (line,) = _lines(path)
    assert (line["event"], line["user"], line["role"], line["page"], line["file"], line["scope"]) == (
        "download", "ann@example.org", "governor", "wing-trends", "wings.csv", {"prisons": ["WSI"]})
    assert ui.audited(b"static", "report", file="r.html", campaign="C")() == b"static"


def test_a_refused_sign_in_is_written(monkeypatch, tmp_path):
    from dashboard import ui

    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(path))
    ui.audit("refused_sign_in", user="stranger@example.org")
    (line,) = _lines(path)
    assert line["user"] == "stranger@example.org" and line["role"] is None and line["event"] == "refused_sign_in"


def test_the_audit_page_reads_the_trail_with_filters_for_administrators_only(monkeypatch, tmp_path):
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(path))
    audit.record("sign_in", "ann@example.org", "governor", path, scope={"prisons": ["WSI"]})
    audit.record("download", "ann@example.org", "governor", path, page="overview", file="incidents_last_12_months.csv")
    audit.record("refused_sign_in", "stranger@example.org", None, path)
    audit.record("page_view", "ann@example.org", "governor", path, page="wing-trends", filters={})
    with path.open("a") as trail:
        trail.write('{"time": "2026')
    at = open_page(start(monkeypatch), "app_pages/audit.py")
    table = next(d.value for d in at.dataframe if "Who" in d.value.columns)
    assert "stranger@example.org" in set(table["Who"]) and "Downloaded" in set(table["What"])
    assert "Wing trends" in set(table["Page"]) and "wing-trends" not in set(table["Page"])
    assert any("1 line of the trail could not be read" in w.value for w in at.warning)
    at.multiselect(key="audit_event").set_value(["download"])
    rerun(at)
    table = next(d.value for d in at.dataframe if "Who" in d.value.columns)
    assert list(table["File"]) == ["incidents_last_12_months.csv"]
    assert list(table["Page"]) == ["Overview"]  # the page's name in the navigation, not its path
    # a funder's navigation has no Audit page: its link opens the Overview
    funder = start(monkeypatch, session_state={"view_as": "funder"}, query_params={})
    funder.run()
    assert "audit" not in str([p for p in funder.session_state["_viewer"].pages])


def test_the_trail_writes_its_times_as_dates_are_written_everywhere():
    import pandas as pd

    events = pd.DataFrame({"time": pd.to_datetime(["2026-11-09T07:05:03Z"], utc=True), "user": ["a@example.org"], "role": ["admin"],
                           "event": ["sign_in"], "reason": [None], "import_id": [None], "page": [None], "file": [None], "campaign": [None], "filters": [""], "scope": [""]})
    assert list(audit.chosen(events)["audit_time"]) == ["9 Nov 2026 07:05:03"]
