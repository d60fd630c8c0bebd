"""The validated extracts in one DuckDB connection, plus where they came from."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.access import Viewer
from dashboard.loader import LoadReport, load_extracts
from dashboard.queries import run_query

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


def open_database(data_dir: str | Path | None = None) -> Database:
    data_dir = Path(data_dir).resolve() if data_dir else configured_data_dir()
    con = duckdb.connect(":memory:")
    report = load_extracts(con, data_dir)
    return Database(con=con, report=report, manifest=read_manifest(data_dir))
