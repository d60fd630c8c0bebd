"""Fast restarts: a second start over the same extracts opens the kept, validated database file
read-only and answers exactly as a fresh validation does; changed extracts, a changed contract or a
corrupt or foreign file are validated again, never trusted."""

import datetime as dt
import threading

import duckdb
import pandas as pd
import pytest

from dashboard import cache
from dashboard.access import ADMIN, Viewer
from dashboard.database import extracts_fingerprint, open_database

QUERIES = {
    "prisons": {},
    "rejected_rows": {"table_name": "incidents", "max_rows": 50},
    "incident_counts_by_type": {"prison_ids": ["WSI", "PVI"], "wing_ids": None, "period_start": dt.date(2019, 1, 1),
                                "period_end": dt.date(2020, 1, 1), "incident_types": ["self_harm", "use_of_force"]},
    "funded_delivery": {"period_start": dt.date(2019, 12, 10), "period_end": dt.date(2020, 12, 10)},
    "survey_change_summary": {"prison_ids": ["WSI"], "wing_ids": None, "period_start": dt.date(2016, 1, 1),
                              "period_end": dt.date(2025, 1, 1)},
}


WINGS_OF_PVI = {"prison_id": "PVI", "period_start": dt.date(2016, 1, 1), "period_end": dt.date(2025, 1, 1),
                "incident_types": ["self_harm", "use_of_force", "assault_on_staff", "prisoner_on_prisoner_assault"]}


def _saved(folder) -> None:
    """Wait for the cache writer the last validation started."""
    for thread in threading.enumerate():
        if thread.name == "extracts-cache":
            thread.join()


@pytest.fixture
def extracts(sample_copy, tmp_path, monkeypatch, raw):
    """A copy of the sample with two bad rows (so the report has problems and rejected rows) and a cache
    folder of its own."""
    monkeypatch.setenv("PRISON_DASHBOARD_CACHE", str(tmp_path / "cache"))
    incidents = raw("incidents")
    incidents.loc[[3, 9], "incident_type"] = "not_a_type"
    incidents.to_parquet(sample_copy / "incidents.parquet", index=False)
    return sample_copy


def _answers(db) -> dict:
    return {name: db.query(name, viewer=ADMIN, **params) for name, params in QUERIES.items()}


def test_a_restart_opens_the_kept_file_read_only_and_answers_as_a_validation_does(extracts):
    fresh = open_database(extracts)
    _saved(extracts)
    key = cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve()))
    assert cache.cache_path(key).is_file()
    kept = open_database(extracts)
    with pytest.raises(duckdb.Error):  # read-only: nothing can change it
        kept.con.execute("CREATE TABLE scribble AS SELECT 1")
    assert kept.report.seconds == fresh.report.seconds  # the report kept, not a new validation
    for name, load in fresh.report.tables.items():
        again = kept.report.tables[name]
        assert (again.state, again.rows_loaded, again.rows_rejected, again.date_min, again.date_max, again.files, again.problems) == (
            load.state, load.rows_loaded, load.rows_rejected, load.date_min, load.date_max, load.files, load.problems), name
    assert kept.report.tables["incidents"].rows_rejected == 2
    assert len(_answers(kept)["rejected_rows"]) == 2
    for name, frame in _answers(fresh).items():
        pd.testing.assert_frame_equal(_answers(kept)[name], frame, check_dtype=False, obj=name)


def test_changed_extracts_are_validated_again(extracts, raw):
    open_database(extracts)
    _saved(extracts)
    prisons = raw("prisons")
    prisons.loc[0, "name"] = "HMP Renamed"
    prisons.to_parquet(extracts / "prisons.parquet", index=False)
    again = open_database(extracts)
    assert "HMP Renamed" in set(again.query("prisons", viewer=ADMIN)["name"])
    _saved(extracts)
    assert len(list(cache.cache_dir().glob("extracts-*.duckdb"))) == 2


@pytest.mark.parametrize("spoil", ["garbage", "half", "foreign"])
def test_a_corrupt_half_written_or_foreign_file_is_rebuilt_never_trusted(extracts, sample_dir, spoil):
    open_database(extracts)
    _saved(extracts)
    path = cache.cache_path(cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve())))
    if spoil == "garbage":
        path.write_bytes(b"not a database at all" * 100)
    elif spoil == "half":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:  # another set of extracts' file under this name: its stored key gives it away
        open_database(sample_dir)
        _saved(sample_dir)
        other = cache.cache_path(cache.cache_key(sample_dir.resolve(), extracts_fingerprint(sample_dir.resolve())))
        path.write_bytes(other.read_bytes())
    db = open_database(extracts)
    assert db.report.tables["incidents"].rows_rejected == 2  # these extracts, validated again
    _saved(extracts)
    assert cache.open_cached(cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve()))) is not None


def test_a_changed_contract_or_loader_makes_every_old_file_a_stranger(extracts, monkeypatch):
    before = cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve()))
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)
    assert cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve())) != before


def test_an_older_table_served_over_a_failed_one_is_not_kept(extracts):
    first = open_database(extracts)
    _saved(extracts)
    (extracts / "wings.parquet").write_bytes(b"PAR1 cut short")
    served = open_database(extracts, previous=first)
    assert served.report.tables["wings"].state == "kept last good"
    _saved(extracts)
    key = cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve()))
    assert not cache.cache_path(key).exists()  # it depends on what this process saw before, not on the files


def _rename_first_prison_keeping_size_and_time(folder) -> str:
    """Replace prisons.parquet (written uncompressed) with one whose first prison's name differs by one
    letter, written the same way, then put the file's modification time back: only the content differs."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "prisons.parquet"
    table = pq.read_table(path)
    before = path.stat()
    names = table.column("name").to_pylist()
    names[0] = names[0][:-1] + ("X" if names[0][-1] != "X" else "Y")
    index = table.schema.get_field_index("name")
    field = table.schema.field(index)
    pq.write_table(table.set_column(index, field, pa.array(names, type=field.type)), path, compression="none", use_dictionary=False)
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    return names[0], before


def test_an_extract_replaced_by_one_of_the_same_size_and_time_is_validated_again(extracts):
    import pyarrow.parquet as pq

    path = extracts / "prisons.parquet"
    pq.write_table(pq.read_table(path), path, compression="none", use_dictionary=False)  # the file the app first sees is the uncompressed one
    open_database(extracts)
    _saved(extracts)
    size_and_time = [f[:3] for f in extracts_fingerprint(extracts.resolve())]
    renamed, _ = _rename_first_prison_keeping_size_and_time(extracts)
    assert [f[:3] for f in extracts_fingerprint(extracts.resolve())] == size_and_time  # name, size, modification time alike
    again = open_database(extracts)  # as a fresh process would: no previous load
    assert renamed in set(again.query("prisons", viewer=ADMIN)["name"])


@pytest.mark.parametrize("tamper", [
    "CREATE OR REPLACE MACRO can_see_wings(prison_id, scope_prisons) AS TRUE",
    "CREATE OR REPLACE MACRO can_see_cohort(prison_id, sdm, scope_prisons, scope_sdm) AS TRUE",
    "CREATE MACRO extra_rule(x) AS x",
    "CREATE VIEW main.scribble AS SELECT 1 AS one",
])
def test_a_kept_file_whose_scope_rules_were_edited_is_never_trusted(extracts, tamper):
    governor = Viewer(role="governor", prisons=("WSI",))
    honest = open_database(extracts).query("wing_monthly_counts", viewer=governor, **WINGS_OF_PVI)
    _saved(extracts)
    (kept,) = cache.cache_dir().glob("extracts-*.duckdb")
    con = duckdb.connect(str(kept))
    con.execute(tamper)
    con.close()
    assert cache.open_cached(cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve()))) is None
    again = open_database(extracts)
    assert again.query("wing_monthly_counts", viewer=governor, **WINGS_OF_PVI).equals(honest)


def test_the_untouched_kept_file_is_used(extracts):  # the control: the check above can pass
    open_database(extracts)
    _saved(extracts)
    assert cache.open_cached(cache.cache_key(extracts.resolve(), extracts_fingerprint(extracts.resolve()))) is not None
