"""Access: the access file, and scope enforced in the SQL of every named query, checked against
pandas over the same Parquet."""

import datetime as dt
import re

import pytest

from dashboard import access
from dashboard.access import ADMIN, AccessFileError, Viewer
from dashboard.contract import INCIDENT_TYPES, SURVEY_ITEMS
from dashboard.queries import query_names, query_parameters

GOVERNOR_WSI = Viewer(role="governor", prisons=("WSI",))
SDM_PRIYA = Viewer(role="sdm", sdm="Priya S.")  # runs cohorts at both WSI and PVI in the sample
FUNDER = Viewer(role="funder")
EVERY_PRISON_PARAMS = {
    "wing_ids": None,
    "period_start": dt.date(2016, 1, 1),
    "period_end": dt.date(2025, 1, 1),
    "sdm": None,
    "cohort_id": None,
    "role": None,
}


def test_every_query_filters_by_scope_or_is_declared_unscoped(sample_db):
    scoped = {name for name in query_names() if any(p.startswith("scope_") for p in query_parameters(name))}
    assert scoped.isdisjoint(access.UNSCOPED_QUERIES)
    assert set(query_names()) == scoped | set(access.UNSCOPED_QUERIES)
    values = {"campaign_id": "none", "period_start": dt.date(2016, 1, 1), "period_end": dt.date(2025, 1, 1),
              "incident_types": list(INCIDENT_TYPES), "serious_only": False,
              "window_starts": [dt.date(2016, 1, 1)], "window_ends": [dt.date(2025, 1, 1)], "programme": "the_conversation"}
    for name in access.UNSCOPED_QUERIES:  # none of them returns a wing, cohort or participant
        columns = sample_db.query(name, viewer=FUNDER, **{k: values[k] for k in query_parameters(name)}).columns
        assert not {"wing_id", "cohort_id", "participant_id"} & set(columns), name


def test_a_query_without_a_viewer_is_refused(sample_db):
    with pytest.raises(TypeError, match="viewer"):
        sample_db.query("prisons", viewer=None)


def test_the_viewer_scope_cannot_be_overridden_by_parameters(sample_db, raw):
    got = sample_db.query("wings", viewer=GOVERNOR_WSI, prison_ids=["PVI"], scope_prisons=None, scope_role="admin")
    assert got.empty


def test_sdm_names(sample_db, raw):
    cohorts = raw("cohorts")
    assert list(sample_db.query("sdm_names", viewer=ADMIN)["sdm"]) == sorted(cohorts["sdm"].unique())
    assert list(sample_db.query("sdm_names", viewer=GOVERNOR_WSI)["sdm"]) == sorted(cohorts.query("prison_id == 'WSI'")["sdm"].unique())
    assert list(sample_db.query("sdm_names", viewer=SDM_PRIYA)["sdm"]) == ["Priya S."]
    assert sample_db.query("sdm_names", viewer=FUNDER).empty


@pytest.mark.parametrize("name", ["cohort_list", "cohort_summary", "cancelled_workshops", "session_attendance"])
def test_cohort_detail_only_for_the_viewers_cohorts(sample_db, raw, name):
    cohorts = raw("cohorts")
    prisons = sorted(raw("prisons")["prison_id"])
    params = {**EVERY_PRISON_PARAMS, "prison_ids": prisons}
    expected = {
        ADMIN: set(cohorts["cohort_id"]),
        GOVERNOR_WSI: set(cohorts.query("prison_id == 'WSI'")["cohort_id"]),
        SDM_PRIYA: set(cohorts.query("sdm == 'Priya S.'")["cohort_id"]),
        FUNDER: set(),
    }
    for viewer, allowed in expected.items():
        got = set(sample_db.query(name, viewer=viewer, **params)["cohort_id"])
        assert got <= allowed, (viewer, got - allowed)
        if name in ("cohort_list", "cohort_summary"):
            assert got == allowed, viewer


def test_survey_items_and_likert_only_from_the_viewers_cohorts(sample_db, raw):
    prisons = sorted(raw("prisons")["prison_id"])
    params = {**EVERY_PRISON_PARAMS, "prison_ids": prisons}
    people = raw("participants").merge(raw("cohorts"), on="cohort_id")
    answers = raw("survey_responses").merge(people, on="participant_id")
    for viewer, rows in ((GOVERNOR_WSI, answers.query("prison_id == 'WSI'")), (SDM_PRIYA, answers.query("sdm == 'Priya S.'"))):
        likert = sample_db.query("likert_distribution", viewer=viewer, **params)
        assert likert["answers"].sum() == rows["wave"].isin(["pre", "post"]).sum()
        items = sample_db.query("survey_item_change", viewer=viewer, **params, later_wave="post", items=list(SURVEY_ITEMS))
        assert items.groupby("role")["participants"].first().sum() == people.loc[people["cohort_id"].isin(rows["cohort_id"])].shape[0]
    assert sample_db.query("likert_distribution", viewer=FUNDER, **params).empty
    assert sample_db.query("survey_item_change", viewer=FUNDER, **params, later_wave="post", items=list(SURVEY_ITEMS)).empty


def test_wing_rows_only_for_a_governors_own_prison(sample_db, raw):
    window = {"period_start": dt.date(2016, 1, 1), "period_end": dt.date(2025, 1, 1), "incident_types": list(INCIDENT_TYPES)}
    own = sample_db.query("wing_monthly_counts", viewer=GOVERNOR_WSI, prison_id="WSI", **window)
    assert set(own["wing_id"]) == set(raw("wings").query("prison_id == 'WSI'")["wing_id"])
    for viewer in (GOVERNOR_WSI, SDM_PRIYA, FUNDER):
        assert sample_db.query("wing_monthly_counts", viewer=viewer, prison_id="PVI", **window).empty, viewer
    assert set(sample_db.query("wings", viewer=GOVERNOR_WSI, prison_ids=["WSI", "PVI"])["prison_id"]) == {"WSI"}
    assert sample_db.query("wings", viewer=FUNDER, prison_ids=["WSI", "PVI"]).empty
    # cohort markers on the wing trends page
    assert set(sample_db.query("delivered_workshops", viewer=GOVERNOR_WSI, prison_id="WSI")["cohort_id"]) == set(
        raw("cohorts").query("prison_id == 'WSI'")["cohort_id"]) & set(raw("workshops").query("status == 'delivered'")["cohort_id"])
    assert sample_db.query("delivered_workshops", viewer=GOVERNOR_WSI, prison_id="PVI").empty


def test_a_wing_filter_outside_scope_counts_nothing(sample_db, raw):
    """Aggregates narrowed to a wing are wing-level detail: outside the viewer's prisons they count nothing."""
    params = {"prison_ids": ["PVI"], "wing_ids": ["PVI-B"], "period_start": dt.date(2016, 1, 1),
              "period_end": dt.date(2025, 1, 1), "incident_types": list(INCIDENT_TYPES)}
    admin = sample_db.query("incident_counts_by_type", viewer=ADMIN, **params)
    expected = raw("incidents").query("wing_id == 'PVI-B'").shape[0]
    assert admin["incidents"].sum() == expected > 0
    for viewer in (GOVERNOR_WSI, SDM_PRIYA, FUNDER):
        assert sample_db.query("incident_counts_by_type", viewer=viewer, **params)["incidents"].sum() == 0
        assert sample_db.query("incident_counts_monthly", viewer=viewer, **params).empty
        assert sample_db.query("overview_places", viewer=viewer, **params)["wings"].iloc[0] == 0
        assert sample_db.query("participants_by_role", viewer=viewer, **params).empty
        assert sample_db.query("overview_delivery", viewer=viewer, **params)["cohorts"].iloc[0] == 0
        assert (sample_db.query("survey_change_summary", viewer=viewer, **params)["pairs"] == 0).all()
    # without a wing filter the same viewers get the prison-level aggregate
    whole = {**params, "wing_ids": None}
    assert sample_db.query("incident_counts_by_type", viewer=FUNDER, **whole)["incidents"].sum() == raw("incidents").query("prison_id == 'PVI'").shape[0]


def test_rejected_rows_only_for_administrators(sample_copy):
    import pandas as pd

    from dashboard.database import open_database

    path = sample_copy / "participants.parquet"
    frame = pd.read_parquet(path)
    frame.loc[2, "role"] = "governor"
    frame.to_parquet(path, index=False)
    db = open_database(sample_copy)
    assert len(db.query("rejected_rows", viewer=ADMIN, table_name="participants", max_rows=10)) == 1
    for viewer in (GOVERNOR_WSI, SDM_PRIYA, FUNDER):
        assert db.query("rejected_rows", viewer=viewer, table_name="participants", max_rows=10).empty


# --- The access file ------------------------------------------------------------------------

def test_access_file_reads_roles_and_scopes(tmp_path):
    path = tmp_path / "access.toml"
    path.write_text(
        '[users."Jo.Governor@Justice.gov.uk"]\nrole = "governor"\nprisons = ["WSI", "PVI"]\n'
        '[users."amira@sparkinside.org.uk"]\nrole = "sdm"\nsdm = "Amira K."\n'
        '[users."funder@example.org"]\nrole = "funder"\n'
    )
    entries = access.read_access_file(path)
    jo = access.viewer_for("jo.governor@justice.gov.uk", entries)
    assert (jo.role, jo.prisons) == ("governor", ("WSI", "PVI"))
    assert access.viewer_for("amira@sparkinside.org.uk", entries).sdm == "Amira K."
    assert access.viewer_for("stranger@example.org", entries) is None
    assert access.viewer_for(None, entries) is None


@pytest.mark.parametrize("body, message", [
    ('[users."a@b.c"]\nrole = "governor"\n', "a governor needs `prisons`"),
    ('[users."a@b.c"]\nrole = "sdm"\n', "an sdm needs `sdm`"),
    ('[users."a@b.c"]\nrole = "funder"\nprisons = ["WSI"]\n', "only for governors"),
    ('[users."a@b.c"]\nrole = "king"\n', "users.'a@b.c'"),
    ('[users."a@b.c"]\nrole = "admin"\ncolour = "red"\n', "Extra inputs"),
    ('role = "admin"\n', "no [users] table"),
    ('[users\n', "is not valid TOML"),
])
def test_a_bad_access_file_names_what_is_wrong(tmp_path, body, message):
    path = tmp_path / "access.toml"
    path.write_text(body)
    with pytest.raises(AccessFileError, match=re.escape(message)):
        access.read_access_file(path)


def test_the_example_access_file_is_valid():
    entries = access.read_access_file(access.EXAMPLE_ACCESS_FILE)
    assert {e.role for e in entries.values()} == set(access.ROLES)
