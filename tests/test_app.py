"""The app as a user meets it: every page runs (AppTest), shows the right figures, keeps its filters."""

import pandas as pd
import pytest

from dashboard import metrics
from dashboard.contract import TABLES
from tests.apptest import DEFAULT_PAGE, figures_titled, metric, open_page, rerun, start, trace_values, warnings_shown


def test_overview_on_the_sample(monkeypatch, raw):
    at = start(monkeypatch)
    assert any("Synthetic sample data" in w.value for w in at.warning)
    assert metric(at, "Prisons") == str(raw("wings")["prison_id"].nunique())  # recorded (row-level) prisons; published-only ones are not in the Overview yet
    assert metric(at, "Wings") == str(len(raw("wings")))
    assert metric(at, "Cohorts") == str(len(raw("cohorts")))
    workshops = raw("workshops")
    sessions = workshops.assign(delivered=workshops["status"] == "delivered").groupby(["cohort_id", "session_number"])["delivered"].any()
    assert metric(at, "Workshops delivered") == f"{int(sessions.sum()):,} of {len(sessions):,}"
    assert metric(at, "Participants") == f"{len(raw('participants')):,}"


def test_overview_incident_rates_match_pandas(monkeypatch, raw):
    at = start(monkeypatch)
    (table,) = [d.value for d in at.dataframe if "95% CI low" in d.value.columns and "Rate per 1,000 per year" in d.value.columns]
    incidents, population = raw("incidents"), raw("wing_population")
    last = pd.to_datetime(population["month"]).max()
    window_start = last - pd.DateOffset(months=11)
    occurred = pd.to_datetime(incidents["occurred_on"])
    recent = incidents[(occurred >= window_start) & (occurred < last + pd.DateOffset(months=1))]
    years = population[pd.to_datetime(population["month"]) >= window_start]["average_population"].sum() / 12
    self_harm = table.set_index("Incident type").loc["Self-harm"]
    expected_count = int((recent["incident_type"] == "self_harm").sum())
    assert self_harm["Incidents"] == expected_count
    assert self_harm["Prisoner-years"] == pytest.approx(years, abs=0.05)
    assert self_harm["Rate per 1,000 per year"] == round(expected_count / years * 1000)  # sent as shown
    assert self_harm["95% CI low"] < self_harm["Rate per 1,000 per year"] < self_harm["95% CI high"]

    figure = figures_titled(at, "Monthly incident rates")
    traces = {t["name"]: t for t in figure["data"]}
    assert set(traces) == {"Assaults on staff", "Prisoner-on-prisoner assaults", "Self-harm", "Use of force"}
    months = pd.to_datetime(population["month"]).nunique()
    assert all(len(t["y"]["bdata"] if isinstance(t["y"], dict) else t["y"]) > 0 for t in traces.values())
    assert len(traces["Self-harm"]["x"]) == months
    first = pd.to_datetime(population["month"]).min()
    in_first = incidents[(occurred >= first) & (occurred < first + pd.DateOffset(months=1)) & (incidents["incident_type"] == "self_harm")]
    first_years = population[pd.to_datetime(population["month"]) == first]["average_population"].sum() / 12
    assert trace_values(traces["Self-harm"]["y"])[0] == pytest.approx(len(in_first) / first_years * 1000)


def test_overview_survey_change_matches_pandas(monkeypatch, raw):
    at = start(monkeypatch)
    answers = raw("survey_responses")
    answers = answers[answers["wave"].isin(["pre", "post"])]
    wide = answers.pivot_table(index=["participant_id", "item"], columns="wave", values="score").dropna()
    change = (wide["post"] - wide["pre"]).groupby("participant_id").mean()
    assert metric(at, "Mean survey change (post − pre)") == f"{change.mean():+.2f} points"
    (table,) = [d.value for d in at.dataframe if "Pairs" in d.value.columns]
    assert table.set_index("Group").loc["Everyone", "Pairs"] == len(change)


def test_data_page_lists_every_extract(monkeypatch, raw):
    at = open_page(start(monkeypatch), "app_pages/data.py")
    (summary,) = [d.value for d in at.dataframe if "Extract" in d.value.columns and "Rows loaded" in d.value.columns]
    assert set(summary["Extract"]) == set(TABLES)
    rows = summary.set_index("Extract")["Rows loaded"]
    assert all(rows[t] == len(raw(t)) for t in TABLES)
    assert any("loaded with no problems" in s.value for s in at.success)


def test_bad_rows_are_named_and_the_good_ones_still_count(monkeypatch, sample_copy, raw):
    incidents = raw("incidents")
    incidents.loc[[4, 8], "incident_type"] = "riot"
    incidents.to_parquet(sample_copy / "incidents.parquet", index=False)
    (sample_copy / "events.parquet").unlink()

    at = start(monkeypatch, sample_copy)
    (table,) = [d.value for d in at.dataframe if "95% CI low" in d.value.columns and "Rate per 1,000 per year" in d.value.columns]
    occurred = pd.to_datetime(incidents["occurred_on"])
    last = occurred.max().to_period("M").to_timestamp()
    recent = incidents[(occurred >= last - pd.DateOffset(months=11)) & (incidents["incident_type"] == "use_of_force")]
    assert table.set_index("Incident type").loc["Use of force", "Incidents"] == len(recent) - int(recent.index.isin([4, 8]).sum())

    at = open_page(at, "app_pages/data.py")
    (problems,) = [d.value for d in at.dataframe if "Problem" in d.value.columns]
    riot = problems[(problems["Extract"] == "incidents") & (problems["Column"] == "incident_type")].iloc[0]
    assert riot["Rows"] == 2 and "'riot'" in riot["Example values"]  # an administrator sees the values
    assert "row 5 " in riot["Example rows"] and "row 9 " in riot["Example rows"]
    assert ((problems["Extract"] == "events") & problems["Problem"].str.contains("no events.parquet")).any()
    assert any("Rejected rows of incidents (2)" in e.label for e in at.expander)


def test_missing_extract_switches_off_only_its_sections(monkeypatch, sample_copy):
    (sample_copy / "survey_responses.parquet").unlink()
    at = start(monkeypatch, sample_copy)
    assert any("survey_responses" in e.value for e in at.error)
    assert metric(at, "Prisons")  # the rest still draws


def test_filters_come_from_the_url(monkeypatch, raw):
    at = start(monkeypatch, query_params={"prison": "WSI", "from": "2019-01", "to": "2020-12"})
    assert at.multiselect(key="f_prisons").value == ["WSI"]
    first, last = at.select_slider(key="f_period").value
    assert (first.isoformat(), last.isoformat()) == ("2019-01-01", "2020-12-01")
    wings = raw("wings")
    assert metric(at, "Wings") == str(int((wings["prison_id"] == "WSI").sum()))
    cohorts = raw("cohorts")
    started = pd.to_datetime(cohorts["start_date"])
    expected = cohorts[(cohorts["prison_id"] == "WSI") & (started >= "2019-01-01") & (started < "2021-01-01")]
    assert metric(at, "Cohorts") == str(len(expected))


def test_changing_a_filter_updates_the_url_and_survives_page_changes(monkeypatch, raw):
    at = start(monkeypatch)
    at.multiselect(key="f_prisons").set_value(["PVI"])
    rerun(at)
    wing = sorted(raw("wings").query("prison_id == 'PVI'")["wing_id"])[0]
    at.multiselect(key="f_wings").set_value([wing])
    rerun(at)
    assert at.query_params["prison"] == "PVI" and at.query_params["wing"] == wing
    at = open_page(at, "app_pages/data.py")
    assert at.multiselect(key="f_prisons").value == ["PVI"]
    assert at.query_params["prison"] == "PVI"
    at = open_page(at, DEFAULT_PAGE)
    assert metric(at, "Wings") == "1"


def test_filters_survive_a_run_that_ends_before_the_sidebar(monkeypatch, raw):
    """Streamlit forgets every widget a finished run did not draw: a run stopped or failed before the
    sidebar (while extracts are replaced, say). The next page's link need not carry the filters (a
    navigation's link is the new page's), so they must come from the session, not the link."""
    from types import SimpleNamespace

    from streamlit.runtime.state import session_state as streamlit_session_state
    from streamlit.testing.v1.element_tree import ElementTree

    at = start(monkeypatch, query_params={"from": "2019-01", "to": "2020-12"})
    at.selectbox(key="view_as").set_value("governor:PVI")  # a governor opens on her own prison
    rerun(at)
    wing = sorted(raw("wings").query("prison_id == 'PVI'")["wing_id"])[0]
    at.multiselect(key="f_wings").set_value([wing])
    rerun(at)
    # what Streamlit does at the end of a run that drew no widget (the run context is all it reads)
    ended_early = SimpleNamespace(page_script_hash="", fragment_ids_this_run=None)
    with monkeypatch.context() as patched:
        patched.setattr(streamlit_session_state, "get_script_run_ctx", lambda: ended_early)
        at.session_state._state._state._remove_stale_widgets(frozenset())
    # and the browser, whose page that run emptied, sends no widget values with the next request
    at._tree = ElementTree()
    at._tree._runner = at
    for key in list(at.query_params):
        del at.query_params[key]
    at = open_page(at, "app_pages/good_prison_project.py")
    assert at.selectbox(key="view_as").value == "governor:PVI"  # development mode's role switcher too
    assert at.multiselect(key="f_prisons").value == ["PVI"]
    assert at.multiselect(key="f_wings").value == [wing]
    assert [m.isoformat() for m in at.select_slider(key="f_period").value] == ["2019-01-01", "2020-12-01"]
    assert at.query_params["prison"] == "PVI" and at.query_params["wing"] == wing
    assert not [w for w in warnings_shown(at) if "Session State" in w]  # Streamlit's "value set twice"


def test_link_values_that_match_nothing_are_ignored(monkeypatch):
    at = start(monkeypatch, query_params={"prison": ["WSI", "ZZZ"], "programme": "bogus", "from": "1999-01"})
    assert at.multiselect(key="f_prisons").value == ["WSI"]
    assert at.selectbox(key="f_programme").value == "all"
    assert any("prison=ZZZ" in w and "programme=bogus" in w for w in warnings_shown(at))


def test_overview_says_better_or_worse_from_the_last_12_months_against_the_12_before(monkeypatch, raw):
    """Independently from the Parquet: each type's counts and prisoner-years in 2024 and 2023 (the
    sample's last 24 months), the rate ratio and R's poisson.test interval (scipy's exact binomial)."""
    from scipy.stats import binomtest

    at = start(monkeypatch)
    (table,) = [d.value for d in at.dataframe if "Rate ratio" in d.value.columns]
    table = table.set_index("Incident type")
    incidents = raw("incidents")
    year = pd.to_datetime(incidents["occurred_on"]).dt.year
    population = raw("wing_population")
    pop_year = pd.to_datetime(population["month"]).dt.year
    years = {y: population[pop_year == y]["average_population"].sum() / 12 for y in (2023, 2024)}
    answer = next(m.value for m in at.markdown if "Jan 2024 to Dec 2024 against Jan 2023 to Dec 2023" in m.value)
    for incident_type, label in metrics.INCIDENT_TYPE_LABELS.items():
        latest = int(((year == 2024) & (incidents["incident_type"] == incident_type)).sum())
        previous = int(((year == 2023) & (incidents["incident_type"] == incident_type)).sum())
        row = table.loc[label]
        assert row["Incidents, last 12 months"] == latest and row["Incidents, 12 months before"] == previous
        ratio = (latest / years[2024]) / (previous / years[2023])
        share = binomtest(latest, latest + previous).proportion_ci(0.95)
        low, high = (p / (1 - p) * years[2023] / years[2024] for p in (share.low, share.high))
        assert row["Rate ratio"] == pytest.approx(ratio, abs=0.005)
        assert (row["95% CI low"], row["95% CI high"]) == pytest.approx((low, high), abs=0.005)
        verdict = "better (lower)" if high < 1 else "worse (higher)" if low > 1 else "no clear change"
        assert row["Better or worse?"] == verdict
        assert row["SPC signal"] in ("Improvement", "Concern", "Common cause")
        assert label.lower() in answer
    # where a type's SPC signal reads against its verdict, a caption names it and says why; no other type
    reads_against = {label.lower() for label, row in table.iterrows()
                     if (row["SPC signal"] == "Improvement" and row["Better or worse?"] != "better (lower)")
                     or (row["SPC signal"] == "Concern" and row["Better or worse?"] != "worse (higher)")}
    notes = [c.value for c in at.caption if "can differ" in c.value]
    assert len(notes) == (1 if reads_against else 0)
    named = {label.lower() for label in table.index if f"{label.lower()}: " in "".join(notes)}
    assert named == reads_against


def test_a_funder_sees_better_or_worse_from_rounded_counts_and_no_monthly_signal(monkeypatch):
    at = start(monkeypatch, session_state={"view_as": "funder"})
    (table,) = [d.value for d in at.dataframe if "Rate ratio" in d.value.columns]
    assert "SPC signal" not in table.columns
    assert all(int(str(n).replace(",", "")) % 5 == 0 for n in table["Incidents, last 12 months"])


def test_a_short_period_says_better_or_worse_needs_24_months(monkeypatch):
    at = start(monkeypatch, query_params={"from": "2024-01", "to": "2024-12"})
    assert not [d for d in at.dataframe if "Rate ratio" in d.value.columns]
    assert any("needs a period of at least 24 months" in i.value for i in at.info)


def test_a_table_wider_than_the_page_keeps_its_row_names_in_view(monkeypatch):
    """Better or worse? (ten columns) scrolls sideways at 1,440 px: its incident types are pinned. The
    narrower tables are not (a pinned column's names are drawn fainter)."""
    import json

    at = start(monkeypatch)
    def pinned(column: str) -> list[str]:
        (table,) = [d for d in at.dataframe if column in d.value.columns]
        return [k for k, v in json.loads(table.proto.columns or "{}").items() if v.get("pinned")]

    assert len(next(d.value for d in at.dataframe if "Better or worse?" in d.value.columns).columns) == 10
    assert pinned("Better or worse?") == ["Incident type"]
    assert pinned("of which serious") == pinned("Matched comparison") == pinned("Pairs") == []
