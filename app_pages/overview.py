"""Overview: reach, delivery, incident rates and survey change for the current filters."""

import pandas as pd
import streamlit as st

from dashboard import analysis, charts, disclosure, filters, metrics, summary, ui
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


if protected:
    st.caption(disclosure.rule_statement(k))

# --- Better or worse? ----------------------------------------------------------------------
if ui.require_tables(db, "incidents"):
    st.subheader("Better or worse?")
    if (note := summary.published_only_note(ui.query("prisons"), current.prison_ids)):
        st.caption(note)
    changes = summary.better_or_worse(ui.query, params, protected, k)
    if changes.table.empty:
        st.info(changes.why_not)
    else:
        st.markdown(changes.sentence())
        ui.table(changes.table, hide_index=True, width="stretch", column_config={
            "Rate, last 12 months": st.column_config.NumberColumn(format="%.0f", help=metrics.INCIDENT_RATE.help),
            "Rate, 12 months before": st.column_config.NumberColumn(format="%.0f", help=metrics.INCIDENT_RATE.help),
            "Rate ratio": st.column_config.NumberColumn(format="%.2f", help="Last 12 months ÷ the 12 before; below 1 is lower."),
            "95% CI low": st.column_config.NumberColumn(format="%.2f", help="Exact interval, as R's poisson.test"),
            "95% CI high": st.column_config.NumberColumn(format="%.2f", help="Exact interval, as R's poisson.test"),
            **({"SPC signal, latest month": st.column_config.TextColumn(
                help="The latest month on an XmR chart of the period's monthly rates: improvement, concern or common cause.")}
               if not protected else {}),
        })
        ui.download_csv(changes.table, "better_or_worse.csv")

# --- Did The Conversation help? (a governor: her own prisons' wings; others use Wing trends) ----
helped_at = [p for p in current.prison_ids if ui.viewer().role == "governor" and ui.viewer().sees_wings_of(p)
             and p in set(ui.query("prisons").query("runs_the_conversation")["prison_id"])]
if helped_at and ui.require_tables(db, "cohorts", "workshops", "wing_population", "incidents"):
    st.subheader("Did The Conversation help on its wings?")
    help_measure = metrics.MEASURES["all_assaults"]
    view = summary.programme_help(ui.query, params, helped_at, help_measure, 6, current.period_start, current.period_end,
                                  current.wing_ids, month_by_month=False)
    st.markdown(analysis.programme_answer(view, help_measure.label, 6, window_can_change=False))
    if not view.compared.empty:
        st.plotly_chart(charts.forest_plot(view.compared, view.pooled, f"Each cohort's ratio of changes: {help_measure.label.lower()}"),
                        width="stretch")
    st.page_link("app_pages/wing_trends.py", label="Other measures, windows and month by month: Wing trends", icon="📈")

# --- Reach and delivery -------------------------------------------------------------------
st.subheader("Reach and delivery of The Conversation")
places = ui.query("overview_places", **params).iloc[0].astype(int)
columns = st.columns(5)
columns[0].metric("Prisons", f"{places['prisons']:,}")
columns[1].metric("Wings", f"{places['wings']:,}")
if ui.require_tables(db, "cohorts", "workshops", "participants"):
    shown = summary.delivery(ui.query, params, protected, k)
    columns[2].metric(metrics.COHORTS.label, shown["cohorts"], help=metrics.COHORTS.help)
    columns[3].metric(
        metrics.SESSIONS_DELIVERED_SHARE.label,
        f"{shown['delivered']} of {shown['planned']}",
        help=metrics.SESSIONS_DELIVERED_SHARE.help,
    )
    columns[3].caption(
        f"{metrics.SESSIONS_DELIVERED_SHARE.format(shown['delivered_share'])} of planned sessions · "
        f"{shown['rescheduled']} rescheduled · {shown['cancelled']} cancelled"
    )
    columns[4].metric(metrics.PARTICIPANTS.label, shown["participants"], help=metrics.PARTICIPANTS.help)
    columns[4].caption(" · ".join(f"{shown[r]} {metrics.ROLE_LABELS[r].lower()}" for r in ("prisoner", "staff")))

# --- Incidents ----------------------------------------------------------------------------
st.subheader("Incidents")
if ui.require_tables(db, "incidents"):
    window_start = max(current.period_start, (pd.Timestamp(current.period_end) - pd.DateOffset(months=12)).date())
    window = f"{filters.month_label(window_start)} to {filters.month_label(current.last_month)}"
    table = summary.incident_table(ui.query, params, window_start, protected, k)
    top = table.sort_values("Rate per 1,000 per year", ascending=False).iloc[0]
    st.markdown(
        f"**Last 12 months of the period ({window}):** {top['Incident type'].lower()} was the most frequent, "
        f"{metrics.INCIDENT_RATE.format(top['Rate per 1,000 per year'])} per 1,000 prisoners per year "
        f"({disclosure.shown_count(top['Incidents'], k, protected)} incidents over "
        f"{metrics.PRISONER_YEARS.format(top['Prisoner-years'])} prisoner-years)."
    )
    ui.table(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Prisoner-years": st.column_config.NumberColumn(format="localized", help=metrics.PRISONER_YEARS.help),
            "Rate per 1,000 per year": st.column_config.NumberColumn(format="%.0f", help=metrics.INCIDENT_RATE.help),
            "95% CI low": st.column_config.NumberColumn(format="%.0f", help="Exact Poisson 95% interval"),
            "95% CI high": st.column_config.NumberColumn(format="%.0f", help="Exact Poisson 95% interval"),
        },
    )
    ui.download_csv(table, "incidents_last_12_months.csv")

    if protected:
        st.caption(f"Monthly rates are not shown here: a month's count is often under {k}.")
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
    table = summary.survey_table(ui.query, params, protected, k)
    everyone = table.iloc[0]
    if everyone["Mean change"] is not None and not pd.isna(everyone["Mean change"]):
        st.metric(
            metrics.MEAN_SURVEY_CHANGE.label,
            f"{everyone['Mean change']:+.2f} points",
            help=metrics.MEAN_SURVEY_CHANGE.help,
        )
        st.caption(
            f"{disclosure.shown_count(everyone['Pairs'], k, protected)} participants with both a pre and a post survey, "
            f"of {disclosure.shown_count(everyone['Participants'], k, protected)}; "
            f"95% CI {everyone['95% CI low']:+.2f} to {everyone['95% CI high']:+.2f}. A before-and-after change "
            "among participants, with no comparison group: it is not evidence of cause."
        )
    elif everyone["pairs_exact"] == 0:
        st.info("No participant in these cohorts has both a pre and a post survey yet, so there is no change to report.")
    else:
        st.info(f"Survey change is not reported: {everyone['Note']} paired participants.")
    ui.table(table.drop(columns=["pairs_exact"]), hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%+.2f") for c in ("Mean change", "95% CI low", "95% CI high")
    })
