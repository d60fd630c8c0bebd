"""Programme places and dates come from the `programme_sites` extract, never from code; without it
membership falls back to what cohorts and services show, and the coordinator-period comparison says
what it needs."""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dashboard import analysis
from dashboard.access import ADMIN
from dashboard.database import open_database
from tests.apptest import open_page, start

GPP_PAGE = "app_pages/good_prison_project.py"


def test_membership_is_read_from_programme_sites(sample_db, raw):
    sites = raw("programme_sites")
    prisons = sample_db.query("prisons", viewer=ADMIN).set_index("prison_id")
    for programme, flag in (("the_conversation", "runs_the_conversation"), ("good_prison_project", "runs_good_prison_project")):
        assert set(prisons.index[prisons[flag]]) == set(sites[sites["programme"] == programme]["prison_id"])


def test_a_site_declared_without_cohorts_is_a_programme_prison(sample_copy, raw):
    sites = raw("programme_sites")
    extra = pd.DataFrame([{"programme": "the_conversation", "prison_id": "DAI", "started_on": dt.date(2024, 6, 1),
                           "ended_on": None, "note": "first cohort booked"}])
    write(sample_copy, pd.concat([sites, extra], ignore_index=True))
    db = open_database(sample_copy)
    prisons = db.query("prisons", viewer=ADMIN).set_index("prison_id")
    assert prisons.at["DAI", "runs_the_conversation"] and prisons.at["DAI", "cohorts"] == 0
    # every view reads membership the same way (queries/rollups/prison_programmes.sql)
    counts = db.query("prison_counts", viewer=ADMIN, **analysis.window_params([(dt.date(2024, 1, 1), dt.date(2025, 1, 1))]),
                      incident_types=["self_harm"], serious_only=False).set_index("prison_id")
    for flag in ("runs_the_conversation", "runs_good_prison_project"):
        assert counts[flag].equals(prisons.loc[counts.index, flag])


def test_without_the_extract_membership_falls_back_to_cohorts_and_services(sample_copy, raw):
    (sample_copy / "programme_sites.parquet").unlink()
    db = open_database(sample_copy)
    assert db.report.tables["programme_sites"].state == "missing"
    prisons = db.query("prisons", viewer=ADMIN).set_index("prison_id")
    assert set(prisons.index[prisons["runs_the_conversation"]]) == set(raw("cohorts")["prison_id"])
    assert set(prisons.index[prisons["runs_good_prison_project"]]) == set(raw("services")["prison_id"])


def test_coordinator_periods_follow_the_extract(sample_db, raw):
    periods = analysis.coordinator_periods(sample_db.query("programme_sites", viewer=ADMIN))
    gpp = raw("programme_sites").query("programme == 'good_prison_project'")
    assert set(periods) == set(gpp["prison_id"])
    for site in gpp.itertuples():
        start = pd.Timestamp(site.started_on).to_period("M").to_timestamp()
        end = pd.Timestamp(site.ended_on).to_period("M").to_timestamp() + pd.DateOffset(months=1)
        assert periods[site.prison_id] == {
            "before": (start - pd.DateOffset(months=12), start), "during": (start, end),
            "after": (end, end + pd.DateOffset(months=12)),
        }


def test_the_good_prison_project_page_reads_its_dates_from_the_extract(monkeypatch, sample_copy, raw):
    sites = raw("programme_sites")
    moved = sites.copy()
    is_exeter = (moved["programme"] == "good_prison_project") & (moved["prison_id"] == "EXI")
    moved.loc[is_exeter, "started_on"] = dt.date(2018, 3, 5)
    moved.loc[is_exeter, "ended_on"] = dt.date(2019, 2, 20)
    write(sample_copy, moved)
    at = open_page(start(monkeypatch, data_dir=sample_copy, query_params={"section": "Safety"}), GPP_PAGE)
    caption = " ".join(c.value for c in at.caption)
    assert "from March 2018 to February 2019" in caption and "from September 2016 to October 2017" in caption
    (safety,) = [d.value for d in at.dataframe if "Ratio, during" in d.value.columns]
    names = raw("prisons").set_index("prison_id")["name"]
    assert set(safety["Prison"]) == set(names[["DAI", "EXI", "GMI"]])


def test_without_the_extract_the_page_says_what_the_comparison_needs(monkeypatch, sample_copy):
    (sample_copy / "programme_sites.parquet").unlink()
    at = open_page(start(monkeypatch, data_dir=sample_copy, query_params={"section": "Safety"}), GPP_PAGE)
    assert any("programme_sites" in c.value for c in at.caption)
    assert any("coordinator period from the `programme_sites` extract" in i.value for i in at.info)
    assert not [d for d in at.dataframe if "Ratio, during" in d.value.columns]


def test_an_end_before_the_start_is_rejected_by_row(sample_copy, raw):
    sites = raw("programme_sites")
    sites.loc[0, "ended_on"] = pd.Timestamp(sites.loc[0, "started_on"]).date() - dt.timedelta(days=1)
    write(sample_copy, sites)
    db = open_database(sample_copy)
    load = db.report.tables["programme_sites"]
    assert load.rows_rejected == 1
    assert any(p.column == "ended_on" and "on or after started_on" in p.message for p in db.report.problems)


def write(folder, sites: pd.DataFrame) -> None:
    schema = pa.schema([("programme", pa.string()), ("prison_id", pa.string()), ("started_on", pa.date32()),
                        ("ended_on", pa.date32()), ("note", pa.string())])
    pq.write_table(pa.Table.from_pandas(sites, schema=schema, preserve_index=False), folder / "programme_sites.parquet")


def test_overlapping_published_periods_are_rejected_with_every_row_involved(sample_copy, raw):
    counts = raw("prison_incident_counts")
    first = counts[(counts["prison_id"] == "BFI") & (counts["incident_type"] == "self_harm")].sort_values("period_start").iloc[:2]
    overlapping = first.iloc[[0]].assign(period_start=dt.date(2016, 2, 1))  # a quarter straddling the first two
    longer = first.iloc[[0]].assign(period_months=12)  # another length may overlap: a year and its quarters
    frame = pd.concat([counts, overlapping, longer], ignore_index=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sample_copy / "prison_incident_counts.parquet")
    table = open_database(sample_copy).report.tables["prison_incident_counts"]
    assert table.rows_rejected == 3
    (problem,) = table.problems
    assert problem.column == "period_start" and "overlaps another row's period" in problem.message
    assert sorted(int(r.split()[1]) for r in problem.sample_rows) == [
        int(i) + 1 for i in [*first.index, len(counts)]]  # the two quarters it straddles and itself; the year stays
