"""Wing trends: is violence and self-harm on each wing getting better or worse, and did it move
where The Conversation ran compared with the wings where it did not?"""

import pandas as pd
import streamlit as st

from dashboard import analysis, charts, filters, summary, ui
from dashboard.contract import INCIDENT_TYPES
from dashboard.metrics import INCIDENT_RATE, MEASURES, fmt
from dashboard.text import label, md

st.title("Wing trends")
db = ui.database()
current = filters.current_filters()
if current is None or not ui.require_tables(db, "incidents", "wing_population"):
    st.stop()

prisons = ui.query("prisons")
prison_id = filters.one_prison(current, prisons, allowed=ui.viewer().sees_wings_of)
prison_name = prisons.set_index("prison_id").at[prison_id, "name"]
controls = st.columns(3)
measure = MEASURES[
    filters.page_choice("Measure", list(MEASURES), "measure", "all_assaults", format_func=lambda k: MEASURES[k].label, container=controls[0])
]
counts = ui.query("wing_monthly_counts", prison_id=prison_id, **current.params(), incident_types=list(INCIDENT_TYPES))
rates = analysis.wing_measure(counts, measure)
if rates.empty:
    if prisons.set_index("prison_id").at[prison_id, "wings"] == 0:
        st.info(f"{md(prison_name)} is known only from published prison-level figures: wing views need recorded "
                "incidents and wing populations. Prison comparison includes it.")
    else:
        st.info(f"No population months for {md(prison_name)} in this period, so no rates can be drawn.")
    st.stop()
if current.wing_ids:
    rates_shown = rates[rates["wing_id"].isin(current.wing_ids)]
else:
    rates_shown = rates
delivered = ui.query("delivered_workshops", prison_id=prison_id)
cohorts = analysis.cohort_windows(delivered)  # every cohort: they screen the comparison wings
shown_cohorts = analysis.cohorts_in_view(cohorts, current.period_start, current.period_end, current.wing_ids)
unit = f"{measure.label.lower()} per 1,000 prisoners per year"
st.caption(
    f"{md(prison_name)} · {filters.month_label(current.period_start)} to {filters.month_label(current.last_month)}. "
    f"Rates are {INCIDENT_RATE.formula}, from incidents recorded on a wing (incidents off the wings have no wing denominator)."
)


def show_programme_answer():
    st.subheader("Did The Conversation help on these wings?")
    programme_prisons = [p for p in prisons[prisons["runs_the_conversation"]]["prison_id"] if ui.viewer().sees_wings_of(p)]
    answer_controls = st.columns(2)
    window = filters.page_choice("Months before and after", [3, 6, 9, 12], "window", 6, format_func=lambda n: f"{n} months",
                                 container=answer_controls[0])
    scope = "prison"
    if len(programme_prisons) > 1:
        scope = filters.page_choice(
            "Compare", ["prison", "programme"], "scope", "prison", container=answer_controls[1],
            format_func=lambda s: prison_name if s == "prison" else f"Every programme prison you can see ({len(programme_prisons)})",
        )

    compared_prisons = [prison_id, *(p for p in programme_prisons if p != prison_id)] if scope == "programme" else [prison_id]
    view = summary.programme_help(ui.query, current.params(), compared_prisons, measure, window, current.period_start,
                                  current.period_end, current.wing_ids, known={prison_id: (rates, cohorts)})
    if view.table.empty:
        st.info(
            f"The Conversation has not run at {md(prison_name)}, so there is nothing to compare." if cohorts.empty and scope == "prison"
             else "No cohort started in this period" + (" on the chosen wings" if current.wing_ids else "")
             + ": widen the period or the wings to see whether it helped."
        )
        return
    st.markdown(analysis.programme_answer(view, measure.label, window))
    if (detectable := analysis.detectable_sentence(analysis.programme_detectable(view, window), window)):
        st.caption(detectable)
    if not view.compared.empty:
        ui.chart(charts.forest_plot(view.compared, view.pooled, f"Each cohort's ratio of changes: {measure.label.lower()}"),
                 analysis.before_after_table(view.compared), "cohorts_compared")
    if view.has_event_study:
        ui.chart(charts.event_study_chart(
            view.event, f"Month by month around the first workshop: {measure.label.lower()} against comparison wings"),
            analysis.event_study_download(view.event), "event_study")
    else:
        st.info("The month-by-month view needs months before the first workshops in the period to compare with: widen the period.")
    with st.expander("How to read these charts"):
        st.markdown(analysis.programme_how_to_read(measure.label, window))

    st.subheader("Each cohort in detail")
    ui.table(analysis.before_after_table(view.table), "cohorts_before_after")
    ui.download_csv(analysis.before_after_download(view.table), f"before_after_{prison_id}_{measure.key}.csv",
                    "Download with counts and prisoner-years (CSV)")
    ui.download_csv(analysis.event_study_download(view.event), f"event_study_{prison_id}_{measure.key}.csv",
                    "Download the month-by-month comparison (CSV)")


def show_wings():
    st.subheader("Wings at a glance")
    wing_summary = analysis.wing_summary(rates_shown)
    top = wing_summary.sort_values("rate_latest_12_months", ascending=False).iloc[0]
    concerns = wing_summary[wing_summary["spc_signal"] == "concern"]["wing_name"].tolist()
    st.markdown(
        f"**{md(top['wing_name'])} had the highest rate over the last 12 months: {fmt('rate', top['rate_latest_12_months'])} {unit} "
        f"({fmt('incidents', top['incidents_latest_12_months'])} incidents over {fmt('prisoner_years', top['prisoner_years_latest_12_months'])} "
        "prisoner-years).** "
        + (f"Special-cause concern in the last 12 months on {', '.join(md(c) for c in concerns)}." if concerns else "No wing shows special-cause concern in the last 12 months.")
    )
    table = analysis.wing_table(wing_summary, cohorts)
    ui.table(table, "wings")
    if (note := analysis.wing_methods_note(wing_summary)):
        st.caption(note)
    ui.download_csv(table, f"wings_{prison_id}_{measure.key}.csv")

    ui.chart(charts.wing_rate_heatmap(rates_shown, unit), analysis.wing_monthly_download(rates_shown), "wing_monthly")
    ui.download_csv(analysis.wing_monthly_download(rates_shown), f"wing_monthly_{prison_id}_{measure.key}.csv", "Download monthly rates with counts and populations (CSV)")


def show_spc():
    st.subheader("Is it more than noise? Statistical process control")
    wing_names = dict(zip(rates_shown["wing_id"], rates_shown["wing_name"]))
    wing_options = sorted(wing_names)
    busiest = cohorts["wing_id"].value_counts()
    default_wing = next((w for w in busiest.index if w in wing_names), wing_options[0])
    spc_controls = st.columns(2)
    wing_id = filters.page_choice(
        "Wing", wing_options, "spc_wing", default_wing, format_func=lambda w: f"{wing_names[w]} ({w})", container=spc_controls[0]
    )
    months = sorted(pd.to_datetime(rates_shown["month"]).dt.date.unique())
    wing_cohorts = shown_cohorts[shown_cohorts["wing_id"] == wing_id]
    starts = {pd.Timestamp(d).to_period("M").to_timestamp().date() for d in wing_cohorts["first_workshop"]}
    rebase = filters.page_choice(
        "Rebase the limits at", ["none", *months], "rebase", "none",
        format_func=lambda m: "no rebase (one set of limits)" if m == "none" else filters.month_label(m) + (" · a first workshop" if m in starts else ""),
        help="Recalculate the mean and limits from this month on, for example from a cohort's first workshop.",
        container=spc_controls[1],
    )
    series = analysis.spc_for(rates_shown[rates_shown["wing_id"] == wing_id], None if rebase == "none" else rebase)
    signals = series["signal"].value_counts()
    latest = series.iloc[-1]
    st.markdown(
        f"**{md(wing_names[wing_id])}: the latest month ({filters.month_label(pd.Timestamp(latest['month']).date())}) shows "
        f"{latest['signal']}{' variation' if latest['signal'] == 'common cause' else ''}.** Over the period, "
        f"{signals.get('improvement', 0)} months signal improvement and {signals.get('concern', 0)} signal concern "
        "(lower is better)."
    )
    workshops = analysis.workshops_in_period(delivered[delivered["wing_id"] == wing_id], current.period_start, current.period_end)
    ui.chart(charts.spc_chart(series, wing_cohorts, workshops, f"{label(wing_names[wing_id])}: {unit}", unit), analysis.spc_download(series),
             f"spc_{wing_id}")
    st.caption(
        "XmR chart (NHS Making Data Count): limits at the mean ± 2.66 × the mean moving range. Special cause: "
        f"{analysis.SPC_RULES}. Shaded spans run from a cohort's first to last workshop; ticks mark workshops."
    )
    with st.expander("How to read this chart"):
        st.markdown(analysis.SPC_HOW_TO_READ)
    ui.download_csv(analysis.spc_download(series), f"spc_{wing_id}_{measure.key}.csv", "Download the chart's data (CSV)")


# Each question in a tab of its own (labels and order: dashboard/pages.py), the link keeping the open one
filters.page_tabs(show_wings, show_programme_answer, show_spc)
