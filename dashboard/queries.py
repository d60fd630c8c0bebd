"""Run the named SQL queries in `queries/` with bound parameters.

A query is a file `queries/<name>.sql`; its parameters are written `$name` and are always bound
by DuckDB, never formatted into the text. Every run is made for a viewer, whose scope
(`dashboard.access.Viewer.scope_params`) is bound beside the query's own parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.access import Viewer
from dashboard.contract import TABLES

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
ROLLUPS_DIR = QUERIES_DIR / "rollups"  # tables derived once at load: `<name>.sql` is a SELECT
MACROS_DIR = QUERIES_DIR / "macros"  # macros the named queries share (scope rules, the cohort filter): `<name>.sql` creates one
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


class UnknownQuery(LookupError):
    pass


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


@cache
def query_text(name: str) -> str:
    path = QUERIES_DIR / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        raise UnknownQuery(f"no query named {name!r} in {QUERIES_DIR}")
    return path.read_text()


def query_sql(name: str) -> str:
    """The query's SQL as a reader may see it (its parameters stay `$name`: values are bound)."""
    return query_text(name).strip()


@cache
def query_description(name: str) -> str:
    """The query's leading comment, in one paragraph: what it returns."""
    lines = []
    for line in query_text(name).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines) or "(no description)"


@cache
def query_parameters(name: str) -> frozenset[str]:
    return frozenset(_PARAMETER.findall(_without_comments(query_text(name))))


def _without_comments(sql: str) -> str:
    return _COMMENT.sub("", sql)


@cache
def _reads() -> dict[str, frozenset[str]]:
    """For every rollup and macro: the extracts it reads, directly or through another rollup or macro."""
    derived = {p.stem: _without_comments(p.read_text()) for folder in (ROLLUPS_DIR, MACROS_DIR) for p in folder.glob("*.sql")}
    direct = {name: _words(sql) & (set(TABLES) | set(derived)) - {name} for name, sql in derived.items()}
    reads: dict[str, frozenset[str]] = {}

    def resolve(name: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        if name not in reads:
            found: set[str] = set()
            for used in direct[name] - seen:
                found |= resolve(used, seen | {name}) if used in derived else {used}
            reads[name] = frozenset(found)
        return reads[name]

    for name in derived:
        resolve(name)
    return reads


def _words(sql: str) -> set[str]:
    return set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))


@cache
def query_tables(name: str) -> frozenset[str]:
    """The extracts (contract tables) named query `name` reads, directly or through rollups and
    macros: the pages use it to say when a figure's inputs lost rows."""
    words, reads = _words(_without_comments(query_text(name))), _reads()
    return frozenset(words & set(TABLES)).union(*(reads[w] for w in words & reads.keys()))


def define_macros(con) -> None:
    """Create the shared macros (`queries/macros/<name>.sql`), such as the cohort filter, in name
    order: a macro may use one whose name sorts before it."""
    for path in sorted(MACROS_DIR.glob("*.sql")):
        con.execute(path.read_text())


def build_rollups(con) -> list[str]:
    """Create each rollup table (`queries/rollups/<name>.sql`) from the validated extracts; a
    rollup may read another, so one that names a table not built yet waits for the next round."""
    pending, built = sorted(ROLLUPS_DIR.glob("*.sql")), []
    while pending:
        waiting = []
        for path in pending:
            try:
                con.execute(f'CREATE OR REPLACE TABLE main."{path.stem}" AS\n{path.read_text()}')
                built.append(path.stem)
            except duckdb.CatalogException:
                waiting.append(path)
        if len(waiting) == len(pending):  # nothing could be built this round: report the first
            con.execute(f'CREATE OR REPLACE TABLE main."{waiting[0].stem}" AS\n{waiting[0].read_text()}')
        pending = waiting
    return built


def run_query(con, name: str, viewer: Viewer, params: Mapping[str, object] | None = None) -> pd.DataFrame:
    """Execute query `name` for `viewer` on a fresh cursor of `con` (cursors are per thread)."""
    if not isinstance(viewer, Viewer):
        raise TypeError(f"query {name!r} needs the viewer whose scope it runs in, not {viewer!r}")
    params = {**(params or {}), **viewer.scope_params()}
    needed = query_parameters(name)
    missing = needed - params.keys()
    if missing:
        raise TypeError(f"query {name!r} needs parameters {sorted(missing)}")
    cursor = con.cursor()
    try:
        return cursor.execute(query_text(name), {k: params[k] for k in needed}).df()
    finally:
        cursor.close()
