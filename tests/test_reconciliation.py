"""A prison with both recorded incidents and published figures: the Data page sets them side by side
per period and type, and flags exactly the differences beyond rounding (the sample builds one)."""

import json

import pandas as pd
import pytest

from dashboard.access import ADMIN
from tests.apptest import open_page, rendered, start

DATA = "app_pages/data.py"


@pytest.fixture(scope="module")
def truth(sample_dir):
    return json.loads((sample_dir / "generator_truth.json").read_text())["reconciliation"]


def test_the_query_matches_pandas_and_finds_exactly_the_built_difference(sample_db, raw, truth):
    got = sample_db.query("published_reconciliation", viewer=ADMIN)
    prison = truth["prison_id"]
    assert set(got["prison_id"]) == {prison}  # prisons with both; published-only ones are not reconciled
    incidents = raw("incidents").query("prison_id == @prison")
    occurred = pd.to_datetime(incidents["occurred_on"])
    population = raw("wing_population").merge(raw("wings"), on="wing_id").query("prison_id == @prison")
    monthly = population.groupby(pd.to_datetime(population["month"]))["average_population"].sum()
    published = raw("prison_population").query("prison_id == @prison").set_index(pd.to_datetime(raw("prison_population").query("prison_id == @prison")["month"]))["population"]
    for row in got.itertuples():
        start, end = pd.Timestamp(row.period_start), pd.Timestamp(row.period_end)
        recorded = ((occurred >= start) & (occurred < end) & (incidents["incident_type"] == row.incident_type)).sum()
        assert row.recorded_incidents == recorded
        months = monthly[(monthly.index >= start) & (monthly.index < end)]
        assert row.recorded_population == pytest.approx(months.mean())
        assert row.recorded_rate == pytest.approx(recorded / (months.sum() / 12) * 1000)
        assert row.published_population == pytest.approx(published[(published.index >= start) & (published.index < end)].mean())
    flagged = got[got["flag"].notna()]
    expected = [(d["period_start"], d["incident_type"], d["published_minus_recorded"]) for d in truth["differences"]]
    assert [(pd.Timestamp(r.period_start).date().isoformat(), r.incident_type, r.difference) for r in flagged.itertuples()] == expected
    assert set(flagged["flag"]) == {"counts differ"}


@pytest.mark.parametrize("role, sees", [("admin", True), ("governor:WSI", True), ("governor:PVI", False), ("funder", False),
                                        ("sdm:Priya S.", False)])
def test_the_data_page_reconciles_for_the_prisons_governors(monkeypatch, truth, role, sees):
    at = open_page(start(monkeypatch, session_state={"view_as": role}), DATA)
    headings = [h.value for h in at.subheader]
    assert ("Published figures against recorded" in headings) == sees
    if not sees:
        return
    (table,) = [d.value for d in at.dataframe if "Published rate" in d.value.columns]
    (difference,) = truth["differences"]
    flagged = table[table["Check"] != "agrees"]
    assert list(flagged["Difference"]) == [difference["published_minus_recorded"]]
    assert list(flagged["Period"]) == ["12 months to March 2020"] and list(flagged["Incident type"]) == ["Self-harm"]
    summary = next(rendered(m.value) for m in at.markdown if "published figure" in m.value)
    assert f"{len(table) - 1} of {len(table)} published figures for HMP Wormwood Scrubs agree" in summary
    assert "self-harm, period from April 2019: counts differ" in summary
