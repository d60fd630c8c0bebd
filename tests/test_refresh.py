"""A careless refresh while sessions are open: every table replaced in every way a refresh can fail
keeps the last good version (the loader, and pages as every open session sees them); data whose
months move leaves the widgets working; an emptied or shrunken table is flagged; a figure whose
inputs lost rows says so; nobody sees a traceback or a server path."""

import os

import pandas as pd
import pytest

from dashboard import disclosure
from dashboard.contract import MODELS, MODELS_BY_TABLE
from dashboard.database import open_database
from dashboard.ui import FAILURE_MESSAGE
from tests.apptest import open_page, page_files, rerun, start

PAGES = page_files()


def touch_later(path):
    """A rewrite within the same clock tick must still change the modification time."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def _rewrite(path, frame):
    frame.to_parquet(path, index=False)
    touch_later(path)


def half_written(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def not_parquet(path):
    path.write_bytes(b"PAR1 this is not a parquet file")


def removed(path):
    path.unlink()


def key_column_gone(path):
    """A required column renamed by an export: every row is rejected."""
    frame = pd.read_parquet(path)
    model = MODELS_BY_TABLE[path.stem]
    _rewrite(path, frame.rename(columns={model.key[0]: model.key[0] + "_renamed"}))


def dates_as_text(path):
    """Every date written dd/mm/yyyy (the table's date column; the key column for tables without one)."""
    frame = pd.read_parquet(path)
    model = MODELS_BY_TABLE[path.stem]
    if model.date_column:
        frame[model.date_column] = pd.to_datetime(frame[model.date_column]).dt.strftime("%d/%m/%Y")
    else:
        frame = frame.drop(columns=[model.key[0]])
    _rewrite(path, frame)


def emptied(path):
    _rewrite(path, pd.read_parquet(path).iloc[:0])


FAILURES = [half_written, not_parquet, removed, key_column_gone, dates_as_text, emptied]


def break_every_table(folder, failure):
    for model in MODELS:
        failure(folder / f"{model.table}.parquet")


@pytest.mark.parametrize("failure", FAILURES, ids=[f.__name__ for f in FAILURES])
def test_every_table_broken_in_this_way_keeps_its_last_good_rows(sample_copy, failure):
    good = open_database(sample_copy)
    break_every_table(sample_copy, failure)
    reloaded = open_database(sample_copy, previous=good)
    for model in MODELS:
        table = reloaded.report.tables[model.table]
        assert table.state == "kept last good", (model.table, table.state)
        assert table.rows_loaded == good.report.tables[model.table].rows_loaded
        (rows,) = reloaded.con.execute(f'SELECT count(*) FROM "{model.table}"').fetchall()[0]
        assert rows == table.rows_loaded
        assert table.problems[0].rule == "kept last good"
        assert str(sample_copy) not in " ".join(p.message for p in table.problems), "a server path reached a message"


def test_an_unreadable_data_folder_keeps_every_table(sample_copy, monkeypatch):
    good = open_database(sample_copy)
    real_is_file = type(sample_copy).is_file

    def refused(path):  # what a folder the server's user may no longer read gives (root ignores chmod)
        if str(path).startswith(str(sample_copy)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_is_file(path)

    monkeypatch.setattr(type(sample_copy), "is_file", refused)
    reloaded = open_database(sample_copy, previous=good)
    assert {t.state for t in reloaded.report.tables.values()} == {"kept last good"}
    assert "Permission denied" in reloaded.report.tables["incidents"].problems[1].message
    # without a previous load the tables are unreadable, not an exception
    first = open_database(sample_copy)
    assert {t.state for t in first.report.tables.values()} == {"unreadable"}


def test_a_first_load_of_an_empty_extract_says_it_has_no_rows(sample_copy):
    emptied(sample_copy / "events.parquet")
    db = open_database(sample_copy)
    assert "the extract has no rows" in [p.message for p in db.report.tables["events"].problems]


def test_a_replacement_that_loses_most_rows_is_served_and_flagged(sample_copy):
    good = open_database(sample_copy)
    path = sample_copy / "donations.parquet"
    frame = pd.read_parquet(path)
    _rewrite(path, frame.iloc[: len(frame) // 4])
    reloaded = open_database(sample_copy, previous=good)
    table = reloaded.report.tables["donations"]
    assert table.state == "loaded" and table.rows_loaded == len(frame) // 4
    assert table.degraded and table.problems[0].rule == "rows fell sharply"


@pytest.mark.parametrize("failure", FAILURES, ids=[f.__name__ for f in FAILURES])
def test_open_sessions_keep_working_on_every_page_when_every_table_breaks(monkeypatch, sample_copy, failure):
    at = start(monkeypatch, data_dir=sample_copy)
    break_every_table(sample_copy, failure)
    for page in PAGES:  # open_page fails on an exception or the app's failure message
        at = open_page(at, page)
        shown = [e.value for kind in ("markdown", "caption", "warning", "info", "error") for e in getattr(at, kind)]
        # only an administrator's Data page names the folder the app reads
        assert not [text for text in shown if str(sample_copy) in text and not text.startswith("Reading **")]
    at = open_page(at, "app_pages/data.py")
    summary = at.dataframe[0].value.set_index("Extract")
    assert set(summary["Status"]) == {"kept last good"}
    # the pages that use a table say its figures come from an older version
    at = open_page(at, "app_pages/overview.py")
    assert any("incomplete data" in w.value and "newest extract could not be used" in w.value for w in at.warning)


def test_months_that_move_under_an_open_session_keep_the_period_filter_working(monkeypatch, sample_copy):
    at = start(monkeypatch, data_dir=sample_copy, query_params={"from": "2016-03", "to": "2018-06"})
    path = sample_copy / "wing_population.parquet"
    frame = pd.read_parquet(path)
    # the months come from wing and published populations: a rolling window drops a year from both
    published_path = sample_copy / "prison_population.parquet"
    published = pd.read_parquet(published_path)
    _rewrite(published_path, published[pd.to_datetime(published["month"]) >= "2019-01-01"])
    _rewrite(path, frame[pd.to_datetime(frame["month"]) >= "2017-01-01"])
    for page in PAGES:
        at = open_page(at, page)
    assert at.select_slider[0].value == (pd.Timestamp("2017-01-01").date(), pd.Timestamp("2018-06-01").date())
    assert "from" not in at.query_params and at.query_params["to"] == "2018-06"  # 2017-01 is now the first month
    # a window entirely before the data's months: the whole range, and the reader is told
    _rewrite(path, frame[pd.to_datetime(frame["month"]) >= "2019-01-01"])
    at = rerun(at)
    assert at.select_slider[0].value[0] == pd.Timestamp("2019-01-01").date()
    assert any("The data now covers" in i.value for i in at.info)


def test_rates_over_a_denominator_that_lost_rows_say_so_where_they_are_shown(monkeypatch, sample_copy):
    path = sample_copy / "wing_population.parquet"
    frame = pd.read_parquet(path)
    frame.loc[frame.index % 2 == 0, "average_population"] = -1.0  # half the months break a rule
    _rewrite(path, frame)
    at = start(monkeypatch, data_dir=sample_copy)
    (notice,) = [w.value for w in at.warning if "incomplete data" in w.value]
    assert "wing_population" in notice and "can be far too high" in notice
    rejected, read = int((frame["average_population"] < 0).sum()), len(frame)
    assert f"{rejected:,} of {read:,} rows" in notice
    # a funder sees those rows as counts are shown everywhere, or the exact figures would give rounded ones back
    funder = start(monkeypatch, data_dir=sample_copy, session_state={"view_as": "funder"})
    (notice,) = [w.value for w in funder.warning if "incomplete data" in w.value]
    assert f"{disclosure.shown_count(rejected)} of {disclosure.shown_count(read)} rows" in notice
    assert f"{read:,}" not in notice and f"{rejected:,}" not in notice  # the sample's 13,608 and 6,804: shown 13,610 and 6,805
    # a page whose figures do not use the table says nothing about it (a Good Prison Project campaign:
    # The Conversation's campaigns compare wings, so theirs do use it)
    at.query_params["campaign"] = "CAMP-2016-GPP"
    at = open_page(at, "app_pages/campaign.py")
    assert at.selectbox(key="campaign").value == "CAMP-2016-GPP"
    assert not [w for w in at.warning if "incomplete data" in w.value]
    at.selectbox(key="campaign").set_value("CAMP-2019-XMAS")
    at.run()
    assert [w for w in at.warning if "incomplete data" in w.value and "wing_population" in w.value]


def test_a_page_that_fails_shows_a_plain_message_and_no_traceback(monkeypatch, sample_copy):
    from dashboard import funding

    def broken(*args, **kwargs):
        raise RuntimeError(f"boom in {sample_copy}")

    monkeypatch.setattr(funding, "campaign_impact", broken)
    at = start(monkeypatch, data_dir=sample_copy)
    at.switch_page("app_pages/campaign.py").run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert FAILURE_MESSAGE in error and "boom" not in error and str(sample_copy) not in error
