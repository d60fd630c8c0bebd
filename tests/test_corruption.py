"""Property-based: corrupt a valid extract set in every way the contract forbids and check the
loader never raises, reports each problem with table, column and rows, and loads every valid row.

Runs on a small extract set from the generator (loads in a fraction of a second), so hypothesis
can try many corruptions."""

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dashboard.contract import MODELS, column_specs
from dashboard.loader import load_extracts
from dashboard.sample_data import generate

MODEL = {m.table: m for m in MODELS}
MAX_ROWS_CORRUPTED = 5


def referenced_tables(model) -> set[str]:
    return {ref.target if ref.target in MODEL else dep for ref in model.references for dep in (ref.depends_on or (ref.target,))
            if (ref.target if ref.target in MODEL else dep) in MODEL}


def descendants(table: str) -> set[str]:
    """Tables whose rows can be rejected because `table` lost rows (references, followed down)."""
    found, frontier = set(), {table}
    while frontier:
        frontier = {m.table for m in MODELS if referenced_tables(m) & frontier} - found
        found |= frontier
    return found


def foreign_key_columns(model) -> set[str]:
    return {c for ref in model.references for c in ref.columns}


@pytest.fixture(scope="module")
def small_extracts(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small_extracts")
    generate(folder, n_comparison_prisons=1, volume=0.3, start=dt.date(2016, 1, 1), end=dt.date(2019, 12, 31))
    return folder


@pytest.fixture(scope="module")
def baseline(small_extracts):
    report = load_extracts(duckdb.connect(), small_extracts)
    assert not report.problems
    return {t: load.rows_loaded for t, load in report.tables.items()}


def load(folder: Path):
    con = duckdb.connect()
    report = load_extracts(con, folder)
    return con, report


def check_report_is_complete(con, report):
    """Invariants of every load: counts add up, each problem says where, rejected rows are kept."""
    rejected = dict(con.execute("SELECT table_name, count(*) FROM rejected_rows GROUP BY ALL").fetchall())
    for table, t in report.tables.items():
        assert t.rows_loaded + t.rows_rejected == t.rows_read, table
        assert rejected.get(table, 0) == t.rows_rejected, table
        for problem in t.problems:
            assert problem.table == table and problem.message
            if problem.rejects_rows and problem.rows:
                assert problem.sample_rows, problem
        assert sum(p.rows for p in t.problems if p.rejects_rows) >= t.rows_rejected or not t.rows_rejected


def valid_row(model, row: dict) -> bool:
    try:
        model.model_validate(row)
        return True
    except ValidationError:
        return False


def pick_rows(data, n: int) -> list[int]:
    return sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=min(MAX_ROWS_CORRUPTED, n)), label="rows"))


def replace_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def mask(n: int, rows: list[int]) -> pa.Array:
    chosen = set(rows)
    return pa.array([i in chosen for i in range(n)])


ROW_KINDS = ["null_required", "out_of_domain", "duplicate_key", "orphan_reference", "wrong_type", "huge_string"]
FILE_KINDS = ["drop_column", "rename_column", "truncate", "not_parquet", "empty_file", "empty_table"]


@pytest.mark.parametrize("kind", ROW_KINDS + FILE_KINDS)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_corruption_is_reported_and_every_valid_row_still_loads(small_extracts, baseline, kind, data):
    table = data.draw(st.sampled_from([t for t in MODEL if baseline[t] > 0]), label="table")
    model, specs = MODEL[table], column_specs(MODEL[table])
    event(table)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "extracts"
        shutil.copytree(small_extracts, folder)
        path = folder / f"{table}.parquet"
        original = pq.read_table(path)
        n = original.num_rows
        expected_rejected: int | None = None  # rows of `table` that must be rejected, when it is exact
        column = None

        if kind in ROW_KINDS:
            rows = pick_rows(data, n)
            candidates = {
                "null_required": [s for s in specs if not s.nullable],
                "out_of_domain": [s for s in specs if s.domain or s.ge is not None or s.gt is not None or s.le is not None],
                "orphan_reference": [s for s in specs if s.name in foreign_key_columns(model) and s.python_type is str],
                "wrong_type": [s for s in specs if s.python_type in (int, float, bool, dt.date, dt.datetime)],
                "huge_string": [s for s in specs if s.python_type is str and not s.domain and s.name not in model.key
                                and s.name not in foreign_key_columns(model)],
                "duplicate_key": specs,
            }[kind]
            if not candidates:
                return
            spec = data.draw(st.sampled_from(candidates), label="column")
            column, values = spec.name, original.column(spec.name).combine_chunks()
            if kind == "null_required":
                corrupted = replace_column(original, column, pc.if_else(mask(n, rows), pa.nulls(n, values.type), values))
                expected_rejected = len(rows)
            elif kind == "out_of_domain":
                if spec.domain:
                    bad = pa.scalar("not-an-allowed-value", values.type) if pa.types.is_string(values.type) else None
                    if bad is None:
                        return
                else:
                    low = spec.ge if spec.ge is not None else spec.gt
                    bad_value = (low - 1) if low is not None else (spec.le + 1)
                    bad = pa.scalar(bad_value).cast(values.type)
                corrupted = replace_column(original, column, pc.if_else(mask(n, rows), bad, values))
                expected_rejected = len(rows)
            elif kind == "orphan_reference":
                corrupted = replace_column(original, column, pc.if_else(mask(n, rows), pa.scalar("ORPHAN-0", values.type), values))
                expected_rejected = len(rows)
            elif kind == "wrong_type":
                text = pc.cast(values, pa.string())
                corrupted = replace_column(original, column, pc.if_else(mask(n, rows), pa.scalar("garbage"), text))
                expected_rejected = len(rows)
            elif kind == "huge_string":
                huge = "x" * 1_000_000
                corrupted = replace_column(original, column, pc.if_else(mask(n, rows), pa.scalar(huge), values))
                # a long text is no reason to reject a row, unless a rule lists the values its column may
                # take (a target's indicator): then the model says which rows go
                expected_rejected = sum(not valid_row(model, {**row, column: huge}) for row in original.take(rows).to_pylist())
            else:  # duplicate_key: every copy of a duplicated key is rejected
                corrupted = pa.concat_tables([original, original.take(rows)])
                expected_rejected = 2 * len(rows)
            pq.write_table(corrupted, path)
        elif kind in ("drop_column", "rename_column"):
            spec = data.draw(st.sampled_from(specs), label="column")
            column = spec.name
            kept = original.drop_columns([column])
            if kind == "rename_column":
                kept = kept.append_column(f"{column}_renamed", original.column(column))
            pq.write_table(kept, path)
            # an absent optional column reads as empty: the rows a row rule needs it for are rejected,
            # as the pydantic model says of each row with the column empty
            expected_rejected = n if not spec.nullable else sum(
                not valid_row(model, {**row, column: None}) for row in original.to_pylist())
        elif kind == "truncate":
            cut = data.draw(st.integers(1, path.stat().st_size - 1), label="bytes kept")
            path.write_bytes(path.read_bytes()[:cut])
        elif kind == "not_parquet":
            path.write_bytes(data.draw(st.binary(min_size=1, max_size=200), label="bytes"))
        elif kind == "empty_file":
            path.write_bytes(b"")
        else:  # empty_table: the right columns and no rows
            pq.write_table(original.slice(0, 0), path)

        con, report = load(folder)  # never raises
        check_report_is_complete(con, report)
        loaded = report.tables[table]
        if kind in ("truncate", "not_parquet", "empty_file"):
            assert loaded.state == "unreadable"  # a Parquet file's footer is at its end
            assert any(p.table == table and p.column is None for p in loaded.problems)
        elif kind == "empty_table":
            assert loaded.available and loaded.rows_loaded == 0
        else:
            extra = len(rows) if kind == "duplicate_key" else 0
            assert loaded.rows_rejected == expected_rejected, (kind, column, loaded.problems)
            assert loaded.rows_loaded == n + extra - expected_rejected
            if expected_rejected:
                assert any(p.column == column and p.rows for p in loaded.problems) or kind == "duplicate_key", loaded.problems
        # every other table keeps every row unless it hangs off the damaged one
        for other, count in baseline.items():
            if other == table:
                continue
            if other in descendants(table):
                assert report.tables[other].rows_loaded <= count, other
            else:
                assert report.tables[other].rows_loaded == count, (other, kind, table)
