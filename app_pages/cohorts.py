"""Cohorts: how each cohort of The Conversation went — delivery, attendance and survey change."""

import streamlit as st

from dashboard import analysis, charts, disclosure, filters, metrics, ui
from dashboard.contract import SURVEY_ITEMS
from dashboard.text import count_of, most_often

MAX_TIMELINE_COHORTS = 60  # a bar per cohort: more would not be readable
MAX_SESSION_ROWS = 600  # a table of sessions longer than this is for the download

st.title("Cohorts of The Conversation")
db = ui.database()
current = filters.current_filters()
if current is None or not ui.require_tables(db, "cohorts", "workshops", "participants"):
    st.stop()

cohort_list = ui.query("cohort_list", **current.params())
if cohort_list.empty:
    st.info("No cohort of The Conversation started in these places and this period. Widen the filters in the sidebar.")
    st.stop()

controls = st.columns(3)
sdms = sorted(cohort_list["sdm"].unique())
sdm_options = ["all", *sdms] if len(sdms) > 1 else sdms  # one SDM (an SDM's own view): her name, not "all SDMs"
sdm = filters.page_choice("Service Delivery Manager", sdm_options, "sdm", sdm_options[0],
                          format_func=lambda s: "all SDMs" if s == "all" else s, container=controls[0])
in_sdm = cohort_list if sdm == "all" else cohort_list[cohort_list["sdm"] == sdm]
cohort_id = filters.page_choice("Cohort", ["all", *in_sdm["cohort_id"]], "cohort", "all",
                                format_func=lambda c: "all cohorts" if c == "all" else c, container=controls[1],
                                help="Or click a row of the cohort table.")
role = filters.page_choice("Participants", ["all", "prisoner", "staff"], "role", "all",
                           format_func=lambda r: "prisoners and staff" if r == "all" else metrics.ROLE_LABELS[r].lower(), container=controls[2])
scope = {
    **current.params(),
    "sdm": None if sdm == "all" else sdm,
    "cohort_id": None if cohort_id == "all" else cohort_id,
    "role": None if role == "all" else role,
}
threshold = disclosure.configured_threshold()

cohorts = ui.query("cohort_summary", **scope)

# --- Headline ------------------------------------------------------------------------------
headline = analysis.cohort_headline(cohorts, ui.latest_date(db, ("workshops",)))
cells = st.columns(4)
ui.metric("cohorts", headline["cohorts"], cells[0])
ui.metric("sessions_delivered", headline["sessions_delivered"], cells[1])
cells[1].caption(headline["sessions_delivered_caption"])
ui.metric("cohorts_complete", headline["cohorts_complete"], cells[2])
cells[2].caption(headline["cohorts_complete_caption"])
ui.metric("median_days_first_to_last", headline["median_days_first_to_last"], cells[3])
cells[3].caption(headline["median_days_caption"])

# --- Cohort table --------------------------------------------------------------------------
st.subheader("Cohort by cohort")
table = analysis.cohort_table(cohorts, threshold)
st.session_state["_cohort_table_ids"] = list(table["cohort"])


def pick_cohort():
    rows, ids = st.session_state["cohort_table"].selection.rows, st.session_state["_cohort_table_ids"]
    if rows and rows[0] < len(ids):  # the table may have been redrawn from a refreshed extract since
        st.session_state["cohort"] = ids[rows[0]]


ui.table(table, "cohorts", key="cohort_table", on_select=pick_cohort, selection_mode="single-row")
ui.download_csv(table, "cohorts.csv")


def show_delivery():
    if cohorts["first_scheduled"].isna().all():
        st.info("No workshop has been scheduled for these cohorts yet.")
    else:
        scheduled = cohorts.dropna(subset=["first_scheduled"])
        recent = scheduled.nlargest(MAX_TIMELINE_COHORTS, "first_scheduled")
        if len(recent) < len(scheduled):
            st.caption(f"The timeline shows the {len(recent)} most recent of {len(scheduled):,} cohorts; narrow the filters "
                       "or pick a cohort to see others. The cohort table and its download have them all.")
        ui.chart(charts.cohort_timeline(recent), analysis.timeline_table(recent), "timeline")
        if cohorts["days_first_to_last"].notna().any():
            ui.chart(charts.days_first_to_last(cohorts, analysis.PLANNED_DAYS_FIRST_TO_LAST),
                     analysis.timeline_table(cohorts[cohorts["sessions_delivered"] >= 3]), "days_first_to_last")
    cancelled = ui.query("cancelled_workshops", **scope)
    if cancelled.empty:
        st.info("No workshop of these cohorts was cancelled.")
    else:
        reasons = cancelled["cancellation_reason"].value_counts()
        st.markdown(f"**{count_of(len(cancelled), 'workshop')} cancelled; {most_often(reasons)}.**")
        ui.chart(charts.cancellation_reasons(cancelled, list(ui.query("cancellation_reasons")["cancellation_reason"])), cancelled,
                 "cancelled_workshops")
        ui.download_csv(cancelled, "cancelled_workshops.csv", "Download cancelled workshops (CSV)")

def show_attendance():
    sessions = ui.query("session_attendance", **scope)
    if sessions.empty:
        st.info("No workshop of these cohorts has been delivered yet, so there is no attendance to show.")
    else:
        kept = analysis.retention(sessions)
        st.markdown(analysis.retention_sentence(kept))
        ui.chart(charts.retention_chart(kept), analysis.retention_table(kept), "retention")
        mix = analysis.staff_mix(sessions)
        st.markdown(analysis.staff_mix_sentence(mix))
        if len(mix) > MAX_SESSION_ROWS:
            st.caption(f"{len(mix):,} sessions: too many to list here; narrow the filters, or download them all below.")
        else:
            ui.table(analysis.staff_mix_table(mix), "staff_in_the_room")
        ui.download_csv(sessions, "session_attendance.csv", "Download attendance by session (CSV)")

def show_survey_outcomes():
    if not ui.require_tables(db, "survey_responses"):
        return
    for wave, title in (("post", "Pre to post"), ("follow_up", "Pre to follow-up")):
        change = analysis.survey_change(ui.query("survey_item_change", **scope, later_wave=wave, items=list(SURVEY_ITEMS)), threshold)
        st.markdown(f"#### {title}")
        if change.empty or change["pairs"].sum() == 0:
            st.info(f"No participant of these cohorts has both a pre and a {wave.replace('_', '-')} survey yet.")
            continue
        if sentence := analysis.largest_change_sentence(change):
            st.markdown(sentence)
        ui.table(analysis.survey_change_table(change), f"survey_change_{wave}")
        ui.download_csv(analysis.survey_change_table(change), f"survey_change_{wave}.csv", f"Download {title.lower()} (CSV)")
    distribution = analysis.likert_shares(ui.query("likert_distribution", **scope))
    if not distribution.empty:
        ui.chart(charts.likert_diverging(distribution, metrics.CODE_LABELS["item"]), analysis.likert_table(distribution), "answers")
        st.caption("All pre and post answers of these cohorts, paired or not.")


# A tab each (labels and order: dashboard/pages.py), only the open one computed; the link keeps it
filters.page_tabs(show_delivery, show_attendance, show_survey_outcomes)
