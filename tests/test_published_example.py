"""The bundled example of real figures (data/published_example): every row is a published figure, cited
in its source file with the words it was read in, and the dashboard loads it and says honestly what it
can and cannot compare with it."""

from pathlib import Path

import pandas as pd
import pytest

from dashboard.access import Viewer
from dashboard.database import open_database
from tests.apptest import open_page, rendered, start

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "published_example"
SOURCES = EXAMPLE / "sources"
ADMIN = Viewer(role="admin", prisons=None, sdm=None)


@pytest.fixture(scope="module")
def example_db():
    return open_database(EXAMPLE)


def test_it_loads_with_nothing_rejected(example_db):
    for table in ("prisons", "prison_incident_counts", "prison_population"):
        load = example_db.report.tables[table]
        assert load.available and load.rows_rejected == 0 and load.rows_loaded > 0, table


@pytest.mark.parametrize("table, figures", [("prison_incident_counts", ["incidents", "serious_incidents"]),
                                            ("prison_population", ["population"])])
def test_every_figure_is_cited_with_the_words_it_was_read_in(example_db, table, figures):
    cited = pd.read_csv(SOURCES / f"{table}.csv")
    loaded = example_db.con.execute(f"SELECT * FROM {table}").df()
    assert len(loaded) == len(cited)
    assert cited["source"].str.contains("http").all()  # a publication and where it was read
    for row in cited.itertuples():
        quote = row.verbatim_quote.replace(",", "")
        for figure in figures:
            value = getattr(row, figure)
            if pd.notna(value):
                assert f"{value:g}" in quote, (row.prison_id, figure, value, row.verbatim_quote)
    # what loaded is what is cited
    key = [c for c in loaded.columns if c in ("prison_id", "period_start", "period_months", "incident_type", "month")]
    merged = loaded.astype({k: str for k in key}).merge(cited.astype({k: str for k in key}), on=key, suffixes=("", "_cited"))
    assert len(merged) == len(loaded)
    for figure in figures:
        assert (merged[figure].fillna(-1).astype(float) == merged[f"{figure}_cited"].fillna(-1).astype(float)).all()


def test_prison_comparison_names_each_prison_and_why_its_figures_cannot_be_compared(monkeypatch, example_db):
    """Point-in-time populations do not cover a published count's months, so no rate can be made: the
    page says so, prison by prison, rather than compare them on an invented denominator."""
    at = open_page(start(monkeypatch, data_dir=EXAMPLE), "app_pages/prison_comparison.py")
    said = " ".join(rendered(i.value) for i in at.info)
    assert "nothing to compare" in said
    for name in example_db.query("prisons", viewer=ADMIN)["name"]:
        assert name in said
