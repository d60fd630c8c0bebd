"""Import the spreadsheets people keep (CSV, XLSX, ODS) into the extracts folder.

    python -m dashboard.ingest --data DIR FILE... [--table NAME] [--replace] [--dry-run] [--accept-rejections]
    python -m dashboard.ingest --data DIR --rollback
    python -m dashboard.ingest --template FILE.xlsx

Each file, or each sheet of a workbook, is one table: named after the table ("Survey responses.csv",
a sheet called "incidents") or by `--table`. Headers are matched ignoring case, spaces, punctuation and
a byte-order mark, and by the synonyms `dashboard.contract` declares; the header row may sit below title
rows. Cells are read as spreadsheets hold them: Excel serial dates, UK day-first dates (never read
month-first), Yes/No, thousands separators, pounds signs. A wide survey sheet (participant, wave, date,
then one column per item) becomes one row per answer.

The rows are checked by the same contract and the same loader the app uses, against the other extracts
already in the folder, and each rejection names the file, sheet, row as the spreadsheet numbers it,
column and reason. By default new keys are added and existing keys updated (`--replace` replaces the
table). Nothing is written on a dry run, nor when rows are rejected unless `--accept-rejections`.
Publishing writes each table beside the old one and renames it into place, keeping the replaced files
in `DIR/.history/<time>/`; `--rollback` puts the last ones back. Exit status: 0 published (or a clean
dry run), 1 rows rejected, 2 input unreadable.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import getpass
import hashlib
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Optional

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dashboard.contract import (
    COLUMN_SYNONYMS,
    MODELS_BY_TABLE,
    SURVEY_ITEM_LABELS,
    SURVEY_ITEMS,
    ColumnSpec,
    Extract,
    column_specs,
)
from dashboard.text import spreadsheet_cell

HISTORY = ".history"
MANIFEST = "manifest.json"  # in each history folder: the tables it replaced and the ones it created
HEADER_SEARCH_ROWS = 30  # title rows above the header: look this far down for it
# What one import may hold, each refused with a clear message rather than exhaust the server: a file,
# the rows of one sheet, the cells of one sheet (every row's cells up to its last filled one), one cell's
# characters (Excel's own limit). A workbook's declared size is never trusted: its rows are read as they are.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_CELLS = 20_000_000
MAX_CELL_CHARS = 32_767
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (after its 1900 leap-year bug)
SERIAL_RANGE = (20000, 80000)  # serial numbers read as dates: 1954 to 2119
TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
WIDE_SURVEY = "survey_responses"
WIDE_SURVEY_ID_COLUMNS = ("participant_id", "wave", "responded_on")


class Unreadable(Exception):
    """A file or sheet that cannot be read at all (exit status 2)."""


def normalised(text: object) -> str:
    """A header or code compared ignoring case, spaces, punctuation and a byte-order mark."""
    return re.sub(r"[^0-9a-z£]+", "", str(text).replace("\ufeff", "").lower())


@dataclass(frozen=True)
class Origin:
    file: str
    sheet: Optional[str]  # None for a CSV
    row: int  # as the spreadsheet numbers it (1 = first line)

    def where(self) -> str:
        return f"{self.file}" + (f", sheet {self.sheet!r}" if self.sheet else "") + f", row {self.row}"


@dataclass(frozen=True)
class Rejection:
    origin: Origin
    column: Optional[str]
    reason: str

    def line(self) -> str:
        return f"{self.origin.where()}" + (f", column {self.column}" if self.column else "") + f": {self.reason}"


@dataclass
class Sheet:
    file: str
    name: Optional[str]
    rows: list[tuple[int, list]]  # (row number as shown, cells)


@dataclass
class TableImport:
    """What one table's files would change."""

    table: str
    sheets: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    published: Optional[pa.Table] = None  # the table as it would be published
    # rows already in the folder that the loader rejects anyway (not this import's doing: shown, not counted)
    existing_problems: list[str] = field(default_factory=list)


# --- Reading files -------------------------------------------------------------------------


def _xlsx_sheet(name: str, ws) -> Sheet:
    """A worksheet's rows as they are in the file, whatever size it declares: a stale dimension
    (A1:E3 over thousands of rows) would cut rows off, a vast one (A1:XFD1048576) pad every row to
    16,384 cells. Rows with nothing in them are not kept; each row ends at its last filled cell."""
    ws.reset_dimensions()
    rows, cells_read = [], 0
    for number, values in enumerate(ws.iter_rows(values_only=True), 1):
        if not values or all(v is None for v in values):
            continue
        cells_read += len(values)
        _check_size(_where(Sheet(name, ws.title, [])), len(rows) + 1, cells_read)
        rows.append((number, list(values)))
    return _bounded(Sheet(name, ws.title, rows))


def _check_size(where: str, rows: int, cells: int) -> None:
    if rows > MAX_ROWS:
        raise Unreadable(f"{where}: more than {MAX_ROWS:,} rows, more than an import takes; split it")
    if cells > MAX_CELLS:
        raise Unreadable(f"{where}: more than {MAX_CELLS:,} cells (counting every row to its last filled cell), "
                         "more than an import takes; remove the empty columns or split it")


def _bounded(sheet: Sheet) -> Sheet:
    """The sheet, refused when it holds more rows or cells, or a longer cell, than an import takes."""
    _check_size(_where(sheet), len(sheet.rows), sum(len(cells) for _, cells in sheet.rows))
    for number, cells in sheet.rows:
        for i, value in enumerate(cells):
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise Unreadable(f"{_where(sheet)}, row {number}, column {column_letter(i)}: a cell of {len(value):,} characters, "
                                 f"longer than a spreadsheet cell holds ({MAX_CELL_CHARS:,})")
    return sheet


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252, which Excel on Windows writes."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_sheets(path: Path, data: bytes | None = None) -> list[Sheet]:
    """Every sheet of a CSV, XLSX or ODS file with each row's number as the spreadsheet shows it."""
    name = path.name
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size if data is None else len(data)
        if size > MAX_FILE_BYTES:
            raise Unreadable(f"{name}: {size / 2**20:,.0f} MB is more than an import takes ({MAX_FILE_BYTES / 2**20:,.0f} MB); split it")
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise Unreadable(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    try:
        if suffix in (".csv", ".txt"):
            text = _decode(data)
            try:
                dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(io.StringIO(text, newline=""), dialect)
            rows, line = [], 1
            for cells in reader:
                rows.append((line, cells))
                line = reader.line_num + 1
            return [_bounded(Sheet(name, None, rows))]
        if suffix in (".xlsx", ".xlsm"):
            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return [_xlsx_sheet(name, ws) for ws in book.worksheets]
            finally:
                book.close()
        if suffix == ".ods":
            frames = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, engine="odf", dtype=object)
            return [_bounded(Sheet(name, sheet, [(i + 1, list(r)) for i, r in enumerate(frame.itertuples(index=False))]))
                    for sheet, frame in frames.items()]
    except Unreadable:
        raise
    except Exception as exc:  # a damaged workbook raises whatever its reader raises
        raise Unreadable(f"{name}: not a readable {suffix.lstrip('.').upper()} file ({type(exc).__name__})") from exc
    raise Unreadable(f"{name}: only CSV, XLSX and ODS files can be imported")


# --- Headers -------------------------------------------------------------------------------


def header_names(model: type[Extract]) -> dict[str, str]:
    """Every normalised header that names one of the table's columns."""
    names = {}
    for spec in column_specs(model):
        for text in (spec.name, *COLUMN_SYNONYMS.get(spec.name, ())):
            names.setdefault(normalised(text), spec.name)
    return names


def item_names() -> dict[str, str]:
    return {normalised(t): item for item in SURVEY_ITEMS for t in (item, SURVEY_ITEM_LABELS.get(item, item))}


def table_named(text: str) -> Optional[str]:
    wanted = normalised(Path(text).stem if "." in text else text)
    return next((t for t in MODELS_BY_TABLE if normalised(t) == wanted), None)


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (isinstance(value, str) and not value.strip())


def find_header(sheet: Sheet, model: type[Extract]) -> tuple[int, dict[int, str], list[str], bool]:
    """The header row's index in sheet.rows, each matched cell's column, the headers not matched, and
    whether it is a wide survey sheet (item columns instead of `item` and `score`)."""
    names = header_names(model)
    items = item_names() if model.table == WIDE_SURVEY else {}
    required = {s.name for s in column_specs(model) if not s.nullable}
    best = None
    for index, (_, cells) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        found = {i: names[normalised(c)] for i, c in enumerate(cells) if not _blank(c) and normalised(c) in names}
        wide = {i: items[normalised(c)] for i, c in enumerate(cells) if not _blank(c) and normalised(c) in items}
        score = len(set(found.values())) + len(wide)
        if best is None or score > best[0]:
            best = (score, index, found, wide, cells)
        if set(found.values()) >= required:
            break
    if best is None or best[0] == 0:
        raise Unreadable(f"{_where(sheet)}: no header row names a column of {model.table} in its first {HEADER_SEARCH_ROWS} rows")
    _, index, found, wide, cells = best
    is_wide = bool(wide) and "score" not in found.values() and set(WIDE_SURVEY_ID_COLUMNS) <= set(found.values())
    columns = {**found, **({i: f"item:{item}" for i, item in wide.items()} if is_wide else {})}
    headed: dict[str, list[int]] = {}
    for i, column in columns.items():
        headed.setdefault(column, []).append(i)
    if twice := {column: where for column, where in headed.items() if len(where) > 1}:
        # which one is meant? Neither is guessed: the last one used to win silently
        raise Unreadable(f"{_where(sheet)}, row {sheet.rows[index][0]}: more than one column is headed as "
                         + "; ".join(f"{column.removeprefix('item:')} ("
                                     + ", ".join(f"column {column_letter(i)} {str(cells[i]).strip()!r}" for i in where) + ")"
                                     for column, where in twice.items()))
    ignored = [str(c).strip() for i, c in enumerate(cells) if not _blank(c) and i not in columns]
    return index, columns, ignored, is_wide


def column_letter(index: int) -> str:
    """A spreadsheet's name for the column at 0-based `index`: A, B, ... Z, AA, AB ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _where(sheet: Sheet) -> str:
    return sheet.file + (f", sheet {sheet.name!r}" if sheet.name else "")


# --- Cells ---------------------------------------------------------------------------------


def _number_text(value: str) -> str:
    return value.replace("£", "").replace(",", "").replace(" ", "").replace("\u00a0", "").strip()


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(f"{value!r} is not a date")
    text = str(value).strip()
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return parse_date(float(text))
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?", text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?: [\d:]+)?", text):  # UK: day first, always
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return date(year, int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2})[ \-]([A-Za-z]{3,9})[ \-,]+(\d{4})", text):
        return date(int(m[3]), MONTHS[m[2][:3].lower()], int(m[1]))
    if m := re.fullmatch(r"([A-Za-z]{3,9})[ \-](\d{4})", text):  # "March 2019": a month's first day
        return date(int(m[2]), MONTHS[m[1][:3].lower()], 1)
    raise ValueError(f"{text!r} is not a date (write it as 31/12/2024 or 2024-12-31)")


_WHAT = {date: "a date", datetime: "a date and time", bool: "yes or no", int: "a whole number", float: "a number"}


def parse_cell(value, spec: ColumnSpec):
    """One cell as the column's type, or None when blank; ValueError says what is wrong."""
    if _blank(value):
        return None
    kind = spec.python_type
    try:
        if kind is date:
            return parse_date(value)
        if kind is datetime:
            if isinstance(value, datetime):
                stamp = pd.Timestamp(value)
            else:
                text = str(value).strip()
                m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})(.*)", text)
                stamp = pd.Timestamp(f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}{m[4]}") if m else pd.Timestamp(text)
            return (stamp.tz_localize("Europe/London") if stamp.tzinfo is None else stamp).tz_convert("UTC").to_pydatetime()
        if kind is bool:
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            word = word[:-2] if word.endswith(".0") else word
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError(f"{value!r} is not yes or no")
        if kind is int:
            number = float(_number_text(str(value))) if not isinstance(value, (int, float)) else float(value)
            if number != int(number):
                raise ValueError(f"{value!r} is not a whole number")
            return int(number)
        if kind is float:
            number = float(_number_text(str(value))) if not isinstance(value, (int, float)) else float(value)
            if not math.isfinite(number):  # "NaN", "inf", "1e999": Python reads them as floats, a register never means them
                raise ValueError(f"{value!r} is not a finite number")
            return number
    except ValueError as exc:
        raise ValueError(str(exc) if " is not " in str(exc) else f"{value!r} is not {_WHAT[kind]}") from None
    except (OverflowError, KeyError, TypeError):
        raise ValueError(f"{value!r} is not {_WHAT[kind]}") from None
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))  # a code typed as a number in Excel comes back as 12.0
    if spec.domain:
        match = {normalised(d): d for d in spec.domain}.get(normalised(text))
        if match is None:
            raise ValueError(f"{text!r} is not one of {', '.join(spec.domain)}")
        return match
    return text


def parse_sheet(sheet: Sheet, model: type[Extract]) -> TableImport:
    """The rows of one sheet as the table's columns, and the cells that could not be read."""
    found = TableImport(model.table, sheets=[_where(sheet)])
    index, columns, found.ignored_columns, wide = find_header(sheet, model)
    specs = {s.name: s for s in column_specs(model)}
    present = set(columns.values())
    needed = {s.name for s in specs.values() if not s.nullable} - ({"item", "score"} if wide else set())
    if missing := sorted(needed - present):
        raise Unreadable(f"{_where(sheet)}: no column for {', '.join(missing)} (looked for "
                         + "; ".join(f"{m}: {', '.join([m, *COLUMN_SYNONYMS.get(m, ())])}" for m in missing) + ")")
    for number, cells in sheet.rows[index + 1:]:
        if all(_blank(c) for c in cells):
            continue  # blank rows (at the end, or between blocks) are not data
        origin = Origin(sheet.file, sheet.name, number)
        row, problems, answers = {}, [], {}
        for i, column in columns.items():
            value = cells[i] if i < len(cells) else None
            if column.startswith("item:"):
                answers[column[5:]] = value
                continue
            try:
                row[column] = parse_cell(value, specs[column])
            except ValueError as exc:
                problems.append(Rejection(origin, column, str(exc)))
        for name in specs:
            row.setdefault(name, None)
        if not wide:
            found.rows.append(row)
            found.origins.append(origin)
            found.rejections.extend(problems)
            continue
        for item, value in answers.items():  # one row per answered item
            if _blank(value):
                continue
            answer = {**row, "item": item}
            try:
                answer["score"] = parse_cell(value, specs["score"])
                item_problems = []
            except ValueError as exc:
                item_problems = [Rejection(origin, f"{item} (score)", str(exc))]
            found.rows.append(answer)
            found.origins.append(origin)
            found.rejections.extend(problems + item_problems)
    return found


# --- Tables --------------------------------------------------------------------------------

ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_(), date: pa.date32(),
               datetime: pa.timestamp("us", tz="UTC")}


def arrow_schema(model: type[Extract]) -> pa.Schema:
    return pa.schema([pa.field(s.name, ARROW_TYPES[s.python_type]) for s in column_specs(model)])


def arrow_table(model: type[Extract], rows: list[dict]) -> pa.Table:
    schema = arrow_schema(model)
    return pa.Table.from_pylist([{name: r.get(name) for name in schema.names} for r in rows], schema=schema)


def existing_table(data_dir: Path, model: type[Extract]) -> Optional[pa.Table]:
    """The table now in the folder, in the contract's columns and types (None if there is none)."""
    path = data_dir / f"{model.table}.parquet"
    if path.is_file():
        schema = arrow_schema(model)
        current = pq.read_table(path)
        try:
            return pa.table([current[n].cast(f.type) if n in current.column_names else pa.nulls(len(current), f.type)
                             for n, f in zip(schema.names, schema)], schema=schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise Unreadable(f"{path.name}: the table in the folder does not fit the contract ({exc}); import it with --replace") from exc
    if (data_dir / model.table).is_dir():
        raise Unreadable(f"{model.table}: the extract is a folder of files; import into a folder holding {model.table}.parquet")
    return None


def _keys(values: dict[str, list], key: tuple[str, ...]) -> list[tuple]:
    """Each row's key as text (None for a blank part), the same for the folder's rows and new ones."""
    return list(zip(*[[None if _blank(v) else str(v) for v in values[k]] for k in key]))


def merged(rows: list[dict], model: type[Extract], current: Optional[pa.Table], replace: bool) -> pa.Table:
    """The folder's rows whose keys the import does not carry (none when replacing), then the new rows."""
    new = arrow_table(model, rows)
    if current is None or replace:
        return new
    wanted = set(_keys(new.select(list(model.key)).to_pydict(), model.key))
    existing = _keys(current.select(list(model.key)).to_pydict(), model.key)
    kept = current.filter(pa.array([k not in wanted for k in existing], type=pa.bool_()))
    return pa.concat_tables([kept, new])


def count_changes(found: TableImport, model: type[Extract], current: Optional[pa.Table], replace: bool) -> None:
    """How many of `found`'s rows would be added, would update a row with the same key, or match it
    exactly (set on `found`)."""
    new = arrow_table(model, found.rows)
    found.added = found.updated = found.unchanged = 0
    if current is None or replace:
        found.added = len(found.rows)
        return
    incoming = _keys(new.select(list(model.key)).to_pydict(), model.key)
    existing = _keys(current.select(list(model.key)).to_pydict(), model.key)
    wanted = set(incoming)
    matched = [i for i, k in enumerate(existing) if k in wanted]
    old = dict(zip([existing[i] for i in matched], current.take(pa.array(matched, type=pa.int64())).to_pylist()))
    for k, row in zip(incoming, new.to_pylist()):
        if k not in old:
            found.added += 1
        elif old[k] == row:
            found.unchanged += 1
        else:
            found.updated += 1


def validate(data_dir: Path, tables: dict[str, pa.Table]) -> dict[str, list[tuple[int, str]]]:
    """Check the would-be tables with the app's own loader, beside the other extracts of `data_dir`:
    for each table, the rejected rows' positions (1-based) and reasons."""
    from dashboard.loader import load_extracts

    with tempfile.TemporaryDirectory(prefix="import-check-") as scratch:
        scratch = Path(scratch)
        for entry in data_dir.iterdir():
            name = entry.name[: -len(".parquet")] if entry.name.endswith(".parquet") else entry.name
            if name in MODELS_BY_TABLE and name not in tables:
                (scratch / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
        for table, rows in tables.items():
            pq.write_table(rows, scratch / f"{table}.parquet")
        con = duckdb.connect(":memory:")
        try:
            load_extracts(con, scratch)
            found = con.execute(
                "SELECT table_name, source_row, problems FROM rejected_rows WHERE list_contains($tables, table_name) ORDER BY source_row",
                {"tables": list(tables)},
            ).fetchall()
        finally:
            con.close()
    result: dict[str, list[tuple[int, str]]] = {t: [] for t in tables}
    for table, row, problems in found:
        for problem in problems:
            result[table].append((int(row), problem))
    return result


# --- The whole import ----------------------------------------------------------------------


@dataclass
class ImportPlan:
    data_dir: Path
    tables: dict[str, TableImport]
    unreadable: list[str]
    skipped: list[str] = field(default_factory=list)  # sheets named after no table (notes, pivots)
    files: tuple[str, ...] = ()  # the uploaded files' names
    base: dict[str, str] = field(default_factory=dict)  # each table's file as it was checked against (its digest)

    @property
    def rejected(self) -> int:
        return sum(len({r.origin for r in t.rejections}) for t in self.tables.values())

    def summary(self) -> str:
        lines = []
        for t in self.tables.values():
            rows = len({o for o in t.origins})
            rejected = len({r.origin for r in t.rejections})
            lines.append(f"{t.table} (from {'; '.join(t.sheets)}): {rows:,} rows read, {rows - rejected:,} accepted, "
                         f"{rejected:,} rejected; {t.added:,} added, {t.updated:,} updated, {t.unchanged:,} unchanged")
            if t.ignored_columns:
                lines.append(f"  columns ignored: {', '.join(t.ignored_columns)}")
            lines.extend(f"  rejected: {r.line()}" for r in t.rejections)
            lines.extend(f"  already in the folder and rejected by the loader (unchanged by this import): {problem}"
                         for problem in t.existing_problems)
        lines.extend(f"skipped: {s}" for s in self.skipped)
        lines.extend(f"unreadable: {u}" for u in self.unreadable)
        return "\n".join(lines)


def plan_import(data_dir: Path, files: Iterable[tuple[str, bytes | None]], table: Optional[str] = None,
                replace: bool = False) -> ImportPlan:
    """Read, reshape, merge and check `files` ((path or name, bytes or None to read the path)) against
    the extracts in `data_dir`: nothing is written."""
    data_dir = Path(data_dir)
    files = files_read = list(files)
    if table is not None and table not in MODELS_BY_TABLE:
        raise Unreadable(f"--table {table}: not a table of the contract ({', '.join(MODELS_BY_TABLE)})")
    found: dict[str, TableImport] = {}
    unreadable: list[str] = []
    skipped: list[str] = []
    for path, data in files:
        path = Path(path)
        try:
            sheets = read_sheets(path, data)
        except Unreadable as exc:
            unreadable.append(str(exc))
            continue
        for i, sheet in enumerate(sheets):
            name = table_named(sheet.name) if sheet.name else None
            name = name or (table_named(path.name) if len(sheets) == 1 or i == 0 else None) or (table if i == 0 else None)
            if name is None:
                if not all(_blank(c) for _, cells in sheet.rows for c in cells):
                    skipped.append(f"{_where(sheet)}: not named after a table ({', '.join(MODELS_BY_TABLE)}); "
                                   "name the sheet or file after one, or say which (--table; Extract on the Import page)")
                continue
            try:
                part = parse_sheet(sheet, MODELS_BY_TABLE[name])
            except Unreadable as exc:
                unreadable.append(str(exc))
                continue
            if not part.rows and not part.rejections:
                skipped.append(f"{_where(sheet)}: no rows below the header")
                continue
            whole = found.setdefault(name, TableImport(name))
            whole.sheets += part.sheets
            whole.rows += part.rows
            whole.origins += part.origins
            whole.rejections += part.rejections
            whole.ignored_columns += [c for c in part.ignored_columns if c not in whole.ignored_columns]
    candidates = {}
    for name, part in found.items():
        model = MODELS_BY_TABLE[name]
        try:
            current = existing_table(data_dir, model)
        except Unreadable as exc:
            unreadable.append(str(exc))
            continue
        unreadable_rows = {r.origin for r in part.rejections}
        good = TableImport(name, rows=[r for r, o in zip(part.rows, part.origins) if o not in unreadable_rows],
                           origins=[o for o in part.origins if o not in unreadable_rows])
        candidate = merged(good.rows, model, current, replace)
        candidates[name] = (candidate, candidate.num_rows - len(good.rows), good, current)
    checked = validate(data_dir, {name: table for name, (table, _, _, _) in candidates.items()})
    for name, (candidate, kept, good, current) in candidates.items():
        part = found[name]
        for position, reason in checked[name]:
            if position > kept:  # a row of this import (the folder's rows come first)
                column, _, why = reason.partition(": ")
                part.rejections.append(Rejection(good.origins[position - kept - 1], column, why))
            else:
                part.existing_problems.append(f"{name}.parquet row {position}: {reason}")
        rejected = {r.origin for r in part.rejections}
        keep = [True] * kept + [o not in rejected for o in good.origins]
        accepted = TableImport(name, rows=[r for r, o in zip(good.rows, good.origins) if o not in rejected])
        count_changes(accepted, MODELS_BY_TABLE[name], current, replace)  # what would really change
        part.added, part.updated, part.unchanged = accepted.added, accepted.updated, accepted.unchanged
        part.published = candidate.filter(pa.array(keep, type=pa.bool_()))
    return ImportPlan(data_dir, {n: found[n] for n in candidates}, unreadable, skipped,
                      files=tuple(Path(f).name for f, _ in files_read), base={n: _digest(data_dir / f"{n}.parquet") for n in candidates})


class ImportRefused(Exception):
    """Publishing or rolling back would lose someone's work: nothing was written."""


LOCK = ".import.lock"
# The folders whose lock this thread holds, and how deep: a thread that holds it may take it again; another
# thread of the same process (a second administrator's session on the same server) waits like any process.
_holding = threading.local()


@contextmanager
def folder_lock(data_dir: Path, wait: float = 60.0):
    """One import or roll back at a time in a folder, across processes and replicas on one machine. An
    advisory lock (flock) on a file in the history folder: the system releases it when its holder ends,
    so a crash never leaves the folder locked."""
    folder = (Path(data_dir) / HISTORY).resolve()
    _held = _holding.__dict__.setdefault("folders", {})
    if _held.get(folder):  # this thread holds it already (the command line plans and publishes under one lock)
        _held[folder] += 1
        try:
            yield
        finally:
            _held[folder] -= 1
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ImportRefused("another import or roll back is running in this folder; try again in a minute") from None
                time.sleep(0.1)
        _held[folder] = 1
        try:
            yield
        finally:
            _held.pop(folder, None)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _digest(path: Path) -> str:
    """A file's SHA-256, or "absent": what an import was checked against."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except FileNotFoundError:
        return "absent"


def _new_import_id(history_dir: Path, now: datetime) -> str:
    """A readable id: the time in UTC and a number, '2026-12-08 02.20.13 #4' (a folder name, sortable)."""
    number = 1 + max((int(p.name.rsplit("#", 1)[1]) for p in history_dir.glob("* #*") if p.name.rsplit("#", 1)[1].isdigit()), default=0)
    return f"{now:%Y-%m-%d %H.%M.%S} #{number}"


def publish(plan: ImportPlan, now: Optional[datetime] = None, by: str = "") -> Path:
    """Write every table of the plan into its folder, or none: under the folder's lock, after checking
    that no other import changed those tables since the plan was checked (its rows would be lost), each
    file written beside the old one and renamed into place, what it replaces kept in history. An
    unreadable file in the batch publishes nothing. ImportRefused says why nothing was written."""
    if plan.unreadable:
        raise ImportRefused("a file of this import could not be read, so none of it is published: " + "; ".join(plan.unreadable))
    with folder_lock(plan.data_dir):
        changed = [name for name, digest in plan.base.items() if _digest(plan.data_dir / f"{name}.parquet") != digest]
        if changed:
            raise ImportRefused(f"{', '.join(changed)} changed since these files were checked (another import was published): "
                                "nothing was written; check the files again")
        now = now or datetime.now(UTC)
        history = plan.data_dir / HISTORY / _new_import_id(plan.data_dir / HISTORY, now)
        history.mkdir(parents=True)
        manifest = {"replaced": [], "created": [], "at": now.isoformat(timespec="seconds"), "by": by, "files": list(plan.files),
                    "changes": {name: {"added": part.added, "updated": part.updated, "rows": part.published.num_rows}
                                for name, part in plan.tables.items()}}
        fresh = {}
        try:
            for name, part in plan.tables.items():  # every new file written first ...
                fresh[name] = plan.data_dir / f".{name}.parquet.importing"
                pq.write_table(part.published, fresh[name])
                target = plan.data_dir / f"{name}.parquet"
                if target.exists():
                    shutil.copy2(target, history / target.name)
                    manifest["replaced"].append(target.name)
                else:
                    manifest["created"].append(target.name)
            (history / MANIFEST).write_text(json.dumps(manifest))
        except BaseException:
            for path in fresh.values():
                path.unlink(missing_ok=True)
            shutil.rmtree(history, ignore_errors=True)
            raise
        for name, path in fresh.items():  # ... then each renamed into place: a reader sees the old file or the new one
            os.replace(path, plan.data_dir / f"{name}.parquet")
    rejections = [r for part in plan.tables.values() for r in part.rejections]
    if rejections:  # published with --accept-rejections: the rows left out stay on record
        with open(history / "rejected.csv", "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["file", "sheet", "row", "column", "reason"])
            writer.writerows([spreadsheet_cell(v) for v in (r.origin.file, r.origin.sheet or "", r.origin.row, r.column or "", r.reason)]
                             for r in rejections)  # as every download: no cell a spreadsheet would run
    return history


@dataclass(frozen=True)
class HistoryEntry:
    path: Path
    tables: tuple[str, ...]  # what the import changed
    manifest: dict = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.path.name

    def describe(self) -> str:
        """'2026-12-08 02.20.13 #4 by kate@partner.org: incidents (3 added, 1 updated)'."""
        changes = self.manifest.get("changes", {})
        parts = [f"{t} ({changes[t]['added']:,} added, {changes[t]['updated']:,} updated)" if t in changes else t for t in self.tables]
        by = self.manifest.get("by")
        return f"{self.name}{f' by {by}' if by else ''}: {', '.join(parts)}"


def history_entries(data_dir: Path) -> list[HistoryEntry]:
    """The imports that can be rolled back, oldest first."""
    folder = Path(data_dir) / HISTORY
    entries = []
    for path in (p for p in folder.iterdir() if p.is_dir() and (p / MANIFEST).is_file()) if folder.is_dir() else []:
        manifest = json.loads((path / MANIFEST).read_text())
        entries.append(HistoryEntry(path, tuple(n.removesuffix(".parquet") for n in manifest["replaced"] + manifest["created"]), manifest))
    # in the order they were published: by the number in the id ("… #12" after "… #9"); older ids by name
    return sorted(entries, key=lambda e: (int(e.name.rsplit("#", 1)[1]) if e.name.rsplit("#", 1)[-1].isdigit() else 0, e.name))


def rollback(data_dir: Path, import_id: Optional[str] = None) -> Optional[Path]:
    """Put back the files import `import_id` replaced (and remove the ones it created); the last import
    when none is named. Refused (ImportRefused) when a later import changed one of the same tables: its
    rows would be lost. None when there is nothing to roll back."""
    with folder_lock(data_dir):
        entries = history_entries(data_dir)
        if not entries:
            return None
        chosen = entries[-1] if import_id is None else next((e for e in entries if e.name == import_id), None)
        if chosen is None:
            raise ImportRefused(f"no import {import_id!r} to roll back (the imports are: {', '.join(e.name for e in entries)})")
        later = [e for e in entries[entries.index(chosen) + 1:] if set(e.tables) & set(chosen.tables)]
        if later:
            raise ImportRefused(f"import {chosen.name} cannot be rolled back: the later import {later[0].name} changed "
                                f"{', '.join(sorted(set(later[0].tables) & set(chosen.tables)))} too; roll that one back first")
        manifest = chosen.manifest
        for name in manifest["replaced"]:
            fresh = Path(data_dir) / f".{name}.restoring"
            shutil.copy2(chosen.path / name, fresh)
            os.replace(fresh, Path(data_dir) / name)
        for name in manifest["created"]:
            (Path(data_dir) / name).unlink(missing_ok=True)
        shutil.rmtree(chosen.path)
        return chosen.path


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="CSV, XLSX or ODS files")
    parser.add_argument("--data", help="the extracts folder to import into")
    parser.add_argument("--table", help="the table a file's first sheet holds, when its name does not say")
    parser.add_argument("--replace", action="store_true", help="replace the whole table instead of adding and updating rows")
    parser.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    parser.add_argument("--accept-rejections", action="store_true", help="publish the accepted rows even when some are rejected")
    parser.add_argument("--rollback", nargs="?", const="", metavar="IMPORT",
                        help="put back the files an import replaced: the one named (as --history lists them), else the last")
    parser.add_argument("--history", action="store_true", help="list the imports that can be rolled back")
    parser.add_argument("--template", metavar="FILE.xlsx", help="write a workbook to fill in, made from the contract")
    args = parser.parse_args(argv)
    if args.template:
        from dashboard.template import write_template

        write_template(Path(args.template))
        print(f"template written to {args.template}")
        return 0
    if not args.data:
        parser.error("--data DIR is needed")
    data_dir = Path(args.data)
    if args.history:
        for entry in history_entries(data_dir):
            print(entry.describe())
        return 0
    if args.rollback is not None:
        try:
            restored = rollback(data_dir, args.rollback or None)
        except ImportRefused as refused:
            print(f"nothing rolled back: {refused}", file=sys.stderr)
            return 1
        if restored:
            _audit("import_rolled_back", restored.name, [])
        print(f"restored the files replaced by import {restored.name}" if restored else "nothing to roll back")
        return 0 if restored else 1
    if not args.files:
        parser.error("name at least one file to import")
    try:
        with folder_lock(data_dir):  # checked and published against the same folder: a second import waits its turn
            return _import(data_dir, args)
    except ImportRefused as refused:
        print(f"nothing written: {refused}", file=sys.stderr)
        return 1
    except (MemoryError, duckdb.OutOfMemoryException) as exc:  # past the declared limits, a machine smaller than they assume
        print(f"nothing written: the files are too large to check on this machine ({type(exc).__name__}); split them",
              file=sys.stderr)
        return 2


def _import(data_dir: Path, args) -> int:
    try:
        plan = plan_import(data_dir, [(f, None) for f in args.files], args.table, args.replace)
    except Unreadable as exc:
        print(f"unreadable: {exc}", file=sys.stderr)
        return 2
    print(plan.summary())
    if plan.unreadable and not plan.tables:
        return 2
    if not plan.tables:
        print("nothing to import: no sheet is named after a table")
        return 2
    if args.dry_run:
        print("dry run: nothing written")
        return 1 if plan.rejected else (2 if plan.unreadable else 0)
    if plan.rejected and not args.accept_rejections:
        print("nothing written: rows were rejected (fix them, or publish the rest with --accept-rejections)")
        return 1
    if plan.unreadable:
        print("nothing written: a file could not be read, and an import publishes all its files or none")
        return 2
    history = publish(plan, by=_command_line_user())
    _audit("import_published", history.name, list(plan.files))
    print(f"published as import {history.name}; the replaced files are kept in {history}")
    return 0


def _command_line_user() -> str:
    return f"{getpass.getuser()} (command line)"


def _audit(event: str, import_id: str, files: list[str]) -> None:
    from dashboard import audit

    try:
        audit.record(event, _command_line_user(), None, file=", ".join(files) or None, import_id=import_id)
    except OSError as error:
        print(f"the audit trail could not be written: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
