"""Campaign impact: what a match-funded campaign raised and what the programme delivered after it."""

import streamlit as st

from dashboard import analysis, charts, disclosure, filters, funding, metrics, report, ui
from dashboard.text import day_label, md

st.title("Campaign impact")
db = ui.database()
if not ui.require_tables(db, "campaigns", "donations"):
    st.stop()
campaigns = ui.query("campaigns")
if campaigns.empty:
    st.info("No campaign in the extracts.")
    st.stop()
by_id = campaigns.set_index("campaign_id")
controls = st.columns(2)
campaign_id = filters.page_choice("Campaign", list(by_id.index), "campaign", by_id.index[0],
                                  format_func=lambda c: f"{by_id.at[c, 'name']}", container=controls[0])
months = filters.page_choice("Delivery period after the campaign closes", [6, 12, 18, 24], "months_after", 12,
                             format_func=lambda n: f"{n} months", container=controls[1])
campaign = by_id.loc[campaign_id].to_dict() | {"campaign_id": campaign_id}
impact = funding.campaign_impact(ui.query, campaign, months, threshold=disclosure.configured_threshold())
totals = impact.totals
conversation = campaign["programme"] == "the_conversation"
targets = ui.query("targets", programme=campaign["programme"], campaign_id=campaign_id) if not db.report.unavailable("targets") else None
data_end = ui.latest_date(db, ("cohorts", "workshops"))
progress = (funding.target_progress(ui.query, targets, data_end, impact.threshold, ui.viewer().suppresses_small_counts)
            if targets is not None and not targets.empty and data_end is not None else None)
reoffending = ui.query("reoffending", programme=campaign["programme"]) if not db.report.unavailable("reoffending") else None
# The programme's wings against comparison wings: worked out over every programme prison (a funder may
# not see wings), and only the pooled answer, from rounded counts for a funder, leaves funding.wing_safety.
safety = (ui.wing_safety(impact.period, impact.threshold, ui.viewer().suppresses_small_counts)
          if conversation and not any(db.report.unavailable(t) for t in ("cohorts", "workshops", "wing_population", "incidents"))
          else [])

with st.container(border=True):
    st.markdown("\n".join(f"- **{question}** {md(answer, limit=None)}"
                          for question, answer in funding.at_a_glance(impact, progress, safety, reoffending)))

st.subheader("What the campaign raised")
st.markdown(funding.headline(impact))
giving = st.columns(4)
ui.metric("raised_gbp", metrics.fmt("raised_gbp", totals["raised_gbp"]), giving[0])
ui.metric("matched_gbp", metrics.fmt("matched_gbp", totals["matched_gbp"]), giving[1])
ui.metric("total_with_match", metrics.fmt("total_with_match", impact.total_with_match), giving[2])
ui.metric("median_gift", impact.median_gift, giving[3])
if impact.cumulative.empty:
    st.info("No gifts recorded for this campaign.")
else:
    ui.chart(charts.cumulative_giving(impact.cumulative, campaign["target_gbp"], campaign["opens_at"], campaign["closes_at"]),
             impact.cumulative, "cumulative_giving")
ui.table(funding.rows_table(impact.giving_rows()), "giving")

st.subheader("Delivery against what was agreed")
if progress is None:
    st.info("No delivery target is loaded for this campaign or its programme (the optional `targets` extract).")
else:
    st.markdown(funding.targets_sentence(progress, data_end))
    ui.table(progress, "targets")

st.subheader(f"What the programme delivered, {day_label(impact.period[0])} to {day_label(impact.period[1])}")
if not conversation:
    st.info("This campaign funded the Good Prison Project: its services, referrals and events are on the Good Prison Project page.")
else:
    st.markdown(
        "Cohorts of The Conversation that started after the campaign closed. Gifts are not earmarked, so this is what "
        "the programme delivered while the money was spent, not what it alone paid for. " + disclosure.rule_statement(impact.threshold)
    )
    ui.table(funding.rows_table(impact.delivery_rows()), "delivery")
    st.markdown(funding.survey_sentence(impact))

    st.subheader("Safety on the programme's wings against comparison wings")
    if not safety:
        st.info("No prison running The Conversation has wing figures to compare.")
    else:
        st.markdown(f"Cohorts that started in the period, each compared over the {funding.SAFETY_WINDOW} months before its "
                    "first workshop and after its last with the same prison's wings without the programme, pooled across "
                    "prisons. Below 1: the rate fell more on the programme's wings.")
        safety_table = funding.wing_safety_table(safety)
        ui.table(safety_table, "wing_safety")
        if safety_table["pooled_ratio_of_changes"].notna().any():
            ui.chart(charts.measures_forest(safety_table, "The programme's wings against comparison wings"), safety_table, "wing_safety_chart")
        for result in safety:
            st.markdown(f"- {md(result.claim, limit=None)}")
        if (detectable := [r for r in safety if r.detectable]):
            st.caption(analysis.DETECTABLE_LEAD.rstrip(", ") + ":\n" + "\n".join(
                f"- {metrics.MEASURES[r.measure].label}: {r.detectable}" for r in detectable))

st.subheader("Reoffending")
programme_name = metrics.code_label("programme", campaign["programme"])
if reoffending is None or reoffending.empty:
    st.info(f"No reoffending analysis of {programme_name} is loaded. The Justice Data Lab publishes one when at least 60 "
            "participants can be matched and followed for a year after release.")
else:
    st.markdown(analysis.reoffending_sentence(reoffending))
    for heading, shown in analysis.reoffending_by_analysis(reoffending):
        if heading:
            st.caption(heading)
        ui.table(shown, "reoffending_summary")
    ui.download_csv(analysis.reoffending_table(reoffending), "reoffending.csv", "Download the published results, with group sizes and p-values (CSV)")
    st.caption(analysis.reoffending_detectable(reoffending))

st.subheader("In their words")
if impact.testimonials.empty:
    st.info("No testimonial with consent to publish.")
for quote in impact.testimonials.itertuples():
    st.markdown(f"> {md(quote.quote, limit=None)}\n>\n> — *{md(quote.display_name)}, {md(quote.prison)}*")

st.subheader("Funder report")
report_inputs = dict(impact=impact, data_source=ui.data_through(db, report.TABLES_USED), synthetic=db.synthetic,
                     reoffending=reoffending, targets=progress, safety=safety)
downloads = st.columns(2)
downloads[0].download_button("Download the funder report (HTML, opens offline)",
                             ui.audited(lambda: report.funder_report_html(**report_inputs).encode("utf-8"), "report",
                                        file=f"funder_report_{campaign_id}.html", campaign=campaign_id),
                             file_name=f"funder_report_{campaign_id}.html", mime="text/html", on_click="ignore")
downloads[1].download_button("Download the funder report (PDF)",
                             ui.audited(lambda: report.funder_report_pdf(**report_inputs), "report",
                                        file=f"funder_report_{campaign_id}.pdf", campaign=campaign_id),
                             file_name=f"funder_report_{campaign_id}.pdf", mime="application/pdf", on_click="ignore")
st.caption("These figures and charts in one document to forward, dated, with the data source"
           + (" and the synthetic-data warning." if db.synthetic else "."))
