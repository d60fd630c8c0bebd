"""Each kind of contract violation: reported with table, column and rows; the good rows still load."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from dashboard.contract import MODELS, TABLES, column_specs
from dashboard.database import open_database
from dashboard.loader import load_extracts


def load(data_dir):
    con = duckdb.connect()
    return con, load_extracts(con, data_dir)


def rewrite(data_dir, table, frame: pd.DataFrame):
    frame.to_parquet(data_dir / f"{table}.parquet", index=False)


def problems_for(report, table, column=None):
    return [p for p in report.tables[table].problems if column is None or p.column == column]


def test_sample_loads_clean(sample_db, raw):
    report = sample_db.report
    assert [p for p in report.problems if p.severity == "error"] == []
    for table in TABLES:
        loaded = report.tables[table]
        assert loaded.state == "loaded", table
        assert loaded.rows_loaded == len(raw(table)) > 0, table
        assert loaded.rows_rejected == 0


def test_clean_tables_have_contract_types(sample_db):
    for model in MODELS:
        described = dict(sample_db.con.execute(f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{model.table}' AND schema_name = 'main'").fetchall())
        assert described == {s.name: s.sql_type for s in column_specs(model)}


# (table, column, how to break some rows, rule words expected in the problem)
def _wrong_type(frame):
    frame = frame.astype({"score": "object"})
    frame.loc[[3, 10], "score"] = "five"
    return frame.astype({"score": "str"}), [3, 10]


def _null_required(frame):
    frame = frame.astype({"serious": "object"})
    frame.loc[[0, 7], "serious"] = None
    return frame, [0, 7]


def _out_of_domain(frame):
    frame.loc[[2], "incident_type"] = "riot"
    return frame, [2]


def _below_minimum(frame):
    frame.loc[[5, 6], "average_population"] = -3.0
    return frame, [5, 6]


def _not_first_of_month(frame):
    frame.loc[[1], "month"] = pd.Timestamp("2016-02-15")
    return frame, [1]


def _required_when(frame):
    delivered = frame.index[frame["status"] == "delivered"][:2]
    frame.loc[delivered, "delivered_on"] = pd.NaT
    return frame, list(delivered)


def _score_above_max(frame):
    frame.loc[[4], "score"] = 6
    return frame, [4]


def _empty_id(frame):
    frame.loc[[9], "participant_id"] = "  "
    return frame, [9]


CASES = {
    "wrong type": ("survey_responses", "score", _wrong_type, "not a valid int"),
    "null in a required column": ("incidents", "serious", _null_required, "missing value"),
    "value outside its domain": ("incidents", "incident_type", _out_of_domain, "not an allowed value"),
    "number below its minimum": ("wing_population", "average_population", _below_minimum, "below the minimum"),
    "number above its maximum": ("survey_responses", "score", _score_above_max, "above the maximum"),
    "date not the first of a month": ("wing_population", "month", _not_first_of_month, "first day of a month"),
    "required when delivered": ("workshops", "delivered_on", _required_when, "required when status is 'delivered'"),
    "empty id": ("participants", "participant_id", _empty_id, "empty text"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_row_level_violation(case, sample_copy, raw):
    table, column, corrupt, words = CASES[case]
    original = raw(table)
    broken, bad_index = corrupt(original.copy())
    rewrite(sample_copy, table, broken)
    _, report = load(sample_copy)
    loaded = report.tables[table]
    assert loaded.rows_rejected >= len(bad_index)
    found = [p for p in problems_for(report, table, column) if words in p.message]
    assert found, [p.message for p in loaded.problems]
    problem = found[0]
    assert problem.rows == len(bad_index)
    # Rows are named by their 1-based position in the file.
    assert {f"row {i + 1} " for i in bad_index} <= {s.split("(")[0] for s in problem.sample_rows}
    assert loaded.rows_loaded + loaded.rows_rejected == len(original)


def test_duplicate_key_rejects_every_copy(sample_copy, raw):
    prisons = raw("incidents")
    duplicated = pd.concat([prisons, prisons.iloc[[10]]], ignore_index=True)
    rewrite(sample_copy, "incidents", duplicated)
    _, report = load(sample_copy)
    (problem,) = [p for p in problems_for(report, "incidents") if p.rule == "duplicate key"]
    assert problem.column == "incident_id" and problem.rows == 2
    assert {"row 11 ", f"row {len(duplicated)} "} == {s.split("(")[0] for s in problem.sample_rows}
    assert report.tables["incidents"].rows_loaded == len(prisons) - 1


def test_orphan_reference_and_its_cascade(sample_copy, raw):
    cohorts = raw("cohorts")
    cohorts.loc[0, "wing_id"] = "NOWHERE-Z"
    rewrite(sample_copy, "cohorts", cohorts)
    con, report = load(sample_copy)
    (problem,) = problems_for(report, "cohorts", "wing_id")
    assert "not a wing of this prison" in problem.message and problem.rows == 1
    # The rejected cohort's workshops and participants point nowhere now, and say so.
    lost_cohort = cohorts.loc[0, "cohort_id"]
    workshops = raw("workshops")
    expected = int((workshops["cohort_id"] == lost_cohort).sum())
    assert report.tables["workshops"].rows_rejected == expected
    assert report.tables["workshops"].rows_loaded == len(workshops) - expected


def test_wing_of_another_prison_is_rejected(sample_copy, raw):
    incidents = raw("incidents")
    wings = raw("wings")
    row = incidents.index[incidents["wing_id"].notna()][0]
    other = wings.loc[wings["prison_id"] != incidents.loc[row, "prison_id"], "wing_id"].iloc[0]
    incidents.loc[row, "wing_id"] = other
    rewrite(sample_copy, "incidents", incidents)
    _, report = load(sample_copy)
    (problem,) = problems_for(report, "incidents", "wing_id")
    assert problem.rows == 1 and f"row {row + 1} " in problem.sample_rows[0]


def test_attendance_participant_from_another_cohort(sample_copy, raw):
    attendance, participants, workshops = raw("attendance"), raw("participants"), raw("workshops")
    cohort_of_workshop = workshops.set_index("workshop_id")["cohort_id"]
    first = attendance.iloc[0]
    stranger = participants.loc[participants["cohort_id"] != cohort_of_workshop[first["workshop_id"]], "participant_id"].iloc[0]
    attendance.loc[0, "participant_id"] = stranger
    rewrite(sample_copy, "attendance", attendance)
    _, report = load(sample_copy)
    messages = [p.message for p in problems_for(report, "attendance")]
    assert any("not in the workshop's cohort" in m for m in messages), messages
    assert report.tables["attendance"].rows_rejected == 1


def test_campaign_closing_before_it_opens(sample_copy, raw):
    campaigns = raw("campaigns")
    campaigns.loc[0, "closes_at"] = campaigns.loc[0, "opens_at"] - pd.Timedelta(hours=1)
    rewrite(sample_copy, "campaigns", campaigns)
    _, report = load(sample_copy)
    (problem,) = problems_for(report, "campaigns", "closes_at")
    assert "must be after opens_at" in problem.message
    # Its donations now point to no valid campaign.
    assert report.tables["donations"].rows_rejected == int((raw("donations")["campaign_id"] == campaigns.loc[0, "campaign_id"]).sum())


def test_missing_required_column_rejects_rows_and_says_so_once(sample_copy, raw):
    rewrite(sample_copy, "events", raw("events").drop(columns=["connections_made"]))
    _, report = load(sample_copy)
    (problem,) = problems_for(report, "events", "connections_made")
    assert problem.rule == "missing column" and problem.rows == len(raw("events"))
    assert report.tables["events"].rows_loaded == 0


def test_missing_optional_column_is_a_warning(sample_copy, raw):
    rewrite(sample_copy, "cohorts", raw("cohorts").drop(columns=["cost_gbp"]))
    con, report = load(sample_copy)
    (problem,) = problems_for(report, "cohorts", "cost_gbp")
    assert problem.severity == "warning"
    assert report.tables["cohorts"].rows_loaded == len(raw("cohorts"))


def test_extra_columns_are_ignored(sample_copy, raw):
    rewrite(sample_copy, "prisons", raw("prisons").assign(governor_notes="x"))
    _, report = load(sample_copy)
    assert report.tables["prisons"].extra_columns == ["governor_notes"]
    assert report.tables["prisons"].state == "loaded"


def test_missing_table_leaves_the_rest_working(sample_copy, raw):
    (sample_copy / "testimonials.parquet").unlink()
    con, report = load(sample_copy)
    assert report.tables["testimonials"].state == "missing"
    assert "no testimonials.parquet" in report.tables["testimonials"].problems[0].message
    assert con.execute("SELECT count(*) FROM testimonials").fetchone() == (0,)
    assert report.tables["incidents"].rows_loaded == len(raw("incidents"))


def test_unreadable_file_is_reported(sample_copy, raw):
    (sample_copy / "referrals.parquet").write_bytes(b"this is not parquet at all" * 10)
    con, report = load(sample_copy)
    assert report.tables["referrals"].state == "unreadable"
    assert "referrals.parquet" in report.tables["referrals"].problems[0].message
    assert report.tables["services"].state == "loaded"


def test_folder_of_partitioned_files(sample_copy, raw):
    incidents = raw("incidents")
    (sample_copy / "incidents.parquet").unlink()
    folder = sample_copy / "incidents"
    for year, part in incidents.groupby(pd.to_datetime(incidents["occurred_on"]).dt.year):
        (folder / f"year={year}").mkdir(parents=True)
        part.to_parquet(folder / f"year={year}" / "part-0.parquet", index=False)
    con, report = load(sample_copy)
    assert report.tables["incidents"].rows_loaded == len(incidents)
    assert report.tables["incidents"].extra_columns == ["year"]
    assert len(report.tables["incidents"].files) == incidents["occurred_on"].astype(str).str[:4].nunique()


def test_one_corrupt_file_in_a_folder_loses_only_that_file(sample_copy, raw):
    donations = raw("donations")
    (sample_copy / "donations.parquet").unlink()
    folder = sample_copy / "donations"
    folder.mkdir()
    half = len(donations) // 2
    donations.iloc[:half].to_parquet(folder / "a.parquet", index=False)
    (folder / "b.parquet").write_bytes(b"truncated")
    _, report = load(sample_copy)
    loaded = report.tables["donations"]
    assert loaded.rows_loaded == half
    assert any("b.parquet" in p.message for p in loaded.problems)
    assert loaded.state == "loaded with problems"


def test_rejected_rows_keep_their_original_values(sample_copy, raw):
    incidents = raw("incidents")
    incidents.loc[2, "incident_type"] = "riot"
    rewrite(sample_copy, "incidents", incidents)
    con, _ = load(sample_copy)
    ((values, problems),) = con.execute(
        "SELECT row_values, problems FROM rejected_rows WHERE table_name = 'incidents'"
    ).fetchall()
    assert '"incident_type":"riot"' in values
    assert problems == ["incident_type: not an allowed value (riot)"]


@pytest.mark.parametrize("row", [
    {"wing_id": "WSI-A", "month": dt.date(2020, 1, 15), "average_population": 3.0},
    {"wing_id": "WSI-A", "month": dt.date(2020, 1, 1), "average_population": -1.0},
])
def test_pydantic_model_agrees_on_one_row(row):
    """The same rules, applied by the model to one row, reject what the loader rejects."""
    from pydantic import ValidationError

    from dashboard.contract import WingPopulation

    with pytest.raises(ValidationError):
        WingPopulation.model_validate(row)


# --- Partitions whose columns differ, and dates from time-zone-aware timestamps ------------------


def _partitioned_incidents(folder, raw, drop_in_2020: str):
    """incidents as hive partitions by year; the 2020 partition lacks `drop_in_2020`."""
    (folder / "incidents.parquet").unlink()
    frame = raw("incidents")
    years = pd.to_datetime(frame["occurred_on"]).dt.year
    for year in sorted(years.unique()):
        part = frame[years == year]
        if year == 2020:
            part = part.drop(columns=[drop_in_2020])
        target = folder / "incidents" / f"year={year}"
        target.mkdir(parents=True)
        part.to_parquet(target / "part-0.parquet", index=False)
    return frame, years


def test_a_partition_lacking_an_optional_column_is_reported_and_read_as_empty(sample_copy, raw):
    frame, years = _partitioned_incidents(sample_copy, raw, drop_in_2020="wing_id")
    db = open_database(sample_copy)
    table = db.report.tables["incidents"]
    (problem,) = [p for p in table.problems if p.rule == "files differ"]
    assert problem.column == "wing_id" and "1 of 9 files lack this column (incidents/year=2020/part-0.parquet)" in problem.message
    assert "read it as empty" in problem.message and str(sample_copy) not in problem.message
    assert table.rows_loaded == len(frame)  # nothing rejected: the column is optional
    (empty,) = db.con.execute(
        "SELECT count(*) FROM incidents WHERE wing_id IS NULL AND year(occurred_on) = 2020").fetchall()[0]
    assert empty == int((years == 2020).sum())


def test_a_partition_lacking_a_required_column_says_its_rows_are_rejected(sample_copy, raw):
    frame, years = _partitioned_incidents(sample_copy, raw, drop_in_2020="serious")
    table = open_database(sample_copy).report.tables["incidents"]
    (problem,) = [p for p in table.problems if p.rule == "files differ"]
    assert problem.column == "serious" and "rejected as missing a required value" in problem.message
    assert table.rows_rejected == int((years == 2020).sum())


@pytest.mark.parametrize("utc, london_day", [
    ("2024-03-30 23:30", "2024-03-30"),  # GMT, the night before the clocks go forward: the same day
    ("2024-03-31 23:30", "2024-04-01"),  # BST: 00:30 on 1 April in London
    ("2024-10-26 23:30", "2024-10-27"),  # BST, the last night of summer time
    ("2024-10-27 23:30", "2024-10-27"),  # GMT again: the same day
])
def test_a_time_zone_aware_timestamp_in_a_date_column_is_its_calendar_date_in_london(sample_copy, raw, utc, london_day):
    frame = raw("incidents").head(50).copy()
    frame["occurred_on"] = pd.Timestamp(utc, tz="UTC")
    frame.to_parquet(sample_copy / "incidents.parquet", index=False)
    db = open_database(sample_copy)
    (days,) = db.con.execute("SELECT list(DISTINCT occurred_on) FROM incidents").fetchall()[0]
    assert [str(d) for d in days] == [london_day]
    (note,) = [p for p in db.report.tables["incidents"].problems if p.rule == "column type"]
    assert "calendar date in Europe/London" in note.message


def test_a_time_zone_aware_timestamp_in_a_timestamp_column_keeps_its_instant(sample_copy, raw):
    frame = raw("donations")
    frame["donated_at"] = pd.to_datetime(frame["donated_at"]).dt.tz_convert("Europe/London")
    frame.to_parquet(sample_copy / "donations.parquet", index=False)
    db = open_database(sample_copy)
    loaded = db.con.execute("SELECT donation_id, donated_at FROM donations ORDER BY donation_id").df()
    expected = raw("donations").sort_values("donation_id")
    assert (loaded["donated_at"].to_numpy() == pd.to_datetime(expected["donated_at"]).dt.tz_localize(None).to_numpy()).all()
    # an instant is exact in any zone: nothing was guessed, so there is nothing to report
    assert not [p for p in db.report.tables["donations"].problems if p.rule == "column type"]
