"""A curious funder compares views: every pair of the windows and places the filters allow (a
brute-force grid on the sample), through the very functions the pages draw from. No two shown
counts differ by 1 to 4, and no rate or share carries more than its rounded count."""

import datetime as dt
import functools
import itertools
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from dashboard import disclosure, funding, stats, summary
from dashboard.access import Viewer
from dashboard.contract import INCIDENT_TYPES

FUNDER = Viewer(role="funder")
K = disclosure.DEFAULT_THRESHOLD


def months(start: dt.date, count: int) -> list[dt.date]:
    return [d.date() for d in pd.date_range(start, periods=count, freq="MS")]


def windows() -> list[tuple[dt.date, dt.date]]:
    """Every month end over two busy years, each with starts 1, 2, 3, 6, 12, 13 and 24 months
    before it and at the start of the data: the windows that difference one month, a quarter,
    a year, and everything so far."""
    first = dt.date(2016, 1, 1)
    found = set()
    for end in months(dt.date(2019, 1, 1), 24):
        for back in (1, 2, 3, 6, 12, 13, 24):
            start = (pd.Timestamp(end) - pd.DateOffset(months=back)).date()
            found.add((max(start, first), end))
        found.add((first, end))
    return sorted(found)


def places(query) -> dict[str, list[str]]:
    prisons = query("prisons")
    conversation = list(prisons.loc[prisons["runs_the_conversation"], "prison_id"])
    gpp = list(prisons.loc[prisons["runs_good_prison_project"], "prison_id"])
    return {"all": list(prisons["prison_id"]), "the_conversation": conversation, "good_prison_project": gpp,
            conversation[0]: [conversation[0]], gpp[0]: [gpp[0]]}


def number(shown) -> int | None:
    """A shown count as a number, or None where it is not shown as one ("<5", "hidden", "–")."""
    if not isinstance(shown, str):
        return int(shown)
    text = shown.replace(",", "")
    return int(text) if text.isdigit() else None


@pytest.fixture(scope="module")
def funder_views(sample_db):
    query = functools.partial(sample_db.query, viewer=FUNDER)
    figures: dict[str, list[tuple[str, int]]] = defaultdict(list)
    rates = []
    for (place, prison_ids), (start, end) in itertools.product(places(query).items(), windows()):
        params = {"prison_ids": prison_ids, "wing_ids": None, "period_start": start, "period_end": end}
        view = f"{place} {start:%Y-%m}..{end:%Y-%m}"
        for key, shown in summary.delivery(query, params, True, K).items():
            if key != "delivered_share":
                figures[f"delivery {key}"].append((view, number(shown)))
        window_start = max(start, (pd.Timestamp(end) - pd.DateOffset(months=12)).date())
        incidents = summary.incident_table(query, params, window_start, True, K)
        exact_years = query("incident_counts_by_type", **{**params, "period_start": window_start},
                            incident_types=list(INCIDENT_TYPES))["prisoner_years"]
        for row, years in zip(incidents.itertuples(), exact_years):
            for column, value in (("Incidents", row.incidents), ("serious", row.serious_incidents)):
                figures[f"incidents {row.incident_type} {column}"].append((view, number(value)))
            rates.append((number(row.incidents), float(years or 0), row.rate, row.rate_low, row.rate_high))
        for row in summary.survey_table(query, params, True, K).itertuples():
            figures[f"survey {row.group} participants"].append((view, number(row.participants)))
            figures[f"survey {row.group} pairs"].append((view, number(row.pairs)))
    return figures, rates


def test_the_grid_is_large_enough_to_hold_the_attack(funder_views):
    figures, rates = funder_views
    assert len(figures["delivery cohorts"]) == 5 * len(windows()) >= 900
    assert len(rates) >= 3600


def test_no_two_views_give_back_a_count_from_1_to_4(funder_views, sample_db):
    figures, _ = funder_views
    for key, values in figures.items():
        shown = np.array([v for _, v in values if v is not None])
        differences = np.abs(shown[:, None] - shown[None, :])
        small = np.argwhere((differences > 0) & (differences < K))
        assert not len(small), (key, [values[i] for i in small[0]])


def test_the_attack_would_have_worked_on_exact_counts(sample_db):
    """The grid is not toothless: with exact counts, windows one month apart do give back counts 1 to 4."""
    query = functools.partial(sample_db.query, viewer=FUNDER)
    found = 0
    for prison_ids in places(query).values():
        counts = [int(summary.delivery(query, {"prison_ids": prison_ids, "wing_ids": None, "period_start": start,
                                               "period_end": end}, False, K)["cohorts"].replace(",", ""))
                  for start, end in windows()[:60]]
        found += sum(0 < abs(a - b) < K for a, b in itertools.combinations(counts, 2))
    assert found > 0


def test_every_rate_shown_to_a_funder_is_the_rate_of_its_rounded_count(funder_views):
    """Each rate and interval is exactly the one of the rounded count over the exact prisoner-years,
    so rate × prisoner-years gives back only the rounded count."""
    _, rates = funder_views
    for incidents, years, rate, low, high in rates:
        if incidents is None:
            assert rate is None or pd.isna(rate)
            continue
        expected = stats.poisson_rate_interval(incidents, years)
        assert (rate, low, high) == (round(expected.value), round(expected.lower), round(expected.upper))


def test_campaign_figures_for_every_delivery_period_differ_by_0_or_at_least_5(sample_db):
    query = functools.partial(sample_db.query, viewer=FUNDER)
    campaigns = query("campaigns").set_index("campaign_id")
    for campaign_id in campaigns.index:
        campaign = campaigns.loc[campaign_id].to_dict() | {"campaign_id": campaign_id}
        rows = defaultdict(list)
        for months_after in (6, 12, 18, 24):
            impact = funding.campaign_impact(query, campaign, months_after)
            for label, value in impact.delivery_rows() + impact.giving_rows():
                count = number(value.split(" ")[0])
                if count is not None and not value.startswith("£"):
                    rows[label].append(count)
        for label, counts in rows.items():
            assert not any(0 < abs(a - b) < K for a, b in itertools.combinations(counts, 2)), (campaign_id, label, counts)


def test_only_an_administrator_reads_rejected_values_on_the_data_page(monkeypatch, sample_copy, raw):
    from tests.apptest import open_page, start

    incidents = raw("incidents")
    incidents.loc[[4, 8], "incident_type"] = "Secret-Name-4471"
    incidents.to_parquet(sample_copy / "incidents.parquet", index=False)
    for role, sees in (("admin", True), ("funder", False), ("governor:WSI", False)):
        at = open_page(start(monkeypatch, data_dir=sample_copy, session_state={"view_as": role}), "app_pages/data.py")
        tables = " ".join(frame.value.to_csv() for frame in at.dataframe)
        texts = " ".join(e.value for kind in ("markdown", "caption", "warning", "info") for e in getattr(at, kind))
        assert ("Secret-Name-4471" in tables + texts) is sees, role


# --- What a reviewer found: figures beside rounded counts that gave the counts back -------------


def test_a_share_is_worked_out_from_the_rounded_counts():
    assert disclosure.share(7, 12) == 0.5  # shown as "5 of 10": an exact 58% would pin 7 of 12
    assert disclosure.share(7, 12, protected=False) == 7 / 12
    assert disclosure.share(3, 12) is None and disclosure.share(0, 0) is None


def test_the_mean_gift_and_workshop_hours_do_not_give_back_their_counts(sample_db):
    query = functools.partial(sample_db.query, viewer=FUNDER)
    campaigns = query("campaigns").set_index("campaign_id")
    campaign_id = campaigns.index[0]
    impact = funding.campaign_impact(query, campaigns.loc[campaign_id].to_dict() | {"campaign_id": campaign_id}, 12)
    gifts = disclosure.rounded(int(impact.totals["gifts"]))
    assert impact.mean_gift == funding.money(impact.totals["raised_gbp"] / gifts)
    rows = dict(impact.delivery_rows())
    hours = rows["workshops_delivered"].split("(about ")[1].split(" hours")[0].replace(",", "")
    assert int(hours) % 10 == 0  # to the nearest 2k hours: hours / 2.5 no longer counts workshops


def test_the_everyone_row_is_protected_as_the_total_of_the_role_rows():
    frame = pd.DataFrame({"role": [None, "prisoner", "staff"], "participants": [8, 4, 4], "pairs": [8, 4, 4],
                          "mean_change": [0.5, 0.5, 0.5], "sd_change": [1.0, 1.0, 1.0]})
    table = summary.survey_table(lambda name, **params: frame, {}, True, K).set_index("group")
    assert table.loc["Everyone", "participants"] == "hidden" and table.loc["Prisoners", "pairs"] == "<5"
