"""What a campaign raised and what the programme delivered after it: the figures the campaign
page and the funder report share, with small counts suppressed. Plain Python, no Streamlit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dashboard import disclosure, metrics, stats
from dashboard.text import md


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
        hours_hidden = disclosure.is_hidden(workshops)  # hours (and cost per hour) would give the count back
        # hours to the nearest 2k: a workshop is mostly 2.5 hours, so exact hours would give back the count
        hours = disclosure.rounded(round(d["workshop_hours"]), 2 * k) or 0
        costed_hours = disclosure.rounded(round(d["costed_workshop_hours"]), 2 * k) or 0
        rows = [
            ("cohorts", disclosure.shown_count(int(d["cohorts"]), k)),
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
        if pairs >= k:
            ci = stats.mean_interval(pairs, float(o["mean_change"]), float(o["sd_change"]))
            rows.append(("mean_survey_change", f"{o['mean_change']:+.2f} (95% CI {ci.lower:+.2f} to {ci.upper:+.2f}; n = {disclosure.shown_count(pairs, k)})"))
        else:
            rows.append(("mean_survey_change", "too few pairs to report"))
        rows.append(("people_reached", people["all"]))
        return rows


def headline(impact: CampaignImpact) -> str:
    """The campaign in one sentence: raised with the match against the target, gifts, the match funder."""
    c, t = impact.campaign, impact.totals
    return (f"**{md(c['name'])} raised {money(impact.total_with_match)} with the match, "
            f"{metrics.fmt('share_of_target', impact.total_with_match / c['target_gbp'])} of its {money(c['target_gbp'])} target**, "
            f"from {disclosure.shown_count(int(t['gifts']), impact.threshold)} gifts and {money(t['matched_gbp'])} released by "
            f"{md(match_funder(c) or 'no match funder')} · {md(c['platform'])}, "
            f"{pd.Timestamp(c['opens_at']):%d %b %Y %H:%M} to {pd.Timestamp(c['closes_at']):%d %b %Y %H:%M} UTC.")


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
