"""Campaign impact: what a match-funded campaign raised and what the programme delivered after it."""

import pandas as pd
import streamlit as st

from dashboard import charts, disclosure, filters, funding, report, ui
from dashboard.text import md

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

st.markdown(
    f"**{md(campaign['name'])} raised {funding.money(impact.total_with_match)} with the match, "
    f"{impact.total_with_match / campaign['target_gbp']:.0%} of its {funding.money(campaign['target_gbp'])} target**, "
    f"from {disclosure.shown_count(int(totals['gifts']), impact.threshold)} gifts and {funding.money(totals['matched_gbp'])} released by "
    f"{md(campaign.get('champion') or 'no match funder')} · {md(campaign['platform'])}, "
    f"{pd.Timestamp(campaign['opens_at']):%d %b %Y %H:%M} to {pd.Timestamp(campaign['closes_at']):%d %b %Y %H:%M} UTC."
)
giving = st.columns(4)
giving[0].metric("Raised from gifts", funding.money(totals["raised_gbp"]))
giving[1].metric("Match released", funding.money(totals["matched_gbp"]),
                 help="Share of the total released by the match funder: " + (f"{totals['matched_gbp'] / impact.total_with_match:.0%}" if impact.total_with_match else "–"))
giving[2].metric("Total with match", funding.money(impact.total_with_match))
giving[3].metric("Median gift", impact.median_gift, help=f"Mean gift {impact.mean_gift}")
if impact.cumulative.empty:
    st.info("No gifts recorded for this campaign.")
else:
    st.plotly_chart(charts.cumulative_giving(impact.cumulative, campaign["target_gbp"], campaign["opens_at"], campaign["closes_at"]), width="stretch")
ui.table(pd.DataFrame(impact.giving_rows(), columns=["Figure", "Value"]), hide_index=True, width="stretch")

st.subheader(f"What the programme delivered, {impact.period[0]:%d %b %Y} to {impact.period[1]:%d %b %Y}")
if campaign["programme"] != "the_conversation":
    st.info("This campaign funded the Good Prison Project: its services, referrals and events are on the Good Prison Project page.")
else:
    st.markdown(
        "Cohorts of The Conversation that started after the campaign closed. Gifts are not earmarked, so this is what "
        "the programme delivered while the money was spent, not what it alone paid for. " + disclosure.rule_statement(impact.threshold)
    )
    ui.table(pd.DataFrame(impact.delivery_rows(), columns=["Figure", "Value"]), hide_index=True, width="stretch")

st.subheader("In their words")
if impact.testimonials.empty:
    st.info("No testimonial with consent to publish.")
for quote in impact.testimonials.itertuples():
    st.markdown(f"> {md(quote.quote, limit=None)}\n>\n> — *{md(quote.display_name)}, {md(quote.prison)}*")

st.subheader("Funder report")
st.download_button(
    "Download the funder report (HTML, opens offline)",
    lambda: report.funder_report_html(impact, ui.data_source(db), db.synthetic).encode("utf-8"),
    file_name=f"funder_report_{campaign_id}.html", mime="text/html",
)
st.caption("One self-contained file with these figures and the chart, dated, with the data source"
           + (" and the synthetic-data warning." if db.synthetic else "."))
