"""Bad values do not pass as numbers and dates: NaN, infinity and 1e999 are refused in every number
column, a date outside the dates its column may hold (contract.DATE_RANGES) is refused, by the
loader over Parquet and the importer over spreadsheets alike, each with table or file, row, column
and reason; a sheet with two columns headed as one is refused naming both. Good rows are kept."""

import datetime as dt
import shutil

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from dashboard import ingest
from dashboard.contract import DATE_RANGES, MODELS, MODELS_BY_TABLE, column_specs, date_range
from dashboard.loader import load_extracts
from dashboard.sample_data import generate

FLOAT_COLUMNS = [(m.table, s.name) for m in MODELS for s in column_specs(m) if s.python_type is float]
DATE_COLUMNS = [(m.table, s.name) for m in MODELS for s in column_specs(m) if s.python_type in (dt.date, dt.datetime)]


def test_every_date_column_declares_the_dates_it_may_hold():
    assert DATE_COLUMNS
    for table, column in DATE_COLUMNS:
        earliest, latest = date_range(table, column)
        assert earliest <= dt.date(2012, 1, 1) and latest > dt.date.today()
    used = {f"{t}.{c}" for t, c in DATE_COLUMNS} | {c for _, c in DATE_COLUMNS}
    assert set(DATE_RANGES) <= used, set(DATE_RANGES) - used  # no range declared for a column that does not exist


@pytest.fixture(scope="module")
def small_extracts(tmp_path_factory):
    """A small extract set from the generator (loads in a fraction of a second)."""
    folder = tmp_path_factory.mktemp("small")
    generate(folder, n_comparison_prisons=1, volume=0.3, start=dt.date(2016, 1, 1), end=dt.date(2019, 12, 31))
    return folder


@pytest.fixture
def extracts(tmp_path, small_extracts):
    target = tmp_path / "extracts"
    shutil.copytree(small_extracts, target)
    return target


def _spoil(folder, table: str, column: str, value, rows=(0, 2)) -> tuple[int, int]:
    """Put `value` into `rows` of table.column (those the table has): the table's rows, and how many were spoilt."""
    path = folder / f"{table}.parquet"
    original = pq.read_table(path)
    rows = [r for r in rows if r < original.num_rows]
    values = original.column(column).combine_chunks()
    chosen = pa.array([i in rows for i in range(original.num_rows)])
    spoilt = pc.if_else(chosen, pa.scalar(value, values.type), values)
    pq.write_table(original.set_column(original.schema.get_field_index(column), column, spoilt), path)
    return original.num_rows, len(rows)


def _by_table(columns) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for table, column in columns:
        tables.setdefault(table, []).append(column)
    return tables


NOT_FINITE = [float("nan"), float("inf"), float("-inf")]


@pytest.mark.parametrize("table", sorted(_by_table(FLOAT_COLUMNS)))
def test_a_number_column_refuses_nan_and_infinity(extracts, table):
    """Each number column of the table gets NaN, infinity or minus infinity (in turn) in a row of its own."""
    columns = _by_table(FLOAT_COLUMNS)[table]
    n = pq.read_table(extracts / f"{table}.parquet").num_rows
    for j, column in enumerate(columns):
        _spoil(extracts, table, column, NOT_FINITE[j % 3], rows=(j % n,))
    loaded = load_extracts(duckdb.connect(), extracts).tables[table]
    assert loaded.rows_rejected == len({j % n for j in range(len(columns))}) and loaded.rows_loaded == n - loaded.rows_rejected
    for column in columns:
        (problem,) = [p for p in loaded.problems if p.column == column and p.message == "not a finite number"]
        assert problem.rows == 1  # (a row rule on the same column may name the row too)


def _implausible(table: str, column: str, j: int) -> dt.date:
    earliest, latest = date_range(table, column)
    return [dt.date(1, 1, 1), dt.date(9999, 12, 31), earliest - dt.timedelta(days=1), latest + dt.timedelta(days=1)][j % 4]


@pytest.mark.parametrize("table", sorted(_by_table(DATE_COLUMNS)))
def test_a_date_outside_its_columns_range_is_refused(extracts, table):
    """Each date column of the table gets 1 Jan 0001, 31 Dec 9999, the day before its earliest or the day
    after its latest (in turn), in a row of its own; the model refuses the same row."""
    columns = _by_table(DATE_COLUMNS)[table]
    path = extracts / f"{table}.parquet"
    n = pq.read_table(path).num_rows
    if n == 0:
        pytest.skip("no rows")
    specs = {s.name: s for s in column_specs(MODELS_BY_TABLE[table])}
    for j, column in enumerate(columns):
        day = _implausible(table, column, j)
        value = dt.datetime.combine(day, dt.time(12), dt.UTC) if specs[column].python_type is dt.datetime else day
        _spoil(extracts, table, column, value, rows=(j % n,))
    loaded = load_extracts(duckdb.connect(), extracts).tables[table]
    assert loaded.rows_rejected >= 1 and loaded.rows_loaded <= n - 1
    for j, column in enumerate(columns):
        (problem,) = [p for p in loaded.problems if p.column == column and "dates this column may hold" in p.message]
        assert problem.rows == 1 and f"{specs[column].earliest:%-d %b %Y}" in problem.message
        row = pq.read_table(path).slice(j % n, 1).to_pylist()[0]
        with pytest.raises(ValidationError, match="dates this column may hold"):  # the model says the same of the row
            MODELS_BY_TABLE[table].model_validate(row)


def test_the_last_and_first_plausible_days_are_kept(extracts):
    earliest, latest = date_range("targets", "period_end")
    n, _ = _spoil(extracts, "targets", "period_end", latest, rows=(0,))
    report = load_extracts(duckdb.connect(), extracts)
    assert not [p for p in report.tables["targets"].problems if "may hold" in p.message]
    assert report.tables["targets"].rows_loaded == n


# --- The importer --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["NaN", "nan", "inf", "-Infinity", "1e999", "-1e999"])
def test_an_imported_number_that_is_not_finite_is_refused_naming_row_and_column(extracts, tmp_path, capsys, bad):
    path = tmp_path / "donations.csv"
    path.write_text("donation_id,campaign_id,donated_at,amount_gbp,matched_gbp\n"
                    f"D-NEW-1,{_campaign(extracts)},01/12/2019 10:00,{bad},0\n"
                    f"D-NEW-2,{_campaign(extracts)},01/12/2019 11:00,25,25\n")
    assert ingest.main(["--data", str(extracts), str(path), "--dry-run"]) == 1
    report = capsys.readouterr().out
    assert f"donations.csv, row 2, column amount_gbp: {bad!r} is not a finite number" in report
    assert "2 rows read, 1 accepted, 1 rejected" in report


@pytest.mark.parametrize("day", ["01/01/0001", "31/12/9999", "0001-01-01"])
def test_an_imported_date_outside_its_range_is_refused_naming_row_and_column(extracts, tmp_path, capsys, day):
    path = tmp_path / "donations.csv"
    path.write_text("donation_id,campaign_id,donated_at,amount_gbp,matched_gbp\n"
                    f"D-NEW-1,{_campaign(extracts)},{day},25,0\nD-NEW-2,{_campaign(extracts)},01/12/2019 11:00,25,25\n")
    assert ingest.main(["--data", str(extracts), str(path), "--dry-run"]) == 1
    report = capsys.readouterr().out
    assert "donations.csv, row 2, column donated_at" in report and ("dates this column may hold" in report or "is not a date" in report)
    assert "1 accepted, 1 rejected" in report


def _campaign(folder) -> str:
    return pq.read_table(folder / "campaigns.parquet").column("campaign_id")[0].as_py()


@pytest.mark.parametrize("header", ["amount_gbp,amount_gbp", "amount_gbp,Amount GBP", "Amount_GBP,amount-gbp"])
def test_a_sheet_with_two_columns_headed_as_one_is_refused_naming_both(extracts, tmp_path, capsys, header):
    path = tmp_path / "donations.csv"
    path.write_text(f"donation_id,campaign_id,donated_at,{header},matched_gbp\n"
                    f"D-NEW-1,{_campaign(extracts)},01/12/2019 10:00,5000,1,0\n")
    before = (extracts / "donations.parquet").read_bytes()
    assert ingest.main(["--data", str(extracts), str(path)]) == 2
    report = capsys.readouterr().out
    first, second = header.split(",")
    assert f"more than one column is headed as amount_gbp (column D {first!r}, column E {second!r})" in report
    assert (extracts / "donations.parquet").read_bytes() == before


def test_a_wide_survey_with_one_item_twice_is_refused(extracts, tmp_path, capsys):
    path = tmp_path / "survey.csv"
    path.write_text("Respondent ID,Wave,Date completed,Empathy,empathy\nP1,pre,01/02/2024,4,2\n")
    assert ingest.main(["--data", str(extracts), str(path), "--table", "survey_responses"]) == 2
    assert "more than one column is headed as empathy (column D 'Empathy', column E 'empathy')" in capsys.readouterr().out


@pytest.mark.parametrize("index, letters", [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA"), (16383, "XFD")])
def test_columns_are_named_as_a_spreadsheet_names_them(index, letters):
    assert ingest.column_letter(index) == letters
