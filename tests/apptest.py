"""Driving the app with Streamlit's AppTest, as a user would."""

import base64
import html
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from dashboard.pages import PAGE_TABLE
from dashboard.ui import FAILURE_MESSAGE

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DEFAULT_PAGE = "app_pages/overview.py"
TIMEOUT = 120


def page_files(role: str = "admin") -> list[str]:
    """The page scripts `role` may open, in navigation order, read from app.py's page map and the
    access rules (so a test never keeps its own list of pages)."""
    return [p.script for p in PAGE_TABLE if role in p.roles]


def check(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    # the app catches a page's error and shows a plain message instead: that is a failure too
    assert not any(FAILURE_MESSAGE in e.value for e in at.error), "a page failed: see the log for its traceback"
    return at


def start(monkeypatch, data_dir=None, query_params=None, session_state=None) -> AppTest:
    if data_dir is not None:
        monkeypatch.setenv("PRISON_DASHBOARD_DATA", str(data_dir))
    else:
        monkeypatch.delenv("PRISON_DASHBOARD_DATA", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    for key, value in (session_state or {}).items():
        at.session_state[key] = value
    return check(at.run())


def rerun(at: AppTest) -> AppTest:
    """Run again after a widget change, as the browser does."""
    return check(at.run())


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    return check(at.run())


# Pages drawn in lazy tabs (filters.page_tabs): the link key that holds the open tab, and the tabs in order.
PAGE_TABS = {p.script: (p.tabs.key, list(p.tabs.labels)) for p in PAGE_TABLE if p.tabs}  # the pages drawn in tabs


def each_tab(at: AppTest, page: str):
    """The page just opened, then each of its later tabs in turn (a lazy tab is drawn only when
    opened): (tab label or "", the AppTest drawn with it)."""
    key, tabs = PAGE_TABS.get(page, ("", [""]))
    yield tabs[0], at
    for tab in tabs[1:]:
        at.session_state[key] = tab
        yield tab, rerun(at)


def open_section(at: AppTest, label: str) -> AppTest:
    """Open a tab of a page drawn in tabs (`filters.page_tabs`, link key `section`), as a click on it
    does: it chooses the tab and writes it into the link."""
    at.session_state["section"] = at.query_params["section"] = label
    return rerun(at)


def rendered(markdown: str) -> str:
    """Markdown text as the reader sees it: outside values are written with character references
    and zero-width spaces (dashboard/text.py), which the browser shows as the plain characters."""
    return html.unescape(markdown).replace("\u200b", "")


def warnings_shown(at: AppTest) -> list[str]:
    return [rendered(w.value) for w in at.warning]


def metric(at: AppTest, label: str) -> str:
    (found,) = [m for m in at.metric if m.label == label]
    return found.value


def plotly_figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def figures_titled(at: AppTest, title: str) -> dict:
    """The one chart on the page whose title contains `title`."""
    (figure,) = [f for f in plotly_figures(at) if title in str(f["layout"].get("title", {}).get("text", ""))]
    return figure


def trace_values(values) -> list[float]:
    """A trace's x or y as numbers, whether plain or in plotly's typed-array encoding."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return [float(v) for v in values]
