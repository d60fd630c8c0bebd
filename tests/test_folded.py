"""What is folded away is drawn only once it is opened (dashboard/ui.py::folded): a chart's data table,
a page's method notes and its SQL cost a shared link's first view nothing (no table grid or highlighter for the browser
to load before the first chart), yet the page's data download holds every table all the same, and
opening a fold shows exactly what it folds."""

import io
import zipfile

import pandas as pd

from dashboard import metrics
from dashboard.queries import query_sql
from tests.apptest import rerun, start

CHART_DATA = "The chart's data as a table"


def _expanders(at, label_start: str) -> list:
    return [e for e in at.expander if e.label.startswith(label_start)]


def test_a_charts_data_and_the_pages_sql_are_drawn_only_when_opened(monkeypatch):
    at = start(monkeypatch, query_params={"prison": "WSI"})
    (chart_fold,) = _expanders(at, CHART_DATA)  # the Overview's one chart (monthly incident rates)
    (sql_fold,) = _expanders(at, "The queries behind this page")
    (methods_fold,) = _expanders(at, "How were these figures made?")
    assert not list(chart_fold.get("dataframe")) and not list(sql_fold.get("code")) and not list(methods_fold.get("markdown"))
    tables = at.session_state["_page_tables"]
    assert "incidents_monthly" in tables  # in the page's data download, folded or not
    archive = zipfile.ZipFile(io.BytesIO(metrics.data_zip(tables, "Overview")))
    downloaded = pd.read_csv(archive.open("incidents_monthly.csv"))
    assert len(downloaded) == len(tables["incidents_monthly"]) > 0
    queries = list(at.session_state["_page_queries"])

    figures = [key for key in at.session_state["_page_figures"] if key in metrics.REGISTRY]

    # a reader opens the folds (Streamlit keeps a fold's state under its key): the page runs again
    # and draws the chart's data and the SQL of every query the page ran
    at.session_state["_chart_data_incidents_monthly_0"] = True
    at.session_state["_page_queries_open"] = True
    at.session_state["_page_methods_open"] = True
    at = rerun(at)
    (chart_fold,) = _expanders(at, CHART_DATA)
    (shown,) = [e.value for e in chart_fold.get("dataframe")]
    assert len(shown) == len(downloaded)
    (sql,) = [c.value for c in _expanders(at, "The queries behind this page")[0].get("code")]
    assert all(query_sql(name) in sql for name in queries) and queries
    (notes,) = [m.value for m in _expanders(at, "How were these figures made?")[0].get("markdown")]
    assert figures and all(f"**{metrics.figure(key).label}** · {metrics.figure(key).help}" in notes for key in figures)


def test_a_note_column_blank_in_every_row_is_not_drawn_and_the_data_keeps_it():
    from streamlit.testing.v1 import AppTest

    def script():
        import pandas as pd

        from dashboard import ui

        ui.table(pd.DataFrame({"prison": ["HMP A"], "note": [""]}), "blank_notes")
        ui.table(pd.DataFrame({"prison": ["HMP A", "HMP B"], "note": [None, "left out: too few months"]}), "some_notes")

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert [list(d.value.columns) for d in at.dataframe] == [["Prison"], ["Prison", "Note"]]
    assert "note" in at.session_state["_page_tables"]["blank_notes"].columns  # the page's data download keeps it
