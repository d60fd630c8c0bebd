"""The validated extracts in one DuckDB connection, plus where they came from."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from dashboard import cache
from dashboard.access import Viewer
from dashboard.loader import LoadReport, load_extracts
from dashboard.queries import build_rollups, define_macros, run_query

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE_DATA_DIR = PROJECT_DIR / "data" / "sample"
DATA_DIR_VARIABLE = "PRISON_DASHBOARD_DATA"


def configured_data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_VARIABLE) or SAMPLE_DATA_DIR).expanduser().resolve()


def read_manifest(data_dir: Path) -> dict:
    """The extract set's manifest.json (the generator writes one); {} when absent or unreadable."""
    try:
        return json.loads((data_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


@dataclass
class Database:
    con: duckdb.DuckDBPyConnection
    report: LoadReport
    manifest: dict = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.report.data_dir

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    def query(self, name: str, *, viewer: Viewer, **params) -> pd.DataFrame:
        return run_query(self.con, name, viewer, params)


def extracts_fingerprint(data_dir: Path) -> tuple:
    """Names, sizes, modification and change times and inodes of every file under data_dir: a new or
    replaced extract changes it, so the app reloads without a restart (a few stat calls a run; a file
    whose modification time is put back still has a new change time). The kept database's key is
    made from the files' content instead (`cache.cache_key`), as it outlives the process."""
    try:
        # hidden entries are not extracts: the importer's history and its files being written
        files = [(p, p.stat()) for p in data_dir.rglob("*")
                 if p.is_file() and not any(part.startswith(".") for part in p.relative_to(data_dir).parts)]
        return tuple(sorted((str(p.relative_to(data_dir)), s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino) for p, s in files))
    except OSError:  # a file removed while listing: the next run sees the settled state
        return ()


def open_database(data_dir: str | Path | None = None, previous: Database | None = None, use_cache: bool = True) -> Database:
    """Load and validate the extracts. With `previous` (the last load of the same folder), a table
    whose new extract lost every row is served from `previous` instead, and the report says so.

    A fresh start over extracts already validated opens the kept database file read-only instead
    (`dashboard.cache`); after validating, the result is kept for the next start (on a thread)."""
    data_dir = Path(data_dir).resolve() if data_dir else configured_data_dir()
    fingerprint = extracts_fingerprint(data_dir)
    key = cache.cache_key(data_dir, fingerprint) if use_cache else None
    if key is not None and previous is None and (kept := cache.open_cached(key)) is not None:
        con, report = kept
        return Database(con=con, report=report, manifest=read_manifest(data_dir))
    con = duckdb.connect(":memory:")

    def last_good(table: str):
        if previous is None or not previous.report.tables[table].available:
            return None

        def rows():  # copied only when the replacement is not served
            cursor = previous.con.cursor()
            try:
                return cursor.sql(f'SELECT * FROM main."{table}"').to_arrow_table()
            finally:
                cursor.close()

        return rows, previous.report.tables[table]

    report = load_extracts(con, data_dir, last_good)
    build_rollups(con)
    define_macros(con)
    # kept only when it depends on nothing but the files (an older table served over a failed one
    # does not), and only when the files did not change while they were read
    if (key is not None and not any(t.state == "kept last good" for t in report.tables.values())
            and extracts_fingerprint(data_dir) == fingerprint):
        cache.save_in_background(con, report, key)
    return Database(con=con, report=report, manifest=read_manifest(data_dir))
