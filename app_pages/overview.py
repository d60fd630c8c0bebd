"""Overview: reach, delivery, incident rates and survey change for the current filters."""

import pandas as pd
import streamlit as st

from dashboard import analysis, charts, disclosure, filters, metrics, summary, ui

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
    if (note := summary.published_only_note(ui.query("prisons"), current.prison_ids, chosen=bool(current.chosen_prisons))):
        st.caption(note)
    changes = summary.better_or_worse(ui.query, params, protected, k)
    if changes.table.empty:
        st.info(changes.why_not)
    else:
        st.markdown(changes.sentence())
        ui.table(changes.table, "better_or_worse")
        if (note := changes.methods_note()):
            st.caption(note)
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
    if (detectable := analysis.detectable_sentence(analysis.programme_detectable(view, 6), 6)):
        st.caption(detectable)
    if not view.compared.empty:
        ui.chart(charts.forest_plot(view.compared, view.pooled, f"Each cohort's ratio of changes: {help_measure.label.lower()}"),
                 analysis.before_after_table(view.compared), "cohorts_compared")
    st.page_link("app_pages/wing_trends.py", label="Other measures, windows and month by month: Wing trends", icon=":material/show_chart:")

# --- Reach and delivery -------------------------------------------------------------------
st.subheader("Reach and delivery of The Conversation")
places = ui.query("overview_places", **params).iloc[0].astype(int)
columns = st.columns(5)
ui.metric("prisons", metrics.fmt("prisons", places["prisons"]), columns[0])
ui.metric("wings", metrics.fmt("wings", places["wings"]), columns[1])
if ui.require_tables(db, "cohorts", "workshops", "participants"):
    shown = summary.delivery(ui.query, params, protected, k)
    ui.metric("cohorts", shown["cohorts"], columns[2])
    ui.metric("sessions_delivered", f"{shown['delivered']} of {shown['planned']}", columns[3])
    columns[3].caption(summary.delivery_caption(shown))
    ui.metric("participants", shown["participants"], columns[4])
    columns[4].caption(summary.roles_caption(shown))

# --- Incidents ----------------------------------------------------------------------------
st.subheader("Incidents")
if ui.require_tables(db, "incidents"):
    window_start = max(current.period_start, (pd.Timestamp(current.period_end) - pd.DateOffset(months=12)).date())
    window = f"{filters.month_label(window_start)} to {filters.month_label(current.last_month)}"
    table = summary.incident_table(ui.query, params, window_start, protected, k)
    st.markdown(summary.most_frequent_sentence(table, window, k, protected))
    ui.table(table, "incidents_last_12_months")
    ui.download_csv(table, "incidents_last_12_months.csv")

    if protected:
        st.caption(f"Monthly rates are not shown to funders: for one prison, or one type of incident, a month's count is often "
                   f"under {k}, and months beside the yearly totals could give such a count back.")
    else:
        monthly = summary.monthly_rates(ui.query, params)
        if monthly.empty:
            st.info("No population months in this period, so no monthly rates can be drawn.")
        else:
            ui.chart(charts.monthly_incident_rates(monthly), monthly, "incidents_monthly")
            ui.download_csv(monthly, "incidents_monthly.csv", "Download monthly data (CSV)")

# --- Reoffending ---------------------------------------------------------------------------
st.subheader("Reoffending after The Conversation")
if db.report.unavailable("reoffending"):
    st.info("No reoffending analysis is loaded (the optional `reoffending` extract: the Justice Data Lab's published results).")
else:
    results = ui.query("reoffending", programme="the_conversation")
    if results.empty:
        st.info("No reoffending analysis of The Conversation has been published yet.")
    else:
        st.markdown(analysis.reoffending_sentence(results))
        for heading, shown in analysis.reoffending_by_analysis(results):
            if heading:
                st.caption(heading)
            ui.table(shown, "reoffending_summary")
        ui.download_csv(analysis.reoffending_table(results), "reoffending.csv", "Download the published results, with group sizes and p-values (CSV)")
        st.caption(analysis.reoffending_detectable(results))

# --- Survey change ------------------------------------------------------------------------
st.subheader("Survey change after The Conversation")
if ui.require_tables(db, "cohorts", "participants", "survey_responses"):
    table = summary.survey_table(ui.query, params, protected, k)
    everyone = table.iloc[0]
    if everyone["mean_change"] is not None and not pd.isna(everyone["mean_change"]):
        ui.metric("mean_survey_change", f"{metrics.fmt('mean_survey_change', everyone['mean_change'])} points")
        st.caption(summary.survey_caption(everyone, k, protected))
    elif everyone["pairs_exact"] == 0:
        st.info("No participant in these cohorts has both a pre and a post survey yet, so there is no change to report.")
    else:
        st.info(f"Survey change is not reported: {everyone['note']} paired participants.")
    ui.table(table.drop(columns=["pairs_exact"]), "survey_change")
