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
sdm = filters.page_choice("Service Delivery Manager", ["all", *sorted(cohort_list["sdm"].unique())], "sdm", "all",
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
planned, delivered = int(cohorts["sessions_planned"].sum()), int(cohorts["sessions_delivered"].sum())
complete = int((cohorts["sessions_delivered"] >= 3).sum())
days = cohorts["days_first_to_last"].dropna()
cells = st.columns(4)
cells[0].metric("Cohorts", f"{len(cohorts):,}")
cells[1].metric(metrics.SESSIONS_DELIVERED_SHARE.label, f"{delivered:,} of {planned:,}", help=metrics.SESSIONS_DELIVERED_SHARE.help)
cells[1].caption(f"{metrics.SESSIONS_DELIVERED_SHARE.format(metrics.share(delivered, planned))} of planned sessions")
cells[2].metric("Completed all three sessions", f"{complete:,} of {len(cohorts):,}")
cells[2].caption(f"{metrics.share(complete, len(cohorts)):.0%} of cohorts" if len(cohorts) else "")
cells[3].metric("Median days, first to last workshop", f"{days.median():.0f}" if len(days) else "–",
                help=f"The plan is {analysis.PLANNED_DAYS_FIRST_TO_LAST} days (three workshops across 9 weeks).")
cells[3].caption(f"plan {analysis.PLANNED_DAYS_FIRST_TO_LAST} days · {int((days > analysis.PLANNED_DAYS_FIRST_TO_LAST + 7).sum())} cohorts ran over by more than a week")

# --- Cohort table --------------------------------------------------------------------------
st.subheader("Cohort by cohort")
table = cohorts.assign(mean_change=cohorts["mean_change"].where(cohorts["pairs"].map(lambda n: disclosure.is_reportable(n, threshold))))
shown = table.rename(columns={
    "cohort_id": "Cohort", "prison_id": "Prison", "wing_id": "Wing", "sdm": "SDM", "start_date": "Start",
    "sessions_delivered": "Sessions delivered", "workshops_rescheduled": "Rescheduled", "workshops_cancelled": "Cancelled",
    "days_first_to_last": "Days first to last", "prisoners": "Prisoners", "staff": "Staff",
    "attendance_rate": "Attendance", "response_rate": "Survey pairs / participants", "pairs": "Pairs",
    "mean_change": "Mean change (post − pre)",
})[["Cohort", "Prison", "Wing", "SDM", "Start", "Sessions delivered", "Rescheduled", "Cancelled", "Days first to last",
    "Prisoners", "Staff", "Attendance", "Pairs", "Survey pairs / participants", "Mean change (post − pre)"]]
shown = analysis.rounded_to_shown(shown, {"Attendance": 4, "Survey pairs / participants": 4}, default=2)
st.session_state["_cohort_table_ids"] = list(shown["Cohort"])


def pick_cohort():
    rows, ids = st.session_state["cohort_table"].selection.rows, st.session_state["_cohort_table_ids"]
    if rows and rows[0] < len(ids):  # the table may have been redrawn from a refreshed extract since
        st.session_state["cohort"] = ids[rows[0]]


ui.table(
    shown, hide_index=True, width="stretch", key="cohort_table", on_select=pick_cohort, selection_mode="single-row",
    column_config={
        "Start": st.column_config.DateColumn(format="D MMM YYYY"),
        "Attendance": st.column_config.NumberColumn(format="percent", help="Attendances ÷ (participants × delivered sessions)"),
        "Survey pairs / participants": st.column_config.NumberColumn(format="percent", help="Participants with both a pre and a post survey"),
        "Mean change (post − pre)": st.column_config.NumberColumn(format="%+.2f", help=f"Blank when fewer than {threshold} pairs: too few to report."),
    },
)
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
        st.plotly_chart(charts.cohort_timeline(recent), width="stretch")
        if len(days):
            st.plotly_chart(charts.days_first_to_last(cohorts, analysis.PLANNED_DAYS_FIRST_TO_LAST), width="stretch")
    cancelled = ui.query("cancelled_workshops", **scope)
    if cancelled.empty:
        st.info("No workshop of these cohorts was cancelled.")
    else:
        reasons = cancelled["cancellation_reason"].value_counts()
        st.markdown(f"**{count_of(len(cancelled), 'workshop')} cancelled; {most_often(reasons)}.**")
        st.plotly_chart(charts.cancellation_reasons(cancelled), width="stretch")
        ui.download_csv(cancelled, "cancelled_workshops.csv", "Download cancelled workshops (CSV)")

def show_attendance():
    sessions = ui.query("session_attendance", **scope)
    if sessions.empty:
        st.info("No workshop of these cohorts has been delivered yet, so there is no attendance to show.")
    else:
        kept = analysis.retention(sessions)
        st.markdown(
            "**Retention by session:** " + "; ".join(
                f"{metrics.ROLE_LABELS[r].lower()} {' → '.join(f'{v:.0%}' for v in g.sort_values('session_number')['share'])}"
                for r, g in kept.groupby("role"))
            + " (share of participants attending sessions 1, 2 and 3, over cohorts that delivered that session)."
        )
        st.plotly_chart(charts.retention_chart(kept), width="stretch")
        mix = analysis.staff_mix(sessions)
        st.markdown(
            f"**Staff in the room:** median {mix['staff_per_10_prisoners'].median():.1f} staff per 10 prisoners at a session; "
            f"{int((mix['staff'] == 0).sum())} sessions had no staff and {int((mix['prisoner'] == 0).sum())} no prisoners. "
            "The programme depends on both being there."
        )
        if len(mix) > MAX_SESSION_ROWS:
            st.caption(f"{len(mix):,} sessions: too many to list here; narrow the filters, or download them all below.")
        else:
            ui.table(mix.rename(columns={"cohort_id": "Cohort", "session_number": "Session", "prisoner": "Prisoners attending",
                                             "staff": "Staff attending", "staff_per_10_prisoners": "Staff per 10 prisoners"}),
                         hide_index=True, width="stretch",
                         column_config={"Staff per 10 prisoners": st.column_config.NumberColumn(format="%.1f")})
        ui.download_csv(sessions, "session_attendance.csv", "Download attendance by session (CSV)")

def show_survey_outcomes():
    if not ui.require_tables(db, "survey_responses"):
        return
    labels = {i: i.replace("_", " ").capitalize() for i in SURVEY_ITEMS}
    for wave, title in (("post", "Pre to post"), ("follow_up", "Pre to follow-up")):
        change = analysis.survey_change(ui.query("survey_item_change", **scope, later_wave=wave, items=list(SURVEY_ITEMS)), threshold)
        st.markdown(f"#### {title}")
        if change.empty or change["pairs"].sum() == 0:
            st.info(f"No participant of these cohorts has both a pre and a {wave.replace('_', '-')} survey yet.")
            continue
        reportable = change.dropna(subset=["mean_change"])
        if len(reportable):
            best = reportable.sort_values("mean_change", ascending=False).iloc[0]
            st.markdown(
                f"**Largest paired change: {labels[best['item']].lower()} among {metrics.ROLE_LABELS[best['role']].lower()}, "
                f"{best['mean_change']:+.2f} points (95% CI {best['ci_low']:+.2f} to {best['ci_high']:+.2f}, "
                f"{best['pairs']} pairs).** Changes among participants, with no comparison group: not evidence of cause."
            )
        ui.table(
            change.assign(item=change["item"].map(labels), role=change["role"].map(metrics.ROLE_LABELS)).rename(columns={
                "item": "Item", "role": "Role", "participants": "Participants", "pairs": "Pairs", "response_rate": "Response rate",
                "mean_change": "Mean change", "ci_low": "95% CI low", "ci_high": "95% CI high", "cohens_dz": "Cohen's d (paired)", "note": "Note",
            }),
            hide_index=True, width="stretch",
            column_config={
                "Response rate": st.column_config.NumberColumn(format="percent", help="Pairs ÷ participants"),
                **{c: st.column_config.NumberColumn(format="%+.2f") for c in ("Mean change", "95% CI low", "95% CI high")},
                "Cohen's d (paired)": st.column_config.NumberColumn(format="%.2f", help="Mean change ÷ SD of the changes (d_z)"),
            },
        )
        ui.download_csv(change, f"survey_change_{wave}.csv", f"Download {title.lower()} (CSV)")
    distribution = analysis.likert_shares(ui.query("likert_distribution", **scope))
    if not distribution.empty:
        st.plotly_chart(charts.likert_diverging(distribution, labels), width="stretch")
        st.caption("All pre and post answers of these cohorts, paired or not.")


# Only the open tab is computed (each is a few queries at national scale); the choice is kept in
# the URL as ?tab=…
TABS = ["Delivery", "Attendance", "Survey outcomes"]
if "tab" not in st.session_state and st.query_params.get("tab", TABS[0]) not in TABS:
    filters.refuse_link_values([f"tab={st.query_params['tab']}"])
tabs = st.tabs(TABS, key="tab", bind="query-params")
for tab, show in zip(tabs, (show_delivery, show_attendance, show_survey_outcomes)):
    if tab.open:
        with tab:
            show()
