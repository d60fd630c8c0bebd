"""The governors' computations on the sample: they find the effect the generator built in, and no
effect where there was none; and they agree with a plain pandas computation."""

import datetime as dt
import json

import pandas as pd
import pytest

from dashboard.access import ADMIN
from dashboard import analysis
from dashboard.contract import INCIDENT_TYPES
from dashboard.metrics import MEASURES

WHOLE_PERIOD = dict(period_start=dt.date(2016, 1, 1), period_end=dt.date(2025, 1, 1))


@pytest.fixture(scope="module")
def truth(sample_dir):
    return json.loads((sample_dir / "generator_truth.json").read_text())


def prison_data(sample_db, prison):
    counts = sample_db.query("wing_monthly_counts", viewer=ADMIN, prison_id=prison, **WHOLE_PERIOD, incident_types=list(INCIDENT_TYPES))
    cohorts = analysis.cohort_windows(sample_db.query("delivered_workshops", viewer=ADMIN, prison_id=prison))
    return counts, cohorts


@pytest.mark.parametrize("prison", ["WSI", "PVI"])
@pytest.mark.parametrize("measure", ["all_assaults", "use_of_force"])
def test_the_built_in_effect_shows_as_a_ratio_below_one(sample_db, truth, prison, measure):
    assert truth["programme_effect"]["incident_types"]["use_of_force"] < 1
    counts, cohorts = prison_data(sample_db, prison)
    result = analysis.pooled(analysis.before_after(analysis.wing_measure(counts, MEASURES[measure]), cohorts))
    assert result.upper < 1, result


@pytest.mark.parametrize("prison", ["WSI", "PVI"])
def test_an_unaffected_measure_shows_no_effect(sample_db, truth, prison):
    assert truth["programme_effect"]["incident_types"]["self_harm"] == 1
    counts, cohorts = prison_data(sample_db, prison)
    result = analysis.pooled(analysis.before_after(analysis.wing_measure(counts, MEASURES["self_harm"]), cohorts))
    assert result.lower < 1 < result.upper


@pytest.mark.parametrize("prison", ["WSI", "PVI"])
def test_wings_without_the_programme_show_no_effect_beyond_chance(sample_db, truth, prison):
    """Placebo: the cohorts' dates applied to each wing that never had a cohort."""
    counts, cohorts = prison_data(sample_db, prison)
    rates = analysis.wing_measure(counts, MEASURES["all_assaults"])
    untreated = [w for w in truth["programme_effect"]["non_programme_wings_in_programme_prisons"] if w.startswith(prison)]
    assert untreated and not set(untreated) & set(cohorts["wing_id"])
    for wing in untreated:
        result = analysis.pooled(analysis.before_after(rates, cohorts, wing_of=lambda _c, w=wing: w))
        assert result.lower < 1 < result.upper, (wing, result)


def test_one_cohort_before_and_after_matches_pandas(sample_db, raw):
    counts, cohorts = prison_data(sample_db, "WSI")
    table = analysis.before_after(analysis.wing_measure(counts, MEASURES["use_of_force"]), cohorts, 6, 6)
    row = table.dropna(subset=["ratio"]).iloc[2]
    # Independently: months, wings and incidents straight from the Parquet.
    first = pd.Timestamp(row["first_workshop"]).to_period("M").to_timestamp()
    last = pd.Timestamp(row["last_workshop"]).to_period("M").to_timestamp()
    before = (first - pd.DateOffset(months=6), first)
    after = (last + pd.DateOffset(months=1), last + pd.DateOffset(months=7))
    incidents = raw("incidents").query("prison_id == 'WSI' and incident_type == 'use_of_force'")
    occurred = pd.to_datetime(incidents["occurred_on"])
    population = raw("wing_population").merge(raw("wings").query("prison_id == 'WSI'"), on="wing_id")
    months = pd.to_datetime(population["month"])
    cohort_rows = raw("cohorts").query("prison_id == 'WSI'")
    workshops = raw("workshops").query("status == 'delivered'").merge(cohort_rows, on="cohort_id")
    delivered = pd.to_datetime(workshops["delivered_on"])
    busy = set(workshops[(delivered >= before[0]) & (delivered < after[1])]["wing_id"])
    others = set(population["wing_id"]) - busy - {row["wing_id"]}

    def rate(wings, window):
        n = ((occurred >= window[0]) & (occurred < window[1]) & incidents["wing_id"].isin(wings)).sum()
        years = population[(months >= window[0]) & (months < window[1]) & population["wing_id"].isin(wings)]["average_population"].sum() / 12
        return n / years

    expected = (rate({row["wing_id"]}, after) / rate({row["wing_id"]}, before)) / (rate(others, after) / rate(others, before))
    assert row["comparison_wings"] == len(others)
    assert row["ratio"] == pytest.approx(expected)
    assert row["wing_before_rate"] == pytest.approx(rate({row["wing_id"]}, before) * 1000)


def test_funnel_reference_and_positions(sample_db, raw):
    counts = sample_db.query("prison_counts", viewer=ADMIN, **WHOLE_PERIOD, **MEASURES["self_harm"].params())
    result = analysis.funnel(counts)
    incidents = raw("incidents").query("incident_type == 'self_harm'")
    years = raw("wing_population")["average_population"].sum() / 12
    assert result.reference_rate == pytest.approx(len(incidents) / years * 1000)
    wsi = result.table.set_index("prison_id").loc["WSI"]
    assert wsi["rate"] == pytest.approx((incidents["prison_id"] == "WSI").sum() / wsi["prisoner_years"] * 1000)
    assert wsi["ci_low"] < wsi["rate"] < wsi["ci_high"]
    widened = analysis.funnel(counts, widen_for_overdispersion=True)
    assert widened.phi > 1
    assert (widened.table["position"] == "within limits").sum() >= (result.table["position"] == "within limits").sum()


def test_wing_summary_matches_pandas(sample_db, raw):
    counts, _ = prison_data(sample_db, "PVI")
    summary = analysis.wing_summary(analysis.wing_measure(counts, MEASURES["self_harm"])).set_index("wing_id")
    incidents = raw("incidents").query("prison_id == 'PVI' and incident_type == 'self_harm' and wing_id == 'PVI-B'")
    recent = incidents[pd.to_datetime(incidents["occurred_on"]) >= "2024-01-01"]
    population = raw("wing_population").query("wing_id == 'PVI-B'")
    years = population[pd.to_datetime(population["month"]) >= "2024-01-01"]["average_population"].sum() / 12
    assert summary.loc["PVI-B", "incidents_latest_12_months"] == len(recent)
    assert summary.loc["PVI-B", "rate_latest_12_months"] == pytest.approx(len(recent) / years * 1000)
