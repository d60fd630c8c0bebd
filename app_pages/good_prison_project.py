"""Good Prison Project: the voluntary sector mapped, people referred and connected, and safety
before, during and after the coordinator period."""

import pandas as pd
import streamlit as st

from dashboard import analysis, charts, disclosure, filters, ui
from dashboard.metrics import MEASURES
from dashboard.text import count_of

st.title("Good Prison Project")
db = ui.database()
k = disclosure.configured_threshold()
protected = ui.viewer().suppresses_small_counts  # funders: counts rounded, 1 to k-1 shown as "<k"
if protected:
    st.caption(disclosure.rule_statement(k))
if not ui.require_tables(db, "services"):
    st.stop()
services = ui.query("gpp_services")
if services.empty:
    st.info("No services have been mapped in the extracts.")
    st.stop()
sites = ui.query("programme_sites")
periods = analysis.coordinator_periods(sites)
st.caption(analysis.coordinator_sentence(sites))
if (note := analysis.gpp_not_yours(sites, ui.viewer().prisons)):
    st.caption(note)

def rows_of(table: str, query: str) -> pd.DataFrame:
    """An optional extract's rows through its named query; empty, with a note saying so, when the
    extract is missing or has no rows."""
    rows = ui.query(query) if db.report.tables[table].available else pd.DataFrame()
    if rows.empty:
        st.info(f"No {table} in the extracts.")
    return rows


def show_services():
    st.subheader("Services mapped and gaps")
    st.markdown(analysis.services_sentence(services))
    by_category = analysis.services_table(services)
    ui.chart(charts.services_by_category(by_category), by_category, "services_by_category")
    groups = services.dropna(subset=["protected_characteristic"])
    if len(groups):
        st.markdown("**Services for groups with protected characteristics** (available, and gaps where a need was found but nothing provided):")
        ui.table(analysis.services_table(groups, by="protected_characteristic"), "services_by_group")
    ui.download_csv(services, "gpp_services.csv", "Download the service map (CSV)")


def show_referrals():
    st.subheader("Referrals and their outcomes")
    referrals = rows_of("referrals", "gpp_referrals_monthly")
    if referrals.empty:
        return
    outcomes, sentence = analysis.referral_outcomes(referrals, k, protected)
    st.markdown(sentence)
    ui.table(outcomes, "referral_outcomes")
    if protected:
        st.caption(f"Referrals by quarter are not shown to funders: quarters often hold fewer than {k} of an outcome.")
    else:
        quarterly = analysis.referrals_by_quarter(referrals)
        ui.chart(charts.referrals_by_quarter(quarterly, analysis.coordinator_span(periods)), quarterly, "referrals_by_quarter")
        ui.download_csv(referrals, "gpp_referrals_monthly.csv", "Download referrals by month (CSV)")


def show_events():
    st.subheader("Outside In and other events")
    events = rows_of("events", "gpp_events")
    if events.empty:
        return
    totals = {}
    if protected:  # the headline totals are on screen, so hide down each column with secondary suppression
        for column in ("prisoners_attending", "staff_attending", "connections_made"):
            events[column], totals[column] = disclosure.protect_column(events[column], threshold=k)
    else:
        totals = {c: f"{int(events[c].sum()):,}" for c in ("prisoners_attending", "connections_made")}
    st.markdown(f"**{count_of(len(events), 'event')} brought {int(events['providers_attending'].sum()):,} provider visits to "
                f"{totals['prisoners_attending']} prisoners, making {totals['connections_made']} connections.**")
    ui.table(analysis.events_table(events), "events")


def show_safety():
    st.subheader("Safety before, during and after the coordinator period")
    if not ui.require_tables(db, "incidents", "wing_population"):
        return
    measure = MEASURES[filters.page_choice("Measure", list(MEASURES), "measure", "self_harm", format_func=lambda k: MEASURES[k].label)]
    if not periods:
        st.info("This comparison needs each prison's coordinator period from the `programme_sites` extract (a first and a "
                "last day): the Data page says what was loaded.")
        return
    counts = ui.query("prison_counts", **analysis.window_params(analysis.gpp_windows(periods)), **measure.params())
    # for a funder every rate and ratio is worked out from rounded counts, so none gives a count back
    safety = analysis.gpp_safety(counts, periods, count_as=(lambda n: disclosure.rounded(n, k)) if protected else None)
    if safety.empty:
        st.info("No Good Prison Project prison in the extracts.")
        return
    if protected:
        for column in [c for c in safety.columns if c.endswith("_incidents")]:
            safety[column] = disclosure.protect_column(safety[column], threshold=k)[0]
    unit = f"{measure.label.lower()} per 1,000 prisoners per year"
    st.markdown(
        f"Each prison's rate ({unit}) in the 12 months before the coordinator arrived (as far as the data go back), during the "
        "period, and the 12 months after, against prisons of the same type that ran neither programme. A ratio of changes below "
        "1 means the rate fell more (or rose less) than in the comparison prisons. Not randomised; the prisons chose to take part."
    )
    ui.table(analysis.gpp_safety_table(safety), "safety_before_during_after")
    if (note := analysis.gpp_sources_note(safety)):
        st.caption(note)
    ui.download_csv(analysis.gpp_safety_download(safety), f"gpp_safety_{measure.key}.csv", "Download with counts and prisoner-years (CSV)")


# A tab for each part of the project (labels and order: dashboard/pages.py), only the open one computed;
# the link keeps it
filters.page_tabs(show_services, show_referrals, show_events, show_safety)
