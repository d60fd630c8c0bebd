"""The Overview's figures as a given viewer may see them: plain Python over named queries, no
Streamlit, so the page only draws them and a test can ask for every view a funder could choose.

For a viewer who may not see small counts, every count goes through `disclosure.shown_count`, and
every rate and interval is computed from the rounded count (see `dashboard.disclosure`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd

from dashboard import disclosure, metrics, stats
from dashboard.contract import INCIDENT_TYPES

Query = Callable[..., pd.DataFrame]  # query(name, **params): a named query in the viewer's scope


def delivery(query: Query, params: dict, protected: bool, k: int) -> dict[str, str | float | None]:
    """Cohorts, sessions delivered of planned (and the share), rescheduled, cancelled, participants by role."""
    row = query("overview_delivery", **params).iloc[0].astype(int)
    planned, delivered = int(row["sessions_planned"]), int(row["sessions_delivered"])
    by_role = query("participants_by_role", **params).set_index("role")["participants"]
    people = {r: int(by_role.get(r, 0)) for r in ("prisoner", "staff")}
    shown = disclosure.protect(  # counts of sessions and cohorts: no total among them on screen
        {"cohorts": row["cohorts"], "delivered": delivered, "planned": planned, "rescheduled": row["workshops_rescheduled"],
         "cancelled": row["workshops_cancelled"]}, None, k, protected)
    shown |= disclosure.protect(people, ("participants", sum(people.values())), k, protected)
    shown["delivered_share"] = disclosure.share(delivered, planned, k, protected)
    return shown


def incident_table(query: Query, params: dict, window_start: date, protected: bool, k: int) -> pd.DataFrame:
    """Per incident type over [window_start, period end): incidents, serious, prisoner-years, the rate
    per 1,000 per year and its exact 95% interval (from the rounded count when `protected`)."""
    counts = query("incident_counts_by_type", **{**params, "period_start": window_start}, incident_types=list(INCIDENT_TYPES))
    rows = []
    for row in counts.itertuples():
        incidents, years = int(row.incidents), float(row.prisoner_years or 0)
        used = disclosure.rounded(incidents, k) if protected else incidents
        estimate = stats.poisson_rate_interval(used, years) if used is not None else None
        rows.append({
            "Incident type": metrics.INCIDENT_TYPE_LABELS[row.incident_type],
            "Incidents": _count(incidents, k, protected),
            "of which serious": _count(int(row.serious_incidents), k, protected),
            "Prisoner-years": round(years, 1),
            "Rate per 1,000 per year": _round(estimate.value if estimate else None, 0),
            "95% CI low": _round(estimate.lower if estimate else None, 0),
            "95% CI high": _round(estimate.upper if estimate else None, 0),
        })
    return pd.DataFrame(rows)


def survey_table(query: Query, params: dict, protected: bool, k: int) -> pd.DataFrame:
    """Paired survey change for everyone and by role: participants, pairs, mean change and its 95%
    interval (not reported under k pairs)."""
    summary = query("survey_change_summary", **params)
    # the Everyone row is the total of the role rows: protected together, so it cannot pin a hidden role
    by_group = {("Everyone" if pd.isna(r.role) else r.role): r for r in summary.itertuples()}
    roles = [g for g in by_group if g != "Everyone"]
    shown = {column: disclosure.protect({g: int(getattr(by_group[g], column)) for g in roles},
                                        ("Everyone", int(getattr(by_group["Everyone"], column))), k, protected)
             for column in ("participants", "pairs")} if protected and "Everyone" in by_group else None
    rows = []
    for row in summary.itertuples():
        pairs = int(row.pairs)
        reportable = disclosure.is_reportable(pairs, k)
        estimate = stats.mean_interval(pairs, float(row.mean_change), float(row.sd_change)) if reportable else None
        rows.append({
            "Group": "Everyone" if pd.isna(row.role) else metrics.ROLE_LABELS[row.role],
            "Participants": shown["participants"]["Everyone" if pd.isna(row.role) else row.role] if shown else int(row.participants),
            "Pairs": shown["pairs"]["Everyone" if pd.isna(row.role) else row.role] if shown else pairs,
            "pairs_exact": pairs,
            "Mean change": _round(estimate.value if estimate else None, 2),
            "95% CI low": _round(estimate.lower if estimate else None, 2),
            "95% CI high": _round(estimate.upper if estimate else None, 2),
            "Note": "" if reportable else disclosure.too_few_message(pairs, k),
        })
    return pd.DataFrame(rows)


def _count(n: int, k: int, protected: bool) -> int | str:
    """A table cell: the count itself (a number, sortable) or, for a protected viewer, as shown."""
    return disclosure.shown_count(n, k) if protected else n


def _round(value: float | None, digits: int) -> float | None:
    """Rounded to what is shown: the browser receives no more precision than the reader sees."""
    return None if value is None or pd.isna(value) else round(float(value), digits)
