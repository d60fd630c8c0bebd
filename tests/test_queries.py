"""Every named query against an independent pandas computation over the same Parquet."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard import analysis
from dashboard.access import ADMIN, Viewer
from dashboard.contract import INCIDENT_TYPES
from dashboard.queries import query_names, query_parameters
from tests.independent import in_period, published_figures

PARAMETER_SETS = {
    "everything": dict(prison_ids=None, wing_ids=None, period_start=dt.date(2016, 1, 1), period_end=dt.date(2025, 1, 1)),
    "one prison, two years": dict(prison_ids=["WSI"], wing_ids=None, period_start=dt.date(2019, 1, 1), period_end=dt.date(2021, 1, 1)),
    "two prisons, some wings": dict(prison_ids=["WSI", "PVI"], wing_ids=["WSI-A", "WSI-B", "PVI-C"], period_start=dt.date(2018, 4, 1), period_end=dt.date(2023, 10, 1)),
}


@pytest.fixture(params=list(PARAMETER_SETS), ids=list(PARAMETER_SETS))
def params(request, raw):
    chosen = dict(PARAMETER_SETS[request.param])
    if chosen["prison_ids"] is None:
        chosen["prison_ids"] = sorted(raw("prisons")["prison_id"])
    return chosen


def day(value) -> pd.Timestamp:
    return pd.Timestamp(value)


def in_places(frame, p, prison_col="prison_id", wing_col="wing_id"):
    keep = frame[prison_col].isin(p["prison_ids"])
    if p["wing_ids"] is not None:
        keep &= frame[wing_col].isin(p["wing_ids"])
    return frame[keep]


def chosen_cohorts(raw, p):
    return in_period(in_places(raw("cohorts"), p), "start_date", p)


def test_every_query_has_an_independent_check():
    """Each named query is run by name in a test here or in a page test that compares with pandas."""
    from pathlib import Path

    tests = " ".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    unchecked = [name for name in query_names() if f'query("{name}"' not in tests]
    assert not unchecked, unchecked


def test_prisons(sample_db, raw):
    got = sample_db.query("prisons", viewer=ADMIN).set_index("prison_id")
    prisons = raw("prisons").set_index("prison_id")
    assert sorted(got.index) == sorted(prisons.index)
    assert (got["name"] == prisons.loc[got.index, "name"]).all()
    assert set(got.index[got["runs_the_conversation"]]) == set(raw("cohorts")["prison_id"])
    assert (got["cohorts"] == raw("cohorts")["prison_id"].value_counts().reindex(got.index, fill_value=0)).all()
    assert set(got.index[got["runs_good_prison_project"]]) == set(raw("services")["prison_id"])


def test_wings(sample_db, raw, params):
    got = sample_db.query("wings", viewer=ADMIN, **params)
    wings = raw("wings")
    wings = wings[wings["prison_id"].isin(params["prison_ids"])]
    cohorts = raw("cohorts")["wing_id"].value_counts()
    assert sorted(got["wing_id"]) == sorted(wings["wing_id"])
    assert (got.set_index("wing_id")["cohorts"] == cohorts.reindex(got["wing_id"]).fillna(0).astype(int).values).all()


def test_data_period(sample_db, raw):
    got = sample_db.query("data_period", viewer=ADMIN).iloc[0]
    months = pd.to_datetime(pd.concat([raw("wing_population")["month"], raw("prison_population")["month"]]))
    assert got["first_month"] == months.min() and got["last_month"] == months.max()


def test_overview_places(sample_db, raw, params):
    got = sample_db.query("overview_places", viewer=ADMIN, **params).iloc[0]
    wings = in_places(raw("wings"), params)
    assert got["wings"] == len(wings)
    assert got["prisons"] == wings["prison_id"].nunique()


def test_overview_delivery(sample_db, raw, params):
    got = sample_db.query("overview_delivery", viewer=ADMIN, **params).iloc[0]
    cohorts = chosen_cohorts(raw, params)
    workshops = raw("workshops")
    workshops = workshops[workshops["cohort_id"].isin(cohorts["cohort_id"])]
    sessions = workshops.assign(delivered=workshops["status"] == "delivered").groupby(["cohort_id", "session_number"])["delivered"].any()
    assert got["cohorts"] == len(cohorts)
    assert got["sessions_planned"] == len(sessions)
    assert got["sessions_delivered"] == int(sessions.sum())
    assert got["workshops_rescheduled"] == int((workshops["status"] == "rescheduled").sum())
    assert got["workshops_cancelled"] == int((workshops["status"] == "cancelled").sum())


def test_participants_by_role(sample_db, raw, params):
    got = sample_db.query("participants_by_role", viewer=ADMIN, **params).set_index("role")["participants"]
    participants = raw("participants")
    expected = participants[participants["cohort_id"].isin(chosen_cohorts(raw, params)["cohort_id"])]["role"].value_counts()
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()


def expected_incidents(raw, p):
    incidents = in_period(raw("incidents"), "occurred_on", p)
    incidents = incidents[incidents["prison_id"].isin(p["prison_ids"])]
    if p["wing_ids"] is not None:
        incidents = incidents[incidents["wing_id"].isin(p["wing_ids"])]
    population = raw("wing_population").merge(raw("wings"), on="wing_id")
    population = in_period(in_places(population, p), "month", p)
    return incidents, population


def test_incident_counts_by_type(sample_db, raw, params):
    got = sample_db.query("incident_counts_by_type", viewer=ADMIN, **params, incident_types=list(INCIDENT_TYPES)).set_index("incident_type")
    incidents, population = expected_incidents(raw, params)
    assert list(got.index) == sorted(INCIDENT_TYPES)
    counts = incidents["incident_type"].value_counts().reindex(got.index, fill_value=0)
    serious = incidents[incidents["serious"]]["incident_type"].value_counts().reindex(got.index, fill_value=0)
    assert (got["incidents"] == counts).all()
    assert (got["serious_incidents"] == serious).all()
    assert np.allclose(got["prisoner_years"], population["average_population"].sum() / 12)


def test_incident_counts_monthly(sample_db, raw, params):
    got = sample_db.query("incident_counts_monthly", viewer=ADMIN, **params, incident_types=list(INCIDENT_TYPES))
    incidents, population = expected_incidents(raw, params)
    months = population.groupby(pd.to_datetime(population["month"]))["average_population"].sum() / 12
    counts = incidents.groupby([pd.to_datetime(incidents["occurred_on"]).dt.to_period("M").dt.to_timestamp(), "incident_type"]).size()
    assert len(got) == len(months) * len(INCIDENT_TYPES)
    for row in got.sample(n=min(60, len(got)), random_state=1).itertuples():
        assert row.incidents == counts.get((row.month, row.incident_type), 0)
        assert row.prisoner_years == pytest.approx(months[row.month])
    assert got["incidents"].sum() == len(incidents)


def test_survey_change_summary(sample_db, raw, params):
    got = sample_db.query("survey_change_summary", viewer=ADMIN, **params)
    participants = raw("participants")
    participants = participants[participants["cohort_id"].isin(chosen_cohorts(raw, params)["cohort_id"])]
    answers = raw("survey_responses")
    answers = answers[answers["participant_id"].isin(participants["participant_id"]) & answers["wave"].isin(["pre", "post"])]
    wide = answers.pivot_table(index=["participant_id", "item"], columns="wave", values="score").reindex(columns=["pre", "post"]).dropna()
    change = (wide["post"] - wide["pre"]).groupby("participant_id").mean()
    people = participants.set_index("participant_id").join(change.rename("change"))
    for role, group in [(None, people), *people.groupby("role")]:
        row = got[got["role"].isna()] if role is None else got[got["role"] == role]
        assert len(row) == 1
        row = row.iloc[0]
        assert row["participants"] == len(group)
        assert row["pairs"] == group["change"].notna().sum()
        if row["pairs"]:
            assert row["mean_change"] == pytest.approx(group["change"].mean())
        if row["pairs"] > 1:
            assert row["sd_change"] == pytest.approx(group["change"].std(ddof=1))


def test_rejected_rows(sample_copy, raw):
    from dashboard.database import open_database

    participants = raw("participants")
    participants.loc[[1, 4], "role"] = "governor"
    participants.to_parquet(sample_copy / "participants.parquet", index=False)
    db = open_database(sample_copy)
    got = db.query("rejected_rows", viewer=ADMIN, table_name="participants", max_rows=10)
    assert list(got["source_row"]) == [2, 5]
    assert got["problems"].str.contains("role: not an allowed value \\(governor\\)").all()
    assert len(db.query("rejected_rows", viewer=ADMIN, table_name="participants", max_rows=1)) == 1


def test_queries_bind_parameters_and_never_format_them():
    for name in query_names():
        from dashboard.queries import query_text

        text = query_text(name)
        assert "{" not in text and "%s" not in text, name
    assert "prison_ids" in query_parameters("overview_places")


def test_unknown_query_and_missing_parameter(sample_db):
    from dashboard.queries import UnknownQuery

    with pytest.raises(UnknownQuery):
        sample_db.query("../secrets", viewer=ADMIN)
    with pytest.raises(TypeError, match="prison_ids"):
        sample_db.query("overview_places", viewer=ADMIN, wing_ids=None)


def test_wing_monthly_counts(sample_db, raw, params):
    prison = params["prison_ids"][0]
    window = {k: params[k] for k in ("period_start", "period_end")}
    got = sample_db.query("wing_monthly_counts", viewer=ADMIN, prison_id=prison, **window, incident_types=list(INCIDENT_TYPES))
    wings = raw("wings")
    population = in_period(raw("wing_population").merge(wings[wings["prison_id"] == prison], on="wing_id"), "month", params)
    assert len(got) == len(population) * len(INCIDENT_TYPES)
    incidents = in_period(raw("incidents"), "occurred_on", params)
    incidents = incidents[(incidents["prison_id"] == prison) & incidents["wing_id"].notna()].copy()
    incidents["month"] = pd.to_datetime(incidents["occurred_on"]).dt.to_period("M").dt.to_timestamp()
    expected = incidents.groupby(["wing_id", "month", "incident_type"]).agg(n=("incident_id", "size"), serious=("serious", "sum"))
    indexed = got.assign(month=pd.to_datetime(got["month"])).set_index(["wing_id", "month", "incident_type"])
    aligned = expected.join(indexed, how="left")
    assert (aligned["n"] == aligned["incidents"]).all()
    assert (aligned["serious"] == aligned["serious_incidents"]).all()
    assert got["incidents"].sum() == len(incidents)
    per_wing_month = got.groupby(["wing_id", "month"])["average_population"].first()
    assert per_wing_month.sum() == pytest.approx(population["average_population"].sum())


def test_delivered_workshops(sample_db, raw):
    got = sample_db.query("delivered_workshops", viewer=ADMIN, prison_id="PVI")
    workshops = raw("workshops").merge(raw("cohorts"), on="cohort_id")
    expected = workshops[(workshops["prison_id"] == "PVI") & (workshops["status"] == "delivered")]
    assert len(got) == len(expected)
    assert set(got["cohort_id"]) == set(expected["cohort_id"])
    assert (pd.to_datetime(got["delivered_on"]).sort_values().values == pd.to_datetime(expected["delivered_on"]).sort_values().values).all()


def check_prison_counts(got, raw, types, serious_only, start, end):
    """One window's `prison_counts` rows against pandas over the Parquet."""
    window = {"period_start": start, "period_end": end}
    incidents = in_period(raw("incidents"), "occurred_on", window)
    incidents = incidents[incidents["incident_type"].isin(types) & (incidents["serious"] | (not serious_only))]
    population = in_period(raw("wing_population").merge(raw("wings"), on="wing_id"), "month", window)
    years = population.groupby("prison_id")["average_population"].sum() / 12
    recorded = got[got["source"] == "recorded"]
    counts = incidents["prison_id"].value_counts().reindex(recorded.index, fill_value=0)
    assert (recorded["incidents"] == counts).all()
    assert np.allclose(recorded["prisoner_years"], years.reindex(recorded.index))
    assert set(recorded.index) == set(years.index)
    published = got[got["source"] == "published"]
    # a prison with wing populations is recorded even where it also has published figures (the Data
    # page reconciles the two)
    assert set(published.index) == set(raw("prison_incident_counts")["prison_id"]) - set(recorded.index)
    for prison, row in published.iterrows():
        expected = published_figures(raw, prison, types, serious_only, start, end)
        if expected is None:
            assert pd.isna(row["incidents"]) and pd.isna(row["prisoner_years"]) and "do not cover" in row["note"]
        else:
            assert row["incidents"] == expected[0] and row["prisoner_years"] == pytest.approx(expected[1])
            assert pd.isna(row["note"])


@pytest.mark.parametrize("types, serious_only", [(["self_harm"], False), (["assault_on_staff", "prisoner_on_prisoner_assault"], True)])
def test_prison_counts(sample_db, raw, params, types, serious_only):
    window = analysis.window_params([(params["period_start"], params["period_end"])])
    got = sample_db.query("prison_counts", viewer=ADMIN, **window, incident_types=types, serious_only=serious_only).set_index("prison_id")
    check_prison_counts(got, raw, types, serious_only, params["period_start"], params["period_end"])


def test_prison_counts_over_several_windows(sample_db, raw):
    """Quarters, a year to March and overlapping windows in one call: each window's rows are what a
    call for that window alone would give (checked against pandas)."""
    windows = [*analysis.quarter_windows(dt.date(2019, 11, 1), dt.date(2020, 10, 1)),
               (dt.date(2019, 4, 1), dt.date(2020, 4, 1)), (dt.date(2019, 1, 1), dt.date(2021, 1, 1))]
    assert [w[0].month for w in windows[:3]] == [1, 4, 7]  # whole quarters only: the part-quarter in 2019 is left out
    got = sample_db.query("prison_counts", viewer=ADMIN, **analysis.window_params(windows), incident_types=["use_of_force"], serious_only=False)
    assert len(got.groupby(["window_start", "window_end"])) == len(windows)
    for (start, end), rows in got.groupby(["window_start", "window_end"]):
        check_prison_counts(rows.set_index("prison_id"), raw, ["use_of_force"], False, pd.Timestamp(start).date(), pd.Timestamp(end).date())
    by_source = got.groupby(["prison_id", "window_start"])["note"].first()
    assert by_source.loc[("NMI", pd.Timestamp("2019-04-01"))] is None or pd.isna(by_source.loc[("NMI", pd.Timestamp("2019-04-01"))])
    assert "do not cover" in by_source.loc[("NMI", pd.Timestamp("2020-01-01"))]  # a quarter cannot split a year to March


COHORT_PAGE = dict(sdm=None, cohort_id=None, role=None)


def cohort_scope(raw, p, sdm=None, cohort_id=None):
    cohorts = chosen_cohorts(raw, p)
    if sdm:
        cohorts = cohorts[cohorts["sdm"] == sdm]
    if cohort_id:
        cohorts = cohorts[cohorts["cohort_id"] == cohort_id]
    return cohorts


def test_cohort_list(sample_db, raw, params):
    got = sample_db.query("cohort_list", viewer=ADMIN, **params)
    assert list(got["cohort_id"]) == list(chosen_cohorts(raw, params).sort_values(["start_date", "cohort_id"])["cohort_id"])


@pytest.mark.parametrize("sdm,role", [(None, None), ("Priya S.", None), (None, "staff")])
def test_cohort_summary(sample_db, raw, params, sdm, role):
    got = sample_db.query("cohort_summary", viewer=ADMIN, **params, **{**COHORT_PAGE, "sdm": sdm, "role": role}).set_index("cohort_id")
    cohorts = cohort_scope(raw, params, sdm=sdm)
    assert set(got.index) == set(cohorts["cohort_id"])
    workshops = raw("workshops")
    people = raw("participants")
    if role:
        people = people[people["role"] == role]
    answers = raw("survey_responses").merge(people, on="participant_id")
    wide = answers.pivot_table(index=["cohort_id", "participant_id", "item"], columns="wave", values="score").reindex(columns=["pre", "post"])
    per_person = (wide["post"] - wide["pre"]).groupby(["cohort_id", "participant_id"]).mean().dropna()
    delivered = workshops[workshops["status"] == "delivered"]
    attendance = raw("attendance").merge(delivered, on="workshop_id").merge(people[["participant_id", "role"]], on="participant_id")
    assert got["pairs"].sum() == per_person.index.get_level_values("cohort_id").isin(cohorts["cohort_id"]).sum()
    for cohort in list(got.index)[:8]:
        mine = workshops[workshops["cohort_id"] == cohort]
        done = mine[mine["status"] == "delivered"]
        row = got.loc[cohort]
        assert row["sessions_planned"] == mine["session_number"].nunique()
        assert row["sessions_delivered"] == done["session_number"].nunique()
        assert row["workshops_cancelled"] == (mine["status"] == "cancelled").sum()
        if len(done):
            assert row["days_first_to_last"] == (pd.to_datetime(done["delivered_on"]).max() - pd.to_datetime(done["delivered_on"]).min()).days
        members = people[people["cohort_id"] == cohort]
        assert row["prisoners"] == (members["role"] == "prisoner").sum() and row["staff"] == (members["role"] == "staff").sum()
        changes = per_person[per_person.index.get_level_values("cohort_id") == cohort]
        assert row["pairs"] == len(changes)
        assert row["response_rate"] == pytest.approx(len(changes) / len(members))
        if len(changes):
            assert row["mean_change"] == pytest.approx(changes.mean())
        offered = attendance[attendance["cohort_id"] == cohort]
        if len(offered):
            assert row["attendance_rate"] == pytest.approx(offered["attended"].mean())


def test_cancelled_workshops(sample_db, raw, params):
    got = sample_db.query("cancelled_workshops", viewer=ADMIN, **params, **COHORT_PAGE)
    workshops = raw("workshops")
    expected = workshops[workshops["cohort_id"].isin(chosen_cohorts(raw, params)["cohort_id"]) & (workshops["status"] == "cancelled")]
    assert sorted(got["workshop_id"]) == sorted(expected["workshop_id"])
    assert got["cancellation_reason"].notna().all()


def test_cancellation_reasons(sample_db, raw):
    """Every reason the viewer may see, most frequent first (ties by name): an SDM, his cohorts' only."""
    daniel = Viewer(role="sdm", sdm="Daniel R.")  # his reasons come in another order than the programme's
    workshops = raw("workshops").merge(raw("cohorts")[["cohort_id", "sdm"]], on="cohort_id")
    for viewer, shown in ((ADMIN, workshops), (daniel, workshops[workshops["sdm"] == "Daniel R."])):
        counts = shown[shown["status"] == "cancelled"]["cancellation_reason"].value_counts()
        expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        got = sample_db.query("cancellation_reasons", viewer=viewer)
        assert list(zip(got["cancellation_reason"], got["workshops"])) == expected


@pytest.mark.parametrize("role", [None, "staff"])
def test_session_attendance(sample_db, raw, params, role):
    got = sample_db.query("session_attendance", viewer=ADMIN, **params, **{**COHORT_PAGE, "role": role})
    cohorts = chosen_cohorts(raw, params)["cohort_id"]
    delivered = raw("workshops").query("status == 'delivered'")
    delivered = delivered[delivered["cohort_id"].isin(cohorts)]
    attendance = raw("attendance").merge(delivered, on="workshop_id").merge(raw("participants")[["participant_id", "role"]], on="participant_id")
    if role:
        attendance = attendance[attendance["role"] == role]
    assert got["attended"].sum() == attendance["attended"].sum()
    if len(got):
        one = got.iloc[0]
        people = raw("participants").query("cohort_id == @one.cohort_id and role == @one.role")
        assert one["participants"] == len(people)


def test_survey_item_change(sample_db, raw, params):
    from dashboard.contract import SURVEY_ITEMS

    got = sample_db.query("survey_item_change", viewer=ADMIN, **params, **COHORT_PAGE, later_wave="follow_up", items=list(SURVEY_ITEMS))
    participants = raw("participants")
    participants = participants[participants["cohort_id"].isin(chosen_cohorts(raw, params)["cohort_id"])]
    answers = raw("survey_responses").merge(participants, on="participant_id")
    wide = answers.pivot_table(index=["participant_id", "role", "item"], columns="wave", values="score").reindex(columns=["pre", "follow_up"])
    change = (wide["follow_up"] - wide["pre"]).dropna().reset_index(name="change")
    assert len(got) == len(SURVEY_ITEMS) * participants["role"].nunique()
    for row in got.itertuples():
        mine = change[(change["item"] == row.item) & (change["role"] == row.role)]["change"]
        assert row.pairs == len(mine)
        assert row.participants == (participants["role"] == row.role).sum()
        if len(mine):
            assert row.mean_change == pytest.approx(mine.mean())


def test_likert_distribution(sample_db, raw, params):
    got = sample_db.query("likert_distribution", viewer=ADMIN, **params, **COHORT_PAGE)
    participants = raw("participants")
    participants = participants[participants["cohort_id"].isin(chosen_cohorts(raw, params)["cohort_id"])]
    answers = raw("survey_responses").merge(participants, on="participant_id")
    answers = answers[answers["wave"].isin(["pre", "post"])]
    assert got["answers"].sum() == len(answers)
    if len(got):
        first = got.iloc[0]
        assert first["answers"] == ((answers["item"] == first["item"]) & (answers["wave"] == first["wave"]) & (answers["score"] == first["score"])).sum()




def test_funded_prisons(sample_db, raw):
    window = {"period_start": dt.date(2019, 12, 10), "period_end": dt.date(2020, 12, 10)}
    got = sample_db.query("funded_prisons", viewer=ADMIN, **window)["prison_id"].tolist()
    cohorts = raw("cohorts")
    started = pd.to_datetime(cohorts["start_date"])
    assert got == sorted(cohorts.loc[(started >= "2019-12-10") & (started < "2020-12-10"), "prison_id"].unique())
    assert 0 < len(got) < cohorts["prison_id"].nunique()
