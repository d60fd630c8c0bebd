"""Reoffending results as the Justice Data Lab publishes them: loaded with its rules, worded from their
intervals (never "caused"), and shown where funders and governors look, in the page and the report."""

import json
import re

import pandas as pd
import pytest

from dashboard import analysis, funding, report
from dashboard.access import Viewer
from dashboard.database import open_database
from dashboard.text import md
from tests.apptest import open_page, rendered, start

FUNDER = Viewer(role="funder")


@pytest.mark.parametrize("low, high, says", [
    (-3.0, -1.0, "a significant reduction in proven reoffending"),
    (1.0, 3.0, "a significant increase in proven reoffending"),
    (-1.0, 1.0, "no significant difference in proven reoffending (not proof the programme had no effect)"),
    (-2.0, 0.0, "no significant difference"),  # an interval that reaches no difference does not exclude it
    (0.0, 2.0, "no significant difference"),
])
def test_the_wording_is_generated_from_the_interval(low, high, says):
    verdict = analysis.jdl_verdict("proven_reoffending_rate", low, high)
    assert verdict.startswith(says) and "caus" not in verdict


def test_the_sample_analysis_is_read_as_the_generator_built_it(sample_db, raw, sample_dir):
    truth = json.loads((sample_dir / "generator_truth.json").read_text())["reoffending"]
    results = sample_db.query("reoffending", viewer=FUNDER, programme="the_conversation")
    table = analysis.reoffending_table(results).set_index("reoffending_measure")
    published = raw("reoffending").set_index("measure")
    for measure, verdict in truth["verdicts"].items():
        assert table.loc[measure, "jdl_verdict"].startswith(f"a {verdict}" if verdict.startswith("significant") else verdict)
        expected = published.loc[measure, "treatment_value"] - published.loc[measure, "comparison_value"]
        assert table.loc[measure, "reoffending_difference"] == pytest.approx(expected)
        assert table.loc[measure, "treatment_n"] == published.loc[measure, "treatment_n"]
    assert sample_db.query("reoffending", viewer=FUNDER, programme="good_prison_project").empty


def test_a_group_under_60_and_an_interval_that_misses_its_difference_are_rejected(sample_copy):
    path = sample_copy / "reoffending.parquet"
    rows = pd.read_parquet(path)
    rows.loc[0, "treatment_n"] = 59
    rows.loc[1, "difference_low"], rows.loc[1, "difference_high"] = 30.0, 40.0  # far from its own difference
    rows.to_parquet(path, index=False)
    db = open_database(sample_copy)
    load = db.report.tables["reoffending"]
    assert load.rows_rejected == 2 and load.rows_loaded == len(rows) - 2
    messages = {p.message for p in load.problems}
    assert "under 60: the Justice Data Lab's smallest reportable treatment group" in messages
    assert "the interval difference_low to difference_high does not contain treatment_value − comparison_value" in messages


@pytest.mark.parametrize("role", ["funder", "governor:WSI"])
def test_the_overview_shows_each_measure_with_its_interval_and_group_sizes(monkeypatch, raw, role):
    at = start(monkeypatch, session_state={"view_as": role})
    (table,) = [d.value for d in at.dataframe if "Matched comparison" in d.value.columns]
    assert len(table) == 4 and {"Result", "Difference", "95% CI low", "95% CI high"} <= set(table.columns)
    assert len(table.columns) <= 7  # fits the page at 1,440 px without scrolling sideways; the download has the rest
    published = raw("reoffending").set_index("measure")
    proven = table.set_index("Measure").loc["Proven reoffending (% of people)"]
    assert proven["Result"] == "Significant reduction"
    assert proven["95% CI low"] == published.loc["proven_reoffending_rate", "difference_low"]
    said = next(rendered(m.value) for m in at.markdown if "published reoffending analysis" in m.value)
    assert "28 September 2023" in said and "a significant reduction in proven reoffending" in said
    sizes = published.iloc[0]
    assert f"{sizes['treatment_n']:,} participants with {sizes['comparison_n']:,} similar people" in said
    assert "not a randomised trial" in said and "caused" not in said
    assert any(b.label.startswith("Download the published results, with group sizes") for b in at.get("download_button"))


def test_each_analysis_gets_its_own_table_under_its_name_and_group_sizes(sample_db):
    results = sample_db.query("reoffending", viewer=FUNDER, programme="the_conversation")
    earlier = results.assign(analysis_id="earlier", title="Released *2017* to 2018", published_on=pd.Timestamp("2021-03-01"),
                             treatment_n=90, comparison_n=4000)
    shown = analysis.reoffending_by_analysis(pd.concat([results, earlier], ignore_index=True))
    assert [len(t) for _, t in shown] == [4, 4]
    assert shown[1][0] == f"{md('Released *2017* to 2018')}, published 1 March 2021: 90 participants and 4,000 matched people."
    assert "published 28 September 2023" in shown[0][0]
    assert set(shown[1][1]["jdl_verdict"]) <= {"Significant reduction", "Significant increase", "No significant difference"}


def test_without_the_extract_the_overview_says_so(monkeypatch, sample_copy):
    (sample_copy / "reoffending.parquet").unlink()
    at = start(monkeypatch, data_dir=sample_copy)
    assert any("No reoffending analysis is loaded" in i.value for i in at.info)


def test_the_campaign_page_and_the_funder_report_carry_the_programmes_results(monkeypatch, sample_db):
    at = open_page(start(monkeypatch, session_state={"view_as": "funder"}), "app_pages/campaign.py")
    assert [d.value for d in at.dataframe if "Matched comparison" in d.value.columns]
    campaigns = sample_db.query("campaigns", viewer=FUNDER).set_index("campaign_id")
    for campaign_id, campaign in campaigns.iterrows():
        impact = funding.campaign_impact(lambda name, **p: sample_db.query(name, viewer=FUNDER, **p),
                                         campaign.to_dict() | {"campaign_id": campaign_id}, 12)
        results = sample_db.query("reoffending", viewer=FUNDER, programme=campaign["programme"])
        document = report.funder_report_html(impact, "synthetic sample", True, reoffending=results)
        text = re.sub(r"<script.*?</script>", "", document, flags=re.S)  # the inlined chart library aside
        assert not re.search(r"\bnan\b|\bNone\b", text)  # a campaign without a match funder says so
        assert not re.search(r"\bnan\b", funding.headline(impact))
        if campaign["programme"] == "the_conversation":
            assert "a significant reduction in proven reoffending" in document and "18,930 matched people" in document
        else:
            assert "No reoffending analysis of the programme is loaded" in document


def test_power_matches_r_power_prop_test():
    """R's own examples (?power.prop.test): power.prop.test(n = 50, p1 = .50, p2 = .75) gives power
    0.7401659; power.prop.test(p1 = .50, p2 = .75, power = .90) gives n = 76.7."""
    from dashboard import stats

    assert stats.power_prop_test(50, 0.50, 0.75) == pytest.approx(0.7401659, abs=1e-7)
    assert stats.n_for_power(0.50, 0.75, 0.90) == pytest.approx(76.7, abs=0.05)
    # with equal groups, the smallest detectable difference is power.prop.test solved for p1
    n = stats.n_for_power(0.50, 0.75, 0.90)
    assert stats.smallest_detectable_difference(n, n, 0.75, 0.90) == pytest.approx(0.25, abs=1e-3)
    # larger groups detect smaller differences
    assert stats.smallest_detectable_difference(2000, 2000, 0.45) < stats.smallest_detectable_difference(200, 2000, 0.45)


def test_the_page_says_what_the_published_groups_could_detect(sample_db, raw):
    from dashboard import stats

    results = sample_db.query("reoffending", viewer=FUNDER, programme="the_conversation")
    said = analysis.reoffending_detectable(results)
    rate = raw("reoffending").set_index("measure").loc["proven_reoffending_rate"]
    smallest = stats.smallest_detectable_difference(int(rate["treatment_n"]), int(rate["comparison_n"]), rate["comparison_value"] / 100)
    assert f"a fall of at least {smallest * 100:.1f} percentage points from {rate['comparison_value']:.1f}%" in said
    needed = stats.n_for_power(rate["comparison_value"] / 100 - 0.05, rate["comparison_value"] / 100)
    assert stats.power_prop_test(needed, rate["comparison_value"] / 100 - 0.05, rate["comparison_value"] / 100) == pytest.approx(0.8)
    assert f"about {int(-(-needed // 1)):,} participants" in said
