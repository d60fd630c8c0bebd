"""The governors' pages as a user meets them: they run, and their figures match pandas."""


import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.apptest import figures_titled, open_page, open_section, plotly_figures, rendered, rerun, start, trace_values, warnings_shown
from tests.independent import published_figures

WING_TRENDS = "app_pages/wing_trends.py"
COMPARISON = "app_pages/prison_comparison.py"


def table_with(at, column):
    """The first table with `column` (a chart's data table may repeat a table shown beside it)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_wing_trends_for_a_prison_from_the_url(monkeypatch, raw):
    at = start(monkeypatch, query_params={"prison": "PVI", "measure": "self_harm"})
    at = open_page(at, WING_TRENDS)
    assert at.selectbox(key="measure").value == "self_harm"
    assert not [f for f in plotly_figures(at) if "ratio of changes" in f["layout"]["title"]["text"]]  # only the open tab is drawn
    wings = table_with(at, "SPC signal").set_index("Wing")
    incidents = raw("incidents").query("prison_id == 'PVI' and incident_type == 'self_harm' and wing_id == 'PVI-A'")
    recent = incidents[pd.to_datetime(incidents["occurred_on"]) >= "2024-01-01"]
    assert wings.loc["A Wing", "Incidents, last 12 months"] == len(recent)
    assert len(wings) == int((raw("wings")["prison_id"] == "PVI").sum())
    # a wing whose SPC signal reads against its change is named under the table, and only such a wing
    against = {w for w, row in wings.iterrows() if (row["SPC signal"] == "Concern" and not row["Change"] > 0)
               or (row["SPC signal"] == "Improvement" and not row["Change"] < 0)}
    assert against == {"H Wing"}  # the sample's: H Wing's concern in a year whose rate fell 1%
    notes = "".join(c.value for c in at.caption if "can differ" in c.value)
    assert {w for w in wings.index if f"{w}: " in notes} == against

    heatmap = figures_titled(at, "Monthly rate by wing")
    assert heatmap["data"][0]["type"] == "heatmap"
    spc = spc_figure(open_section(at, "Statistical process control"))
    chosen = at.selectbox(key="spc_wing").value  # read by the queries below  # noqa: F841
    population = raw("wing_population").query("wing_id == @chosen")
    counts = raw("incidents").query("wing_id == @chosen and incident_type == 'self_harm'")
    monthly = counts.groupby(pd.to_datetime(counts["occurred_on"]).dt.to_period("M")).size()
    rates = [monthly.get(pd.Timestamp(m).to_period("M"), 0) / (p / 12) * 1000 for m, p in zip(population["month"], population["average_population"])]
    (mean_trace,) = [t for t in spc["data"] if t.get("name") == "Mean"]
    assert trace_values(mean_trace["y"])[0] == pytest.approx(sum(rates) / len(rates))
    (ticks,) = [t for t in spc["data"] if t.get("name") == "Workshop delivered"]
    low = spc["layout"]["yaxis"]["range"][0]  # the workshops sit in a strip below zero, clear of a lower limit at 0
    assert all(low < y < 0 for y in trace_values(ticks["y"]))


def test_wing_trends_opens_the_section_a_link_names_and_refuses_one_it_does_not_have(monkeypatch):
    at = open_page(start(monkeypatch, query_params={"prison": "WSI", "section": "Statistical process control"}), WING_TRENDS)
    assert [s.value for s in at.subheader] == ["Is it more than noise? Statistical process control"]
    assert spc_figure(at)
    at = open_page(start(monkeypatch, query_params={"prison": "WSI", "section": "[x](https://example.org)"}), WING_TRENDS)
    assert any("section=[x](https://example.org)" in w for w in warnings_shown(at))
    assert figures_titled(at, "Monthly rate by wing")  # the first tab instead


def test_the_open_tab_is_in_the_audit_trail_and_names_the_data_download(monkeypatch, tmp_path):
    """Only the open tab is drawn, so its tables are what the page's download holds: the button says so."""
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(path))
    at = open_section(open_page(start(monkeypatch, query_params={"prison": "WSI"}), WING_TRENDS), "Statistical process control")
    views = [json.loads(line) for line in path.read_text().splitlines() if json.loads(line)["event"] == "page_view"]
    assert views[-1]["page"] == "wing-trends" and views[-1]["filters"]["section"] == "Statistical process control"
    assert views[-2]["filters"]["section"] == "Wings at a glance"
    labels = [button.proto.label for button in at.get("download_button")]
    assert "Download this tab's data, Statistical process control (ZIP of CSVs with a README)" in labels


def test_the_render_log_names_the_open_tab(monkeypatch, tmp_path):
    """Each tab is its own computation, so the log a replica is sized from names it (as its link does)."""
    log = tmp_path / "renders.tsv"
    monkeypatch.setenv("PRISON_DASHBOARD_RENDER_LOG", str(log))
    open_section(open_page(start(monkeypatch, query_params={"prison": "WSI"}), WING_TRENDS), "Statistical process control")
    pages = [line.split("\t")[1] for line in log.read_text().splitlines()]
    assert pages[0] == "overview" and pages[-1] == "wing-trends?section=Statistical process control"
    assert "wing-trends?section=Wings at a glance" in pages


def spc_figure(at) -> dict:
    (figure,) = [f for f in plotly_figures(at) if any(t.get("name") == "Mean" for t in f["data"])]
    return figure


def test_wing_trends_before_and_after_and_rebase(monkeypatch):
    at = start(monkeypatch, query_params={"prison": "WSI", "section": "The programme's effect"})
    at = open_page(at, WING_TRENDS)
    table = table_with(at, "Ratio of changes")
    assert len(table) == table["Cohort"].nunique() > 5
    assert table["Ratio of changes"].dropna().between(0.05, 20).all()
    compared = table.dropna(subset=["Ratio of changes"])
    answer = next(m.value for m in at.markdown if "cohorts compared" in m.value)
    assert f"Across the {len(compared)} cohorts compared" in answer
    forest = figures_titled(at, "Each cohort's ratio of changes")
    (one, pooled) = forest["data"]
    assert trace_values(one["x"]) == pytest.approx(compared["Ratio of changes"].tolist(), abs=0.005)  # the table as shown
    assert f"{trace_values(pooled['x'])[0]:.2f}" in answer
    # what it could detect follows from the pooled interval as printed: SE = log(upper / lower) / (2 × 1.96)
    low, high = map(float, re.search(r"95% CI ([\d.]+) to ([\d.]+)", answer).groups())
    detect = next(c.value for c in at.caption if "What this comparison could detect" in c.value)
    smallest = float(re.search(r"ratio of changes of ([\d.]+) or lower", detect).group(1))
    assert smallest == pytest.approx(math.exp(-2.8016 * math.log(high / low) / (2 * 1.96)), abs=0.015)
    assert f"The {len(compared) * 6} cohort-months compared" in detect
    event = figures_titled(at, "Month by month around the first workshop")
    (line,) = [t for t in event["data"] if t.get("name") == "Rate ratio"]
    assert trace_values(line["x"])[0] == -12 and trace_values(line["x"])[-1] == 18
    at.selectbox(key="window").set_value(3)
    rerun(at)
    assert at.query_params["window"] == "3"
    open_section(at, "Statistical process control")
    assert at.query_params["window"] == "3"  # another tab's choice stays in the link
    rebase_at = at.selectbox(key="rebase").options[1:][48]  # a month in the middle of the period
    at.selectbox(key="rebase").set_value(rebase_at)
    rerun(at)
    assert "rebase" in at.query_params
    spc = spc_figure(at)
    (mean_trace,) = [t for t in spc["data"] if t.get("name") == "Mean"]
    means = trace_values(mean_trace["y"])
    assert len(set(np.round(means, 6))) == 2 and means[0] != means[-1]


def test_wing_trends_asks_for_one_prison(monkeypatch, raw):
    at = start(monkeypatch)
    at = open_page(at, WING_TRENDS)
    cohorts = raw("cohorts")["prison_id"].value_counts()
    chosen = at.selectbox(key="_one_prison").value
    assert cohorts[chosen] == cohorts.max()  # the prison with most cohorts
    other = next(p for p in cohorts.index if p != chosen)
    at.selectbox(key="_one_prison").set_value(other)
    rerun(at)
    assert at.multiselect(key="f_prisons").value == [other]
    assert at.query_params["prison"] == other


def test_prison_comparison_matches_pandas(monkeypatch, raw):
    at = start(monkeypatch, query_params={"from": "2019-01", "to": "2019-12", "measure": "use_of_force"})
    at = open_page(at, COMPARISON)
    ranked = table_with(at, "Against the funnel").set_index("Prison")
    incidents = raw("incidents").query("incident_type == 'use_of_force'")
    occurred = pd.to_datetime(incidents["occurred_on"])
    in_2019 = incidents[(occurred >= "2019-01-01") & (occurred < "2020-01-01")]
    population = raw("wing_population").merge(raw("wings"), on="wing_id")
    population = population[pd.to_datetime(population["month"]).dt.year == 2019]
    years = population.groupby("prison_id")["average_population"].sum() / 12
    names = raw("prisons").set_index("prison_id")["name"]
    for prison in ("WSI", "DAI", "BLI"):
        row = ranked.loc[names[prison]]
        assert row["Incidents"] == (in_2019["prison_id"] == prison).sum()
        assert row["Rate per 1,000 per year"] == round((in_2019["prison_id"] == prison).sum() / years[prison] * 1000)
    assert list(ranked["Rate per 1,000 per year"]) == sorted(ranked["Rate per 1,000 per year"], reverse=True)

    (funnel,) = plotly_figures(at)  # the programme prisons' trend is in the other tab, not computed yet
    programme = next(t for t in funnel["data"] if t.get("name") == "Programme prisons")
    names = raw("prisons").set_index("prison_id")["name"]
    assert set(programme["text"]) == set(names[list(set(raw("cohorts")["prison_id"]) | set(raw("services")["prison_id"]))])
    # Published-only prisons whose quarters cover 2019 join the comparison; one whose years run to
    # March cannot cover a calendar year and is left out with a note.
    published = raw("prison_incident_counts").query("incident_type == 'use_of_force' and period_months == 3")
    published = published[pd.to_datetime(published["period_start"]).dt.year == 2019]
    population_published = raw("prison_population")
    population_published = population_published[pd.to_datetime(population_published["month"]).dt.year == 2019]
    published_years = population_published.groupby("prison_id")["population"].sum() / 12
    for prison, quarters in published.groupby("prison_id"):
        assert len(quarters) == 4
        row = ranked.loc[names[prison]]
        assert row["Incidents"] == quarters["incidents"].sum() and row["Source"] == "Published counts"
        assert row["Rate per 1,000 per year"] == round(quarters["incidents"].sum() / published_years[prison] * 1000)
    yearly = set(raw("prison_incident_counts").query("period_months == 12")["prison_id"]) - set(raw("wings")["prison_id"])
    assert yearly and not set(names[list(yearly)]) & set(ranked.index)
    assert any("Left out: " + names[next(iter(yearly))] in c.value for c in at.caption)
    reference = (len(in_2019) + published["incidents"].sum()) / (years.sum() + published_years[published["prison_id"].unique()].sum()) * 1000
    assert any(t.get("name") == f"Reference {reference:,.0f}" for t in funnel["data"])
    multiples = figures_titled(open_section(at, "Programme prisons over time"), "Quarterly rate")
    assert len({t["name"] for t in multiples["data"]}) == 2


def test_prison_comparison_same_type_and_the_adjustment(monkeypatch, raw):
    at = start(monkeypatch)
    at = open_page(at, COMPARISON)
    at.selectbox(key="compare_with").set_value("Category C training")
    rerun(at)
    ranked = table_with(at, "Against the funnel")
    assert set(ranked["Type"]) == {"Category C training"}
    answer = next(m.value for m in at.markdown if "against the reference rate of" in m.value)
    assert "Spiegelhalter's additive random-effects method" in answer
    (funnel,) = plotly_figures(at)
    assert not [t for t in funnel["data"] if "without adjustment" in t.get("name", "")]
    at.toggle(key="unadjusted").set_value(True)
    rerun(at)
    (funnel,) = plotly_figures(at)
    assert [t for t in funnel["data"] if "without adjustment" in t.get("name", "")]
    assert at.query_params["compare_with"] == "Category C training"


def test_wing_trends_on_a_short_period_and_one_wing_shows_only_that_view(monkeypatch, raw):
    """Markers and cohorts follow the period and the wing filter; the comparison still screens out
    wings treated outside the view."""
    at = start(monkeypatch, query_params={"prison": "WSI", "wing": "WSI-F", "from": "2019-01", "to": "2020-12"})
    at = open_page(at, WING_TRENDS)
    spc = spc_figure(open_section(at, "Statistical process control"))
    (markers,) = [t for t in spc["data"] if t.get("name") == "Workshop delivered"]
    shown = pd.to_datetime(markers["x"])
    assert len(shown) and shown.min() >= pd.Timestamp("2019-01-01") and shown.max() < pd.Timestamp("2021-01-01")
    table = table_with(open_section(at, "The programme's effect"), "Ratio of changes")
    assert table["Cohort"].str.contains(" · F Wing · ").all()
    assert pd.to_datetime(table["First workshop"]).between("2019-01-01", "2020-12-31").all()
    cohorts, workshops = raw("cohorts"), raw("workshops").query("status == 'delivered'")
    first = workshops.merge(cohorts, on="cohort_id").groupby(["cohort_id", "wing_id"])["delivered_on"].min().reset_index()
    first = first[(first["wing_id"] == "WSI-F") & pd.to_datetime(first["delivered_on"]).between("2019-01-01", "2020-12-31")]
    assert set(table["Cohort"].str.split(" · ").str[0]) == set(first["cohort_id"])
    headline = " ".join(m.value for m in at.markdown)
    assert "None" not in headline and "1 cohorts" not in headline


def test_a_governor_sees_her_prison_named_and_highlighted_on_the_funnel(monkeypatch, raw):
    at = start(monkeypatch, session_state={"view_as": "governor:WSI"})
    at = open_page(at, COMPARISON)
    (funnel,) = plotly_figures(at)
    name = raw("prisons").set_index("prison_id").at["WSI", "name"]
    (yours,) = [t for t in funnel["data"] if t.get("name") == "Your prison"]  # one prison: singular
    diamonds = [t for t in funnel["data"] if "diamond" in str(t.get("marker", {}).get("symbol", ""))]
    assert not diamonds or any(t.get("name") == "From published counts" for t in diamonds)  # the legend says what a diamond is
    assert len(diamonds) >= 2  # the sample's HMP Bedford, from published counts, and the legend's key
    assert list(yours["text"]) == [name]
    answer = next(m.value for m in at.markdown if "against the reference rate of" in m.value)
    assert "Your prison: " in answer and name.split()[-1] in answer
    assert not any(code in answer for code in ("(WSI)", " WSI "))


def test_a_governor_overview_answers_whether_the_programme_helped_as_wing_trends_does(monkeypatch):
    at = start(monkeypatch, session_state={"view_as": "governor:WSI"})
    assert any(s.value == "Did The Conversation help on its wings?" for s in at.subheader)
    overview_answer = next(m.value for m in at.markdown if "cohorts compared" in m.value)
    overview_pooled = trace_values(figures_titled(at, "Each cohort's ratio of changes")["data"][1]["x"])[0]
    at = open_section(open_page(at, WING_TRENDS), "The programme's effect")
    trends_answer = next(m.value for m in at.markdown if "cohorts compared" in m.value)
    assert trace_values(figures_titled(at, "Each cohort's ratio of changes")["data"][1]["x"])[0] == pytest.approx(overview_pooled)
    assert overview_answer.split(" (")[0] == trends_answer.split(" (")[0]


def test_an_administrator_overview_leaves_the_programme_answer_to_wing_trends(monkeypatch):
    at = start(monkeypatch)
    assert not any(s.value == "Did The Conversation help on its wings?" for s in at.subheader)


def test_wing_trends_says_a_published_only_prison_has_no_wing_data(monkeypatch, raw):
    published_only = sorted(set(raw("prisons")["prison_id"]) - set(raw("wings")["prison_id"]))
    assert published_only
    at = open_page(start(monkeypatch, query_params={"prison": published_only[0]}), WING_TRENDS)
    assert any("known only from published prison-level figures" in i.value for i in at.info)
    assert not plotly_figures(at)


def test_programme_prisons_trend_against_recorded_and_published_comparison_prisons(monkeypatch, raw):
    """The quarterly panels' comparison group, independently: prisons of the same type running
    neither programme, with recorded incidents or published quarterly counts for every quarter."""
    at = open_page(start(monkeypatch, query_params={"from": "2019-02", "to": "2020-12", "measure": "self_harm",
                                                    "section": "Programme prisons over time"}), COMPARISON)
    multiples = figures_titled(at, "Quarterly rate")
    prisons = raw("prisons").set_index("prison_id")
    panel = f"{prisons.at['WSI', 'name']} (WSI)"
    panel_index = [a["text"] for a in multiples["layout"]["annotations"]].index(panel)
    axis = "x" if panel_index == 0 else f"x{panel_index + 1}"
    (comparison,) = [t for t in multiples["data"] if t.get("xaxis", "x") == axis and t["name"] == "Comparison group"]
    quarters = pd.period_range("2019Q2", "2020Q4", freq="Q")  # whole quarters only: February to March 2019 is a part
    assert [pd.Timestamp(x).to_period("Q") for x in comparison["x"]] == list(quarters)

    programme = set(raw("programme_sites")["prison_id"]) | set(raw("cohorts")["prison_id"]) | set(raw("services")["prison_id"])
    same_type = set(prisons.index[prisons["prison_type"] == prisons.at["WSI", "prison_type"]]) - programme
    recorded = same_type & set(raw("wings")["prison_id"])
    incidents = raw("incidents").query("incident_type == 'self_harm' and prison_id in @recorded")
    incident_quarter = pd.to_datetime(incidents["occurred_on"]).dt.to_period("Q")
    population = raw("wing_population").merge(raw("wings"), on="wing_id").query("prison_id in @recorded")
    population_quarter = pd.to_datetime(population["month"]).dt.to_period("Q")
    windows = [(q.start_time.date(), (q + 1).start_time.date()) for q in quarters]
    published = {p for p in same_type - recorded if all(published_figures(raw, p, ["self_harm"], False, s, e) for s, e in windows)}
    assert published == {"BFI"}  # quarterly figures; the prison whose years run to March cannot fill a quarter
    expected = []
    for quarter, (s, e) in zip(quarters, windows):
        extra = published_figures(raw, "BFI", ["self_harm"], False, s, e)
        count = (incident_quarter == quarter).sum() + extra[0]
        years = population.loc[population_quarter == quarter, "average_population"].sum() / 12 + extra[1]
        expected.append(count / years * 1000)
    assert trace_values(comparison["y"]) == pytest.approx(expected)
    caption = " ".join(rendered(c.value) for c in at.caption)
    assert f"from published counts and monthly populations rather than recorded incidents: {prisons.at['BFI', 'name']}" in caption
    assert f"{prisons.at['NMI', 'name']} (its published counts do not cover every month of the period" in caption


def test_the_overview_names_the_chosen_prisons_its_recorded_figures_leave_out(monkeypatch, raw):
    prisons = raw("prisons").set_index("prison_id")
    published_only = sorted(set(prisons.index) - set(raw("wings")["prison_id"]))
    at = start(monkeypatch)  # every prison
    note = next(rendered(c.value) for c in at.caption if "known only from published figures" in c.value)
    assert all(prisons.at[p, "name"] in note for p in published_only)
    assert f"{len(published_only)} prisons known only" in note and "chosen" not in note  # none is chosen
    at = start(monkeypatch, query_params={"prison": ["WSI", published_only[0]]})
    note = next(rendered(c.value) for c in at.caption if "known only from published figures" in c.value)
    assert f"1 chosen prison known only from published figures ({prisons.at[published_only[0], 'name']}) is left out" in note
    assert "over the months its published figures cover" in note  # not every one is on Prison comparison for every period
    at = start(monkeypatch, query_params={"prison": "WSI"})
    assert not any("known only from published figures" in c.value for c in at.caption)


def test_programme_prisons_chosen_in_the_sidebar_are_said_to_be_and_fill_the_width(monkeypatch, sample_dir):
    at = open_page(start(monkeypatch, query_params={"prison": "WSI", "section": "Programme prisons over time"}), COMPARISON)
    caption = " ".join(rendered(c.value) for c in at.caption)
    assert "Showing the 1 programme prison chosen in the sidebar, of" in caption and "most cohorts" not in caption
    figure = figures_titled(at, "Quarterly rate")
    assert figure["layout"]["xaxis"]["domain"][1] - figure["layout"]["xaxis"]["domain"][0] > 0.9  # one panel, the whole width
    # a dotted line where The Conversation started at WSI (the programme_sites extract), labelled
    sites = pd.read_parquet(Path(sample_dir) / "programme_sites.parquet").query("prison_id == 'WSI'")
    lines = [pd.Timestamp(shape["x0"]) for shape in figure["layout"]["shapes"] if shape["type"] == "line"]
    assert lines == [pd.Timestamp(d) for d in sites["started_on"]]
    assert any(a["text"].startswith("The Conversation from ") for a in figure["layout"]["annotations"])


def test_neighbouring_names_on_the_funnel_are_placed_apart():
    """Two named prisons close together: the second's name goes below its point, not over the first's."""
    import pandas as pd

    from dashboard.charts import _label_positions

    x, y = pd.Series([4300.0, 5400.0, 13000.0, 4200.0]), pd.Series([380.0, 390.0, 870.0, 710.0])
    assert _label_positions(x, y, 10_000, 700) == ["top center", "bottom center", "top center", "top center"]


def test_a_measure_the_user_chose_follows_them_and_a_page_default_does_not(monkeypatch):
    """Wing trends opens on all assaults and the Good Prison Project's safety on self-harm (its
    coordinator's aim): passing through one page's default leaves the other's alone; a measure the
    user picks is kept on every page that offers it, and on the way back."""
    gpp = "app_pages/good_prison_project.py"
    at = open_page(start(monkeypatch, query_params={"prison": "WSI"}), WING_TRENDS)
    assert at.selectbox(key="measure").value == "all_assaults"
    at = open_section(open_page(at, gpp), "Safety")
    assert at.selectbox(key="measure").value == "self_harm"
    at.selectbox(key="measure").set_value("use_of_force")
    at = rerun(at)
    at.query_params.pop("section", None)
    at = open_page(at, WING_TRENDS)
    assert at.selectbox(key="measure").value == "use_of_force"
    at = open_section(open_page(at, gpp), "Safety")
    assert at.selectbox(key="measure").value == "use_of_force"
