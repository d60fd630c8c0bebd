"""The funder report: one self-contained HTML file (opens offline: Plotly's script is inlined)."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pandas as pd
import plotly.io as pio

from dashboard import analysis, charts, disclosure, metrics
from dashboard.funding import CampaignImpact, labelled, match_funder

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; max-width: 60rem; margin: 2rem auto; color: #1f2933; padding: 0 1rem; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
td.value { font-variant-numeric: tabular-nums; } .meta { color: #57606a; font-size: .9rem; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: .8rem 1rem; border-radius: 6px; margin: 1rem 0; }
blockquote { border-left: 4px solid #1e88e5; margin: 1rem 0; padding: .2rem 1rem; } blockquote footer { color: #57606a; }
"""


# The extracts the report's figures come from (its "data up to" date is the latest in them).
TABLES_USED = ("campaigns", "donations", "cohorts", "workshops", "participants", "survey_responses", "testimonials", "reoffending")


def _targets_section(progress: pd.DataFrame | None) -> str:
    if progress is None or progress.empty:
        return "<p>No delivery target is loaded for this campaign or its programme.</p>"
    rows = [(metrics.figure(r.indicator).label,
             f"{metrics.fmt('target_actual', r.target_actual)} delivered of {metrics.fmt('target_value', r.target_value)} agreed "
             f"({r.target_status}); {r.period}; {metrics.fmt('elapsed_share', r.elapsed_share)} of the period elapsed, "
             f"{metrics.fmt('pro_rata', r.pro_rata)} expected by now at an even pace")
            for r in progress.itertuples()]
    return _table(rows, "targets")


def _reoffending_section(results: pd.DataFrame | None) -> str:
    if results is None or results.empty:
        return ("<p>No reoffending analysis of the programme is loaded. The Justice Data Lab publishes one when at least 60 "
                "participants can be matched and followed for a year after release.</p>")
    analyses = results.drop_duplicates("analysis_id")
    listed = "; ".join(f"{html.escape(a.title)}, published {pd.Timestamp(a.published_on):%d %B %Y}" for a in analyses.itertuples())
    return (f"<p>{len(analyses)} published analysis{'es' if len(analyses) > 1 else ''}: {listed}. The latest, one year from "
            "release, against a matched comparison group (not a randomised trial; no significant difference is not proof the "
            f"programme had no effect):</p>{_table(analysis.reoffending_report_rows(results), 'reoffending')}"
            f"<p>{html.escape(analysis.reoffending_detectable(results))}</p>")


def _table(rows: list[tuple[str, str]], table_id: str) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td class='value'>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table id='{table_id}'>{body}</table>"


def funder_report_html(impact: CampaignImpact, data_source: str, synthetic: bool, generated: datetime | None = None,
                       reoffending: pd.DataFrame | None = None, targets: pd.DataFrame | None = None) -> str:
    generated = generated or datetime.now(UTC)
    c = impact.campaign
    figure = charts.cumulative_giving(impact.cumulative, c["target_gbp"], c["opens_at"], c["closes_at"])
    chart = pio.to_html(figure, include_plotlyjs="inline", full_html=False, div_id="cumulative-giving")
    quotes = "".join(
        f"<blockquote><p>{html.escape(r.quote)}</p><footer>{html.escape(r.display_name)}, {html.escape(r.prison)}</footer></blockquote>"
        for r in impact.testimonials.itertuples()
    ) or "<p>No testimonial with consent to publish.</p>"
    warning = (
        "<div class='warning' id='synthetic-warning'><strong>Synthetic sample data.</strong> Every figure in this report was made "
        "up by the dashboard's sample generator; it describes no real prison, person or gift.</div>"
        if synthetic else ""
    )
    start, end = impact.period
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Funder report: {html.escape(c['name'])}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(c['name'])}</h1>
<p class="meta">Funder report generated {generated:%d %B %Y %H:%M} UTC · {html.escape(c['platform'])}
 · open {c['opens_at']:%d %b %Y %H:%M} to {c['closes_at']:%d %b %Y %H:%M} UTC
 · match funder: {html.escape(match_funder(c) or 'none')}</p>
<p class="meta" id="data-date">{html.escape(data_source)}</p>
{warning}
<h2>What the campaign raised</h2>
{_table(labelled(impact.giving_rows()), 'giving')}
{chart}
<h2>What the programme delivered, {start:%d %b %Y} to {end:%d %b %Y}</h2>
<p>Cohorts that started in the period after the campaign closed. Gifts are not earmarked to cohorts, so this is
what the programme delivered while the campaign's money was being spent, not what it alone paid for.
{html.escape(disclosure.rule_statement(impact.threshold))} Survey change is among participants with no comparison
group, so it is not evidence of cause.</p>
{_table(labelled(impact.delivery_rows()), 'delivery')}
<h2>Delivery against what was agreed</h2>
{_targets_section(targets)}
<h2>Reoffending</h2>
{_reoffending_section(reoffending)}
<h2>In their words</h2>
{quotes}
</body></html>
"""
