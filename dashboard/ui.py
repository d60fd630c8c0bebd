"""Streamlit glue shared by every page: the cached database, cached named queries, banners."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from datetime import date

import pandas as pd
import streamlit as st

from dashboard import audit as audit_log
from dashboard import charts, disclosure, funding, metrics
from dashboard.access import ADMIN, Viewer
from dashboard.contract import MODELS_BY_TABLE
from dashboard.database import Database, configured_data_dir, extracts_fingerprint, open_database
from dashboard.loader import SHRANK
from dashboard.pages import BY_PATH, OVERVIEW
from dashboard.queries import query_parameters, query_sql, query_tables
from dashboard.text import md, moment_label

VIEWER = "_viewer"  # set by dashboard.identity at the top of every run


_last_loaded: dict[str, Database] = {}  # per folder: the newest load, whose good tables outlive a bad replacement


@st.cache_resource(show_spinner="Loading and validating the extracts…", max_entries=2)
def _database(data_dir: str, fingerprint: str) -> Database:
    db = open_database(data_dir, previous=_last_loaded.get(data_dir))
    _last_loaded[data_dir] = db
    return db


_RUN_EXTRACTS = "_extracts_this_run"


_RUN_TABLES = "_extracts_used_this_run"


def start_run() -> None:
    """Look at the extracts once at the start of each run (a few stat calls), so every query of the
    run reads the same load even if a file is replaced while the page is drawn."""
    data_dir = configured_data_dir()
    # the cached database and queries are keyed on a digest of the fingerprint: hashing the fingerprint
    # itself (a tuple per file) for every cached query cost tens of milliseconds a page
    digest = hashlib.sha1(repr(extracts_fingerprint(data_dir)).encode()).hexdigest()
    st.session_state[_RUN_EXTRACTS] = (str(data_dir), digest)
    st.session_state.pop(_RUN_TABLES, None)
    st.session_state.pop(_PAGE_TAB, None)  # this run's open tab only (a run stopped before its page names none)


def record_inputs() -> None:
    """From here on, note the extracts this run's queries read (the page's, not the sidebar's), and
    what the page shows (for its data download and method notes)."""
    st.session_state[_RUN_TABLES] = set()
    start_page_record()


def _used(tables) -> None:
    if _RUN_TABLES in st.session_state:
        st.session_state[_RUN_TABLES].update(tables)


def _current() -> tuple[str, tuple]:
    if _RUN_EXTRACTS not in st.session_state:
        start_run()
    return st.session_state[_RUN_EXTRACTS]


def extracts_version() -> str:
    """A digest of the fingerprint of the extracts this run reads (changes when a file is replaced)."""
    return _current()[1]


def database() -> Database:
    """The one validated DuckDB database for the configured data directory, reloaded when a file
    in it has changed since the last run."""
    return _database(*_current())


class _Arguments:
    """A query's scope and parameters, hashed once by their text: Streamlit's cache would otherwise walk
    every element (a national period's list of prison ids) each time the query is asked for."""

    def __init__(self, scope: tuple, params: tuple):
        self.scope, self.params = scope, params
        self.digest = hashlib.sha1(repr((scope, params)).encode()).hexdigest()


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={_Arguments: lambda a: a.digest})
def _cached_query(data_dir: str, fingerprint: str, name: str, arguments: _Arguments) -> pd.DataFrame:
    role, prisons, sdm = arguments.scope
    viewer = Viewer(role=role, prisons=prisons, sdm=sdm)
    return _database(data_dir, fingerprint).query(
        name, viewer=viewer, **{k: list(v) if isinstance(v, tuple) else v for k, v in arguments.params})


def viewer() -> Viewer:
    """The session's viewer. There is no default: a run that has not resolved one cannot query."""
    return st.session_state[VIEWER]


def query_as(who: Viewer, name: str, **params) -> pd.DataFrame:
    """Run named query `name` for `who` with bound parameters; cached per scope and parameter set."""
    needed = query_parameters(name)
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items() if k in needed))
    _used(query_tables(name))
    if _RUN_TABLES in st.session_state:  # the page's queries, not the sidebar's
        _page_record(_PAGE_QUERIES, {})[name] = None
    return _cached_query(*_current(), name, _Arguments(who.key, frozen))


def query(name: str, **params) -> pd.DataFrame:
    """Run named query `name` in the session viewer's scope."""
    return query_as(viewer(), name, **params)


@st.cache_data(show_spinner="Comparing the programme's wings with comparison wings…", max_entries=32)
def _wing_safety(data_dir: str, fingerprint: str, period: tuple, threshold: int, protected: bool) -> list:
    db = _database(data_dir, fingerprint)
    return funding.wing_safety(lambda name, **params: db.query(name, viewer=ADMIN, **params), period, threshold, protected)


WING_SAFETY_QUERIES = ("prisons", "funded_prisons", "wing_monthly_counts", "delivered_workshops")


def wing_safety(period: tuple, threshold: int, protected: bool) -> list:
    """`funding.wing_safety` over every programme prison, cached per extracts version (the first time at
    national scale takes seconds: every wing of every prison where a cohort started in the period)."""
    for name in WING_SAFETY_QUERIES:
        _used(query_tables(name))
        if _RUN_TABLES in st.session_state:
            _page_record(_PAGE_QUERIES, {})[name] = None
    return _wing_safety(*_current(), tuple(period), threshold, protected)


FAILURE_MESSAGE = "This page could not be drawn."
_log = logging.getLogger("prison_dashboard")


def show_failure(error: Exception) -> None:
    """What a reader sees when a page fails: what happened in plain words, never a traceback, an
    exception's text or a server path (those go to the server's log for the administrators)."""
    _log.error("page run failed", exc_info=error)
    st.error(
        f"**{FAILURE_MESSAGE}** Something unexpected went wrong; it has been logged for the dashboard's "
        "administrators. The other pages still work, and the figures everywhere come from the last extracts "
        "that loaded: the Data page says which.",
        icon=":material/construction:",
    )


RENDER_LOG_VARIABLE = "PRISON_DASHBOARD_RENDER_LOG"


_AUDITED_VIEW = "_audited_view"


def audit(event: str, viewer: Viewer | None = None, user: str | None = None, **what) -> None:
    """One line in the audit trail for `viewer` (the session's by default; for a refused sign-in, none
    but the address `user`). A trail that cannot be written is the administrators' problem, told in
    the server's log; the reader's page goes on."""
    who = viewer if viewer is not None or user is not None else st.session_state.get(VIEWER)
    scope = {"prisons": list(who.prisons), "sdm": who.sdm} if who is not None and who.role in ("governor", "sdm") else None
    name = user or (who.email or "development mode" if who is not None else None)
    try:
        audit_log.record(event, name, who.role if who is not None else None, scope=scope, **what)
    except OSError as error:
        _log.error("the audit trail could not be written", exc_info=error)


_PAGE_PATH = "_page_path"  # the page this run draws (for the audit lines of its downloads)


def set_page(path: str) -> None:
    st.session_state[_PAGE_PATH] = path or OVERVIEW


# Streamlit forgets a widget's value after any run that ends without drawing it: one stopped or failed
# before the sidebar (while extracts are being replaced, say). The next page's link need not carry the
# filters (a navigation's link is the new page's), so the sidebar's choices (filters, the role a
# developer views as) are kept for the whole session instead.
KEEP = "session"


def page_path() -> str:
    """The url path of the page this run draws ("" for the Overview, as in the page table)."""
    path = st.session_state.get(_PAGE_PATH, OVERVIEW)
    return "" if path == OVERVIEW else path


def audited(data, event: str = "download", **what):
    """A download button's data, written to the audit trail when the file is made. Streamlit makes a
    callable's file on its own thread when the button is clicked, with no rerun (the buttons use
    on_click="ignore": a rerun racing the file request could hand out another button's file), so who
    and where are taken now, while the page is drawn."""
    who, page = st.session_state.get(VIEWER), st.session_state.get(_PAGE_PATH, OVERVIEW)

    def made():
        audit(event, viewer=who, user=None if who is not None else "unknown", page=page, **what)
        return data() if callable(data) else data

    return made


def audit_page_view(page: str, place_filters: dict | None) -> None:
    """A page view with the filters it applied (prisons, wings, period: `place_filters`, None on a page
    they do not apply to) and the page's own controls, defaults included; once per change."""
    chosen = {**(place_filters or {}), **st.session_state.get(_PAGE_CHOICES, {})}
    view = (page, repr(sorted(chosen.items())))
    if st.session_state.get(_AUDITED_VIEW) != view:
        st.session_state[_AUDITED_VIEW] = view
        audit("page_view", page=page or OVERVIEW, filters=chosen)


def log_render(page: str, seconds: float) -> None:
    """Append one page run's server-side time to the file named by PRISON_DASHBOARD_RENDER_LOG, if
    set (for sizing a replica: bench/sessions.py reads it), naming the page as its link does, with the
    open tab of a page drawn in tabs (each tab is its own computation: which one sets the tail?)."""
    path = os.environ.get(RENDER_LOG_VARIABLE)
    if path:
        name = page or OVERVIEW
        if (tab := st.session_state.get(_PAGE_TAB)) and (spec := BY_PATH.get(page)) and (tabs := spec.tabs):
            name += f"?{tabs.key}={tab}"
        with open(path, "a") as log:
            log.write(f"{time.time():.3f}\t{name}\t{seconds * 1000:.1f}\n")


def synthetic_banner(db: Database) -> None:
    if db.synthetic:
        st.warning(
            "**Synthetic sample data.** Every prison figure on this page is made up by the sample "
            "generator to exercise the dashboard: it describes no real prison, person or gift.",
            icon=":material/warning:",
        )


def data_source(db: Database) -> str:
    """The data's origin as a reader may see it (never the server's folder)."""
    loaded = max((t.loaded_at for t in db.report.tables.values() if t.available and t.loaded_at), default=None)
    kind = "synthetic sample" if db.synthetic else "extracts"
    return f"{kind} loaded {moment_label(loaded)} UTC" if loaded else kind


def _latest(db: Database, tables) -> tuple[pd.Timestamp, bool] | None:
    """The latest date in the extracts `tables`, and whether it is a month (a monthly extract, such as
    populations, runs to the end of its last month)."""
    ends = [(pd.Timestamp(load.date_max), load.date_column in ("month", "period_start"))
            for load in (db.report.tables[t] for t in tables if t in db.report.tables)
            if load.available and load.date_max is not None and not pd.isna(load.date_max)]
    return max(ends) if ends else None


def latest_date(db: Database, tables) -> date | None:
    """The day the data in `tables` runs to (for a target's elapsed share)."""
    latest = _latest(db, tables)
    return latest[0].date() if latest else None


def data_through(db: Database, tables=None) -> str:
    """"Data up to …": the latest date in the extracts this run's figures read (or in `tables`)."""
    latest = _latest(db, tables if tables is not None else st.session_state.get(_RUN_TABLES, ()))
    if latest is None:
        return ""
    latest, monthly = latest
    when = f"{latest:%B %Y}" if monthly else f"{latest.day} {latest:%B %Y}"
    return f"Data up to {when} (the latest date in the extracts behind {'this page' if tables is None else 'these figures'}) · {data_source(db)}."


def inputs_notice(db: Database) -> None:
    """Say, at the top of the page, which extracts behind this run's figures lost rows, shrank or
    are an older version: a rate over a denominator that lost months is too high, a count over
    rows that were rejected too low, and nothing else on the page would tell the reader."""
    through = data_through(db)
    if through:
        st.caption(through)
    lines = []
    # rows are counts (cohorts, referrals, incidents): a protected viewer sees them as every page shows counts
    k, protected = disclosure.configured_threshold(), viewer().suppresses_small_counts
    for table in sorted(st.session_state.get(_RUN_TABLES, ())):
        load = db.report.tables[table]
        if not load.available or not load.degraded:
            continue
        if load.state == "kept last good":
            lines.append(f"**{table}**: the newest extract could not be used, so these figures use the version loaded "
                         f"{moment_label(load.loaded_at)} UTC.")
        elif load.rows_rejected:
            lost = disclosure.share(load.rows_rejected, load.rows_read, k, protected)
            lines.append(f"**{table}**: {disclosure.shown_count(load.rows_rejected, k, protected)} of "
                         f"{disclosure.shown_count(load.rows_read, k, protected)} rows" + (f" ({lost:.0%})" if lost is not None else "")
                         + f" were rejected and are left out, so {MODELS_BY_TABLE[table].when_rows_lost}.")
        if any(p.rule == SHRANK for p in load.problems):
            lines.append(f"**{table}** has far fewer rows than at the last load "
                         f"({disclosure.shown_count(load.rows_loaded, k, protected)}): it may be incomplete.")
    if lines:
        st.warning("**Some figures on this page rest on incomplete data.** " + " ".join(lines)
                   + " The Data page lists every problem.", icon=":material/warning:")


def require_one_of(db: Database, *alternatives: tuple[str, ...]) -> bool:
    """Like `require_tables`, where any one set of extracts will do (recorded or published figures)."""
    for tables in alternatives:
        _used(tables)
    if any(not db.report.unavailable(*tables) for tables in alternatives):
        return True
    either = " or ".join(f"the {', '.join(t)} extracts" for t in alternatives)
    st.error(f"This section needs {either}, which could not be loaded. See the Data page for what is wrong.", icon=":material/block:")
    return False


def require_tables(db: Database, *tables: str) -> bool:
    """Show why a section cannot be drawn when an extract it needs is missing or unreadable."""
    _used(tables)
    missing = db.report.unavailable(*tables)
    if missing:
        st.error(
            f"This section needs the {', '.join(missing)} extract{'s' if len(missing) > 1 else ''}, "
            "which could not be loaded. See the Data page for what is wrong.",
            icon=":material/block:",
        )
    return not missing


MISSING = metrics.MISSING  # what a table shows where no figure exists (a Note column or the page says why)

# What this run's page showed, for its "This page's data" download and its method notes: the tables
# (as downloaded), the registry figures on screen, and the named queries run with their parameters.
_PAGE_TABLES, _PAGE_FIGURES, _PAGE_QUERIES, _UNREGISTERED = "_page_tables", "_page_figures", "_page_queries", "_unregistered_columns"
_PAGE_CHOICES = "_page_choices"  # the page's own controls this run (for the audit trail's page view)
_PAGE_CHARTS = "_page_charts"  # how many charts of each name this run has drawn (their tables' expander keys)
_PAGE_TAB = "_page_tab"  # the open tab of a page drawn in lazy tabs: its data download holds that tab's tables


def note_open_tab(key: str, label: str) -> None:
    """The tab a page drew (only the open one is drawn): in the audit trail's page view, and in the name
    and README of the page's data download, which holds that tab's tables."""
    note_choice(key, label)
    st.session_state[_PAGE_TAB] = label


def note_choice(key: str, value) -> None:
    """A page control's value this run, default or not (the link holds only what differs from the default)."""
    _page_record(_PAGE_CHOICES, {})[key] = value


def _page_record(name: str, default):
    return st.session_state.setdefault(name, default)


def _note_table(frame: pd.DataFrame, name: str, as_extracted: bool = False) -> None:
    _page_record(_PAGE_FIGURES, {}).update(dict.fromkeys(frame.columns))
    if not as_extracted and (missing := metrics.unregistered(frame.columns)):
        _page_record(_UNREGISTERED, set()).update(missing)
    tables = _page_record(_PAGE_TABLES, {})
    tables.setdefault(name, frame)  # a name drawn twice in one run (a loop) keeps its first table


# The grid sizes a column to its header or its longest value: about 6 px a character and 20 px of padding
# at the app's font (measured in Chromium), against about 980 px for a page's main column at 1,440 px, sidebar open.
_PX_PER_CHARACTER, _CELL_PADDING_PX, _PAGE_WIDTH_PX = 6, 20, 980


def _wider_than_page(shown: pd.DataFrame) -> bool:
    """Whether a table will scroll sideways on a laptop screen (an estimate: it only decides whether its
    first column is pinned, so a wrong guess costs nothing but the pin)."""
    widths = (max([len(str(column)), *shown[column].head(200).astype(str).str.len()]) for column in shown.columns)
    return sum(w * _PX_PER_CHARACTER + _CELL_PADDING_PX for w in widths) > _PAGE_WIDTH_PX


def table(frame: pd.DataFrame, name: str, as_extracted: bool = False, **options):
    """Every table on every page: columns are registry keys, shown with the registry's labels, number
    formats and method notes, codes as words, no index, the page's width, and a dash, never "None" or
    "nan", where a figure is missing. The table goes into the page's data download as `name`.csv.
    `as_extracted`: rows as an extract holds them (rejected rows), under the contract's column names."""
    _note_table(frame, name, as_extracted)
    # a Note column blank in every row says nothing on screen (the downloads keep it)
    if not as_extracted and "note" in frame.columns and frame["note"].fillna("").astype(str).str.strip().eq("").all():
        frame = frame.drop(columns="note")
    shown, config = metrics.display(frame)
    if _wider_than_page(shown):  # the row's name (a measure, a prison, a cohort) stays in view as it scrolls sideways
        first = shown.columns[0]
        config[first] = {**config.get(first, {}), "pinned": True}
    options.setdefault("hide_index", True)
    options.setdefault("width", "stretch")
    options["column_config"] = config | options.get("column_config", {})
    return st.dataframe(shown, placeholder=MISSING, **options)


csv_bytes = metrics.csv_bytes


def download_csv(frame: pd.DataFrame, file_name: str, label: str = "Download CSV", as_extracted: bool = False) -> None:
    """A CSV of `frame` (columns are registry keys), written only when the button is clicked (a page
    may offer several); it also goes into the page's data download."""
    _note_table(frame, file_name.removesuffix(".csv"), as_extracted)
    st.download_button(label, audited(lambda: csv_bytes(frame), file=file_name), file_name=file_name, mime="text/csv",
                       on_click="ignore")


def folded(label: str, key: str):
    """An expander whose content is drawn only once a reader opens it (opening it reruns the page):
    what is folded away costs a page's first view nothing, neither its data nor the browser code that
    draws it (a table's grid, the SQL's highlighter), so the page's first chart arrives sooner. The
    container when open, else None."""
    box = st.expander(label, key=key, on_change="rerun")
    return box if box.open else None


def chart(figure, data: pd.DataFrame | None = None, name: str = "") -> None:
    """A chart with its text alternative (a sentence generated from what it draws) and, one click
    away, its data as a table (which goes into the page's data download as `name`.csv, open or not)."""
    st.plotly_chart(figure, width="stretch")
    st.caption(md(charts.describe(figure), limit=None))
    if data is not None:
        _note_table(data, name)
        drawn = _page_record(_PAGE_CHARTS, {})
        drawn[name] = drawn.get(name, -1) + 1  # a name drawn twice in a run (a loop) gets a key of its own
        if (box := folded("The chart's data as a table", f"_chart_data_{name}_{drawn[name]}")) is not None:
            with box:
                table(data, name)


def metric(key: str, value: str, container=None, **options) -> None:
    """A headline tile: label and method note from the registry, `value` already written as shown."""
    figure = metrics.figure(key)
    _page_record(_PAGE_FIGURES, {})[key] = None
    (container or st).metric(figure.label, value, help=figure.help, **options)


def start_page_record() -> None:
    for name in (_PAGE_TABLES, _PAGE_FIGURES, _PAGE_QUERIES, _UNREGISTERED, _PAGE_CHOICES, _PAGE_CHARTS, _PAGE_TAB):
        st.session_state.pop(name, None)


def page_data_zip(page_title: str) -> bytes:
    """Every table behind this run's page as CSV, scoped and suppressed exactly as shown, and a README
    of their columns and methods from the registry."""
    return metrics.data_zip(st.session_state.get(_PAGE_TABLES, {}), page_title)


def page_footer(page_title: str) -> None:
    """Below every page: how its figures were made (each figure's method note from the registry, and
    the named queries it ran with their SQL), and one download of all its tables."""
    keys = [k for k in st.session_state.get(_PAGE_FIGURES, {}) if k in metrics.REGISTRY]
    queries = st.session_state.get(_PAGE_QUERIES, {})
    if not keys and not queries:
        return
    st.divider()
    if (box := folded("How were these figures made?", "_page_methods_open")) is not None:
        box.markdown("\n\n".join(f"**{metrics.figure(key).label}** · {metrics.figure(key).help}" for key in keys)
                    + "\n\nEvery figure is listed on the Methods page.")
    if queries and (box := folded(f"The queries behind this page ({len(queries)})", "_page_queries_open")) is not None:
        with box:  # one code element: the SQL as it is
            st.code("\n\n".join(f"-- == {name} ==\n{query_sql(name)}" for name in queries), language="sql")
    if st.session_state.get(_PAGE_TABLES):
        tab = st.session_state.get(_PAGE_TAB)
        title = f"{page_title}: {tab}" if tab else page_title
        slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
        st.download_button("Download this page's data (ZIP of CSVs with a README)" if not tab
                           else f"Download this tab's data, {tab} (ZIP of CSVs with a README)",
                           audited(lambda: page_data_zip(title), file=f"{slug}_data.zip"),
                           file_name=f"{slug}_data.zip", mime="application/zip", key="_page_data_zip", on_click="ignore")
