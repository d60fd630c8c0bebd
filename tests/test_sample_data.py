"""The synthetic sample: deterministic, committed as generated, within the contract, realistic."""

import json
from datetime import date

import pandas as pd
import pytest

from dashboard.contract import TABLES
from dashboard.sample_data import DEFAULT_SEED, generate

SMALL = dict(n_comparison_prisons=2, start=date(2018, 1, 1), end=date(2019, 12, 31))


def read_all(folder):
    return {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}


def test_same_seed_same_data(tmp_path):
    generate(tmp_path / "a", seed=7, **SMALL)
    generate(tmp_path / "b", seed=7, **SMALL)
    a, b = read_all(tmp_path / "a"), read_all(tmp_path / "b")
    for table in TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], obj=table)
        assert (tmp_path / "a" / f"{table}.parquet").read_bytes() == (tmp_path / "b" / f"{table}.parquet").read_bytes()


def test_another_seed_other_data(tmp_path):
    generate(tmp_path / "a", seed=7, **SMALL)
    generate(tmp_path / "b", seed=8, **SMALL)
    assert not read_all(tmp_path / "a")["incidents"].equals(read_all(tmp_path / "b")["incidents"])


def test_committed_sample_is_what_the_generator_makes(tmp_path, sample_dir):
    generate(tmp_path, seed=DEFAULT_SEED)
    fresh, committed = read_all(tmp_path), read_all(sample_dir)
    for table in TABLES:
        pd.testing.assert_frame_equal(fresh[table], committed[table], obj=table)
    assert json.loads((tmp_path / "generator_truth.json").read_text()) == json.loads((sample_dir / "generator_truth.json").read_text())


def test_sample_is_small_and_marked_synthetic(sample_dir):
    assert sum(f.stat().st_size for f in sample_dir.iterdir()) < 10 * 1024 * 1024
    assert json.loads((sample_dir / "manifest.json").read_text())["synthetic"] is True


def test_places_and_period(raw):
    prisons = raw("prisons")
    assert {"WSI", "PVI", "EXI", "DAI", "GMI"} <= set(prisons["prison_id"])
    assert len(prisons) - 5 >= 15
    population = raw("wing_population")
    months = population.groupby("wing_id")["month"].agg(["min", "max", "count"])
    assert (months["count"] == 108).all()
    assert set(months.index) == set(raw("wings")["wing_id"])
    assert str(population["month"].min())[:10] == "2016-01-01" and str(population["month"].max())[:10] == "2024-12-01"


def test_keys_unique_and_references_resolve(raw):
    assert raw("incidents")["incident_id"].is_unique
    assert not raw("survey_responses").duplicated(["participant_id", "wave", "item"]).any()
    wings = raw("wings").set_index("wing_id")["prison_id"]
    incidents = raw("incidents").dropna(subset=["wing_id"])
    assert (incidents["wing_id"].map(wings) == incidents["prison_id"]).all()
    workshops = raw("workshops").set_index("workshop_id")["cohort_id"]
    participants = raw("participants").set_index("participant_id")["cohort_id"]
    attendance = raw("attendance")
    assert (attendance["workshop_id"].map(workshops) == attendance["participant_id"].map(participants)).all()


def test_programme_shape(raw):
    cohorts = raw("cohorts")
    assert {"WSI", "PVI"} <= set(cohorts["prison_id"])
    assert pd.to_datetime(cohorts["start_date"]).min().year == 2017
    statuses = set(raw("workshops")["status"])
    assert statuses == {"delivered", "cancelled", "rescheduled"}
    assert set(raw("participants")["role"]) == {"prisoner", "staff"}
    assert set(raw("survey_responses")["wave"]) == {"pre", "post", "follow_up"}
    testimonials = raw("testimonials")
    assert testimonials["consent_to_publish"].sum() == 3 and (~testimonials["consent_to_publish"]).sum() >= 1
    campaign = raw("campaigns").set_index("campaign_id").loc["CAMP-2019-XMAS"]
    assert campaign["champion"] == "CHK Charities Limited"
    assert str(campaign["opens_at"]) == "2019-12-03 12:00:00+00:00"
    donations = raw("donations")
    assert donations.loc[donations["campaign_id"] == "CAMP-2019-XMAS", "matched_gbp"].sum() <= campaign["match_pledged_gbp"]
    assert set(raw("services")["prison_id"]) == {"DAI", "EXI", "GMI"}


@pytest.mark.parametrize("incident_types, low, high", [
    (["self_harm"], 300, 1200),
    (["assault_on_staff", "prisoner_on_prisoner_assault"], 200, 900),
    (["use_of_force"], 400, 1500),
])
def test_rates_are_realistic(raw, incident_types, low, high):
    incidents = raw("incidents")
    prisoner_years = raw("wing_population")["average_population"].sum() / 12
    rate = incidents["incident_type"].isin(incident_types).sum() / prisoner_years * 1000
    assert low < rate < high


def test_volume_and_prisons_scale_the_data(tmp_path):
    small = generate(tmp_path / "a", **SMALL)["row_counts"]
    bigger = generate(tmp_path / "b", **{**SMALL, "n_comparison_prisons": 8}, volume=2.0)["row_counts"]
    assert bigger["prisons"] == small["prisons"] + 6
    assert bigger["incidents"] > 2.5 * small["incidents"]
    assert bigger["cohorts"] > 1.5 * small["cohorts"]
