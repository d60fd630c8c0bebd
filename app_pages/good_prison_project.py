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

# --- Services and gaps ------------------------------------------------------------------------
st.subheader("Services mapped and gaps")
gaps = services[services["status"] == "gap"]
ttg = services[services["status"] == "available"]["through_the_gate"]
st.markdown(
    f"**{len(services):,} services mapped across {services['prison_id'].nunique()} prisons, {len(gaps):,} of them gaps "
    f"(most in {gaps['category'].value_counts().index[0].replace('_', ' ') if len(gaps) else '–'}); "
    f"{ttg.mean():.0%} of available services continue through the gate.**"
)
shown = services.assign(category=services["category"].str.replace("_", " "))
counts = shown.groupby(["prison", "category", "status"], as_index=False).size()
st.plotly_chart(charts.services_by_category(counts), width="stretch")
table = services.assign(count=1).pivot_table(index="category", columns=["prison_id", "status"], values="count", aggfunc="sum", fill_value=0)
table.columns = [f"{p} {s}" for p, s in table.columns]
ui.table(table.reset_index(), hide_index=True, width="stretch")
groups = services.dropna(subset=["protected_characteristic"])
if len(groups):
    served = groups.pivot_table(index="protected_characteristic", columns="status", values="service_id", aggfunc="count", fill_value=0)
    st.markdown("**Services for groups with protected characteristics** (available, and gaps where a need was found but nothing provided):")
    ui.table(served.reset_index().rename(columns={"protected_characteristic": "Group"}), hide_index=True, width="stretch")
ui.download_csv(services, "gpp_services.csv", "Download the service map (CSV)")

# --- Referrals and events -------------------------------------------------------------------
st.subheader("Referrals and their outcomes")
referrals = ui.query("gpp_referrals_monthly") if db.report.tables["referrals"].available else pd.DataFrame()
if referrals.empty:
    st.info("No referrals in the extracts.")
else:
    outcomes = referrals.groupby("outcome")["referrals"].sum()
    decided = outcomes.drop("pending", errors="ignore").sum()
    shown = disclosure.protect(outcomes.to_dict(), ("all", outcomes.sum()), k, protected)
    # with the engaged count beside it, the share would give back a hidden pending count
    engaged_share = disclosure.share(int(outcomes.get("engaged", 0)), int(decided), k, protected)
    share_hidden = engaged_share is None or (protected and disclosure.is_hidden(shown.get("pending", "0")))
    engaged = "a share not shown (small counts)" if share_hidden else f"{engaged_share:.0%}"
    st.markdown(f"**{shown['all']} referrals; {engaged} of those decided led to engagement** "
                f"({shown.get('pending', '0')} still pending).")
    ui.table(pd.DataFrame({"Outcome": list(shown), "Referrals": list(shown.values())}).replace({"Outcome": {"all": "all referrals"}}),
                 hide_index=True)
if protected and not referrals.empty:
    st.caption(f"Referrals by quarter are not shown to funders: quarters often hold fewer than {k} of an outcome.")
elif not referrals.empty:
    quarterly = referrals.assign(quarter=pd.to_datetime(referrals["month"]).dt.to_period("Q").dt.to_timestamp()).groupby(
        ["quarter", "outcome"], as_index=False)["referrals"].sum()
    st.plotly_chart(charts.referrals_by_quarter(quarterly, analysis.coordinator_span(periods)), width="stretch")
    ui.download_csv(referrals, "gpp_referrals_monthly.csv", "Download referrals by month (CSV)")

st.subheader("Outside In and other events")
events = ui.query("gpp_events") if db.report.tables["events"].available else pd.DataFrame()
if events.empty:
    st.info("No events in the extracts.")
else:
    totals = {}
    if protected:  # the headline totals are on screen, so hide down each column with secondary suppression
        for column in ("prisoners_attending", "staff_attending", "connections_made"):
            events[column], totals[column] = disclosure.protect_column(events[column], threshold=k)
    else:
        totals = {c: f"{int(events[c].sum()):,}" for c in ("prisoners_attending", "connections_made")}
    st.markdown(f"**{count_of(len(events), 'event')} brought {int(events['providers_attending'].sum()):,} provider visits to "
                f"{totals['prisoners_attending']} prisoners, making {totals['connections_made']} connections.**")
    ui.table(events.drop(columns=["event_id", "prison_id"]).rename(columns=lambda c: c.replace("_", " ").capitalize()),
                 hide_index=True, width="stretch", column_config={"Held on": st.column_config.DateColumn(format="D MMM YYYY")})

# --- Safety -------------------------------------------------------------------------------
st.subheader("Safety before, during and after the coordinator period")
if not ui.require_tables(db, "incidents", "wing_population"):
    st.stop()
measure = MEASURES[filters.page_choice("Measure", list(MEASURES), "measure", "self_harm", format_func=lambda k: MEASURES[k].label)]
if not periods:
    st.info("This comparison needs each prison's coordinator period from the `programme_sites` extract (a first and a "
            "last day): the Data page says what was loaded.")
    st.stop()
counts = ui.query("prison_counts", **analysis.window_params(analysis.gpp_windows(periods)), **measure.params())
# for a funder every rate and ratio is worked out from rounded counts, so none gives a count back
safety = analysis.gpp_safety(counts, periods, count_as=(lambda n: disclosure.rounded(n, k)) if protected else None)
if safety.empty:
    st.info("No Good Prison Project prison in the extracts.")
    st.stop()
if protected:
    for column in [c for c in safety.columns if c.endswith("_incidents")]:
        safety[column] = disclosure.protect_column(safety[column], threshold=k)[0]
unit = f"{measure.label.lower()} per 1,000 prisoners per year"
st.markdown(
    f"Each prison's rate ({unit}) in the 12 months before the coordinator arrived (as far as the data go back), during the "
    "period, and the 12 months after, against prisons of the same type that ran neither programme. A ratio of changes below "
    "1 means the rate fell more (or rose less) than in the comparison prisons. Not randomised; the prisons chose to take part."
)
view = analysis.rounded_to_shown(pd.DataFrame({
    "Prison": safety["name"],
    "Before": safety["prison_before_rate"], "During": safety["prison_during_rate"], "After": safety["prison_after_rate"],
    "Comparison before": safety["comparison_before_rate"], "Comparison during": safety["comparison_during_rate"],
    "Comparison after": safety["comparison_after_rate"], "Comparison prisons": safety["comparison_prisons"],
    "Ratio, during": safety["ratio_during"], "95% CI (during)": analysis.interval_text(safety["ratio_during_low"], safety["ratio_during_high"]),
    "Ratio, after": safety["ratio_after"], "95% CI (after)": analysis.interval_text(safety["ratio_after_low"], safety["ratio_after_high"]),
}), {"Ratio, during": 2, "Ratio, after": 2}, default=0)
ui.table(view, hide_index=True, width="stretch", column_config={
    **{c: st.column_config.NumberColumn(format="%.0f") for c in view.columns if c.startswith(("Before", "During", "After", "Comparison b", "Comparison d", "Comparison a"))},
    "Ratio, during": st.column_config.NumberColumn(format="%.2f"), "Ratio, after": st.column_config.NumberColumn(format="%.2f"),
})
if (note := analysis.gpp_sources_note(safety)):
    st.caption(note)
ui.download_csv(safety.drop(columns=["comparison_published", "comparison_left_out"]), f"gpp_safety_{measure.key}.csv", "Download with counts and prisoner-years (CSV)")
