"""Streamlit glue shared by every page: the cached database, cached named queries, banners."""

from __future__ import annotations

import os
import time

import pandas as pd
import streamlit as st

from dashboard.access import Viewer
from dashboard.database import Database, configured_data_dir, extracts_fingerprint, open_database
from dashboard.queries import query_parameters

VIEWER = "_viewer"  # set by dashboard.identity at the top of every run


_last_loaded: dict[str, Database] = {}  # per folder: the newest load, whose good tables outlive a bad replacement


@st.cache_resource(show_spinner="Loading and validating the extracts…", max_entries=2)
def _database(data_dir: str, fingerprint: tuple) -> Database:
    db = open_database(data_dir, previous=_last_loaded.get(data_dir))
    _last_loaded[data_dir] = db
    return db


_RUN_EXTRACTS = "_extracts_this_run"


def start_run() -> None:
    """Look at the extracts once at the start of each run (a few stat calls), so every query of the
    run reads the same load even if a file is replaced while the page is drawn."""
    data_dir = configured_data_dir()
    st.session_state[_RUN_EXTRACTS] = (str(data_dir), extracts_fingerprint(data_dir))


def _current() -> tuple[str, tuple]:
    if _RUN_EXTRACTS not in st.session_state:
        start_run()
    return st.session_state[_RUN_EXTRACTS]


def database() -> Database:
    """The one validated DuckDB database for the configured data directory, reloaded when a file
    in it has changed since the last run."""
    return _database(*_current())


@st.cache_data(show_spinner=False, max_entries=256)
def _cached_query(data_dir: str, fingerprint: tuple, name: str, scope: tuple, params: tuple) -> pd.DataFrame:
    role, prisons, sdm = scope
    viewer = Viewer(role=role, prisons=prisons, sdm=sdm)
    return _database(data_dir, fingerprint).query(name, viewer=viewer, **{k: list(v) if isinstance(v, tuple) else v for k, v in params})


def viewer() -> Viewer:
    """The session's viewer. There is no default: a run that has not resolved one cannot query."""
    return st.session_state[VIEWER]


def query_as(who: Viewer, name: str, **params) -> pd.DataFrame:
    """Run named query `name` for `who` with bound parameters; cached per scope and parameter set."""
    needed = query_parameters(name)
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items() if k in needed))
    return _cached_query(*_current(), name, who.key, frozen)


def query(name: str, **params) -> pd.DataFrame:
    """Run named query `name` in the session viewer's scope."""
    return query_as(viewer(), name, **params)


RENDER_LOG_VARIABLE = "PRISON_DASHBOARD_RENDER_LOG"


def log_render(page: str, seconds: float) -> None:
    """Append one page run's server-side time to the file named by PRISON_DASHBOARD_RENDER_LOG, if
    set (for sizing a replica: bench/sessions.py reads it)."""
    path = os.environ.get(RENDER_LOG_VARIABLE)
    if path:
        with open(path, "a") as log:
            log.write(f"{time.time():.3f}\t{page or 'overview'}\t{seconds * 1000:.1f}\n")


def synthetic_banner(db: Database) -> None:
    if db.synthetic:
        st.warning(
            "**Synthetic sample data.** Every prison figure on this page is made up by the sample "
            "generator to exercise the dashboard: it describes no real prison, person or gift.",
            icon="⚠️",
        )


def require_tables(db: Database, *tables: str) -> bool:
    """Show why a section cannot be drawn when an extract it needs is missing or unreadable."""
    missing = db.report.unavailable(*tables)
    if missing:
        st.error(
            f"This section needs the {', '.join(missing)} extract{'s' if len(missing) > 1 else ''}, "
            "which could not be loaded. See the Data page for what is wrong.",
            icon="🚫",
        )
    return not missing


def download_csv(frame: pd.DataFrame, file_name: str, label: str = "Download CSV") -> None:
    """A CSV of `frame`, written only when the button is clicked (a page may offer several)."""
    st.download_button(label, lambda: frame.to_csv(index=False).encode("utf-8"), file_name=file_name, mime="text/csv")
