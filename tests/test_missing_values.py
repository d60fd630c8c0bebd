"""Nowhere does a reader see `nan`, `None` or `NaT` where a figure belongs: every page as every role,
on the whole period and on a short one (where intervals, rates and comparisons run out), shows a
dash or a reason instead. Checked on what the page sends: text elements, table cells and the
placeholder tables show for a missing value, chart titles, names and text, and no chart drawn empty."""

import re

import numpy as np
import pandas as pd
import pytest

from dashboard.sample_data import PUBLISHED_ONLY_PRISONS
from dashboard.ui import MISSING
from tests.apptest import open_page, page_files, plotly_figures, rendered, start, trace_values
from tests.test_roles import ROLES

MISSING_WORDS = re.compile(r"(?<![\w-])(nan|NaN|None|NaT|null|inf)(?![\w-])")
VIEWS = {
    "whole period": {},
    "three months": {"from": "2024-01", "to": "2024-03"},
    "a prison known only from published figures": {"prison": PUBLISHED_ONLY_PRISONS[0][0]},
}


def points(trace) -> np.ndarray:
    """The numbers a trace draws: y (x for a horizontal chart such as the forest plot; z for a heatmap)."""
    found = []
    for axis in ("z",) if trace.get("type") == "heatmap" else ("x", "y"):
        values = trace.get(axis)
        if isinstance(values, dict):
            found += trace_values(values)
        elif values is not None:
            found += pd.to_numeric(pd.Series(np.ravel(np.asarray(values, dtype=object))), errors="coerce").tolist()
    numbers = pd.to_numeric(pd.Series(found, dtype=object), errors="coerce").to_numpy(dtype=float)
    return numbers


def texts(at) -> list[str]:
    shown = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "success", "error"):
        shown += [rendered(str(e.value)) for e in getattr(at, kind)]
    for m in at.metric:
        shown += [str(m.label), str(m.value)]
    for figure in plotly_figures(at):
        shown.append(str(figure["layout"].get("title", {}).get("text", "")))
        for trace in figure["data"]:
            shown.append(str(trace.get("name", "")))
            text = trace.get("text")
            if isinstance(text, list):
                shown += [str(t) for t in text]
    return shown


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_shows_a_missing_value_as_a_word(monkeypatch, role, view):
    at = start(monkeypatch, query_params=VIEWS[view], session_state={"view_as": ROLES[role]})
    for page in page_files(ROLES[role].split(":")[0]):
        at = open_page(at, page)
        found = [t for t in texts(at) if MISSING_WORDS.search(t)]
        assert not found, (page, found[:3])
        for figure in plotly_figures(at):  # no empty chart: some trace draws a finite value
            assert any(np.isfinite(points(trace)).any() for trace in figure["data"]), (page, figure["layout"].get("title"))
        for table in at.dataframe:
            assert table.proto.placeholder == MISSING, (page, list(table.value.columns))
            cells = table.value.astype(str).where(table.value.notna(), "")
            words = cells.apply(lambda column: column.str.fullmatch(MISSING_WORDS.pattern))
            assert not words.any().any(), (page, cells[words.any(axis=1)].head(3).to_dict("records"))
