"""No download carries a cell a spreadsheet would run as a formula (OWASP's CSV injection guidance):
one writer (metrics.csv_bytes) for every table download, each page's data zip, the rejected rows and
the audit CSV neutralises such texts with a leading apostrophe, and keeps numbers numbers."""

import csv
import io
import shutil
import zipfile

import pandas as pd
import pytest

from dashboard import audit, metrics
from dashboard.contract import MODELS, column_specs
from dashboard.text import FORMULA_STARTS, spreadsheet_cell
from tests.apptest import each_tab, open_page, page_files, start

PAYLOADS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1", "\n=1+1", "\uff1d1+1", "=1", "-", "+", "@"]


@pytest.mark.parametrize("value", PAYLOADS)
def test_a_text_a_spreadsheet_would_run_is_written_as_text(value):
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-3", "-1.5", "+2", "-1,350", "-0.5%", "1e-3", "-.5", "HMP Wormwood Scrubs", "a=b", "C-PVI-2017-01",
                                   "", "<5", "–", "'=already quoted"])
def test_numbers_and_plain_texts_are_left_as_they_are(value):
    assert spreadsheet_cell(value) == value


def test_the_one_writer_keeps_numbers_numbers_and_neutralises_texts():
    frame = pd.DataFrame({"prison": ['=HYPERLINK("http://evil.example","x")', "-12", "HMP Exeter"],
                          "incidents": [-4, 0, 12], "rate": [-0.25, 1.5, float("nan")]})
    read = list(csv.reader(io.StringIO(metrics.csv_bytes(frame).decode())))
    assert [row[0] for row in read[1:]] == ['\'=HYPERLINK("http://evil.example","x")', "-12", "HMP Exeter"]
    back = pd.read_csv(io.BytesIO(metrics.csv_bytes(frame)))
    assert list(back.iloc[:, 1]) == [-4, 0, 12] and pd.api.types.is_numeric_dtype(back.iloc[:, 2])


def runnable_cells(data: bytes) -> list[str]:
    """Every cell of a CSV that a spreadsheet would run as a formula."""
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8"))) for cell in row
            if cell.startswith(FORMULA_STARTS) and spreadsheet_cell(cell) != cell]


def test_the_detector_finds_a_formula_written_raw():  # the check below can fail
    raw = pd.DataFrame({"x": ['=HYPERLINK("http://evil.example","x")']}).to_csv(index=False).encode()
    assert runnable_cells(raw) == ['=HYPERLINK("http://evil.example","x")']


def _formulas_in_every_text(folder, payload: str) -> None:
    """The payload in front of every free-text value of every extract (ids and names alike, the same
    way in every table, so references still hold)."""
    for model in MODELS:
        path = folder / f"{model.table}.parquet"
        frame = pd.read_parquet(path)
        for spec in column_specs(model):
            if spec.python_type is str and not spec.domain and spec.name in frame:
                present = frame[spec.name].notna()
                text = frame[spec.name].astype("object")
                text[present] = payload + text[present]
                frame[spec.name] = text
        frame.to_parquet(path, index=False)


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil.example","x")&', "\t@"])
def test_no_download_of_any_page_for_any_role_carries_a_runnable_cell(monkeypatch, tmp_path, sample_dir, payload):
    folder = tmp_path / "extracts"
    shutil.copytree(sample_dir, folder)
    _formulas_in_every_text(folder, payload)
    trail = tmp_path / "audit.jsonl"
    monkeypatch.setenv(audit.AUDIT_VARIABLE, str(trail))
    audit.record("refused_sign_in", payload + "x@example.org", None, trail, reason="not_listed")  # the audit CSV too
    found, downloads = {}, 0
    for role in ("admin", "funder"):
        at = start(monkeypatch, data_dir=folder, session_state={"view_as": role})
        for page in page_files(role):
            opened = at if page == page_files(role)[0] else open_page(at, page)
            for tab, drawn in each_tab(opened, page):
                tables = drawn.session_state.get("_page_tables", {})
                for name, frame in tables.items():  # every table download and chart's data on the page
                    downloads += 1
                    if cells := runnable_cells(metrics.csv_bytes(frame)):
                        found[f"{role} {page} {tab} {name}.csv"] = cells[:2]
                archive = zipfile.ZipFile(io.BytesIO(metrics.data_zip(tables, page)))
                for member in archive.namelist():
                    if member.endswith(".csv") and (cells := runnable_cells(archive.read(member))):
                        found[f"{role} {page} {tab} zip {member}"] = cells[:2]
    assert downloads > 50 and not found, found
