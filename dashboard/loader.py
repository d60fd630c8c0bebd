"""Load the Parquet extracts into DuckDB and validate them against the data contract.

Every check runs over whole columns in DuckDB (one pass per table), generated from the pydantic
models in `dashboard.contract`. For each table the loader creates:

- `main.<table>`: the rows that pass every check, typed as the contract says;
- rows of `rejected_rows` for the rows that fail: table, file, row number, original values (as
  JSON text) and the list of problems — kept and shown, never silently dropped.

A reference is checked against the *clean* rows of the table it points to, so a rejected parent
also rejects the rows that point to it (they would otherwise count under a ghost).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal, Optional

import duckdb
import pyarrow as pa

from dashboard.contract import MODELS, ColumnSpec, Extract, Reference, column_specs

PROBLEM_SAMPLE_ROWS = 10
# A replacement that keeps less than this share of the rows the last load had is flagged: it is
# still served (a shorter extract can be right), but every page that uses it says so.
SHRINK_FLAG_SHARE = 0.5
SHRANK = "rows fell sharply"

TableState = Literal["loaded", "loaded with problems", "missing", "unreadable", "kept last good"]


@dataclass(frozen=True)
class Problem:
    """One kind of problem in one column of one table, with the rows it affects."""

    table: str
    column: Optional[str]
    rule: str
    message: str
    rows: int = 0  # rows rejected for this reason; 0 for a table-level note
    sample_rows: tuple[str, ...] = ()  # "row 12 (incident_id=I00012)", first few
    rejects_rows: bool = True
    # the offending values, first few: they can name people and wings, so only administrators see them
    examples: tuple[str, ...] = ()

    @property
    def severity(self) -> str:
        return "error" if self.rejects_rows else "warning"


@dataclass
class TableLoad:
    table: str
    state: TableState
    files: list[str] = field(default_factory=list)
    modified: Optional[datetime] = None
    bytes: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    date_column: Optional[str] = None
    date_min: object = None
    date_max: object = None
    extra_columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    loaded_at: Optional[datetime] = field(default_factory=lambda: datetime.now(UTC))

    @property
    def available(self) -> bool:
        return self.state in ("loaded", "loaded with problems", "kept last good")

    @property
    def lost_everything(self) -> bool:
        """Missing, unreadable, empty, or every row rejected: a replacement not worth serving over a
        good one (an extract that is emptied on purpose is far rarer than an export that failed)."""
        return not self.available or self.rows_loaded == 0

    @property
    def degraded(self) -> bool:
        """Figures built on this table may be wrong or stale: rows were rejected, the table shrank
        sharply since the last load, or an older version is being served."""
        return self.state == "kept last good" or self.rows_rejected > 0 or any(p.rule == SHRANK for p in self.problems)


@dataclass
class LoadReport:
    data_dir: Path
    tables: dict[str, TableLoad]
    seconds: float

    @property
    def problems(self) -> list[Problem]:
        return [p for t in self.tables.values() for p in t.problems]

    def unavailable(self, *tables: str) -> list[str]:
        return [t for t in tables if not self.tables[t].available]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value) -> str:
    """A SQL literal for a constant from the contract (never for user input)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def find_extract_files(data_dir: Path, table: str) -> tuple[list[Path], bool]:
    """The Parquet files of a table, and whether they sit in hive partitions."""
    single = data_dir / f"{table}.parquet"
    if single.is_file():
        return [single], False
    folder = data_dir / table
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*.parquet") if p.is_file())
        return files, any("=" in part for f in files for part in f.relative_to(folder).parts[:-1])
    return [], False


# Rows are identified by file position and row number (virtual columns: nothing is copied).
_SOURCE = "read_parquet($files, hive_partitioning=$hive, union_by_name=true)"


@dataclass(frozen=True)
class _Source:
    """The readable files of one table, read by DuckDB straight from Parquet."""

    files: tuple[str, ...]
    hive: bool

    @property
    def params(self) -> dict:
        return {"files": list(self.files), "hive": self.hive}


def _readable_source(con, table: str, files: list[Path], hive: bool) -> tuple[Optional[_Source], list[Problem]]:
    """The files DuckDB can read; each file it cannot read is a problem, not a failure of the table."""
    source = _Source(tuple(str(f) for f in files), hive)
    try:
        con.execute(f"SELECT * FROM {_SOURCE} LIMIT 0", source.params)
        return source, []
    except duckdb.Error:
        pass
    readable, problems = [], []
    for f in files:
        try:
            con.execute("SELECT * FROM read_parquet($f) LIMIT 0", {"f": str(f)})
            readable.append(str(f))
        except duckdb.Error as exc:
            problems.append(Problem(table, None, "unreadable file", f"{f.name}: {str(exc).splitlines()[0]}"))
    return (_Source(tuple(readable), hive) if readable else None), problems


@dataclass(frozen=True)
class _Check:
    """One rule as a boolean column `flag` of the checked table, and how to describe a failure."""

    flag: str
    column: str
    rule: str
    detail: str = "NULL"  # SQL over the raw row (alias r) that shows the offending value


def _column_checks(spec: ColumnSpec, raw_type: Optional[str]) -> tuple[str, list[tuple[str, str, str]]]:
    """The typed expression for a column and its checks as (failing condition, rule, detail SQL)."""
    raw = quote(spec.name)
    if raw_type is None:
        typed = f"NULL::{spec.sql_type}"
        checks = [] if spec.nullable else [("TRUE", "missing column", "NULL")]
        return typed, checks
    shown = f"CAST(r.{raw} AS VARCHAR)"
    if spec.sql_type == "DATE" and raw_type == ZONED:
        # the calendar day where the programme runs, not UTC's (00:30 BST is the day before in UTC)
        typed, checks = f"CAST(timezone({literal(LOCAL_ZONE)}, {raw}) AS DATE)", []
    elif raw_type == spec.sql_type or _lossless(raw_type, spec.sql_type):
        typed = raw if raw_type == spec.sql_type else f"CAST({raw} AS {spec.sql_type})"
        checks = []
    else:
        typed = f"TRY_CAST({raw} AS {spec.sql_type})"
        type_fails = f"({raw} IS NOT NULL AND {typed} IS NULL)"
        if spec.python_type is int and (raw_type in ("FLOAT", "DOUBLE") or raw_type.startswith("DECIMAL")):
            type_fails = f"({type_fails} OR {raw} <> {typed})"
        checks = [(type_fails, f"not a valid {spec.type_name}", shown)]
    if not spec.nullable:
        checks.append((f"{raw} IS NULL", "missing value", "NULL"))
    if spec.min_length:
        checks.append((f"length(trim({typed})) < {spec.min_length}", "empty text", shown))
    if spec.domain:
        allowed = ", ".join(literal(v) for v in spec.domain)
        checks.append((f"{typed} NOT IN ({allowed})", "not an allowed value", shown))
    for bound, op, words, sign in (
        ("ge", "<", "below the minimum", "≥"),
        ("gt", "<=", "not above the minimum", ">"),
        ("le", ">", "above the maximum", "≤"),
    ):
        limit = getattr(spec, bound)
        if limit is not None:
            checks.append((f"{typed} {op} {literal(limit)}", f"{words} ({sign} {limit:g})", shown))
    if spec.python_type is float:  # NaN sorts above every number in DuckDB, so "> 0" alone lets it through
        checks.append((f"NOT isfinite({typed})", "not a finite number", shown))
    if spec.earliest is not None:
        day = typed if spec.python_type is date else f"CAST({typed} AS DATE)"
        checks.append((f"{day} NOT BETWEEN DATE {literal(spec.earliest.isoformat())} AND DATE {literal(spec.latest.isoformat())}",
                       spec.date_rule, shown))
    return typed, checks


def _reference_condition(ref: Reference) -> str:
    """SQL true when the row's non-null reference points to no clean row."""
    target = quote(ref.target) if not ref.target.lstrip().upper().startswith("SELECT") else f"({ref.target})"
    match = " AND ".join(f"t.{quote(tc)} = typed.{quote(c)}" for c, tc in zip(ref.columns, ref.target_columns))
    present = " AND ".join(f"typed.{quote(c)} IS NOT NULL" for c in ref.columns)
    return f"({present} AND NOT EXISTS (SELECT 1 FROM {target} t WHERE {match}))"


def _validate(con, model: type[Extract], source: _Source, available: set[str]) -> tuple[list[Problem], list[str]]:
    """Build main.<table> from the source and temp rejected_<table>; return table-level notes and extras.

    Every rule becomes one boolean column computed over whole columns in one pass; the list of
    problems is built afterwards for the rejected rows only, so clean data pays for booleans alone.
    """
    table = model.table
    raw_types = dict(
        (name, dtype) for name, dtype, *_ in con.execute(f"DESCRIBE SELECT * FROM {_SOURCE}", source.params).fetchall()
    )
    specs = column_specs(model)
    notes: list[Problem] = []
    typed_columns, column_flags, checks, typed_by_name = [], [], [], {}
    for spec in specs:
        raw_type = raw_types.get(spec.name)
        typed, column_checks = _column_checks(spec, raw_type)
        typed_columns.append(f"{typed} AS {quote(spec.name)}")
        typed_by_name[spec.name] = typed
        for condition, rule, detail in column_checks:
            flag = f"_check_{len(checks)}"
            column_flags.append(f"coalesce({condition}, false) AS {flag}")
            checks.append(_Check(flag, spec.name, rule, detail))
        if raw_type is None and spec.nullable:
            notes.append(Problem(table, spec.name, "missing column", "optional column absent: read as empty", rejects_rows=False))
        elif raw_type is not None and raw_type != spec.sql_type:
            rule = _conversion_rule(raw_type, spec)
            if rule:
                notes.append(Problem(table, spec.name, "column type", f"stored as {raw_type}, expected {spec.type_name}: {rule}", rejects_rows=False))

    row_flags = []
    for rule in model.row_rules:
        flag = f"_check_{len(checks)}"
        row_flags.append(f"coalesce({rule.failing_sql(quote)}, false) AS {flag}")
        checks.append(_Check(flag, rule.column, rule.message))
    for rule in model.set_rules:
        flag = f"_check_{len(checks)}"
        row_flags.append(f"coalesce({rule.failing_sql(quote, 'typed')}, false) AS {flag}")
        checks.append(_Check(flag, rule.start, rule.message))
    key = ", ".join(quote(k) for k in model.key)
    flag = f"_check_{len(checks)}"
    row_flags.append(f"(duplicate_keys._duplicate IS NOT NULL) AS {flag}")
    checks.append(_Check(flag, ", ".join(model.key), "duplicate key", " || ', ' || ".join(f"CAST(c.{quote(k)} AS VARCHAR)" for k in model.key)))
    for ref in model.references:
        if not all(t in available for t in ref.tables_needed):
            notes.append(
                Problem(table, ref.columns[0], "reference not checked", f"{', '.join(ref.tables_needed)} not available", rejects_rows=False)
            )
            continue
        flag = f"_check_{len(checks)}"
        row_flags.append(f"{_reference_condition(ref)} AS {flag}")
        checks.append(_Check(flag, ref.columns[0], ref.message, f"CAST(c.{quote(ref.columns[0])} AS VARCHAR)"))

    # Duplicate keys: first by a 64-bit hash of the typed key (a cheap aggregate over integers),
    # then confirmed on the key itself for the few candidate rows, so clean data never builds a
    # hash table of millions of text keys.
    key_typed = ", ".join(f"{typed_by_name[k]} AS {quote(k)}" for k in model.key)
    key_hash = f"hash({', '.join(typed_by_name[k] for k in model.key)})"
    key_present = " AND ".join(f"{typed_by_name[k]} IS NOT NULL" for k in model.key)
    checked = quote("_checked_" + table)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE main.{checked} AS
        WITH typed AS (
            SELECT file_index AS _file, file_row_number + 1 AS _row, {', '.join(typed_columns)}
                   {''.join(', ' + f for f in column_flags)}
            FROM {_SOURCE}
        ),
        repeated_hashes AS (
            SELECT {key_hash} AS _hash FROM {_SOURCE} WHERE {key_present} GROUP BY 1 HAVING count(*) > 1
        ),
        duplicate_keys AS (
            SELECT {key}, true AS _duplicate
            FROM (SELECT {key_typed} FROM {_SOURCE} WHERE {key_present} AND {key_hash} IN (SELECT _hash FROM repeated_hashes))
            GROUP BY ALL HAVING count(*) > 1
        )
        SELECT typed.*, {', '.join(row_flags)}
        FROM typed
        LEFT JOIN duplicate_keys USING ({key})
        """,
        source.params,
    )
    any_failure = " OR ".join(c.flag for c in checks) or "false"

    problem_structs = ", ".join(
        f"CASE WHEN c.{c.flag} THEN {{'column': {literal(c.column)}, 'rule': {literal(c.rule)}, 'detail': {c.detail}}} END"
        for c in checks
    )
    raw_shown = ", ".join(
        f"CAST(r.{quote(s.name)} AS VARCHAR) AS {quote(s.name)}" if s.name in raw_types else f"NULL::VARCHAR AS {quote(s.name)}"
        for s in specs
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {quote('rejected_' + table)} AS
        WITH failed AS (SELECT * FROM {checked} WHERE {any_failure}),
        raw AS (
            SELECT r.*, r.file_index AS _file, r.file_row_number + 1 AS _row FROM {_SOURCE} r
            SEMI JOIN failed f ON r.file_index = f._file AND r.file_row_number + 1 = f._row
        )
        SELECT $files[CAST(c._file AS BIGINT) + 1] AS source_file, c._row AS source_row, {raw_shown},
               list_filter([{problem_structs or 'NULL'}], lambda p: p IS NOT NULL) AS _problems
        FROM failed c JOIN raw r USING (_file, _row)
        ORDER BY c._file, c._row
        """,
        source.params,
    )
    # The checked rows become the clean table in place (dropping columns is metadata only), so a
    # large extract is never held twice.
    con.execute(f"DELETE FROM main.{checked} WHERE {any_failure}")
    for column in ("_file", "_row", *(c.flag for c in checks)):
        con.execute(f"ALTER TABLE main.{checked} DROP COLUMN {column}")
    con.execute(f"DROP TABLE IF EXISTS main.{quote(table)}")
    con.execute(f"ALTER TABLE main.{checked} RENAME TO {quote(table)}")
    extras = sorted(n for n in raw_types if n not in {s.name for s in specs})
    return notes, extras


LOCAL_ZONE = "Europe/London"
ZONED = "TIMESTAMP WITH TIME ZONE"


def _conversion_rule(raw_type: str, spec: ColumnSpec) -> str | None:
    """How a column stored in another type is read, in words for the Data page (None: nothing to say)."""
    if spec.sql_type == "DATE" and raw_type == ZONED:
        return f"each value's calendar date in {LOCAL_ZONE} (UK local time) is taken"
    if spec.sql_type == "DATE" and raw_type.startswith("TIMESTAMP"):
        return "the date part is taken, the times being read as UK local time"
    if _lossless(raw_type, spec.sql_type):
        return None
    return "values converted"


def _lossless(raw_type: str, sql_type: str) -> bool:
    widening = {
        "BIGINT": ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"),
        "DOUBLE": ("FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"),
        "TIMESTAMP": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
    }
    return raw_type in widening.get(sql_type, ())


def _uneven_files(con, model: type[Extract], source: _Source, data_dir: Path) -> list[Problem]:
    """A table read from several files (hive partitions) whose columns differ: a file that lacks a
    column its siblings have gives its rows an empty value there (union by name). Say which files,
    and what was done: an optional column reads as empty, a required one rejects those rows."""
    if len(source.files) < 2:
        return []
    rows = con.execute(
        "SELECT file_name, list(name) FROM parquet_schema($files) WHERE coalesce(num_children, 0) = 0 GROUP BY ALL",
        {"files": list(source.files)},
    ).fetchall()
    columns = {file: set(names) for file, names in rows}
    contract = {s.name: s for s in column_specs(model)}
    problems = []
    for column in sorted(set().union(*columns.values())):
        lacking = sorted(f for f, names in columns.items() if column not in names)
        if not lacking or len(lacking) == len(columns):
            continue
        shown = ", ".join(str(Path(f).relative_to(data_dir)) for f in lacking[:3]) + (" …" if len(lacking) > 3 else "")
        if column not in contract:
            done = "it is not in the contract and is ignored"
        elif contract[column].nullable:
            done = "their rows read it as empty"
        else:
            done = "their rows are rejected as missing a required value"
        problems.append(Problem(
            model.table, column, "files differ",
            f"{len(lacking)} of {len(columns)} files lack this column ({shown}): {done}", rejects_rows=False,
        ))
    return problems


def _summarise_rejections(con, model: type[Extract]) -> list[Problem]:
    row_label = " || ', ' || ".join(f"{literal(k + '=')} || coalesce({quote(k)}, 'NULL')" for k in model.key)
    rows = con.execute(
        f"""
        SELECT p.column, p.rule, count(*) AS n,
               list('row ' || source_row || ' (' || {row_label} || ')' ORDER BY source_file, source_row)[1:{PROBLEM_SAMPLE_ROWS}],
               list(DISTINCT p.detail)[1:5]
        FROM (SELECT *, unnest(_problems) AS p FROM {quote('rejected_' + model.table)})
        GROUP BY ALL ORDER BY n DESC, p.column
        """
    ).fetchall()
    problems = []
    for column, rule, n, sample, details in rows:
        shown = tuple(repr(d) for d in details if d is not None)[:3]
        problems.append(Problem(model.table, column, rule, rule, rows=n, sample_rows=tuple(sample), examples=shown))
    return problems


def _create_empty(con, model: type[Extract]) -> None:
    columns = ", ".join(f"{quote(s.name)} {s.sql_type}" for s in column_specs(model))
    con.execute(f"CREATE OR REPLACE TABLE main.{quote(model.table)} ({columns})")


def _keep_rejected(con, model: type[Extract]) -> int:
    """Move the temp rejected rows of a table into rejected_rows; return how many."""
    rejected = quote("rejected_" + model.table)
    values = ", ".join(f"{literal(s.name)}: {quote(s.name)}" for s in column_specs(model))
    con.execute(
        f"""
        INSERT INTO rejected_rows
        SELECT {literal(model.table)}, source_file, source_row, to_json({{{values}}})::VARCHAR,
               list_transform(_problems, lambda p: p.column || ': ' || p.rule || coalesce(' (' || p.detail || ')', ''))
        FROM {rejected}
        """
    )
    (count,) = con.execute(f"SELECT count(*) FROM {rejected}").fetchone()
    con.execute(f"DROP TABLE {rejected}")
    return count


def load_table(con, data_dir: Path, model: type[Extract], available: set[str]) -> TableLoad:
    """Load one table; a folder or file the operating system will not let us read makes the table
    unreadable (a problem on the Data page), never an exception."""
    started = time.perf_counter()
    try:
        result = _load_table(con, data_dir, model, available, started)
    except OSError as exc:
        _create_empty(con, model)
        why = exc.strerror or type(exc).__name__
        result = TableLoad(
            table=model.table, state="unreadable", date_column=model.date_column,
            problems=[Problem(model.table, None, "unreadable file", f"the {model.table} extract could not be read: {why}")],
            seconds=time.perf_counter() - started,
        )
    # Messages quote DuckDB's errors, which name files by their full path: readers see paths
    # relative to the data folder, never the server's folders.
    folder = str(data_dir).rstrip("/") + "/"
    result.problems = [replace(p, message=p.message.replace(folder, "")) for p in result.problems]
    return result


def _load_table(con, data_dir: Path, model: type[Extract], available: set[str], started: float) -> TableLoad:
    table = model.table
    files, hive = find_extract_files(data_dir, table)
    result = TableLoad(table=table, state="missing", date_column=model.date_column)
    if not files:
        _create_empty(con, model)
        result.problems.append(
            Problem(table, None, "missing table", f"no {table}.parquet or {table}/ folder in the data folder", rejects_rows=False)
        )
        result.seconds = time.perf_counter() - started
        return result
    result.files = [str(f) for f in files]
    result.bytes = sum(f.stat().st_size for f in files)
    result.modified = datetime.fromtimestamp(max(f.stat().st_mtime for f in files), tz=UTC)
    source, read_problems = _readable_source(con, table, files, hive)
    result.problems += read_problems
    if source is None:
        _create_empty(con, model)
        result.state = "unreadable"
        result.seconds = time.perf_counter() - started
        return result
    notes, result.extra_columns = _validate(con, model, source, available)
    result.problems += _uneven_files(con, model, source, data_dir)
    result.problems += notes
    result.problems += _summarise_rejections(con, model)
    result.rows_rejected = _keep_rejected(con, model)
    (result.rows_loaded,) = con.execute(f"SELECT count(*) FROM main.{quote(table)}").fetchone()
    result.rows_read = result.rows_loaded + result.rows_rejected
    if model.date_column:
        result.date_min, result.date_max = con.execute(
            f"SELECT min({quote(model.date_column)}), max({quote(model.date_column)}) FROM main.{quote(table)}"
        ).fetchone()
    if result.rows_read == 0:
        result.problems.append(Problem(table, None, "no rows", "the extract has no rows", rejects_rows=False))
    result.state = "loaded with problems" if result.rows_rejected or read_problems else "loaded"
    result.seconds = time.perf_counter() - started
    return result


LastGood = tuple[Callable[[], pa.Table], TableLoad]  # a table's rows (read on demand) and report from an earlier load


def _keep_last_good(con, model: type[Extract], new: TableLoad, last_good: LastGood) -> TableLoad:
    """Serve the previous load of a table whose replacement lost every row (half-written, corrupt,
    removed, emptied), and say so."""
    rows, previous = last_good
    # Its own cursor: a result left open on `con` (DuckDB 2.0 keeps one after fetchone) would make
    # register refuse, and the registered view stays private to this cursor.
    cursor = con.cursor()
    try:
        cursor.register("_last_good", rows())
        cursor.execute(f"CREATE OR REPLACE TABLE main.{quote(model.table)} AS SELECT * FROM _last_good")
    finally:
        cursor.close()
    why = "; ".join(p.message for p in new.problems if p.rejects_rows or not new.available)
    why = why or ("it has no rows" if new.available and new.rows_read == 0 else new.state)
    loaded_at = previous.loaded_at.strftime("%Y-%m-%d %H:%M UTC") if previous.loaded_at else "earlier"
    note = Problem(
        model.table, None, "kept last good",
        f"the current {model.table} extract could not be used ({why}); still serving the version loaded {loaded_at}, "
        f"{previous.rows_loaded:,} rows", rejects_rows=False,
    )
    # the replacement's rejected rows stay listed, so the Data page shows what was wrong with it
    return replace(previous, state="kept last good", rows_rejected=new.rows_rejected, problems=[note, *new.problems])


def load_extracts(con, data_dir: str | Path, last_good: Callable[[str], LastGood | None] | None = None) -> LoadReport:
    """Load and validate every table of the contract from data_dir into con. `last_good(table)`
    gives a previous load's rows and report, served instead of a replacement that lost every row."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = false")  # order is set by each query; this saves memory
    con.execute(
        "CREATE OR REPLACE TABLE rejected_rows (table_name VARCHAR, source_file VARCHAR, source_row BIGINT, "
        "row_values VARCHAR, problems VARCHAR[])"
    )
    tables: dict[str, TableLoad] = {}
    for model in MODELS:
        available = {name for name, t in tables.items() if t.available}
        result = load_table(con, data_dir, model, available)
        previous = last_good(model.table) if last_good else None
        if previous and result.lost_everything:
            result = _keep_last_good(con, model, result, previous)
        elif previous and result.rows_loaded < SHRINK_FLAG_SHARE * previous[1].rows_loaded:
            result.problems.insert(0, Problem(
                model.table, None, SHRANK,
                f"this load has {result.rows_loaded:,} rows where the last one had {previous[1].rows_loaded:,}: "
                "check that the extract is complete", rejects_rows=False,
            ))
        tables[model.table] = result
    return LoadReport(data_dir=data_dir, tables=tables, seconds=time.perf_counter() - started)
