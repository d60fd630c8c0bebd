"""Overview: reach, delivery, incident rates and survey change for the current filters."""

import pandas as pd
import streamlit as st

from dashboard import charts, disclosure, filters, metrics, stats, ui
from dashboard.contract import INCIDENT_TYPES

st.title("Overview")
db = ui.database()
current = filters.current_filters()
if current is None:
    if ui.require_tables(db, "prisons", "wings", "wing_population"):
        st.info("No prisons or population months loaded, so there is nothing to show: see the Data page.")
    st.stop()
st.caption(f"Showing {current.describe()}. Change the filters in the sidebar; the link keeps them.")
params = current.params()
k = disclosure.configured_threshold()
protected = ui.viewer().suppresses_small_counts  # funders: counts 1 to k-1 shown as "<k"


def as_count(value) -> str:
    return value if isinstance(value, str) else f"{int(value):,}"  # a string is already protected


if protected:
    st.caption(f"Counts from 1 to {k - 1} are shown as <{k}, and figures that would give one back are hidden too.")

# --- Reach and delivery -------------------------------------------------------------------
st.subheader("Reach and delivery of The Conversation")
places = ui.query("overview_places", **params).iloc[0].astype(int)
columns = st.columns(5)
columns[0].metric("Prisons", f"{places['prisons']:,}")
columns[1].metric("Wings", f"{places['wings']:,}")
if ui.require_tables(db, "cohorts", "workshops", "participants"):
    delivery = ui.query("overview_delivery", **params).iloc[0].astype(int)
    planned, delivered = delivery["sessions_planned"], delivery["sessions_delivered"]
    sessions = disclosure.protect({"delivered": delivered, "not delivered": planned - delivered}, ("planned", planned), k, protected)
    other = disclosure.protect({"cohorts": delivery["cohorts"], "rescheduled": delivery["workshops_rescheduled"],
                                "cancelled": delivery["workshops_cancelled"]}, None, k, protected)
    share = None if disclosure.is_hidden(sessions["delivered"]) else metrics.share(delivered, planned)
    columns[2].metric(metrics.COHORTS.label, other["cohorts"], help=metrics.COHORTS.help)
    columns[3].metric(
        metrics.SESSIONS_DELIVERED_SHARE.label,
        f"{sessions['delivered']} of {sessions['planned']}",
        help=metrics.SESSIONS_DELIVERED_SHARE.help,
    )
    columns[3].caption(
        f"{metrics.SESSIONS_DELIVERED_SHARE.format(share)} of planned sessions · "
        f"{other['rescheduled']} rescheduled · {other['cancelled']} cancelled"
    )
    by_role = ui.query("participants_by_role", **params).set_index("role")["participants"]
    people = disclosure.protect({r: int(by_role.get(r, 0)) for r in ("prisoner", "staff")}, ("all", int(by_role.sum())), k, protected)
    columns[4].metric(metrics.PARTICIPANTS.label, people["all"], help=metrics.PARTICIPANTS.help)
    columns[4].caption(" · ".join(f"{people[r]} {metrics.ROLE_LABELS[r].lower()}" for r in ("prisoner", "staff")))

# --- Incidents ----------------------------------------------------------------------------
st.subheader("Incidents")
if ui.require_tables(db, "incidents"):
    window_start = max(current.period_start, (pd.Timestamp(current.period_end) - pd.DateOffset(months=12)).date())
    window = f"{filters.month_label(window_start)} to {filters.month_label(current.last_month)}"
    counts = ui.query(
        "incident_counts_by_type", **{**params, "period_start": window_start}, incident_types=list(INCIDENT_TYPES)
    )
    rows = []
    for row in counts.itertuples():
        estimate = stats.poisson_rate_interval(int(row.incidents), float(row.prisoner_years or 0))
        rows.append(
            {
                "Incident type": metrics.INCIDENT_TYPE_LABELS[row.incident_type],
                "Incidents": int(row.incidents),
                "of which serious": int(row.serious_incidents),
                "Prisoner-years": round(float(row.prisoner_years or 0), 1),
                "Rate per 1,000 per year": estimate.value,
                "95% CI low": estimate.lower,
                "95% CI high": estimate.upper,
            }
        )
    table = pd.DataFrame(rows)
    if protected:  # a rate and its interval give their count back with the prisoner-years beside them
        table["Incidents"], _ = disclosure.protect_column(table["Incidents"], with_total=False, threshold=k)
        table["of which serious"], _ = disclosure.protect_column(table["of which serious"], with_total=False, threshold=k)
        table.loc[table["Incidents"].map(disclosure.is_hidden), ["Rate per 1,000 per year", "95% CI low", "95% CI high"]] = None
    top = table.sort_values("Rate per 1,000 per year", ascending=False).iloc[0]
    st.markdown(
        f"**Last 12 months of the period ({window}):** {top['Incident type'].lower()} was the most frequent, "
        f"{metrics.INCIDENT_RATE.format(top['Rate per 1,000 per year'])} per 1,000 prisoners per year "
        f"({as_count(top['Incidents'])} incidents over "
        f"{metrics.PRISONER_YEARS.format(top['Prisoner-years'])} prisoner-years)."
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            **({} if protected else {
                "Incidents": st.column_config.NumberColumn(format="localized"),
                "of which serious": st.column_config.NumberColumn(format="localized"),
            }),
            "Prisoner-years": st.column_config.NumberColumn(format="localized", help=metrics.PRISONER_YEARS.help),
            "Rate per 1,000 per year": st.column_config.NumberColumn(format="%.0f", help=metrics.INCIDENT_RATE.help),
            "95% CI low": st.column_config.NumberColumn(format="%.0f", help="Exact Poisson 95% interval"),
            "95% CI high": st.column_config.NumberColumn(format="%.0f", help="Exact Poisson 95% interval"),
        },
    )
    ui.download_csv(table, "incidents_last_12_months.csv")

    if protected:
        st.caption(f"Monthly rates are not shown here: a month's count is often under {k}, and months would give back "
                   "the 12-month figures' hidden cells.")
    else:
        monthly = ui.query("incident_counts_monthly", **params, incident_types=list(INCIDENT_TYPES))
        monthly["rate"] = metrics.incident_rate(monthly["incidents"], monthly["prisoner_years"])
        monthly["type"] = monthly["incident_type"].map(metrics.INCIDENT_TYPE_LABELS)
        if monthly.empty:
            st.info("No population months in this period, so no monthly rates can be drawn.")
        else:
            st.plotly_chart(charts.monthly_incident_rates(monthly), width="stretch")
            ui.download_csv(monthly.drop(columns=["type"]), "incidents_monthly.csv", "Download monthly data (CSV)")

# --- Survey change ------------------------------------------------------------------------
st.subheader("Survey change after The Conversation")
if ui.require_tables(db, "cohorts", "participants", "survey_responses"):
    summary = ui.query("survey_change_summary", **params)
    rows = []
    for row in summary.itertuples():
        group = "Everyone" if pd.isna(row.role) else metrics.ROLE_LABELS[row.role]
        pairs = int(row.pairs)
        if disclosure.is_reportable(pairs, k):
            estimate = stats.mean_interval(pairs, float(row.mean_change), float(row.sd_change))
            shown = {"Mean change": estimate.value, "95% CI low": estimate.lower, "95% CI high": estimate.upper}
        else:
            shown = {"Mean change": None, "95% CI low": None, "95% CI high": None}
        rows.append({"Group": group, "Participants": int(row.participants), "Pairs": pairs, **shown,
                     "Note": "" if disclosure.is_reportable(pairs, k) else disclosure.too_few_message(pairs, k)})
    table = pd.DataFrame(rows)
    if protected:  # the Everyone row is the total of the role rows
        for column in ("Participants", "Pairs"):
            shown = disclosure.protect(dict(zip(table["Group"][1:], table[column][1:])), ("Everyone", table[column][0]), k)
            table[column] = table["Group"].map(shown)
    everyone = table.iloc[0]
    if everyone["Mean change"] is not None and not pd.isna(everyone["Mean change"]):
        st.metric(
            metrics.MEAN_SURVEY_CHANGE.label,
            f"{everyone['Mean change']:+.2f} points",
            help=metrics.MEAN_SURVEY_CHANGE.help,
        )
        st.caption(
            f"{as_count(everyone['Pairs'])} participants with both a pre and a post survey, of {as_count(everyone['Participants'])}; "
            f"95% CI {everyone['95% CI low']:+.2f} to {everyone['95% CI high']:+.2f}. A before-and-after change "
            "among participants, with no comparison group: it is not evidence of cause."
        )
    elif summary["pairs"].iloc[0] == 0:
        st.info("No participant in these cohorts has both a pre and a post survey yet, so there is no change to report.")
    else:
        st.info(f"Survey change is not reported: {disclosure.too_few_message(int(summary['pairs'].iloc[0]), k)} paired participants.")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        **({} if protected else {"Participants": st.column_config.NumberColumn(format="localized"),
                                 "Pairs": st.column_config.NumberColumn(format="localized")}),
        **{c: st.column_config.NumberColumn(format="%+.2f") for c in ("Mean change", "95% CI low", "95% CI high")},
    })
