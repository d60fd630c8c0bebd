"""Funders and partners: campaign figures, the funder report, consent and small-number rules, and
the Good Prison Project page, checked against pandas over the Parquet."""

import datetime as dt
import functools
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from dashboard import analysis, disclosure, funding, report
from dashboard.access import ADMIN
from dashboard.metrics import MEASURES
from tests.apptest import figures_titled, metric, open_page, open_section, plotly_figures, rendered, start, trace_values
from tests.independent import in_period, published_figures

CAMPAIGN = "CAMP-2019-XMAS"


@pytest.fixture(scope="module")
def impact(sample_db):
    campaign = sample_db.query("campaigns", viewer=ADMIN).set_index("campaign_id").loc[CAMPAIGN].to_dict() | {"campaign_id": CAMPAIGN}
    return funding.campaign_impact(functools.partial(sample_db.query, viewer=ADMIN), campaign, months_after=12)


def test_campaign_queries_match_pandas(sample_db, raw):
    donations = raw("donations").query("campaign_id == @CAMPAIGN")
    totals = sample_db.query("campaign_totals", viewer=ADMIN, campaign_id=CAMPAIGN).iloc[0]
    assert totals["gifts"] == len(donations)
    assert totals["raised_gbp"] == pytest.approx(donations["amount_gbp"].sum())
    assert totals["matched_gbp"] == pytest.approx(donations["matched_gbp"].sum())
    assert totals["median_gift_gbp"] == pytest.approx(donations["amount_gbp"].median())
    cumulative = sample_db.query("campaign_cumulative", viewer=ADMIN, campaign_id=CAMPAIGN)
    assert cumulative["cumulative_total_gbp"].iloc[-1] == pytest.approx(donations["amount_gbp"].sum() + donations["matched_gbp"].sum())
    assert cumulative["cumulative_raised_gbp"].is_monotonic_increasing
    assert set(sample_db.query("campaigns", viewer=ADMIN)["campaign_id"]) == set(raw("campaigns")["campaign_id"])


def test_funded_delivery_and_outcomes_match_pandas(sample_db, raw):
    window = dict(period_start=dt.date(2019, 12, 10), period_end=dt.date(2020, 12, 10))
    got = sample_db.query("funded_delivery", viewer=ADMIN, **window).iloc[0]
    cohorts = raw("cohorts")
    started = pd.to_datetime(cohorts["start_date"])
    chosen = cohorts[(started >= "2019-12-10") & (started < "2020-12-10")]
    delivered = raw("workshops").query("status == 'delivered'")
    delivered = delivered[delivered["cohort_id"].isin(chosen["cohort_id"])]
    attended = raw("attendance").query("attended").merge(delivered, on="workshop_id")
    reached = raw("participants")[raw("participants")["participant_id"].isin(attended["participant_id"])]
    assert got["cohorts"] == len(chosen)
    assert got["workshops_delivered"] == len(delivered)
    assert got["workshop_hours"] == pytest.approx(delivered["duration_hours"].sum())
    assert got["prisoners_reached"] == (reached["role"] == "prisoner").sum()
    assert got["cost_gbp"] == pytest.approx(chosen["cost_gbp"].sum())
    costed = chosen.dropna(subset=["cost_gbp"])["cohort_id"]
    assert got["costed_participants_reached"] == reached["cohort_id"].isin(costed).sum()

    outcomes = sample_db.query("funded_outcomes", viewer=ADMIN, **window).iloc[0]
    people = raw("participants")[raw("participants")["cohort_id"].isin(chosen["cohort_id"])]
    answers = raw("survey_responses").merge(people, on="participant_id")
    wide = answers.pivot_table(index=["participant_id", "item"], columns="wave", values="score")
    change = (wide["post"] - wide["pre"]).dropna().groupby("participant_id").mean()
    assert outcomes["pairs"] == len(change)
    assert outcomes["improved"] == (change > 0).sum()
    assert outcomes["mean_change"] == pytest.approx(change.mean())


def test_published_testimonials_are_consented_only(sample_db, raw):
    got = sample_db.query("published_testimonials", viewer=ADMIN, programme="the_conversation")
    testimonials = raw("testimonials")
    consented = testimonials["consent_to_publish"]
    assert set(got["quote"]) == set(testimonials.loc[consented & testimonials["cohort_id"].notna(), "quote"])
    # a campaign for the Good Prison Project never shows The Conversation's quotes (the sample has none of its own)
    gpp = sample_db.query("published_testimonials", viewer=ADMIN, programme="good_prison_project")
    gpp_prisons = set(raw("programme_sites").query("programme == 'good_prison_project'")["prison_id"])
    own = consented & testimonials["cohort_id"].isna() & testimonials["prison_id"].isin(gpp_prisons)
    assert set(gpp["quote"]) == set(testimonials.loc[own, "quote"]) and not set(gpp["quote"]) & set(got["quote"])
    assert set(got.columns) == {"display_name", "role", "quote", "prison"}


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self._table, self._cell, self.text = {}, None, None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = []
        elif tag in ("th", "td") and self._table:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._table is not None and self._cell is not None:
            self.tables[self._table].append(self._cell.strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        self.text.append(data)


def test_funder_report_is_self_contained_and_its_figures_are_right(tmp_path, impact, raw):
    path = tmp_path / "report.html"
    path.write_text(report.funder_report_html(impact, "synthetic sample loaded 23 Nov 2026 09:00 UTC", synthetic=True, generated=dt.datetime(2026, 11, 23, 9, 30)))
    document = path.read_text()
    assert "<script src=" not in document and "cdn" not in document.lower().split("<script")[0]
    parser = _Tables()
    parser.feed(document)
    giving = dict(zip(parser.tables["giving"][::2], parser.tables["giving"][1::2]))
    donations = raw("donations").query("campaign_id == @CAMPAIGN")
    assert giving["Raised from gifts"] == f"£{donations['amount_gbp'].sum():,.0f}"
    assert giving["Gifts"] == disclosure.shown_count(len(donations))  # rounded to 5: the report may reach anyone
    total = donations["amount_gbp"].sum() + donations["matched_gbp"].sum()
    assert giving["Total with match"].startswith(f"£{total:,.0f}")
    delivery = dict(zip(parser.tables["delivery"][::2], parser.tables["delivery"][1::2]))
    assert delivery["Cohorts started"] == disclosure.shown_count(int(impact.delivery["cohorts"]))
    assert "23 November 2026" in document and "synthetic sample loaded" in document
    assert "Synthetic sample data" in document
    assert "cumulative-giving" in document and "Plotly.newPlot" in document
    hidden = raw("testimonials").query("not consent_to_publish")["quote"]
    assert not any(q in document for q in hidden)
    assert not re.search(r"P\d{6}", document)  # no participant id ever


def test_small_counts_are_suppressed_in_funder_figures(impact):
    small = funding.CampaignImpact(
        campaign=impact.campaign, totals=impact.totals, cumulative=impact.cumulative,
        delivery=impact.delivery | {"cohorts": 1, "prisoners_reached": 3, "staff_reached": 2, "costed_participants_reached": 4},
        outcomes={"pairs": 6, "improved": 4, "mean_change": 0.3, "sd_change": 0.5},
        testimonials=impact.testimonials, period=impact.period,
    )
    rows = dict(small.delivery_rows())
    assert rows["cohorts_started"] == "<5" and rows["prisoners_reached"] == "<5" and rows["staff_reached"] == "<5"
    assert rows["participants_reached"] == "hidden"  # 5, but with its parts hidden it would give them back
    assert rows["cost_per_participant"].startswith("not shown")
    # 4 of 6 improved: the share would give back "2 did not", a count under 5.
    assert rows["improved_share"].startswith("not shown")


def test_campaign_page(monkeypatch, raw):
    at = open_page(start(monkeypatch), "app_pages/campaign.py")
    donations = raw("donations").query("campaign_id == @CAMPAIGN")
    assert metric(at, "Raised from gifts") == f"£{donations['amount_gbp'].sum():,.0f}"
    assert metric(at, "Match released") == f"£{donations['matched_gbp'].sum():,.0f}"
    figure = figures_titled(at, "Cumulative giving")
    assert figure["layout"]["shapes"][0]["y0"] == raw("campaigns").set_index("campaign_id").at[CAMPAIGN, "target_gbp"]
    shown = " ".join(rendered(m.value) for m in at.markdown)
    testimonials = raw("testimonials")
    assert all(q in shown for q in testimonials.loc[testimonials["consent_to_publish"], "quote"])
    assert not any(q in shown for q in testimonials.loc[~testimonials["consent_to_publish"], "quote"])
    assert at.get("download_button")


def test_gpp_queries_match_pandas(sample_db, raw):
    services = sample_db.query("gpp_services", viewer=ADMIN)
    assert len(services) == len(raw("services"))
    referrals = sample_db.query("gpp_referrals_monthly", viewer=ADMIN)
    assert referrals["referrals"].sum() == len(raw("referrals"))
    engaged = raw("referrals").query("outcome == 'engaged'").merge(raw("services"), on="service_id")
    assert referrals.query("outcome == 'engaged' and prison_id == 'EXI'")["referrals"].sum() == (engaged["prison_id"] == "EXI").sum()
    events = sample_db.query("gpp_events", viewer=ADMIN)
    assert events["connections_made"].sum() == raw("events")["connections_made"].sum()


def test_gpp_safety_finds_the_coordinator_effect_and_matches_pandas(sample_db, raw, sample_dir):
    import json

    truth = json.loads((sample_dir / "generator_truth.json").read_text())["gpp_effect"]
    assert truth["self_harm_multiplier"] < 1
    periods = analysis.coordinator_periods(sample_db.query("programme_sites", viewer=ADMIN))
    counts = sample_db.query("prison_counts", viewer=ADMIN, **analysis.window_params(analysis.gpp_windows(periods)),
                             **MEASURES["self_harm"].params())
    safety = analysis.gpp_safety(counts, periods).set_index("prison_id")
    assert set(safety.index) == set(truth["prisons"])
    assert (safety["ratio_during"] < 1).all()
    incidents = raw("incidents").query("prison_id == 'DAI' and incident_type == 'self_harm'")
    occurred = pd.to_datetime(incidents["occurred_on"])
    during = ((occurred >= "2016-09-01") & (occurred < "2017-11-01")).sum()
    assert safety.loc["DAI", "prison_during_incidents"] == during
    # the comparison, independently: prisons of the same type running neither programme, with recorded
    # incidents, or published counts that tile each window and a population in each of its months
    prisons = raw("prisons").set_index("prison_id")
    sites = raw("programme_sites")
    programme = set(sites["prison_id"]) | set(raw("cohorts")["prison_id"]) | set(raw("services")["prison_id"])
    for prison_id, row in safety.iterrows():
        same_type = set(prisons.index[prisons["prison_type"] == prisons.at[prison_id, "prison_type"]]) - programme
        recorded = same_type & set(raw("wings")["prison_id"])
        windows = periods[prison_id]
        published = {p for p in same_type - recorded
                     if all(published_figures(raw, p, ["self_harm"], False, s.date(), e.date()) for s, e in windows.values())}
        assert row["comparison_prisons"] == len(recorded | published)
        start, end = windows["before"]
        before = {"period_start": start.date(), "period_end": end.date()}
        incidents = in_period(raw("incidents").query("incident_type == 'self_harm' and prison_id in @recorded"), "occurred_on", before)
        population = in_period(raw("wing_population").merge(raw("wings"), on="wing_id").query("prison_id in @recorded"), "month", before)
        extra = [published_figures(raw, p, ["self_harm"], False, start.date(), end.date()) for p in published]
        count = len(incidents) + sum(n for n, _ in extra)
        years = population["average_population"].sum() / 12 + sum(y for _, y in extra)
        assert row["comparison_before_rate"] == pytest.approx(count / years * 1000)


def test_gpp_page(monkeypatch, raw):
    at = open_page(start(monkeypatch), "app_pages/good_prison_project.py")
    services = raw("services")
    assert any(f"{len(services):,} services mapped" in m.value for m in at.markdown)
    assert [f["layout"]["title"]["text"] for f in plotly_figures(at)] == ["Provision and gaps by category, prison by prison"]  # open tab only
    # services for protected groups, counted in pandas: one row a group and prison, the group's name capitalised
    (groups,) = [d.value for d in at.dataframe if "Group" in d.value.columns]
    named = services.dropna(subset=["protected_characteristic"]).merge(raw("prisons")[["prison_id", "name"]], on="prison_id")
    expected = named.assign(group=named["protected_characteristic"].str[:1].str.upper() + named["protected_characteristic"].str[1:])
    expected = expected.groupby(["group", "name"])["status"].value_counts().unstack(fill_value=0)
    got = groups.set_index(["Group", "Prison"])
    assert sorted(got.index) == sorted(expected.index) and {"Older prisoners", "LGBT+"} <= set(groups["Group"])
    for key, row in expected.iterrows():
        assert (got.loc[key, "Available"], got.loc[key, "Gaps"]) == (row.get("available", 0), row.get("gap", 0))
    (referrals,) = plotly_figures(open_section(at, "Referrals"))
    tallest = pd.concat([pd.Series(trace_values(t["y"]), index=t["x"]) for t in referrals["data"]]).groupby(level=0).sum().max()
    assert referrals["layout"]["yaxis"]["range"][1] >= 1.15 * tallest  # the coordinator period's label clears the tallest bar
    (safety,) = [d.value for d in open_section(at, "Safety").dataframe if "Ratio, during" in d.value.columns]
    assert len(safety) == services["prison_id"].nunique()


@pytest.mark.parametrize("role", ["funder", "admin"])
def test_the_data_page_counts_rows_as_every_other_page_counts(monkeypatch, raw, role):
    """An extract's rows are cohorts, referrals, gifts: a funder sees them rounded as the Overview's
    "Cohorts 80" is, or the Data page's exact 78 beside it would give the rounded figure back."""
    at = open_page(start(monkeypatch, session_state={"view_as": role}), "app_pages/data.py")
    table = next(d.value for d in at.dataframe if "Rows loaded" in d.value.columns).set_index("Extract")
    for extract in ("cohorts", "referrals", "donations", "campaigns"):
        rows = len(raw(extract))
        expected = disclosure.shown_count(rows) if role == "funder" else rows
        assert str(table.loc[extract, "Rows loaded"]).replace(",", "") == str(expected).replace(",", ""), extract
    if role == "funder":
        assert table.loc["cohorts", "Rows loaded"] != str(len(raw("cohorts")))  # the sample's 78: shown as 80
    assert not table["Modified (UTC)"].str.match(r"\d{4}-\d{2}").any()  # written as dates are everywhere


def test_the_delivery_caption_says_why_a_share_is_missing():
    """Under Workshops delivered: the share of planned sessions, or in words why there is none, never a
    bare dash ("– of planned sessions" read as a figure)."""
    from dashboard import summary

    shown = {"planned": "70", "rescheduled": "<5", "cancelled": "<5"}
    assert summary.delivery_caption(shown | {"delivered_share": 0.5}).startswith("50% of planned sessions · <5 rescheduled")
    hidden = summary.delivery_caption(shown | {"delivered_share": None})
    assert hidden.startswith("share of planned sessions not shown") and "–" not in hidden
    assert summary.delivery_caption({"planned": "0", "rescheduled": "0", "cancelled": "0", "delivered_share": None}) == (
        "no sessions planned · 0 rescheduled · 0 cancelled")


def test_a_governor_whose_prison_had_no_coordinator_is_told_the_figures_are_the_projects(monkeypatch, raw):
    sites = raw("programme_sites")
    gpp = set(sites.loc[sites["programme"] == "good_prison_project", "prison_id"])
    assert "WSI" not in gpp
    at = open_page(start(monkeypatch, session_state={"view_as": "governor:WSI"}), "app_pages/good_prison_project.py")
    assert any("Your prison is not one of the project's" in c.value for c in at.caption)
    at = open_page(start(monkeypatch), "app_pages/good_prison_project.py")  # an administrator: no prison of her own
    assert not any("not one of the project's" in c.value for c in at.caption)
    assert analysis.gpp_not_yours(sites, (sorted(gpp)[0],)) == ""  # a governor of one of the project's prisons
    assert analysis.gpp_not_yours(sites, ("WSI", "PVI")).startswith("None of your prisons")
