"""Importing the spreadsheets people keep: every sample table round-trips through CSV and XLSX,
messy real-world sheets are read as a person means them, rejections name file, sheet, row and column,
nothing is written on a dry run or a rejection, publishing is atomic and can be rolled back."""

import csv
import datetime as dt
import shutil

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import ingest
from dashboard.contract import MODELS_BY_TABLE, TABLES, column_specs

XLSX_ROWS = 2000  # openpyxl writes a few thousand rows a second: the big tables go through XLSX in part


@pytest.fixture
def folder(tmp_path, sample_dir):
    target = tmp_path / "data"
    shutil.copytree(sample_dir, target)
    return target


def comparable(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """A table's rows in key order with every value as plain Python (dates as dates, instants in UTC)."""
    model = MODELS_BY_TABLE[table]
    out = {}
    for spec in column_specs(model):
        column = frame[spec.name]
        if spec.python_type is dt.datetime:
            column = pd.to_datetime(column, utc=True)
        elif spec.python_type is dt.date:
            column = pd.to_datetime(column).dt.date
        out[spec.name] = column.astype(object).where(column.notna(), None)
    return pd.DataFrame(out).sort_values(list(model.key), ignore_index=True)


def as_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """What a person's spreadsheet holds: instants as UK local times without a zone (Excel has none)."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("Europe/London").dt.tz_localize(None)
    return out


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("table", TABLES)
def test_every_sample_table_round_trips(folder, raw, tmp_path, table, kind):
    expected = raw(table)
    if kind == "xlsx":
        expected = expected.head(XLSX_ROWS)
    path = tmp_path / f"{table}.{kind}"
    if kind == "csv":
        expected.to_csv(path, index=False)
    else:
        as_spreadsheet(expected).to_excel(path, index=False, sheet_name=table)
    assert ingest.main(["--data", str(folder), str(path), "--replace"]) == 0
    got = pd.read_parquet(folder / f"{table}.parquet")
    pd.testing.assert_frame_equal(comparable(got, table), comparable(expected, table))


MESSY_INCIDENTS = (
    "Incidents on the wings, exported 2 May 2024\n"
    "Prepared by the safer custody team\n"
    "\n"
    "Incident ref,Establishment,Wing,Date of incident,Type of incident,Serious,Notes\n"
    "X1,WSI,{wing},03/04/2024,Self harm,Yes,café\n"
    "X2,WSI,{wing},45387,Use of force,N,\n"
    "X3,WSI,{wing},31/02/2024,Assault on staff,TRUE,\n"
    "X4,WSI,NOWING,1/5/24,Prisoner on prisoner assault,0,\n"
    "X5,WSI,,2024-05-02,self_harm,no,\n"
    ",,,,,,\n"
    "\n"
)


def test_a_messy_export_is_read_as_meant_and_its_bad_rows_named(folder, raw, tmp_path, capsys):
    wing = raw("wings").query("prison_id == 'WSI'")["wing_id"].iloc[0]
    path = tmp_path / "incidents.csv"
    path.write_bytes(MESSY_INCIDENTS.format(wing=wing).encode("cp1252"))  # as Excel on Windows saves it
    before = (folder / "incidents.parquet").read_bytes()

    assert ingest.main(["--data", str(folder), str(path), "--dry-run"]) == 1
    report = capsys.readouterr().out
    assert "incidents.csv, row 7, column occurred_on: '31/02/2024' is not a date" in report
    assert "incidents.csv, row 8, column wing_id: wing_id not a wing of this prison" in report
    assert "columns ignored: Notes" in report and "5 rows read, 3 accepted, 2 rejected; 3 added" in report
    assert (folder / "incidents.parquet").read_bytes() == before  # a dry run writes nothing

    assert ingest.main(["--data", str(folder), str(path)]) == 1  # rejected rows: nothing published
    assert (folder / "incidents.parquet").read_bytes() == before

    assert ingest.main(["--data", str(folder), str(path), "--accept-rejections"]) == 0
    got = pd.read_parquet(folder / "incidents.parquet").set_index("incident_id")
    assert len(got) == len(raw("incidents")) + 3
    assert got.loc["X1", "occurred_on"] == dt.date(2024, 4, 3)  # day first, never month first
    assert got.loc["X2", "occurred_on"] == dt.date(2024, 4, 5)  # Excel's serial day 45387
    assert [got.loc[i, "serious"] for i in ("X1", "X2", "X5")] == [True, False, False]
    assert got.loc["X1", "incident_type"] == "self_harm" and got.loc["X2", "incident_type"] == "use_of_force"
    assert pd.isna(got.loc["X5", "wing_id"])
    (history,) = [p for p in (folder / ingest.HISTORY).iterdir() if p.is_dir()]  # beside the folder's lock file
    assert (history / "incidents.parquet").read_bytes() == before
    assert "31/02/2024 " not in (history / "rejected.csv").read_text() and "occurred_on" in (history / "rejected.csv").read_text()

    assert ingest.main(["--data", str(folder), "--rollback"]) == 0
    assert (folder / "incidents.parquet").read_bytes() == before
    assert ingest.main(["--data", str(folder), "--rollback"]) == 1  # nothing left to roll back


def test_rows_are_added_and_updated_by_key(folder, raw, tmp_path, capsys):
    prisons = raw("prisons")
    sheet = prisons.head(2).copy()
    sheet.loc[sheet.index[1], "operational_capacity"] = 1234
    new = prisons.head(1).assign(prison_id="ZZI", name="HMP Test")
    path = tmp_path / "upload.xlsx"
    pd.concat([sheet, new]).rename(columns={"prison_id": "Prison", "operational_capacity": "Op cap"}).to_excel(path, index=False)
    assert ingest.main(["--data", str(folder), str(path), "--table", "prisons"]) == 0
    assert "1 added, 1 updated, 1 unchanged" in capsys.readouterr().out
    got = pd.read_parquet(folder / "prisons.parquet").set_index("prison_id")
    assert len(got) == len(prisons) + 1 and got.at[sheet["prison_id"].iloc[1], "operational_capacity"] == 1234
    assert got.at["ZZI", "name"] == "HMP Test"


def test_a_wide_survey_export_becomes_one_row_per_answer(folder, raw, tmp_path, capsys):
    participant = raw("participants")["participant_id"].iloc[0]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Survey responses"
    sheet.append(["The Conversation: survey export"])
    sheet.append([])
    sheet.append(["Respondent ID", "Wave", "Date completed", "Empathy", "Understanding the other side", "trust", "Comments"])
    sheet.append([participant, "Follow up", dt.datetime(2024, 3, 1), 4, 5, None, "good"])
    sheet.append([participant, "pre", "01/02/2024", 2, "six", 3, ""])
    path = tmp_path / "export.xlsx"
    book.save(path)
    plan = ingest.plan_import(folder, [(path, None)])
    (found,) = plan.tables.values()
    assert found.table == "survey_responses" and found.ignored_columns == ["Comments"]
    assert [r.line() for r in found.rejections] == [
        "export.xlsx, sheet 'Survey responses', row 5, column understanding_other_side (score): 'six' is not a whole number"]
    rows = {(r["wave"], r["item"]): r for r in found.rows}
    assert rows[("follow_up", "empathy")]["score"] == 4 and rows[("follow_up", "understanding_other_side")]["score"] == 5
    assert ("follow_up", "trust") not in rows  # an unanswered item is no answer, not a zero
    assert rows[("pre", "trust")]["responded_on"] == dt.date(2024, 2, 1)
    assert len(found.rows) == 5


def test_an_unreadable_file_is_named_and_exits_2(folder, tmp_path, capsys):
    path = tmp_path / "incidents.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    assert ingest.main(["--data", str(folder), str(path)]) == 2
    assert "incidents.xlsx: not a readable XLSX file" in capsys.readouterr().out


def test_a_sheet_without_a_required_column_says_which(folder, tmp_path, capsys):
    path = tmp_path / "wings.csv"
    path.write_text("Wing,Prison\nA1,WSI\n")
    assert ingest.main(["--data", str(folder), str(path)]) == 2
    assert "no column for capacity, wing_name" in capsys.readouterr().out


# --- Messy sheets, generated -----------------------------------------------------------------

HEADERS = {"incident_id": ["incident_id", "Incident ref", "INCIDENT ID", " incident-id "],
           "prison_id": ["prison_id", "Establishment", "Prison"], "wing_id": ["wing_id", "Wing", "Wing code"],
           "occurred_on": ["occurred_on", "Date of incident", "Incident date"],
           "incident_type": ["incident_type", "Type of incident"], "serious": ["serious", "Serious"]}
junk_cell = st.one_of(st.text(max_size=12), st.integers(-10, 10**6).map(str), st.sampled_from(["", "n/a", "31/31/2024", "£", "—"]))


@st.composite
def messy_sheets(draw, wings):
    headers = {c: draw(st.sampled_from(names)) for c, names in HEADERS.items()}
    good, lines = [], []
    for i in range(draw(st.integers(0, 8))):
        prison, wing = draw(st.sampled_from(wings))
        day = draw(st.dates(dt.date(2016, 1, 1), dt.date(2024, 12, 31)))
        written = draw(st.sampled_from([day.strftime("%d/%m/%Y"), day.isoformat(), str((day - dt.date(1899, 12, 30)).days)]))
        kind = draw(st.sampled_from(["self_harm", "Self harm", "USE OF FORCE", "assault_on_staff"]))
        serious = draw(st.sampled_from(["Yes", "no", "Y", "N", "TRUE", "false", "1", "0"]))
        good.append((f"G{i}", day))
        lines.append([f"G{i}", prison, wing, written, kind, serious])
    for i in range(draw(st.integers(0, 4))):
        lines.insert(draw(st.integers(0, len(lines))), [f"J{i}", *draw(st.lists(junk_cell, min_size=5, max_size=5))])
    titles = draw(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20), max_size=3))
    trailing = draw(st.integers(0, 3))
    return headers, titles, lines, trailing, good


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_messy_sheets_never_crash_the_importer_nor_lose_a_good_row(small_folder, tmp_path, data):
    wings = list(pd.read_parquet(small_folder / "wings.parquet")[["prison_id", "wing_id"]].itertuples(index=False, name=None))
    headers, titles, lines, trailing, good = data.draw(messy_sheets(wings))
    path = tmp_path / "incidents.csv"
    rows = [[t] for t in titles] + [list(headers.values())] + lines + [[""] * 6] * trailing
    with open(path, "w", newline="", encoding="cp1252", errors="replace") as out:
        csv.writer(out).writerows(rows)
    plan = ingest.plan_import(small_folder, [(path, None)])
    if not plan.tables:  # no rows at all, or (reported) a title row that happened to read as a header
        assert not lines and plan.skipped or plan.unreadable
        return
    found = plan.tables["incidents"]
    published = found.published.to_pandas().set_index("incident_id")
    for incident_id, day in good:
        assert published.loc[incident_id, "occurred_on"] == day
    rejected = {r.origin for r in found.rejections}
    assert len(found.origins) - len(rejected & set(found.origins)) == len(published)


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory, sample_dir):
    """Prisons and wings only: the loader's check of each generated sheet takes a moment, not a second."""
    target = tmp_path_factory.mktemp("small")
    for table in ("prisons", "wings"):
        shutil.copy(sample_dir / f"{table}.parquet", target)
    return target


def test_the_template_is_the_contract_and_imports_once_filled_in(folder, tmp_path, raw, capsys):
    path = tmp_path / "template.xlsx"
    assert ingest.main(["--template", str(path)]) == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(TABLES)
    for table in TABLES:
        sheet = book[table]
        specs = column_specs(MODELS_BY_TABLE[table])
        assert [c.value for c in sheet[2]] == [s.name for s in specs]
        assert all(c.value and "Example: " in c.value for c in sheet[1])
        lists = {str(v.sqref).split(":")[0][:-1]: v.formula1 for v in sheet.data_validations.dataValidation}
        for letter, spec in zip("ABCDEFGHIJKLMNOP", specs):
            if spec.domain:
                assert lists[letter] == '"' + ",".join(map(str, spec.domain)) + '"'
    incidents = book["incidents"]
    prison, wing = raw("wings")[["prison_id", "wing_id"]].iloc[0]
    incidents.append(["T1", prison, wing, "02/03/2024", "self_harm", "Yes"])
    book.save(path)
    assert ingest.main(["--data", str(folder), str(path)]) == 0
    out = capsys.readouterr().out
    assert "incidents (from template.xlsx, sheet 'incidents'): 1 rows read, 1 accepted, 0 rejected; 1 added" in out
    assert "sheet 'prisons': no rows below the header" in out
    got = pd.read_parquet(folder / "incidents.parquet").set_index("incident_id")
    assert got.loc["T1", "occurred_on"] == dt.date(2024, 3, 2)


def test_the_history_is_not_an_extract(folder):
    from dashboard.database import extracts_fingerprint

    before = extracts_fingerprint(folder)
    (folder / ingest.HISTORY / "20260101T000000Z").mkdir(parents=True)
    (folder / ingest.HISTORY / "20260101T000000Z" / "incidents.parquet").write_bytes(b"old")
    (folder / ".incidents.parquet.importing").write_bytes(b"half")
    assert extracts_fingerprint(folder) == before  # an open app does not reload for them


def test_only_administrators_have_the_import_page(monkeypatch):
    from tests.apptest import open_page, page_files, start

    assert "app_pages/import_data.py" in page_files("admin")
    assert not any("import_data" in page for role in ("governor", "sdm", "funder") for page in page_files(role))
    at = open_page(start(monkeypatch), "app_pages/import_data.py")
    assert [b.label for b in at.get("download_button")] == ["Download the template workbook (XLSX)"]
    assert any("No import to roll back." in m.value for m in at.markdown)


def test_an_ods_workbook_imports_like_the_others(folder, raw, tmp_path):
    expected = raw("programme_sites")
    path = tmp_path / "sites.ods"
    with pd.ExcelWriter(path, engine="odf") as book:
        expected.to_excel(book, sheet_name="programme_sites", index=False)
        pd.DataFrame({"Notes": ["kept by the data team"]}).to_excel(book, sheet_name="Notes", index=False)
    assert ingest.main(["--data", str(folder), str(path), "--replace"]) == 0
    got = pd.read_parquet(folder / "programme_sites.parquet")
    pd.testing.assert_frame_equal(comparable(got, "programme_sites"), comparable(expected, "programme_sites"))
