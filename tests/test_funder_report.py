"""The funder report and the funder's first screen: claim sentences follow their intervals, the
programme's wings against comparison wings recover the sample generator's truth, every campaign shape
produces a report, the PDF's text reads back, and what a funder sees is suppressed alike everywhere."""

import datetime as dt
import functools
import html
import io
import json
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from statsmodels.stats.meta_analysis import combine_effects

from dashboard import analysis, funding, report
from dashboard.access import ADMIN
from dashboard.analysis import Pooled
from dashboard.metrics import MEASURES
from tests.apptest import figures_titled, open_page, rendered, start, trace_values

CAMPAIGN = "CAMP-2019-XMAS"
SECTIONS = ("What the campaign raised", "Delivery against what was agreed", "What the programme delivered",
            "Change in participants' survey scores", "Safety on the programme's wings against comparison wings", "Reoffending",
            "In their words", "How these figures were made")


# --- claims are generated from their intervals ---------------------------------------------------


@pytest.mark.parametrize("ratio, low, high, says", [
    (0.70, 0.59, 0.83, "was about 30% lower than the change on comparison wings"),
    (0.90, 0.80, 1.01, "cannot be told apart"),
    (0.90, 0.80, 0.996, "cannot be told apart"),  # printed as 1.00: the sentence follows what is printed
    (0.90, 0.80, 0.994, "was about 10% lower"),
    (1.30, 1.05, 1.60, "was about 30% higher"),
    (1.10, 0.995, 1.30, "cannot be told apart"),
])
def test_a_wing_claim_says_a_fall_or_rise_only_when_its_interval_excludes_no_change(ratio, low, high, says):
    claim = analysis.wing_safety_claim("All assaults", Pooled(ratio, low, high, 4, 0.0, 0.0), 6)
    assert says in claim and "caused it" not in claim.replace("not proof that the programme caused it", "")
    if "cannot" in says:
        assert "lower" not in claim and "higher" not in claim and "not proof the programme had no effect" in claim


@pytest.mark.parametrize("mean, low, high, says", [
    (0.20, 0.05, 0.35, "rose"), (0.10, -0.02, 0.22, "cannot be told apart"), (-0.30, -0.50, -0.10, "fell"),
    (0.10, 0.004, 0.2, "cannot be told apart"),  # +0.00 as printed
])
def test_a_survey_claim_says_a_rise_or_fall_only_when_its_interval_excludes_no_change(mean, low, high, says):
    claim = analysis.survey_claim(mean, low, high, "40")
    assert says in claim
    assert ("no comparison group" in claim) == (says != "cannot be told apart")


def test_a_funders_cohort_count_is_shown_as_counts_are():
    estimate = Pooled(0.8, 0.7, 0.9, 3, 0.0, 0.0)
    assert analysis.wing_safety_claim("Self-harm", estimate, 6, "<5").startswith("Across fewer than 5 cohorts compared")
    assert analysis.wing_safety_claim("Self-harm", estimate, 6, "1").startswith("The one cohort compared")


# --- the programme's wings against comparison wings ----------------------------------------------


@pytest.fixture(scope="module")
def query(sample_db):
    return functools.partial(sample_db.query, viewer=ADMIN)


@pytest.fixture(scope="module")
def every_cohort(query):
    """The whole sample: every cohort's period, so the comparison has the power to find what was built."""
    return funding.wing_safety(query, (dt.date(2015, 1, 1), dt.date(2026, 1, 1)), 5, protected=False)


def test_the_programme_wings_recover_the_generators_effect_and_find_none_where_none_was_built(every_cohort, sample_dir):
    truth = json.loads((sample_dir / "generator_truth.json").read_text())["programme_effect"]["incident_types"]
    found = {r.measure: r.pooled for r in every_cohort}
    assert found["all_assaults"].lower <= truth["assault_on_staff"] <= found["all_assaults"].upper < 1
    assert found["use_of_force"].lower <= truth["use_of_force"] <= found["use_of_force"].upper < 1
    assert truth["self_harm"] == 1.0 and found["self_harm"].lower <= 1 <= found["self_harm"].upper  # nothing built, nothing found
    claims = {r.measure: r.claim for r in every_cohort}
    assert "lower" in claims["all_assaults"] and "cannot be told apart" in claims["self_harm"]


def _window_sum(frame: pd.DataFrame, column: str, start, end) -> float:
    months = pd.to_datetime(frame["month"])
    return float(frame.loc[(months >= start) & (months < end), column].sum())


def test_each_compared_cohorts_own_wing_and_the_pool_match_pandas(every_cohort, raw):
    assaults = next(r for r in every_cohort if r.measure == "all_assaults")
    compared = assaults.cohorts.dropna(subset=["ratio"])
    cohorts = raw("cohorts").set_index("cohort_id")
    started = pd.to_datetime(cohorts["start_date"])
    # in view: every cohort at a programme prison (the compared ones are among them)
    assert set(assaults.cohorts["cohort_id"]) <= set(cohorts.index[started.notna()])
    assert len(compared) == int(assaults.compared) > 10
    incidents = raw("incidents")
    incidents = incidents[incidents["incident_type"].isin(MEASURES["all_assaults"].incident_types)]
    monthly = (incidents.assign(month=pd.to_datetime(incidents["occurred_on"]).dt.to_period("M").dt.to_timestamp())
               .groupby(["wing_id", "month"]).size().rename("incidents").reset_index())
    population = raw("wing_population").assign(month=lambda f: pd.to_datetime(f["month"]))
    workshops = raw("workshops").query("status == 'delivered'")
    for row in compared.itertuples():
        days = pd.to_datetime(workshops.loc[workshops["cohort_id"] == row.cohort_id, "delivered_on"])
        first, last = days.min().to_period("M").to_timestamp(), days.max().to_period("M").to_timestamp()
        before = (first - pd.DateOffset(months=6), first)
        after = (last + pd.DateOffset(months=1), last + pd.DateOffset(months=7))
        wing = monthly[monthly["wing_id"] == row.wing_id]
        years = population[population["wing_id"] == row.wing_id].assign(years=lambda f: f["average_population"] / 12)
        assert row.wing_before_incidents == _window_sum(wing, "incidents", *before)
        assert row.wing_after_incidents == _window_sum(wing, "incidents", *after)
        assert row.wing_before_prisoner_years == pytest.approx(_window_sum(years, "years", *before))
    # the pool, by statsmodels over the cells (standard error from the four counts, not the code's)
    cells = compared[["wing_before_incidents", "wing_after_incidents", "others_before_incidents", "others_after_incidents"]]
    variance = (1 / cells).sum(axis=1).to_numpy()
    log_ratio = np.log(compared["ratio"].to_numpy(dtype=float))
    frame = combine_effects(log_ratio, variance, method_re="iterated").summary_frame().loc["random effect"]
    assert assaults.pooled.ratio == pytest.approx(math.exp(frame["eff"]))
    assert assaults.pooled.lower == pytest.approx(math.exp(frame["ci_low"]))


def test_a_funders_comparison_is_worked_out_from_rounded_counts(query):
    period = (dt.date(2015, 1, 1), dt.date(2026, 1, 1))
    shown = {r.measure: r for r in funding.wing_safety(query, period, 5, protected=True)}
    assaults = shown["all_assaults"].cohorts.dropna(subset=["ratio"])
    counts = assaults[["wing_before_incidents", "wing_after_incidents", "others_before_incidents", "others_after_incidents"]]
    assert (counts % 5 == 0).all().all() and (counts > 0).all().all()
    left = shown["all_assaults"].cohorts["note"]
    assert left.isin(["", analysis.TOO_FEW_TO_SHOW]).sum() >= len(assaults)
    assert shown["all_assaults"].compared == str(int(round(len(assaults) / 5) * 5)) if len(assaults) >= 5 else "<5"
    # cohorts × window, or the cohort-months still needed with the detectable ratio, would give back the exact count
    assert all("cohort-month" not in r.detectable for r in shown.values())
    assert any("too few to detect a 20% reduction" in r.detectable or "enough" in r.detectable for r in shown.values())


# --- every campaign shape produces a report ---------------------------------------------------------


@pytest.fixture(scope="module")
def impact(query):
    campaign = query("campaigns").set_index("campaign_id").loc[CAMPAIGN].to_dict() | {"campaign_id": CAMPAIGN}
    return funding.campaign_impact(query, campaign, months_after=12)


def _shapes(impact, query):
    no_gifts = replace(impact, totals={"gifts": 0, "raised_gbp": 0.0, "matched_gbp": 0.0, "median_gift_gbp": None},
                       cumulative=impact.cumulative.iloc[0:0])
    gpp = query("campaigns").set_index("campaign_id").loc["CAMP-2016-GPP"].to_dict() | {"campaign_id": "CAMP-2016-GPP"}
    return {
        "everything": (impact, True),
        "no match funder, targets or outcomes": (replace(impact, campaign=impact.campaign | {"champion": None, "match_pledged_gbp": 0.0}), False),
        "no gifts yet": (no_gifts, False),
        "one cohort": (replace(impact, delivery=impact.delivery | {"cohorts": 1}, outcomes={"pairs": 3, "improved": 2,
                                                                                          "mean_change": 0.4, "sd_change": 0.3}), False),
        "the Good Prison Project": (funding.campaign_impact(query, gpp, months_after=12), False),
    }


def _inputs(impact, query, full: bool) -> dict:
    conversation = impact.campaign["programme"] == "the_conversation"
    targets = query("targets", programme=impact.campaign["programme"], campaign_id=impact.campaign["campaign_id"])
    return dict(
        impact=impact, data_source="Data up to 31 December 2024 (the latest date in the extracts behind this page)", synthetic=True,
        generated=dt.datetime(2026, 11, 24, 9, 0),
        reoffending=query("reoffending", programme=impact.campaign["programme"]) if full else None,
        targets=funding.target_progress(query, targets, dt.date(2024, 12, 22), 5, True) if full and not targets.empty else None,
        safety=funding.wing_safety(query, impact.period, 5, True) if full and conversation else None,
    )


def _text(document: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", document, flags=re.S)))


def test_every_campaign_shape_produces_a_whole_report(impact, query):
    for shape, (each, full) in _shapes(impact, query).items():
        text = _text(report.funder_report_html(**_inputs(each, query, full)))
        assert all(section in text for section in SECTIONS), shape
        assert not re.search(r"\b(nan|None|NaT|inf)\b", text), (shape, re.search(r".{60}\b(nan|None|NaT|inf)\b.{20}", text))
        assert "What was raised?" in text and "What changed?" in text, shape
        assert "Synthetic sample data" in text and "31 December 2024" in text
        if each.campaign["programme"] != "the_conversation":
            assert "This campaign funded the Good Prison Project" in text and "Cohorts started" not in text


def test_the_pdf_reads_back_with_its_sections_figures_claims_and_charts(impact, query, tmp_path):
    inputs = _inputs(impact, query, full=True)
    pdf = report.funder_report_pdf(**inputs)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert all(section in text for section in SECTIONS)
    for question, answer in funding.at_a_glance(impact, inputs["targets"], inputs["safety"], inputs["reoffending"]):
        assert question in text and answer[:60] in text
    assert all(r.claim[:80] in text for r in inputs["safety"])
    assert "Synthetic sample data" in text and "Data up to 31 December 2024" in text
    # the charts are drawn into it: their axis titles and legend are text in the PDF
    assert "Gifts + match" in text and "Ratio of changes, programme wings against comparison wings" in text
    assert not re.search(r"/(work|tmp|home|root)/|data/sample|\.parquet", text)  # no server path
    assert len(reader.pages) >= 3


def test_a_gpp_campaign_pdf_is_made_without_wing_figures(impact, query):
    (gpp, _) = _shapes(impact, query)["the Good Prison Project"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.funder_report_pdf(**_inputs(gpp, query, True)))).pages)
    assert "Good Prison Project appeal 2016" in re.sub(r"\s+", " ", text) and "Ratio of changes, programme wings" not in text


# --- the funder's first screen ------------------------------------------------------------------


def test_a_funders_first_screen_answers_their_three_questions_as_the_page_below_does(monkeypatch):
    at = open_page(start(monkeypatch, session_state={"view_as": "funder"}), "app_pages/campaign.py")
    glance = rendered(at.markdown[0].value)
    assert [q for q in ("What was raised?", "What was delivered against what was agreed?", "What changed?") if q in glance] == [
        "What was raised?", "What was delivered against what was agreed?", "What changed?"]
    total = next(m.value for m in at.metric if m.label == "Total with match")
    assert f"{total} with the match" in glance
    safety = next(d.value for d in at.dataframe if "Ratio of changes, cohorts pooled" in d.value.columns).set_index("Measure")
    assert (safety["Cohorts compared"] == "<5").all()  # the 12 months after this campaign: fewer than 5 cohorts compared
    assaults = safety.loc["All assaults"]
    assert f"ratio of changes {assaults['Ratio of changes, cohorts pooled']:.2f}, 95% CI {assaults['95% CI low']:.2f}" in glance
    assert "Across fewer than 5 cohorts compared" in glance
    forest = figures_titled(at, "The programme's wings against comparison wings")
    assert trace_values(forest["data"][0]["x"]) == pytest.approx(safety["Ratio of changes, cohorts pooled"].tolist(), abs=0.005)
    labels = [b.label for b in at.get("download_button")]
    assert any("PDF" in label for label in labels) and any("HTML" in label for label in labels)


def test_without_a_browser_to_draw_charts_the_pdf_still_goes_out_with_each_chart_in_words(impact, query, monkeypatch):
    def no_browser(*args, **kwargs):
        raise RuntimeError("Kaleido found no Chrome")

    monkeypatch.setattr(report.pio, "write_images", no_browser)
    inputs = _inputs(impact, query, full=False)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.funder_report_pdf(**inputs))).pages))
    assert "it could not be drawn into this PDF" in text and "Cumulative giving over the campaign window: £" in text


def test_what_a_funder_sees_on_the_page_is_what_their_report_says(monkeypatch, impact, query):
    at = open_page(start(monkeypatch, session_state={"view_as": "funder"}), "app_pages/campaign.py")
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    page_delivery = next(t for cols, t in tables.items() if cols == ("Figure", "Value") and "Cohorts started" in set(t["Figure"]))
    page_safety = next(t for cols, t in tables.items() if "Cohorts compared" in cols).set_index("Measure")
    page_targets = next(t for cols, t in tables.items() if "Delivered so far" in cols)
    text = _text(report.funder_report_html(**_inputs(impact, query, full=True)))
    for row in page_delivery.itertuples():  # the same rounding and suppression, word for word
        assert f"{row.Figure} {row.Value}" in text, row.Figure
    for measure, row in page_safety.iterrows():
        assert f"{measure} {row['Ratio of changes, cohorts pooled']:.2f} (95% CI {row['95% CI low']:.2f} to {row['95% CI high']:.2f}); " \
               f"{row['Cohorts compared']} cohorts compared" in text
    for row in page_targets.itertuples():
        assert f"{row[3]} delivered of" in text  # "Delivered so far", rounded for a funder on both
    glance = rendered(at.markdown[0].value).replace("**", "")
    answers = re.split(r"\n- (?:What was raised\?|What was delivered against what was agreed\?|What changed\?) ", "\n" + glance)[1:]
    assert len(answers) == 3 and all(answer.strip() in text for answer in answers)
