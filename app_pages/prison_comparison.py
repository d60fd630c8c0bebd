"""Prison comparison: how does each prison's rate compare with prisons of its kind?"""

import streamlit as st

from dashboard import analysis, charts, filters, ui
from dashboard.metrics import MEASURES
from dashboard.text import count_of

MAX_PANELS = 12

st.title("Prison comparison")
db = ui.database()
current = filters.current_filters()
# recorded incidents over wing populations, or published counts over published populations
if current is None or not ui.require_one_of(db, ("incidents", "wing_population"), ("prison_incident_counts", "prison_population")):
    st.stop()

controls = st.columns(3)
measure = MEASURES[
    filters.page_choice("Measure", list(MEASURES), "measure", "all_assaults", format_func=lambda k: MEASURES[k].label, container=controls[0])
]
unit = f"{measure.label.lower()} per 1,000 prisoners per year"
period = f"{filters.month_label(current.period_start)} to {filters.month_label(current.last_month)}"


def show_funnel():
    own_controls = st.columns(2)
    counts = ui.query("prison_counts", **analysis.window_params([(current.period_start, current.period_end)]), **measure.params())
    types = sorted(counts["prison_type"].unique())
    group = filters.page_choice(
        "Compare with", ["all", *types], "compare_with", "all",
        format_func=lambda g: "all prisons" if g == "all" else f"{g} prisons", container=own_controls[0],
        help="The reference rate is the pooled rate of this group; only its prisons are plotted.",
    )
    show_unadjusted = own_controls[1].toggle(
        "Also show the limits without adjustment", key="unadjusted",
        help="The exact Poisson limits, before allowing for prisons differing for reasons of their own.",
    )
    in_group = counts if group == "all" else counts[counts["prison_type"] == group]
    if in_group.empty or in_group["prisoner_years"].sum() == 0:
        st.info("No prison in this group has figures covering this period, so there is nothing to compare. "
                + analysis.sources_note(in_group))
        return
    result = analysis.funnel(in_group)
    yours = ui.viewer().prisons or current.chosen_prisons
    st.markdown(analysis.funnel_answer(result, "all prisons" if group == "all" else f"{group} prisons", period, unit, yours))
    ranked = analysis.funnel_ranked(result)
    ui.chart(charts.funnel_plot(result, f"{measure.label}: rate against exposure, {period}", unit, yours, show_unadjusted),
             ranked, "ranked_prisons")
    if (note := analysis.sources_note(in_group)):
        st.caption(note)
    with st.expander("How to read this funnel plot"):
        st.markdown(analysis.FUNNEL_HOW_TO_READ)

    st.subheader("Ranked, with 95% confidence intervals")
    ui.table(ranked, "ranked_prisons")
    ui.download_csv(ranked, f"prison_comparison_{measure.key}.csv")


def show_programme_prisons():
    st.subheader("Programme prisons over time")
    quarters = analysis.quarter_windows(current.period_start, current.period_end)
    if not quarters:
        st.info("The period holds no whole calendar quarter: choose a longer period to see the quarterly trend.")
        return
    by_quarter = ui.query("prison_counts", **analysis.window_params(quarters), **measure.params())
    quarterly = analysis.quarterly_against_group(by_quarter)
    if quarterly.empty:
        st.info("No programme prison in the data.")
        return
    # Small multiples stay readable: the programme prisons chosen in the sidebar, or else the ones
    # with the most cohorts.
    prisons_by_cohorts = ui.query("prisons").set_index("prison_id")["cohorts"]
    panels = quarterly.drop_duplicates("panel")[["panel", "prison_id"]]
    chosen = in_sidebar = panels[panels["prison_id"].isin(current.chosen_prisons)]
    if chosen.empty and len(panels) > MAX_PANELS:
        busiest = prisons_by_cohorts.loc[prisons_by_cohorts.index.isin(panels["prison_id"])].nlargest(MAX_PANELS).index
        chosen = panels[panels["prison_id"].isin(busiest)]
    elif chosen.empty:
        chosen = panels
    st.markdown(
        "Each programme prison's quarterly rate against the pooled rate of prisons of the same type that run neither "
        "programme, over the calendar quarters wholly inside the period. A gap that opens after a programme starts (the "
        "dotted line) is a prompt to look closer, not proof that it worked."
    )
    if (note := analysis.comparison_sources_note(by_quarter)):
        st.caption(note)
    if len(chosen) < len(panels):
        st.caption(f"Showing the {count_of(len(chosen), 'programme prison')} chosen in the sidebar, of {len(panels)}; the "
                   "download has them all." if not in_sidebar.empty else
                   f"Showing {len(chosen)} of {len(panels)} programme prisons (those with the most cohorts); choose prisons "
                   "in the sidebar to see others. The download has them all.")
    quarterly_shown = quarterly[quarterly["panel"].isin(chosen["panel"])]
    ui.chart(charts.trend_small_multiples(quarterly_shown, unit, ui.query("programme_sites")), analysis.quarterly_download(quarterly_shown),
             "programme_prisons_shown")
    ui.download_csv(analysis.quarterly_download(quarterly), f"programme_prisons_quarterly_{measure.key}.csv",
                    "Download the panels' data (CSV)")


# Two questions, a tab each (labels and order: dashboard/pages.py), only the open one computed; the link keeps it
filters.page_tabs(show_funnel, show_programme_prisons)
