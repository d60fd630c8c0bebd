"""Fast restarts: the validated extracts, their rollups and macros, and the load report, kept in one
DuckDB database file per set of extracts. A restart or a new replica over unchanged extracts opens
that file read-only (milliseconds) instead of validating every row again (seconds to minutes).

The file's name and the key stored inside it come from the extracts' content (a SHA-256 of every
file's name and bytes: a file replaced by another of the same size, its modification time put back,
is still a new file), the folder, and a digest of the code that validates and summarises them (the
contract, the loader, the rollups and macros), so changed extracts or a changed contract never open
an old file. A file that cannot be opened, lacks its key or carries another is rebuilt, never trusted;
so is one whose scope rules and other macros are not exactly the code's, or that holds views: what
decides who sees what comes from the code, never from a file someone could edit. A file is written
under a temporary name and renamed into place only when complete, so a reader never sees half a file,
and replicas can share one folder."""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.loader import LoadReport, Problem, TableLoad

CACHE_VARIABLE = "PRISON_DASHBOARD_CACHE"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = PROJECT_DIR / "cache"
FORMAT = 1  # the layout of the file itself
KEPT = 4  # cache files kept in the folder (the newest): old extract sets are not kept for ever
# the code whose output the file holds: any change to it makes every old file a stranger
_CODE = [PROJECT_DIR / "dashboard" / name for name in ("contract.py", "loader.py", "queries.py", "database.py", "cache.py")]
_SQL = [*(PROJECT_DIR / "queries" / "rollups").glob("*.sql"), *(PROJECT_DIR / "queries" / "macros").glob("*.sql")]
_log = logging.getLogger("prison_dashboard")


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_VARIABLE) or DEFAULT_CACHE_DIR).expanduser().resolve()


def code_version() -> str:
    digest = hashlib.sha256(str(FORMAT).encode())
    for path in sorted(_CODE + _SQL):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


CHUNK = 8 * 2**20  # the extracts are hashed in chunks of 8 MB, on every core at once


def content_digest(data_dir: Path, fingerprint: tuple) -> str:
    """A SHA-256 over every file the fingerprint lists: its name and the SHA-256 of each 8 MB chunk of its
    bytes (a tree of digests: exact as a digest of the whole, and its chunks hashed on every core, as
    hashlib lets go of the interpreter while it hashes). Paid once per start or change, never per page."""
    digest = hashlib.sha256()
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for entry in fingerprint:
            name = entry[0]
            digest.update(name.encode() + b"\0")
            try:
                with open(data_dir / name, "rb") as file:
                    while batch := _chunks(file, 2 * workers):
                        for part in pool.map(lambda chunk: hashlib.sha256(chunk).digest(), batch):
                            digest.update(part)
            except OSError:  # removed while listing: a key no file will carry
                digest.update(b"missing")
    return digest.hexdigest()


def _chunks(file, n: int) -> list[bytes]:
    """Up to `n` chunks of the file: as many as the cores hash at once, so memory stays bounded."""
    chunks = []
    while len(chunks) < n and (chunk := file.read(CHUNK)):
        chunks.append(chunk)
    return chunks


def cache_key(data_dir: Path, fingerprint: tuple) -> str:
    return hashlib.sha256(repr((code_version(), str(data_dir), content_digest(data_dir, fingerprint))).encode()).hexdigest()


_MACROS_SQL = """SELECT schema_name, function_name, function_type, macro_definition, parameters::VARCHAR
                 FROM duckdb_functions() WHERE database_name = current_database() AND NOT internal
                 AND function_type IN ('macro', 'table_macro') ORDER BY ALL"""


def code_macros() -> list[tuple]:
    """The macros exactly as the code defines them (scope rules and the rest), as DuckDB lists them."""
    from dashboard.contract import MODELS, column_specs
    from dashboard.queries import define_macros

    con = duckdb.connect(":memory:")
    try:
        for model in MODELS:  # empty tables of the contract's columns: a table macro names its tables
            columns = ", ".join(f'"{spec.name}" {spec.sql_type}' for spec in column_specs(model))
            con.execute(f'CREATE TABLE "{model.table}" ({columns})')
        define_macros(con)
        return con.execute(_MACROS_SQL).fetchall()
    finally:
        con.close()


def cache_path(key: str) -> Path:
    return cache_dir() / f"extracts-{key[:40]}.duckdb"


# --- the load report as JSON (never pickle: the file is read back, and must not run code) ---------


def _plain(value):
    if isinstance(value, pd.Timestamp | datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _value(value):
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict) and set(value) == {"date"}:
        return date.fromisoformat(value["date"])
    return value


def report_json(report: LoadReport) -> str:
    tables = {name: {k: ([{f: _plain(v) for f, v in asdict(p).items()} for p in load.problems] if k == "problems" else _plain(v))
                     for k, v in asdict(load).items()}
              for name, load in report.tables.items()}
    return json.dumps({"data_dir": str(report.data_dir), "seconds": report.seconds, "tables": tables})


def report_from_json(text: str) -> LoadReport:
    raw = json.loads(text)
    tables = {}
    for name, fields in raw["tables"].items():
        values = {k: _value(v) for k, v in fields.items() if k != "problems"}
        problems = [Problem(**{k: tuple(v) if isinstance(v, list) else v for k, v in p.items()}) for p in fields["problems"]]
        tables[name] = TableLoad(**values, problems=problems)
    return LoadReport(data_dir=Path(raw["data_dir"]), tables=tables, seconds=raw["seconds"])


# --- reading and writing ----------------------------------------------------------------------------


def open_cached(key: str) -> tuple[duckdb.DuckDBPyConnection, LoadReport] | None:
    """The connection (read-only) and report kept for `key`, or None: absent, unreadable, or not
    holding that key (each of these is rebuilt by the caller)."""
    path = cache_path(key)
    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
        stored = con.execute("SELECT cache_key, report FROM cache_meta.load_report").fetchall()
        if refused := _not_trusted(con, stored, key):
            con.close()
            raise ValueError(refused)
        return con, report_from_json(stored[0][1])
    except (duckdb.Error, ValueError, KeyError, TypeError, OSError) as error:
        _log.warning("extracts cache %s not used (%s): validating again", path.name, error)
        return None


def _not_trusted(con: duckdb.DuckDBPyConnection, stored: list, key: str) -> str | None:
    """Why a kept file must not be used, or None: another key, macros not the code's, or views."""
    if len(stored) != 1 or stored[0][0] != key:
        return "the file holds another set of extracts"
    if con.execute(_MACROS_SQL).fetchall() != code_macros():
        return "its macros are not the code's (a scope rule edited in the file?)"
    if con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()[0]:
        return "it holds views, which the dashboard never writes"
    return None


def save(con: duckdb.DuckDBPyConnection, report: LoadReport, key: str) -> Path | None:
    """Write the validated database and its report for `key`: to a temporary file, then renamed into
    place. Returns the file, or None when it could not be written (the app runs on without it)."""
    folder, final = cache_dir(), cache_path(key)
    temporary = folder / f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    cursor = con.cursor()  # its own connection to the same database: the pages' queries go on meanwhile
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary.unlink(missing_ok=True)
        cursor.execute(f"ATTACH '{temporary}' AS cache_out")
        try:
            cursor.execute("COPY FROM DATABASE memory TO cache_out")
            cursor.execute("CREATE SCHEMA cache_out.cache_meta")
            cursor.execute("CREATE TABLE cache_out.cache_meta.load_report AS SELECT $key AS cache_key, $report AS report",
                           {"key": key, "report": report_json(report)})
        finally:
            cursor.execute("DETACH cache_out")
        os.replace(temporary, final)
        _tidy(folder, keep=final)
        return final
    except (duckdb.Error, OSError) as error:
        _log.warning("extracts cache not written (%s)", error)
        temporary.unlink(missing_ok=True)
        return None
    finally:
        cursor.close()


_writers: list[threading.Thread] = []


def save_in_background(con: duckdb.DuckDBPyConnection, report: LoadReport, key: str) -> threading.Thread:
    """`save` on a thread: the first page after a change does not wait for the file to be written."""
    thread = threading.Thread(target=save, args=(con, report, key), name="extracts-cache", daemon=True)
    _writers.append(thread)
    thread.start()
    return thread


@atexit.register
def _finish_writing() -> None:
    """A process that ends (a test run, a replica stopped) lets its writers finish rather than kill one
    inside DuckDB: its temporary file would stay, and a native thread cut off at exit can crash it."""
    for thread in _writers:
        thread.join(timeout=120)


def _tidy(folder: Path, keep: Path) -> None:
    files = sorted(folder.glob("extracts-*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [f for f in files if f != keep][KEPT - 1:]:
        old.unlink(missing_ok=True)
