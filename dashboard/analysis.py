"""Computations behind the governors' pages, over frames returned by the named queries.

Plain functions (no Streamlit): they turn counts and populations into rates, SPC signals and
before/after comparisons, using `dashboard.stats` and the metric registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import stats
from dashboard.metrics import Measure, incident_rate


def wing_measure(wing_counts: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    """One row per wing × month for a measure: incidents, prisoner-years and rate per 1,000 per year.

    `wing_counts` is the `wing_monthly_counts` query (wing × month × incident type).
    """
    column = "serious_incidents" if measure.serious_only else "incidents"
    chosen = wing_counts[wing_counts["incident_type"].isin(measure.incident_types)]
    frame = (
        chosen.groupby(["wing_id", "wing_name", "month"], as_index=False)
        .agg(incidents=(column, "sum"), average_population=("average_population", "first"))
    )
    frame["prisoner_years"] = frame["average_population"] / 12
    frame["rate"] = incident_rate(frame["incidents"], frame["prisoner_years"])
    return frame


def spc_for(series: pd.DataFrame, rebase_month=None) -> pd.DataFrame:
    """XmR chart of a monthly `rate` series (sorted by month), with limits rebased at a month."""
    series = series.sort_values("month").reset_index(drop=True)
    rebase = []
    if rebase_month is not None:
        after = series.index[pd.to_datetime(series["month"]) >= pd.Timestamp(rebase_month)]
        rebase = [int(after[0])] if len(after) else []
    chart = stats.xmr(series["rate"].fillna(0).tolist(), rebase_at=rebase)
    return series.assign(
        mean=chart.mean,
        upper=chart.upper,
        lower=[max(0.0, v) for v in chart.lower],  # a rate cannot fall below zero
        signal=chart.signals(lower_is_better=True),
        outside_limits=chart.outside_limits,
        run=chart.run,
        trend=chart.trend,
        two_of_three=chart.two_of_three,
    )


def cohort_windows(delivered: pd.DataFrame) -> pd.DataFrame:
    """First and last delivered workshop of each cohort (the `delivered_workshops` query)."""
    if delivered.empty:
        return pd.DataFrame(columns=["cohort_id", "wing_id", "first_workshop", "last_workshop", "sessions"])
    return (
        delivered.groupby(["cohort_id", "wing_id"], as_index=False)
        .agg(first_workshop=("delivered_on", "min"), last_workshop=("delivered_on", "max"), sessions=("session_number", "nunique"))
        .sort_values("first_workshop")
    )


@dataclass(frozen=True)
class Windows:
    before: tuple[pd.Timestamp, pd.Timestamp]  # [start, end) months
    after: tuple[pd.Timestamp, pd.Timestamp]


def windows_for(first_workshop, last_workshop, months_before: int, months_after: int) -> Windows:
    """The N whole months before the first workshop's month and after the last workshop's month."""
    first = np.datetime64(pd.Timestamp(first_workshop), "M")  # month arithmetic without DateOffset (slow per call)
    last = np.datetime64(pd.Timestamp(last_workshop), "M")
    return Windows(
        before=(pd.Timestamp(first - months_before), pd.Timestamp(first)),
        after=(pd.Timestamp(last + 1), pd.Timestamp(last + 1 + months_after)),
    )


def cohorts_in_view(cohorts: pd.DataFrame, period_start, period_end, wing_ids=None) -> pd.DataFrame:
    """The cohorts a view shows: those whose first workshop falls in [period_start, period_end)
    (a cohort counts where it started), on the chosen wings if any."""
    first = pd.to_datetime(cohorts["first_workshop"])
    shown = (first >= pd.Timestamp(period_start)) & (first < pd.Timestamp(period_end))
    if wing_ids:
        shown &= cohorts["wing_id"].isin(list(wing_ids))
    return cohorts[shown]


def workshops_in_period(delivered: pd.DataFrame, period_start, period_end) -> pd.DataFrame:
    """Delivered workshops in [period_start, period_end): the markers a chart of that period shows."""
    on = pd.to_datetime(delivered["delivered_on"])
    return delivered[(on >= pd.Timestamp(period_start)) & (on < pd.Timestamp(period_end))]


def before_after(
    wing_rates: pd.DataFrame, cohorts: pd.DataFrame, months_before: int = 6, months_after: int = 6, wing_of=None,
    evaluate=None,
) -> pd.DataFrame:
    """For each cohort: counts, prisoner-years and rates before and after on its wing and on the
    comparison wings, and the ratio of the two changes with its 95% CI.

    The comparison wings are the prison's other wings that had no workshop of any cohort between
    the start of the before window and the end of the after window, so the comparison is not
    itself treated. `wing_rates` is `wing_measure(...)` for one prison; `wing_of` can map a cohort
    to another wing (a placebo test: the same dates on a wing that had no programme). `evaluate`
    (cohort ids) limits the cohorts compared; every cohort in `cohorts` still screens the
    comparison wings, so a wing treated outside the view is never taken as untreated.
    """
    incidents = wing_rates.pivot_table(index="wing_id", columns="month", values="incidents", aggfunc="sum")
    years = wing_rates.pivot_table(index="wing_id", columns="month", values="prisoner_years", aggfunc="sum").reindex_like(incidents)
    months = pd.DatetimeIndex(pd.to_datetime(incidents.columns))
    wings = incidents.index.to_numpy()
    counts, exposure = incidents.fillna(0).to_numpy(), years.fillna(0).to_numpy()
    first_workshops = pd.to_datetime(cohorts["first_workshop"]).to_numpy()
    last_workshops = pd.to_datetime(cohorts["last_workshop"]).to_numpy()
    cohort_wings = cohorts["wing_id"].to_numpy()

    def window(start, end, needed):
        lo, hi = months.searchsorted(start), months.searchsorted(end)
        return (lo, hi) if hi - lo == needed else None  # the window runs off the data

    rows = []
    chosen = cohorts if evaluate is None else cohorts[cohorts["cohort_id"].isin(list(evaluate))]
    for cohort in chosen.itertuples():
        wing = wing_of(cohort) if wing_of else cohort.wing_id
        windows = windows_for(cohort.first_workshop, cohort.last_workshop, months_before, months_after)
        busy = cohort_wings[(last_workshops >= windows.before[0].to_datetime64()) & (first_workshops < windows.after[1].to_datetime64())]
        on_wing = wings == wing
        busy_wings = set(busy)
        others = ~on_wing & np.array([w not in busy_wings for w in wings], dtype=bool)
        row = {
            "cohort_id": cohort.cohort_id,
            "wing_id": wing,
            "comparison_wings": int(others.sum()),
            "first_workshop": cohort.first_workshop,
            "last_workshop": cohort.last_workshop,
        }
        spans = [window(*windows.before, months_before), window(*windows.after, months_after)]
        if not others.any() or not on_wing.any() or None in spans:
            rows.append({**row, "note": "no comparison wing free of the programme" if not others.any() else "window runs beyond the data"})
            continue
        # wing before, wing after, comparison before, comparison after
        cells = [
            (float(counts[rows_mask, lo:hi].sum()), float(exposure[rows_mask, lo:hi].sum()))
            for rows_mask in (on_wing, others)
            for lo, hi in spans
        ]
        for name, (count, prisoner_years) in zip(("wing_before", "wing_after", "others_before", "others_after"), cells):
            row[f"{name}_incidents"] = count
            row[f"{name}_prisoner_years"] = prisoner_years
            row[f"{name}_rate"] = incident_rate(count, prisoner_years)
        result = stats.ratio_of_rate_changes(*cells)
        rows.append({**row, "ratio": result.ratio, "ratio_low": result.lower, "ratio_high": result.upper, "note": ""})
    return pd.DataFrame(rows)


def pooled(before_after_table: pd.DataFrame) -> stats.RateRatioOfChanges | None:
    """All cohorts together: counts and prisoner-years summed cell by cell, then one ratio."""
    usable = before_after_table.dropna(subset=["ratio"]) if "ratio" in before_after_table else before_after_table.iloc[0:0]
    if usable.empty:
        return None
    cells = [
        (usable[f"{name}_incidents"].sum(), usable[f"{name}_prisoner_years"].sum())
        for name in ("wing_before", "wing_after", "others_before", "others_after")
    ]
    return stats.ratio_of_rate_changes(*cells)


def wing_summary(wing_rates: pd.DataFrame) -> pd.DataFrame:
    """Per wing: rate over the latest 12 months, over the 12 before, the change, and the SPC signal
    of the latest special cause in those 12 months (limits from the wing's whole series)."""
    ordered = wing_rates.assign(month=pd.to_datetime(wing_rates["month"])).sort_values("month")
    last = ordered["month"].max()
    latest_start = (last - pd.DateOffset(months=11)).to_datetime64()
    previous_start = (last - pd.DateOffset(months=23)).to_datetime64()
    rows = []
    for (wing_id, wing_name), frame in ordered.groupby(["wing_id", "wing_name"]):
        months = frame["month"].to_numpy()
        incidents, years = frame["incidents"].to_numpy(dtype=float), frame["prisoner_years"].to_numpy(dtype=float)
        latest = months >= latest_start
        previous = (months >= previous_start) & ~latest
        signals = np.array(stats.xmr(frame["rate"].fillna(0).tolist()).signals(lower_is_better=True))[latest]
        special = signals[signals != "common cause"]
        latest_rate = incident_rate(incidents[latest].sum(), years[latest].sum())
        previous_rate = incident_rate(incidents[previous].sum(), years[previous].sum()) if previous.sum() == 12 else float("nan")
        rows.append({
            "wing_id": wing_id,
            "wing_name": wing_name,
            "incidents_latest_12_months": int(incidents[latest].sum()),
            "prisoner_years_latest_12_months": float(years[latest].sum()),
            "rate_latest_12_months": latest_rate,
            "rate_previous_12_months": previous_rate,
            "change": latest_rate / previous_rate - 1 if previous_rate and previous_rate > 0 else float("nan"),
            "spc_signal": special[-1] if len(special) else "common cause",
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Funnel:
    table: pd.DataFrame  # one row per prison: rate, exact 95% CI, position against the funnel
    reference_rate: float
    phi: float  # 1 unless widened for over-dispersion


def funnel(prisons: pd.DataFrame, widen_for_overdispersion: bool = False) -> Funnel:
    """Rates of the prisons in `prisons` (the `prison_counts` query, already narrowed to the group)
    against the group's pooled rate, with exact Poisson positions at 95% and 99.8%."""
    prisons = prisons[prisons["prisoner_years"] > 0].copy()
    reference = incident_rate(prisons["incidents"].sum(), prisons["prisoner_years"].sum())
    expected = reference * prisons["prisoner_years"] / 1000
    phi = stats.overdispersion_factor(prisons["incidents"].tolist(), expected.tolist()) if widen_for_overdispersion else 1.0
    phi = max(phi, 1.0)
    prisons["rate"] = incident_rate(prisons["incidents"], prisons["prisoner_years"])
    intervals = [stats.poisson_rate_interval(int(n), float(e)) for n, e in zip(prisons["incidents"], prisons["prisoner_years"])]
    prisons["ci_low"] = [i.lower for i in intervals]
    prisons["ci_high"] = [i.upper for i in intervals]
    exposure, rate = prisons["prisoner_years"].to_numpy(), prisons["rate"].to_numpy()
    low95, high95 = stats.funnel_limits(reference, exposure, 0.95, phi=phi)
    low998, high998 = stats.funnel_limits(reference, exposure, 0.998, phi=phi)
    prisons["position"] = np.select(
        [rate > high998, rate > high95, rate < low998, rate < low95],
        ["above 99.8% limit", "above 95% limit", "below 99.8% limit", "below 95% limit"],
        "within limits",
    )
    prisons["programme"] = prisons["runs_the_conversation"] | prisons["runs_good_prison_project"]
    return Funnel(prisons.sort_values("rate", ascending=False).reset_index(drop=True), reference, phi)


def quarterly_against_group(monthly: pd.DataFrame, prisons: pd.DataFrame) -> pd.DataFrame:
    """For each programme prison: its quarterly rate, and the pooled quarterly rate of prisons of
    the same type that run neither programme (the comparison group)."""
    flags = prisons[["prison_id", "prison_type", "runs_the_conversation", "runs_good_prison_project"]]
    monthly = monthly.merge(flags, on="prison_id")
    monthly["quarter"] = pd.to_datetime(monthly["month"]).dt.to_period("Q").dt.to_timestamp()
    programme = monthly["runs_the_conversation"] | monthly["runs_good_prison_project"]
    sums = {"incidents": ("incidents", "sum"), "prisoner_years": ("prisoner_years", "sum")}
    panels = prisons.loc[prisons["runs_the_conversation"] | prisons["runs_good_prison_project"], ["prison_id", "name", "prison_type"]]
    panels = panels.assign(panel=panels["name"] + " (" + panels["prison_id"] + ")")[["prison_id", "prison_type", "panel"]]
    own = monthly[programme].groupby(["prison_id", "quarter"], as_index=False).agg(**sums).merge(panels, on="prison_id")
    groups = monthly[~programme].groupby(["prison_type", "quarter"], as_index=False).agg(**sums).merge(panels, on="prison_type")
    quarterly = pd.concat([own.assign(series="This prison"), groups.assign(series="Comparison group")], ignore_index=True)
    if quarterly.empty:
        return pd.DataFrame()
    quarterly["rate"] = incident_rate(quarterly["incidents"], quarterly["prisoner_years"])
    return quarterly.drop(columns="prison_type").sort_values(["panel", "series", "quarter"], ascending=[True, False, True], ignore_index=True)


# --- The Conversation: cohorts -------------------------------------------------------------

PLANNED_DAYS_FIRST_TO_LAST = 63  # three workshops across 9 weeks


def survey_change(items: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Paired change per item and role (the `survey_item_change` query) with its 95% CI, Cohen's
    d_z and response rate; fewer than `threshold` pairs: no figures, only the reason."""
    from dashboard.disclosure import is_reportable, too_few_message

    rows = []
    for r in items.itertuples():
        pairs = int(r.pairs)
        row = {"item": r.item, "role": r.role, "participants": int(r.participants), "pairs": pairs,
               "response_rate": pairs / r.participants if r.participants else float("nan")}
        if is_reportable(pairs, threshold):
            estimate = stats.mean_interval(pairs, float(r.mean_change), float(r.sd_change))
            row |= {"mean_change": estimate.value, "ci_low": estimate.lower, "ci_high": estimate.upper,
                    "cohens_dz": stats.cohens_dz(float(r.mean_change), float(r.sd_change)), "note": ""}
        else:
            row |= {"mean_change": None, "ci_low": None, "ci_high": None, "cohens_dz": None, "note": too_few_message(pairs, threshold)}
        rows.append(row)
    return pd.DataFrame(rows)


def retention(sessions: pd.DataFrame) -> pd.DataFrame:
    """Share of participants attending sessions 1, 2 and 3 by role, over the cohorts that
    delivered that session (the `session_attendance` query)."""
    if sessions.empty:
        return pd.DataFrame(columns=["role", "session_number", "attended", "participants", "share"])
    out = sessions.groupby(["role", "session_number"], as_index=False)[["attended", "participants"]].sum()
    out["share"] = out["attended"] / out["participants"]
    return out


def staff_mix(sessions: pd.DataFrame) -> pd.DataFrame:
    """Per cohort and session: staff and prisoners in the room, and staff per 10 prisoners."""
    if sessions.empty:
        return pd.DataFrame(columns=["cohort_id", "session_number", "prisoner", "staff", "staff_per_10_prisoners"])
    wide = sessions.pivot_table(index=["cohort_id", "session_number"], columns="role", values="attended", fill_value=0).reset_index()
    for role in ("prisoner", "staff"):
        if role not in wide:
            wide[role] = 0
    wide["staff_per_10_prisoners"] = 10 * wide["staff"] / wide["prisoner"].where(wide["prisoner"] > 0)
    return wide[["cohort_id", "session_number", "prisoner", "staff", "staff_per_10_prisoners"]]


def likert_shares(distribution: pd.DataFrame) -> pd.DataFrame:
    """Share of answers at each score per item and wave, for a diverging stacked bar."""
    if distribution.empty:
        return distribution.assign(share=[])
    totals = distribution.groupby(["item", "wave"])["answers"].transform("sum")
    return distribution.assign(share=distribution["answers"] / totals)


# --- Good Prison Project -------------------------------------------------------------------

GPP_PERIODS = {  # [start, end): the coordinator period, and a year either side as far as data allow
    "before": (pd.Timestamp("2015-09-01"), pd.Timestamp("2016-09-01")),
    "during": (pd.Timestamp("2016-09-01"), pd.Timestamp("2017-11-01")),
    "after": (pd.Timestamp("2017-11-01"), pd.Timestamp("2018-11-01")),
}


def gpp_safety(monthly: pd.DataFrame, prisons: pd.DataFrame, count_as=None) -> pd.DataFrame:
    """For each Good Prison Project prison: rates before, during and after the coordinator period,
    the same for prisons of its type that run neither programme, and the ratio of changes (during
    and after, each against before) with 95% CIs. `monthly` is `prison_monthly_counts`.

    `count_as(count)` gives the count every figure is computed from (for a funder, the rounded
    count, None when it is hidden): rates and ratios then give back no more than is shown."""
    monthly = monthly.assign(month=pd.to_datetime(monthly["month"])).merge(
        prisons[["prison_id", "prison_type", "runs_the_conversation", "runs_good_prison_project"]], on="prison_id")
    rows = []
    for prison in prisons[prisons["runs_good_prison_project"]].itertuples():
        own = monthly[monthly["prison_id"] == prison.prison_id]
        group = monthly[(monthly["prison_type"] == prison.prison_type) & ~monthly["runs_the_conversation"] & ~monthly["runs_good_prison_project"]]
        cells, exact = {}, {}
        for name, (start, end) in GPP_PERIODS.items():
            for who, frame in (("prison", own), ("comparison", group)):
                inside = frame[(frame["month"] >= start) & (frame["month"] < end)]
                exact[(who, name)] = float(inside["incidents"].sum())
                used = count_as(exact[(who, name)]) if count_as else exact[(who, name)]
                cells[(who, name)] = (None if used is None else float(used), float(inside["prisoner_years"].sum()))
        row = {"prison_id": prison.prison_id, "name": prison.name, "prison_type": prison.prison_type,
               "comparison_prisons": group["prison_id"].nunique()}
        for (who, name), (count, years) in cells.items():
            row[f"{who}_{name}_incidents"] = exact[(who, name)]  # the page shows it as the viewer may see it
            row[f"{who}_{name}_prisoner_years"] = years
            row[f"{who}_{name}_rate"] = None if count is None else incident_rate(count, years)
        for name in ("during", "after"):
            used = (cells[("prison", "before")], cells[("prison", name)], cells[("comparison", "before")], cells[("comparison", name)])
            if any(count is None for count, _ in used):
                row |= {f"ratio_{name}": None, f"ratio_{name}_low": None, f"ratio_{name}_high": None}
                continue
            result = stats.ratio_of_rate_changes(*used)
            row |= {f"ratio_{name}": result.ratio, f"ratio_{name}_low": result.lower, f"ratio_{name}_high": result.upper}
        rows.append(row)
    return pd.DataFrame(rows)


def rounded_to_shown(frame: pd.DataFrame, digits: dict[str, int], default: int) -> pd.DataFrame:
    """Every float column rounded to the digits it is shown with (`digits` by column, else
    `default`): what is sent to the browser carries no more precision than the reader sees."""
    floats = frame.select_dtypes("floating").columns
    return frame.assign(**{c: frame[c].round(digits.get(c, default)) for c in floats})


def interval_text(low: pd.Series, high: pd.Series) -> pd.Series:
    """Intervals as "0.71 to 0.93"; a dash where there is none (too few incidents, or hidden)."""
    present = low.notna() & high.notna()
    text = low.astype(float).map("{:.2f}".format) + " to " + high.astype(float).map("{:.2f}".format)
    return text.where(present, "–")
