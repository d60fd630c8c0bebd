"""What a campaign raised and what the programme delivered after it: the figures the campaign
page and the funder report share, with small counts suppressed. Plain Python, no Streamlit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from dashboard import analysis, disclosure, metrics, stats, summary
from dashboard.contract import INCIDENT_TYPES
from dashboard.text import count_of, day_label, long_day_label, md, moment_label


def match_funder(campaign: dict) -> str | None:
    """The campaign's match funder (its champion), or None: a campaign may have none, and a missing
    value reaches here as None or NaN."""
    champion = campaign.get("champion")
    return None if champion is None or (isinstance(champion, float) and math.isnan(champion)) or not str(champion).strip() else str(champion)


def money(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"£{value:,.0f}"


@dataclass
class CampaignImpact:
    campaign: dict
    totals: dict
    cumulative: pd.DataFrame
    delivery: dict
    outcomes: dict
    testimonials: pd.DataFrame
    period: tuple[date, date]
    threshold: int = disclosure.DEFAULT_THRESHOLD
    notes: list[str] = field(default_factory=list)

    @property
    def total_with_match(self) -> float:
        return self.totals["raised_gbp"] + self.totals["matched_gbp"]

    @property
    def median_gift(self) -> str:
        return money(self.totals["median_gift_gbp"]) if self.totals["gifts"] >= self.threshold else "not shown (few gifts)"

    @property
    def mean_gift(self) -> str:
        """Raised over the rounded gift count: beside the exact total, an exact mean gives the count back."""
        gifts = disclosure.rounded(int(self.totals["gifts"]), self.threshold)
        return money(self.totals["raised_gbp"] / gifts) if gifts else "not shown (few gifts)"

    @property
    def survey_change(self) -> stats.Estimate | None:
        """Participants' mean paired survey change with its 95% interval; None under k pairs (not reported)."""
        o = self.outcomes
        pairs = int(o["pairs"])
        return stats.mean_interval(pairs, float(o["mean_change"]), float(o["sd_change"])) if pairs >= self.threshold else None

    def giving_rows(self) -> list[tuple[str, str]]:
        """(registry key, value as shown) for what the campaign raised."""
        t, c = self.totals, self.campaign
        pledged = c["match_pledged_gbp"]
        return [
            ("target_gbp", money(c["target_gbp"])),
            ("raised_gbp", money(t["raised_gbp"])),
            ("matched_gbp", f"{money(t['matched_gbp'])} of {money(pledged)} pledged"
             + (f" ({t['matched_gbp'] / pledged:.0%})" if pledged else "")),
            ("total_with_match", f"{money(self.total_with_match)} ({self.total_with_match / c['target_gbp']:.0%} of target)"),
            ("match_share",
             f"{t['matched_gbp'] / self.total_with_match:.0%}" if self.total_with_match else "–"),
            ("gifts", disclosure.shown_count(int(t["gifts"]), self.threshold)),
            ("median_gift", self.median_gift),
            ("mean_gift", self.mean_gift),
        ]

    def delivery_rows(self) -> list[tuple[str, str]]:
        """(registry key, value as shown) for what the programme delivered after the campaign."""
        d, o, k = self.delivery, self.outcomes, self.threshold
        reached = int(d["prisoners_reached"] + d["staff_reached"])
        people = disclosure.protect({"prisoners": d["prisoners_reached"], "staff": d["staff_reached"]}, ("all", reached), k)
        workshops = disclosure.shown_count(int(d["workshops_delivered"]), k)
        # hours (and cost per hour) by the one rule for hours: hidden with the workshops, else to the nearest 2k
        shown_hours = disclosure.rounded_hours(d["workshop_hours"], int(d["workshops_delivered"]), k)
        hours_hidden, hours = shown_hours is None, shown_hours or 0
        costed_hours = disclosure.rounded_hours(d["costed_workshop_hours"], int(d["workshops_delivered"]), k) or 0
        rows = [
            ("cohorts_started", disclosure.shown_count(int(d["cohorts"]), k)),
            ("workshops_delivered", workshops + ("" if hours_hidden else f" (about {hours:,} hours)")),
            ("prisoners_reached", people["prisoners"]),
            ("staff_reached", people["staff"]),
        ]
        costed_people = int(d["costed_participants_reached"])
        if d["costed_cohorts"] and costed_people >= k:
            # over the rounded count: with the cost shown, an exact divisor would give the count back
            rows.append(("cost_per_participant", f"{money(d['cost_gbp'] / disclosure.rounded(costed_people, k))} "
                         f"({money(d['cost_gbp'])} over {disclosure.shown_count(int(d['costed_cohorts']), k)} cohorts with a recorded cost, "
                         f"{disclosure.shown_count(costed_people, k)} participants)"))
        else:
            rows.append(("cost_per_participant", "not shown (too few costed cohorts or participants)"))
        if costed_hours and not hours_hidden:
            rows.append(("cost_per_hour", f"{money(d['cost_gbp'] / costed_hours)} "
                         f"(over about {costed_hours:,} hours)"))
        pairs, improved = int(o["pairs"]), int(o["improved"])
        if disclosure.share_is_reportable(improved, pairs, k):
            rows.append(("improved_share",
                         f"{disclosure.shown_count(improved, k)} of {disclosure.shown_count(pairs, k)} ({disclosure.share(improved, pairs, k):.0%})"))
        else:
            rows.append(("improved_share", f"not shown ({disclosure.shown_count(pairs, k)} pairs)"))
        if (ci := self.survey_change) is not None:
            rows.append(("mean_survey_change", f"{ci.value:+.2f} (95% CI {ci.lower:+.2f} to {ci.upper:+.2f}; n = {disclosure.shown_count(pairs, k)})"))
        else:
            rows.append(("mean_survey_change", "too few pairs to report"))
        rows.append(("participants_reached", people["all"]))
        return rows


def _actual(indicator: str, delivery: dict, outcomes: dict) -> float:
    """A target indicator's actual from the `funded_delivery` and `funded_outcomes` rows of its period."""
    return {
        "cohorts_started": delivery["cohorts"], "workshops_delivered": delivery["workshops_delivered"],
        "participants_reached": delivery["prisoners_reached"] + delivery["staff_reached"],
        "prisoners_reached": delivery["prisoners_reached"], "staff_reached": delivery["staff_reached"],
        "contact_hours": delivery["workshop_hours"], "paired_surveys": outcomes["pairs"],
    }[indicator]


def target_progress(query, targets: pd.DataFrame, data_end: date, threshold: int, protected: bool) -> pd.DataFrame:
    """Each target against what was delivered in its period so far (the same named queries as the page),
    the share of the period elapsed by `data_end` (the date the data runs to), the even-pace expectation
    and a status. For a viewer who may not see small counts the actual is shown rounded, and the status
    is worked out from what the rounded figure allows (any exact count that rounds to it): where that
    range straddles the mark, the status says "within rounding" rather than give the exact count away."""
    rows = []
    for t in targets.itertuples():
        start, end = pd.Timestamp(t.period_start).date(), pd.Timestamp(t.period_end).date()
        days = (end - start).days + 1
        elapsed = min(max(((min(data_end, end) - start).days + 1) / days, 0.0), 1.0)
        low = high = shown = None
        if t.programme == "the_conversation":
            window = {"period_start": start, "period_end": end + timedelta(days=1)}
            delivery = query("funded_delivery", **window).iloc[0].to_dict()
            exact = float(_actual(t.indicator, delivery, query("funded_outcomes", **window).iloc[0].to_dict()))
            low = high = shown = exact
            if protected and t.indicator == "contact_hours":  # hours by the one rule for hours (disclosure.rounded_hours)
                hours = disclosure.rounded_hours(exact, int(delivery["workshops_delivered"]), threshold)
                shown = f"hidden (<{threshold} workshops)" if hours is None else f"{hours:,}"
                low, high = disclosure.hours_could_be(exact, int(delivery["workshops_delivered"]), threshold)
            elif protected:
                shown = disclosure.shown_count(round(exact), threshold)
                low, high = _could_be(round(exact), threshold)
        expected = t.target_value * elapsed
        mark = t.target_value if elapsed >= 1 else expected
        if low is None:
            status = "not computed for this programme"
        elif low >= t.target_value:
            status = "met"
        elif elapsed == 0:
            status = "not started"
        elif high < mark or (elapsed >= 1 and high < t.target_value):
            status = "not met" if elapsed >= 1 else "behind"
        elif low >= mark:
            status = "on track"
        else:
            status = "within rounding of " + ("the target" if elapsed >= 1 or high >= t.target_value else "the expected pace")
        rows.append({"indicator": t.indicator, "target_value": t.target_value, "target_actual": shown,
                     "elapsed_share": elapsed, "pro_rata": round(expected), "target_status": status,
                     "period": f"{day_label(start)} to {day_label(end)}",
                     "agreed_for": "this campaign" if isinstance(t.campaign_id, str) else "the programme as a whole",
                     "funder": t.funder})
    return pd.DataFrame(rows, columns=["indicator", "target_value", "target_actual", "elapsed_share", "pro_rata", "target_status",
                                       "period", "agreed_for", "funder"])


def _could_be(exact: int, threshold: int) -> tuple[float, float]:
    """Every exact count a rounded, shown count could stand for: the range a funder can infer anyway."""
    if 0 < exact < threshold:
        return 1.0, threshold - 1.0
    rounded = disclosure.rounded(exact, threshold) or 0
    return max(0.0, rounded - threshold / 2), rounded + threshold / 2 - 0.5


def targets_sentence(progress: pd.DataFrame, data_end: date) -> str:
    """How many targets are met, on track or behind, as of the date the data runs to."""
    counts = progress["target_status"].value_counts()
    parts = [f"{n} {status}" for status, n in counts.items()]
    return (f"**{len(progress)} target{'s' if len(progress) != 1 else ''} agreed: {', '.join(parts)}**, with the data to "
            f"{long_day_label(data_end)}. Expected by now assumes an even pace through each target's period.")


def headline(impact: CampaignImpact) -> str:
    """The campaign in one sentence: raised with the match against the target, gifts, the match funder."""
    c, t = impact.campaign, impact.totals
    return (f"**{md(c['name'])} raised {money(impact.total_with_match)} with the match, "
            f"{metrics.fmt('share_of_target', impact.total_with_match / c['target_gbp'])} of its {money(c['target_gbp'])} target**, "
            f"from {disclosure.shown_count(int(t['gifts']), impact.threshold)} gifts and {money(t['matched_gbp'])} released by "
            f"{md(match_funder(c) or 'no match funder')} · {md(c['platform'])}, "
            f"{moment_label(pd.Timestamp(c['opens_at']))} to {moment_label(pd.Timestamp(c['closes_at']))} UTC.")


# What the funder report compares on the programme's wings: the governors' three culture measures,
# each over the 6 months before a cohort's first workshop and after its last (the Overview's window).
SAFETY_MEASURES = ("all_assaults", "self_harm", "use_of_force")
SAFETY_WINDOW = 6


@dataclass(frozen=True)
class WingSafety:
    """One measure on the programme's wings against comparison wings, for the cohorts that started in
    the campaign's delivery period: the pooled ratio of changes, or why there is none."""

    measure: str
    pooled: analysis.Pooled | None
    compared: str  # the cohorts compared, as the viewer may see the count
    claim: str
    detectable: str
    cohorts: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # every cohort in view and why it was left out; never shown


def wing_safety(query_all, period: tuple[date, date], threshold: int, protected: bool) -> list[WingSafety]:
    """The programme's wings against the same prisons' wings without it, pooled over every prison that
    runs The Conversation, for the cohorts that started in `period`. `query_all` runs named queries over
    every prison: wing figures are computed here and only the pooled answer leaves this function. For a
    funder each of a cohort's four counts is rounded first (a cohort with a hidden count is left out),
    as the Good Prison Project's comparison is, and the number of cohorts is a count shown as counts are."""
    prisons = query_all("prisons")
    if not prisons["runs_the_conversation"].any():
        return []
    # only the prisons where a cohort started in the period, and only the months its windows can reach:
    # SAFETY_WINDOW before the period, and after it a course of workshops (9 weeks, a year at most) and the
    # window after; a cohort outside the period still screens comparison wings (delivered_workshops has all)
    ids = list(query_all("funded_prisons", period_start=period[0], period_end=period[1])["prison_id"])
    params = {"prison_ids": ids, "wing_ids": None,
              "period_start": (pd.Timestamp(period[0]) - pd.DateOffset(months=SAFETY_WINDOW + 1)).date(),
              "period_end": (pd.Timestamp(period[1]) + pd.DateOffset(months=SAFETY_WINDOW + 13)).date()}
    count_as = (lambda n: disclosure.rounded(n, threshold)) if protected else None
    # each prison's wing counts and cohorts once, for all three measures
    counts = {p: query_all("wing_monthly_counts", **params, prison_id=p, incident_types=list(INCIDENT_TYPES)) for p in ids}
    cohorts = {p: analysis.cohort_windows(query_all("delivered_workshops", prison_id=p)) for p in ids}
    results = []
    for key in SAFETY_MEASURES:
        measure = metrics.MEASURES[key]
        known = {p: (analysis.wing_measure(counts[p], measure), cohorts[p]) for p in ids}
        view = summary.programme_help(query_all, params, ids, measure, SAFETY_WINDOW, period[0], period[1],
                                      month_by_month=False, known=known, count_as=count_as)
        compared = disclosure.shown_count(len(view.compared), threshold, protected)
        if view.pooled is None:
            results.append(WingSafety(key, None, compared, f"No cohort that started in the period could be compared over "
                                      f"{SAFETY_WINDOW}-month windows before and after its workshops.", "", view.table))
            continue
        found = analysis.programme_detectable(view, SAFETY_WINDOW)
        results.append(WingSafety(key, view.pooled, compared,
                                  analysis.wing_safety_claim(measure.label, view.pooled, SAFETY_WINDOW, compared),
                                  analysis.detectable_sentence(found, SAFETY_WINDOW, say_months=not protected, lead=False), view.table))
    return results


def wing_safety_table(results: list[WingSafety]) -> pd.DataFrame:
    """The measures side by side under registry keys (the page's table and the report's)."""
    return pd.DataFrame([{"measure": metrics.MEASURES[r.measure].label, "pooled_ratio_of_changes": r.pooled.ratio if r.pooled else None,
                          "ratio_low": r.pooled.lower if r.pooled else None, "ratio_high": r.pooled.upper if r.pooled else None,
                          "cohorts_compared": r.compared} for r in results],
                        columns=["measure", "pooled_ratio_of_changes", "ratio_low", "ratio_high", "cohorts_compared"])


def survey_sentence(impact: CampaignImpact, short: bool = False) -> str:
    """The paired survey change of the delivery period in one sentence from its interval, or why not."""
    pairs, k = int(impact.outcomes["pairs"]), impact.threshold
    if (ci := impact.survey_change) is None:
        return f"Too few participants with both a pre and a post survey to report a change ({disclosure.shown_count(pairs, k)})."
    return analysis.survey_claim(ci.value, ci.lower, ci.upper, disclosure.shown_count(pairs, k), short)


def at_a_glance(impact: CampaignImpact, progress: pd.DataFrame | None, safety: list[WingSafety],
                reoffending: pd.DataFrame | None) -> list[tuple[str, str]]:
    """A funder's three questions answered in plain sentences from the figures below them (the first
    thing on the campaign page and in the report): what was raised, what was delivered against what was
    agreed, and what changed, with each answer's caveat."""
    c, t, k = impact.campaign, impact.totals, impact.threshold
    raised = (f"{money(impact.total_with_match)} with the match, {metrics.fmt('share_of_target', impact.total_with_match / c['target_gbp'])} "
              f"of the {money(c['target_gbp'])} target, from {disclosure.shown_count(int(t['gifts']), k)} gifts; "
              f"{money(t['matched_gbp'])} of it released by {match_funder(c) or 'no match funder'}.")
    conversation = c["programme"] == "the_conversation"
    start, end = impact.period
    if progress is not None and not progress.empty:
        counts = progress["target_status"].value_counts()
        delivered = (f"{count_of(len(progress), 'target')} agreed: " + ", ".join(f"{n} {status}" for status, n in counts.items())
                     + ". Expected by now assumes an even pace through each target's period.")
    elif conversation:
        rows = dict(impact.delivery_rows())
        delivered = (f"No delivery target is loaded. From {day_label(start)} to {day_label(end)}: {rows['cohorts_started']} cohorts "
                     f"started, reaching {rows['participants_reached']} people.")
    else:
        delivered = "No delivery target is loaded; the Good Prison Project's services and events are on its page."
    changed = []
    if conversation:
        changed.append(survey_sentence(impact, short=True))
        assaults = next((r for r in safety if r.measure == "all_assaults" and r.pooled is not None), None)
        if assaults is not None:
            changed.append(analysis.wing_safety_claim(metrics.MEASURES["all_assaults"].label, assaults.pooled, SAFETY_WINDOW,
                                                      assaults.compared))
    if reoffending is not None and not reoffending.empty:
        latest = reoffending[reoffending["analysis_id"] == reoffending["analysis_id"].iloc[0]]  # the latest is first
        headline = analysis.measure_order(latest).iloc[0]
        changed.append(f"Reoffending (Justice Data Lab, published {long_day_label(pd.Timestamp(headline['published_on']))}): "
                       f"{analysis.jdl_verdict(headline['measure'], headline['difference_low'], headline['difference_high'])}.")
    if not changed:
        changed.append("No outcome of this programme is loaded yet.")
    return [("What was raised?", raised), ("What was delivered against what was agreed?", delivered),
            ("What changed?", " ".join(changed))]


def labelled(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(label, value) rows: each figure under the registry's label."""
    return [(metrics.figure(key).label, value) for key, value in rows]


def rows_table(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """A figure-and-value table (the figure column holds registry keys, shown as their labels)."""
    return pd.DataFrame(rows, columns=["figure", "value"])


def campaign_impact(query, campaign: dict, months_after: int, threshold: int = disclosure.DEFAULT_THRESHOLD) -> CampaignImpact:
    """Gather a campaign's figures with `query(name, **params)` (a named-query runner)."""
    closes = pd.Timestamp(campaign["closes_at"])
    period = (closes.date(), (closes + pd.DateOffset(months=months_after)).date())
    window = {"period_start": period[0], "period_end": period[1]}
    return CampaignImpact(
        campaign=campaign,
        totals=query("campaign_totals", campaign_id=campaign["campaign_id"]).iloc[0].to_dict(),
        cumulative=query("campaign_cumulative", campaign_id=campaign["campaign_id"]),
        delivery=query("funded_delivery", **window).iloc[0].to_dict(),
        outcomes=query("funded_outcomes", **window).iloc[0].to_dict(),
        testimonials=query("published_testimonials", programme=campaign["programme"]),
        period=period,
        threshold=threshold,
    )
