"""The Overview's figures (and the Data page's counts of rows) as a given viewer may see them: plain
Python over named queries, no Streamlit, so the page only draws them and a test can ask for every view
a funder could choose.

For a viewer who may not see small counts, every count goes through `disclosure.shown_count`, and
every rate and interval is computed from the rounded count (see `dashboard.disclosure`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboard import analysis, disclosure, metrics, stats
from dashboard.contract import INCIDENT_TYPES, MODELS_BY_TABLE
from dashboard.text import count_of, md, moment_label, month_label

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


def delivery_caption(shown: dict) -> str:
    """Under the sessions tile: the share of planned sessions delivered, rescheduled and cancelled."""
    share = shown["delivered_share"]
    if shown["planned"] == "0":
        lead = "no sessions planned"
    elif share is None:  # hidden from a protected viewer: with the counts beside it, it would give one back
        lead = "share of planned sessions not shown (it would give back a count under the small-number limit)"
    else:
        lead = f"{metrics.fmt('sessions_delivered_share', share)} of planned sessions"
    return f"{lead} · {shown['rescheduled']} rescheduled · {shown['cancelled']} cancelled"


def roles_caption(shown: dict) -> str:
    """Under the participants tile: participants by role."""
    return " · ".join(f"{shown[r]} {metrics.ROLE_LABELS[r].lower()}" for r in ("prisoner", "staff"))


def most_frequent_sentence(table: pd.DataFrame, window: str, k: int, protected: bool) -> str:
    """The incident table's answer in words: the most frequent type, its rate, count and denominator."""
    top = table.sort_values("rate", ascending=False).iloc[0]
    return (f"**Last 12 months of the period ({window}):** {metrics.INCIDENT_TYPE_LABELS[top['incident_type']].lower()} was the "
            f"most frequent, {metrics.fmt('rate', top['rate'])} per 1,000 prisoners per year "
            f"({disclosure.shown_count(top['incidents'], k, protected)} incidents over "
            f"{metrics.fmt('prisoner_years', top['prisoner_years'])} prisoner-years).")


def monthly_rates(query: Query, params: dict) -> pd.DataFrame:
    """Each incident type's monthly count, prisoner-years and rate (for the chart and its download)."""
    monthly = query("incident_counts_monthly", **params, incident_types=list(INCIDENT_TYPES))
    return monthly.assign(rate=metrics.incident_rate(monthly["incidents"], monthly["prisoner_years"]))


def survey_caption(everyone, k: int, protected: bool) -> str:
    """Under the survey tile: pairs of participants, the interval, and that it is not evidence of cause."""
    return (f"{disclosure.shown_count(everyone['pairs'], k, protected)} participants with both a pre and a post survey, "
            f"of {disclosure.shown_count(everyone['participants'], k, protected)}; 95% CI "
            f"{metrics.fmt('change_low', everyone['change_low'])} to {metrics.fmt('change_high', everyone['change_high'])}. "
            "A before-and-after change among participants, with no comparison group: it is not evidence of cause.")


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
            "incident_type": row.incident_type,
            "incidents": _count(incidents, k, protected),
            "serious_incidents": _count(int(row.serious_incidents), k, protected),
            "prisoner_years": round(years, 1),
            "rate": _round(estimate.value if estimate else None, 0),
            "rate_low": _round(estimate.lower if estimate else None, 0),
            "rate_high": _round(estimate.upper if estimate else None, 0),
        })
    return pd.DataFrame(rows)


COMPARED_MONTHS = 12  # the latest 12 months against the 12 before them


@dataclass(frozen=True)
class BetterOrWorse:
    table: pd.DataFrame  # empty when the period holds fewer than 24 months
    latest: tuple[date, date] | None = None  # first and last month compared
    previous: tuple[date, date] | None = None
    why_not: str = ""  # when the table is empty: what the comparison needs

    def sentence(self) -> str:
        """The answer first: which incident types were lower, higher or unchanged, as the intervals say."""
        if self.table.empty:
            return ""
        parts = []
        for verdict, words in (("better (lower)", "lower rates of"), ("worse (higher)", "higher rates of"),
                               ("no clear change", "no clear change in"), ("not enough data", "too few incidents to compare for")):
            names = self.table[self.table["verdict"] == verdict]["incident_type"].map(metrics.INCIDENT_TYPE_LABELS).str.lower().tolist()
            if names:
                parts.append(f"{words} {names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]}")
        span = lambda pair: f"{month_label(pair[0])} to {month_label(pair[1])}"  # noqa: E731
        return (f"**{span(self.latest)} against {span(self.previous)}: " + "; ".join(parts) + ".** "
                "A change is called only when its 95% interval excludes no change.")

    def methods_note(self) -> str:
        """Where an incident type's SPC signal (its latest month) reads against its 12-month verdict, why."""
        if self.table.empty or "spc_signal" not in self.table:
            return ""
        direction = {"better (lower)": "lower", "worse (higher)": "higher"}
        differences = [
            f"{metrics.INCIDENT_TYPE_LABELS[row.incident_type].lower()}: {metrics.code_label('spc_signal', row.spc_signal).lower()} "
            f"against {row.verdict}"
            for row in self.table.itertuples()
            if analysis.signal_disagrees(direction.get(row.verdict, "none"), row.spc_signal)
        ]
        return analysis.methods_differ_note(differences, "the latest month")


def better_or_worse(query: Query, params: dict, protected: bool, k: int) -> BetterOrWorse:
    """Per incident type: the last 12 months of the period against the 12 before (counts,
    prisoner-years, rates, the rate ratio with R's poisson.test interval, and a verdict generated from
    that interval: lower is better), and the XmR signal of the latest month over the whole period
    (not for a protected viewer, whose monthly counts are often small). Empty when the period holds
    fewer than 24 months."""
    monthly = query("incident_counts_monthly", **params, incident_types=list(INCIDENT_TYPES))
    months = sorted(pd.to_datetime(monthly["month"]).unique())
    if not months:
        return BetterOrWorse(pd.DataFrame(), why_not=(
            "There are no recorded incidents with wing populations for the places chosen, so there is nothing to compare "
            "(a prison known only from published figures is compared on Prison comparison)."))
    if len(months) < 2 * COMPARED_MONTHS:
        return BetterOrWorse(pd.DataFrame(), why_not=(
            "Comparing the last 12 months with the 12 before needs a period of at least 24 months: widen the period."))
    latest_start, previous_start = months[-COMPARED_MONTHS], months[-2 * COMPARED_MONTHS]
    when = pd.to_datetime(monthly["month"])
    rows = []
    for incident_type, frame in monthly.groupby("incident_type", sort=False):
        frame_when = when[frame.index]
        latest, previous = frame[frame_when >= latest_start], frame[(frame_when >= previous_start) & (frame_when < latest_start)]
        counts = [int(latest["incidents"].sum()), int(previous["incidents"].sum())]
        used = [disclosure.rounded(c, k) if protected else c for c in counts]
        years = [float(latest["prisoner_years"].sum()), float(previous["prisoner_years"].sum())]
        ratio = stats.rate_ratio(used[0] or 0, years[0], used[1] or 0, years[1]) if None not in used else None
        row = {
            "incident_type": incident_type,
            "verdict": _verdict(ratio),
            "rate_ratio": _round(ratio.value if ratio else None, 2),
            "ratio_low": _round(ratio.lower if ratio else None, 2),
            "ratio_high": _round(ratio.upper if ratio else None, 2),
        }
        if not protected:
            rates = metrics.incident_rate(frame["incidents"], frame["prisoner_years"]).fillna(0).tolist()
            row["spc_signal"] = stats.xmr(rates).signals(lower_is_better=True)[-1]
        row |= {
            "rate_last_12": _round(metrics.incident_rate(used[0], years[0]) if used[0] is not None else None, 0),
            "rate_previous_12": _round(metrics.incident_rate(used[1], years[1]) if used[1] is not None else None, 0),
            "incidents_last_12": _count(counts[0], k, protected),
            "incidents_previous_12": _count(counts[1], k, protected),
        }
        rows.append(row)
    day = lambda m: pd.Timestamp(m).date()  # noqa: E731
    return BetterOrWorse(pd.DataFrame(rows), (day(latest_start), day(months[-1])), (day(previous_start), day(months[-COMPARED_MONTHS - 1])))


def published_only_note(prisons: pd.DataFrame, shown: list[str], chosen: bool) -> str:
    """The prisons shown (`chosen` in the sidebar, or all of them) known only from published figures (no
    wings): the Overview's figures are from recorded incidents, so it says which prisons they leave out
    and where those are compared."""
    published = prisons[prisons["prison_id"].isin(shown) & (prisons["wings"] == 0)]
    if published.empty:
        return ""
    names = ", ".join(md(n) for n in published["name"])
    is_, it, its = ("is", "it", "its") if len(published) == 1 else ("are", "them", "their")
    return (f"The figures here are from recorded incidents and wing populations, so "
            f"{count_of(len(published), 'chosen prison' if chosen else 'prison')} known only from published figures ({names}) "
            f"{is_} left out; Prison comparison compares {it} over the months {its} published figures cover.")


def _verdict(ratio) -> str:
    if ratio is None or pd.isna(ratio.lower):
        return "not enough data"
    if ratio.upper < 1:
        return "better (lower)"
    if ratio.lower > 1:
        return "worse (higher)"
    return "no clear change"


def programme_help(query: Query, params: dict, prison_ids: list[str], measure: metrics.Measure, window: int,
                   period_start, period_end, wing_ids=None, month_by_month: bool = True,
                   known: dict | None = None, count_as=None) -> analysis.ProgrammeView:
    """Did The Conversation help? The Wing trends answer over several prisons (each one's wings and
    cohorts, the cohorts that started in the period on the chosen wings), for a measure. `known`
    holds (wing rates, cohorts) a page has already computed for a prison, so they are not redone."""
    parts = []
    for prison_id in prison_ids:
        if known and prison_id in known:
            rates, cohorts = known[prison_id]
        else:
            counts = query("wing_monthly_counts", **{**params, "prison_id": prison_id}, incident_types=list(INCIDENT_TYPES))
            rates = analysis.wing_measure(counts, measure)
            cohorts = analysis.cohort_windows(query("delivered_workshops", prison_id=prison_id))
        # the wing filter names one prison's wings: it narrows that prison's cohorts, not the others'
        own_wings = [w for w in wing_ids or () if w in set(cohorts["wing_id"]) | set(rates["wing_id"])] or None
        in_view = analysis.cohorts_in_view(cohorts, period_start, period_end, own_wings)
        parts.append(analysis.PrisonCohorts(prison_id, rates, cohorts, tuple(in_view["cohort_id"])))
    return analysis.programme_view(parts, window, month_by_month, count_as)


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
            "group": "Everyone" if pd.isna(row.role) else metrics.ROLE_LABELS[row.role],
            "participants": shown["participants"]["Everyone" if pd.isna(row.role) else row.role] if shown else int(row.participants),
            "pairs": shown["pairs"]["Everyone" if pd.isna(row.role) else row.role] if shown else pairs,
            "pairs_exact": pairs,
            "mean_change": _round(estimate.value if estimate else None, 2),
            "change_low": _round(estimate.lower if estimate else None, 2),
            "change_high": _round(estimate.upper if estimate else None, 2),
            "note": "" if reportable else disclosure.too_few_message(pairs, k),
        })
    return pd.DataFrame(rows)


def _count(n: int, k: int, protected: bool) -> int | str:
    """A table cell: the count itself (a number, sortable) or, for a protected viewer, as shown."""
    return disclosure.shown_count(n, k) if protected else n


def _round(value: float | None, digits: int) -> float | None:
    """Rounded to what is shown: the browser receives no more precision than the reader sees."""
    return None if value is None or pd.isna(value) else round(float(value), digits)


def extracts_table(report, protected: bool, k: int) -> pd.DataFrame:
    """The Data page's table of extracts: each one's state, rows, dates, files and what it holds. Rows
    loaded and rejected are counts like any other (cohorts, referrals, survey responses): a protected
    viewer sees them as every other page shows counts, or the exact row count beside a rounded figure
    elsewhere would give the figure back."""
    return pd.DataFrame([
        {
            "extract": t.table,
            "load_status": t.state,
            "rows_loaded": _count(t.rows_loaded, k, protected),
            "rows_rejected": _count(t.rows_rejected, k, protected),
            "date_from": t.date_min,
            "date_to": t.date_max,
            "files": ", ".join(f.rsplit("/", 1)[-1] for f in t.files) if len(t.files) < 4 else f"{len(t.files)} files",
            "size_kb": t.bytes / 1024,
            "modified": moment_label(t.modified) if t.modified else None,
            "holds": MODELS_BY_TABLE[t.table].description,
        }
        for t in report.tables.values()
    ])


def problems_sentence(report, protected: bool, k: int) -> str:
    """Over the Data page's table: rows rejected (a count, shown as counts are) and problems found."""
    errors = sum(1 for p in report.problems if p.severity == "error")
    tables = sum(1 for t in report.tables.values() if t.problems)
    rejected = disclosure.shown_count(sum(t.rows_rejected for t in report.tables.values()), k, protected)
    return (f"{rejected} rows rejected and kept aside; {len(report.problems)} problems in {tables} extracts "
            f"({errors} that reject rows). Rows that pass still count everywhere.")


def problems_table(report, detail: bool, protected: bool, k: int) -> pd.DataFrame:
    """Each problem found: its extract, column, severity and rows affected (as counts are shown); with
    `detail` (administrators), example values and rows."""
    return pd.DataFrame([
        {
            "extract": p.table,
            "column": p.column or "(whole table)",
            "severity": p.severity,
            "problem": p.message,
            "rows": _count(p.rows, k, protected),
            **({"example_values": ", ".join(p.examples), "example_rows": "; ".join(p.sample_rows)} if detail else {}),
        }
        for p in report.problems
    ])
