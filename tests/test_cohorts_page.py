"""The SDMs' cohort explorer: figures match pandas, small numbers are not reported, filters stick."""

import pandas as pd
import pytest

from dashboard import analysis
from tests.apptest import metric, open_page, plotly_figures, rendered, rerun, start, trace_values, warnings_shown

COHORTS = "app_pages/cohorts.py"


def table_with(at, column):
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def paired_changes(raw, cohort_ids=None, role=None, later="post"):
    participants = raw("participants")
    if cohort_ids is not None:
        participants = participants[participants["cohort_id"].isin(cohort_ids)]
    if role:
        participants = participants[participants["role"] == role]
    answers = raw("survey_responses").merge(participants, on="participant_id")
    wide = answers.pivot_table(index=["participant_id", "role", "item"], columns="wave", values="score")
    return (wide[later] - wide["pre"]).dropna().reset_index(name="change"), participants


def test_headline_and_cohort_table_match_pandas(monkeypatch, raw):
    at = open_page(start(monkeypatch, query_params={"prison": "PVI"}), COHORTS)
    cohorts = raw("cohorts").query("prison_id == 'PVI'")
    workshops = raw("workshops").merge(cohorts, on="cohort_id")
    sessions = workshops.assign(delivered=workshops["status"] == "delivered").groupby(["cohort_id", "session_number"])["delivered"].any()
    assert metric(at, "Cohorts") == str(len(cohorts))
    assert metric(at, "Workshops delivered") == f"{int(sessions.sum())} of {len(sessions)}"
    complete = sessions.groupby("cohort_id").sum()
    assert metric(at, "Completed all three sessions") == f"{int((complete >= 3).sum())} of {len(cohorts)}"

    table = table_with(at, "Mean change").set_index("Cohort")
    one = cohorts["cohort_id"].iloc[3]
    people = raw("participants").query("cohort_id == @one")
    assert table.loc[one, "Prisoners"] == (people["role"] == "prisoner").sum()
    changes, _ = paired_changes(raw, [one])
    per_person = changes.groupby("participant_id")["change"].mean()
    assert table.loc[one, "Pairs"] == len(per_person)
    # sent to the browser as shown: two decimals for a change, a share as a whole percentage
    assert table.loc[one, "Mean change"] == round(per_person.mean(), 2)
    attendance = raw("attendance").merge(raw("workshops").query("cohort_id == @one and status == 'delivered'"), on="workshop_id")
    assert table.loc[one, "Attendance"] == round(attendance["attended"].mean() * 100)


def test_a_cohort_still_in_its_nine_weeks_when_the_data_ends_is_said_to_be_running(monkeypatch, raw):
    """WSI's last cohort had delivered two sessions by the data's end, within its planned weeks: the tile
    still counts completed cohorts, and its caption says how many are still running."""
    at = open_page(start(monkeypatch, query_params={"prison": "WSI"}), COHORTS)
    cohorts = raw("cohorts").query("prison_id == 'WSI'")
    workshops = raw("workshops")
    data_end = pd.to_datetime(workshops["scheduled_on"]).max()
    delivered = workshops[workshops["status"] == "delivered"].groupby("cohort_id")["session_number"].nunique()
    short = cohorts[cohorts["cohort_id"].map(delivered).fillna(0) < 3]
    running = short[pd.to_datetime(short["start_date"]) + pd.Timedelta(days=70) > data_end]
    assert len(running) == 1  # the sample's C-WSI-2024-24
    caption = next(c.value for c in at.caption if "of cohorts" in c.value)
    assert caption.endswith("· 1 cohort still running")


def test_survey_change_by_item_and_role_matches_pandas(monkeypatch, raw):
    at = open_page(start(monkeypatch, query_params={"tab": "Survey outcomes"}), COHORTS)
    (post, follow_up) = [d.value for d in at.dataframe if "Cohen's d (paired)" in d.value.columns]
    changes, participants = paired_changes(raw)
    empathy = changes[(changes["item"] == "empathy") & (changes["role"] == "staff")]["change"]
    row = post[(post["Survey item"] == "Empathy") & (post["Role"] == "Staff")].iloc[0]
    assert row["Pairs"] == len(empathy)
    assert row["Mean change"] == pytest.approx(empathy.mean(), abs=0.005)
    assert row["Cohen's d (paired)"] == pytest.approx(empathy.mean() / empathy.std(ddof=1), abs=0.005)
    assert row["Response rate"] == round(100 * len(empathy) / (participants["role"] == "staff").sum())
    assert row["95% CI low"] <= row["Mean change"] <= row["95% CI high"]
    later, _ = paired_changes(raw, later="follow_up")
    hope = later[(later["item"] == "hope") & (later["role"] == "prisoner")]["change"]
    assert follow_up[(follow_up["Survey item"] == "Hope") & (follow_up["Role"] == "Prisoners")].iloc[0]["Pairs"] == len(hope)
    figures = plotly_figures(at)
    likert = [f for f in figures if "Answers before" in f["layout"]["title"]["text"]]
    assert len(likert) == 1 and len(likert[0]["data"]) == 6


def test_fewer_than_five_pairs_is_too_few_to_report():
    items = pd.DataFrame({"item": ["trust", "hope"], "role": ["staff", "staff"], "participants": [6, 6],
                          "pairs": [4, 5], "mean_change": [1.0, 0.4], "sd_change": [0.5, 0.5]})
    table = analysis.survey_change(items, threshold=5).set_index("item")
    assert pd.isna(table.loc["trust", "mean_change"]) and "too few to report" in table.loc["trust", "note"]
    assert pd.isna(table.loc["trust", "ci_low"]) and pd.isna(table.loc["trust", "cohens_dz"])
    assert table.loc["hope", "mean_change"] == pytest.approx(0.4)


def test_one_cohort_and_role_narrow_everything_and_small_numbers_are_suppressed(monkeypatch, raw):
    at = open_page(start(monkeypatch, query_params={"tab": "Survey outcomes"}), COHORTS)
    changes, _ = paired_changes(raw, role="staff")
    changes = changes.merge(raw("participants")[["participant_id", "cohort_id"]], on="participant_id")
    pairs = changes.groupby(["cohort_id", "item"]).size().unstack(fill_value=0)
    cohort = pairs.index[(pairs < 5).any(axis=1)][0]
    at.selectbox(key="cohort").set_value(cohort)
    at.selectbox(key="role").set_value("staff")
    rerun(at)
    assert at.query_params["cohort"] == cohort and at.query_params["role"] == "staff"
    assert metric(at, "Cohorts") == "1"
    post = next(d.value for d in at.dataframe if "Cohen's d (paired)" in d.value.columns)
    assert set(post["Role"]) == {"Staff"}
    staff_pairs = post["Pairs"]
    assert (staff_pairs < 5).any()  # one cohort's staff: a handful of people
    assert (post.loc[staff_pairs < 5, "Mean change"].isna()).all()
    assert (post.loc[staff_pairs < 5, "Note"].str.contains("too few to report")).all()


def test_a_cohort_with_no_surveys_or_no_delivery_shows_an_empty_state(monkeypatch, raw, sample_copy):
    cohorts = raw("cohorts")
    newest = cohorts.sort_values("start_date")["cohort_id"].iloc[-1]
    surveys = raw("survey_responses")
    participants = raw("participants")
    surveys = surveys[~surveys["participant_id"].isin(participants.query("cohort_id == @newest")["participant_id"])]
    surveys.to_parquet(sample_copy / "survey_responses.parquet", index=False)
    at = open_page(start(monkeypatch, sample_copy, query_params={"cohort": newest, "tab": "Survey outcomes"}), COHORTS)
    assert at.selectbox(key="cohort").value == newest
    assert any("No participant of these cohorts has both a pre and a post survey yet" in i.value for i in at.info)


def test_a_cancelled_cohort_shows_an_empty_state(monkeypatch, raw, sample_copy):
    workshops = raw("workshops")
    cohort = workshops["cohort_id"].iloc[0]
    mine = workshops["cohort_id"] == cohort
    workshops.loc[mine, "status"] = "cancelled"
    workshops.loc[mine, "delivered_on"] = pd.NaT
    workshops.loc[mine, "cancellation_reason"] = "regime lockdown"
    workshops.to_parquet(sample_copy / "workshops.parquet", index=False)
    attendance = raw("attendance")
    attendance[~attendance["workshop_id"].isin(workshops.loc[mine, "workshop_id"])].to_parquet(sample_copy / "attendance.parquet", index=False)
    at = open_page(start(monkeypatch, sample_copy, query_params={"cohort": cohort, "tab": "Attendance"}), COHORTS)
    assert metric(at, "Workshops delivered") == "0 of 3"
    assert any("No workshop of these cohorts has been delivered yet" in i.value for i in at.info)


def test_only_the_open_tab_is_computed_and_the_link_keeps_it(monkeypatch, raw):
    at = open_page(start(monkeypatch, query_params={"prison": "PVI"}), COHORTS)
    titles = [f["layout"]["title"]["text"] for f in plotly_figures(at)]
    assert titles and not any("Answers before" in t or "Retention" in t for t in titles)
    assert not [d for d in at.dataframe if "Cohen's d (paired)" in d.value.columns]

    at = open_page(start(monkeypatch, query_params={"prison": "PVI", "tab": "Attendance"}), COHORTS)
    (retention,) = [f for f in plotly_figures(at) if "etention" in f["layout"]["title"]["text"]]
    people = raw("participants").merge(raw("cohorts").query("prison_id == 'PVI'")[["cohort_id"]], on="cohort_id")
    delivered = raw("workshops").query("status == 'delivered'")
    attendance = raw("attendance").merge(delivered, on="workshop_id").merge(people, on="participant_id")
    first = attendance[(attendance["session_number"] == 1) & (attendance["role"] == "prisoner")]
    prisoners = retention["data"][[t["name"] for t in retention["data"]].index("Prisoners")]
    assert trace_values(prisoners["y"])[0] == pytest.approx(first["attended"].sum() / len(first))


def test_an_unknown_tab_in_a_link_is_refused_with_a_message(monkeypatch):
    at = open_page(start(monkeypatch, query_params={"tab": "Secrets"}), COHORTS)
    assert any("tab=Secrets" in w for w in warnings_shown(at))
    assert plotly_figures(at)  # the first tab instead


def test_the_median_days_tile_and_the_chart_count_the_same_cohorts(monkeypatch, raw):
    """Both are over cohorts that delivered all three sessions (a cohort part way through has not run
    its course), so the tile and the chart's sentence give one median, pandas's."""
    at = open_page(start(monkeypatch), COHORTS)
    workshops = raw("workshops").query("status == 'delivered'")
    delivered = workshops.assign(on=pd.to_datetime(workshops["delivered_on"])).groupby("cohort_id").agg(
        sessions=("session_number", "nunique"), first=("on", "min"), last=("on", "max"))
    complete = delivered[delivered["sessions"] >= 3]
    median = (complete["last"] - complete["first"]).dt.days.median()
    assert metric(at, "Median days, first to last workshop") == f"{median:.0f}"
    said = next(rendered(c.value) for c in at.caption if rendered(c.value).startswith("Days from first to last workshop"))
    assert f"median {median:.0f}," in said


def test_a_cohort_with_one_workshop_shows_as_a_mark_not_a_hairline():
    from dashboard import charts

    delivery = pd.DataFrame({"cohort_id": ["C-1", "C-2"], "prison_id": ["WSI", "WSI"], "wing_id": ["WSI-A", "WSI-B"], "sdm": ["A", "B"],
                             "first_scheduled": pd.to_datetime(["2020-01-06", "2021-03-01"]),
                             "last_delivered": pd.to_datetime(["2020-03-09", "2021-03-01"]), "sessions_delivered": [3, 1],
                             "days_first_to_last": [63, 0]})
    figure = charts.cohort_timeline(delivery)
    widths = {trace.y[0]: trace.x[0] / 86_400_000 for trace in figure.data}
    assert widths == {"C-1": 63, "C-2": 42}
    # the one-workshop cohort's pattern is drawn over its colour, so a short bar is not left nearly blank
    short = next(trace for trace in figure.data if trace.y[0] == "C-2")
    assert short.marker.pattern.shape and short.marker.pattern.fillmode == "overlay" and short.marker.color


def test_the_staff_sentence_counts_sessions_in_words_and_a_span_of_quarters_runs_to_its_end():
    from dashboard import charts

    mix = pd.DataFrame({"staff": [0, 2, 3], "prisoner": [8, 7, 9], "staff_per_10_prisoners": [0.0, 2.9, 3.3]})
    said = analysis.staff_mix_sentence(mix)
    assert "1 session had no staff and every session had prisoners." in said
    cancelled = pd.DataFrame({"scheduled_on": pd.to_datetime(["2017-01-10", "2024-11-02"]), "cancellation_reason": ["illness", "illness"]})
    assert "cancelled from Jan 2017 to Dec 2024" in charts.describe(charts.cancellation_reasons(cancelled, ["illness"]))
