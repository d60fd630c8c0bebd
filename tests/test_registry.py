"""One declaration per figure: every tile, table header and download column on every page, for every
role, comes from the metric registry; the page's data download holds exactly its tables, suppressed as
shown; the Methods page lists every figure."""

import html
import io
import json
import re
import zipfile

import pandas as pd
import pytest

from dashboard import disclosure, metrics
from dashboard.pages import PAGE_TABLE
from dashboard.queries import query_names
from dashboard.registry_figures import ROUNDED
from tests.apptest import open_page, rendered, start

ROLES = ("admin", "governor:WSI", "sdm:Priya S.", "funder")
K = disclosure.DEFAULT_THRESHOLD


def test_every_registry_entry_is_complete_and_names_real_queries():
    known = set(query_names()) | {"prisons", "wings", "campaigns"}  # the last are named queries too
    for key, figure in metrics.REGISTRY.items():
        assert figure.label and figure.formula, key
        assert figure.kind in metrics.KINDS, key
        assert set(figure.queries) <= known, (key, set(figure.queries) - known)
        if figure.kind == "code":
            assert figure.codes in metrics.CODE_LABELS, key
        assert "{k}" not in figure.help, key  # the threshold is filled in


def test_one_format_per_kind():
    assert metrics.fmt("rate", 1234.4) == "1,234" and metrics.fmt("incidents", 1333) == "1,333"
    assert metrics.fmt("attendance_rate", 0.4954) == "50%" and metrics.fmt("response_rate", 0.0889) == "9%"
    assert metrics.fmt("raised_gbp", 12345.6) == "£12,346" and metrics.fmt("mean_change", 0.234) == "+0.23"
    assert metrics.fmt("change", 1.86) == "+186%" and metrics.fmt("rate", None) == metrics.MISSING
    assert metrics.fmt("incidents", "<5") == "<5"  # a suppressed count stays as shown
    # a published result as published, no zeros added: a rate of 38.2%, 172 days, 1.21 reoffences
    assert [metrics.fmt("treatment_value", v) for v in (38.2, 172.0, 1.21, -11.0)] == ["38.2", "172", "1.21", "-11"]


def test_a_day_is_written_one_way_in_sentences_tables_and_reports():
    """No leading zero, as the grid draws a date column (D MMM YYYY): "9 Jan 2017", never "09 Jan 2017"."""
    from datetime import date, datetime

    from dashboard import text

    assert metrics.fmt("first_workshop", date(2017, 1, 9)) == text.day_label(pd.Timestamp("2017-01-09")) == "9 Jan 2017"
    assert text.long_day_label(date(2023, 9, 8)) == "8 September 2023"
    assert text.moment_label(datetime(2024, 3, 9, 7, 5)) == "9 Mar 2024 07:05"
    assert metrics.figure("first_workshop").column_config()["type_config"]["format"] == "D MMM YYYY"


def test_downloads_have_readable_headers_words_for_codes_and_numbers_as_numbers():
    frame = pd.DataFrame({"incident_type": ["self_harm", "use_of_force"], "incidents": ["1,335", "<5"],
                          "rate": [1234.5678, None], "attendance_rate": [0.45678, 1.0], "month": pd.to_datetime(["2024-01-01"] * 2)})
    read = pd.read_csv(io.BytesIO(metrics.csv_bytes(frame)))
    assert list(read.columns) == ["Incident type", "Incidents", "Rate per 1,000 per year", "Attendance (%)", "Month"]
    assert list(read["Incident type"]) == ["Self-harm", "Use of force"]
    assert list(read["Incidents"]) == ["1335", "<5"]  # text only where a count is hidden; no thousands separator
    assert read["Rate per 1,000 per year"].iloc[0] == 1235 and pd.isna(read["Rate per 1,000 per year"].iloc[1])
    assert list(read["Attendance (%)"]) == [46, 100] and list(read["Month"]) == ["2024-01-01", "2024-01-01"]


def _state(at, key, default):
    return at.session_state[key] if key in at.session_state else default  # noqa: SIM401 (AppTest's state has no get)


def _page_runs():
    for role in ROLES:
        for spec in PAGE_TABLE:
            if role.split(":")[0] in spec.roles:
                yield pytest.param(role, spec, id=f"{role}-{spec.url_path or 'overview'}")


@pytest.mark.parametrize("role, spec", list(_page_runs()))
def test_every_figure_on_every_page_comes_from_the_registry(monkeypatch, role, spec):
    at = start(monkeypatch, session_state={"view_as": role})
    if spec.url_path:
        at = open_page(at, spec.script)
    unregistered = _state(at, "_unregistered_columns", set())
    assert not unregistered, f"columns not in the metric registry: {sorted(unregistered)}"
    for frame in (d.value for d in at.dataframe):
        assert set(frame.columns) <= metrics.LABELS, set(frame.columns) - metrics.LABELS
    for tile in at.metric:
        assert tile.label in metrics.LABELS, tile.label
    # every chart: its one-sentence text alternative under it, and its data as a table one click away
    captions = [rendered(c.value) for c in at.caption]
    for chart in at.get("plotly_chart"):
        summary = html.unescape(json.loads(chart.proto.spec)["layout"]["meta"]["summary"])
        assert summary.endswith(".") and not re.search(r"\bnan\b|None", summary) and summary in captions, summary
    assert len([e for e in at.expander if e.label == "The chart's data as a table"]) == len(at.get("plotly_chart"))
    tables = _state(at, "_page_tables", {})
    if not tables:
        return
    # the page's data download: every table behind the page, under the registry's headers, with a README
    archive = zipfile.ZipFile(io.BytesIO(metrics.data_zip(tables, spec.heading)))
    names = archive.namelist()
    assert names[0] == "README.txt" and {f"{n}.csv" for n in tables} == set(names[1:])
    readme = archive.read("README.txt").decode()
    for name, frame in tables.items():
        read = pd.read_csv(archive.open(f"{name}.csv"), dtype=str, keep_default_na=False)
        assert len(read) == len(frame)
        registered = [c for c in frame.columns if c in metrics.REGISTRY]
        for key in registered:
            assert metrics.figure(key).csv_label in read.columns and metrics.figure(key).csv_label in readme
        if role == "funder":  # suppressed in the download exactly as on the page
            for key in [k for k in registered if metrics.figure(k).disclosure == ROUNDED and metrics.figure(k).kind == "count"]:
                for cell in read[metrics.figure(key).csv_label]:
                    assert cell in ("", "hidden", f"<{K}") or int(cell) % K == 0, (name, key, cell)


def test_the_methods_page_lists_every_figure(monkeypatch):
    at = open_page(start(monkeypatch, session_state={"view_as": "funder"}), "app_pages/methods.py")
    (figures,) = [d.value for d in at.dataframe if "Formula" in d.value.columns]
    assert len(figures) == len(metrics.REGISTRY)
    assert set(figures["Figure"]) == {m.label for m in metrics.REGISTRY.values()}
    assert len(at.expander) >= len(query_names())


def test_the_accessibility_statement_has_the_sections_the_regulations_ask_for(monkeypatch):
    at = open_page(start(monkeypatch, session_state={"view_as": "funder"}), "app_pages/accessibility.py")
    text = " ".join(m.value for m in at.markdown)
    for section in ("How accessible this service is", "Feedback and contact information", "Enforcement procedure",
                    "Compliance status", "Non-accessible content", "Preparation of this accessibility statement"):
        assert f"## {section}" in text or f"### {section}" in text, section
