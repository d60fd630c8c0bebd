"""The funder report: one self-contained HTML file (opens offline: Plotly's script is inlined), and the
same document as a PDF (WeasyPrint lays it out; Kaleido, Plotly's own exporter, draws the charts as
SVG through the machine's Chromium). Every sentence in it is generated from its figures."""

from __future__ import annotations

import base64
import html
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboard import analysis, charts, disclosure, funding, metrics
from dashboard.funding import CampaignImpact, WingSafety, labelled, match_funder
from dashboard.text import day_label, long_day_label, moment_label

STYLE = """
body { font-family: 'DejaVu Sans', system-ui, -apple-system, 'Segoe UI', sans-serif; max-width: 60rem; margin: 2rem auto;
       color: #1f2933; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
td.value { font-variant-numeric: tabular-nums; } .meta { color: #57606a; font-size: .9rem; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: .8rem 1rem; border-radius: 6px; margin: 1rem 0; }
.glance { background: #f0f6fc; border: 1px solid #b6d4f0; padding: .6rem 1rem; border-radius: 6px; }
blockquote { border-left: 4px solid #1e88e5; margin: 1rem 0; padding: .2rem 1rem; } blockquote footer { color: #57606a; }
figure { margin: 1rem 0; } figcaption { color: #57606a; font-size: .9rem; } img.chart { width: 100%; }
dl.methods dt { font-weight: bold; margin-top: .6rem; } dl.methods dd { margin-left: 0; font-size: .9rem; }
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: "page " counter(page) " of " counter(pages); font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; color: #57606a; } }
@media print { body { max-width: none; margin: 0; padding: 0; font-size: 10pt; } h2 { break-after: avoid; } tr, figure, blockquote { break-inside: avoid; } }
"""


# The extracts the report's figures come from (its "data up to" date is the latest in them).
TABLES_USED = ("campaigns", "donations", "cohorts", "workshops", "participants", "survey_responses", "testimonials", "reoffending",
               "incidents", "wing_population")


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
    listed = "; ".join(f"{html.escape(a.title)}, published {long_day_label(pd.Timestamp(a.published_on))}" for a in analyses.itertuples())
    return (f"<p>{len(analyses)} published analysis{'es' if len(analyses) > 1 else ''}: {listed}. The latest, one year from "
            "release, against a matched comparison group (not a randomised trial; no significant difference is not proof the "
            f"programme had no effect):</p>{_table(analysis.reoffending_report_rows(results), 'reoffending')}"
            f"<p>{html.escape(analysis.reoffending_detectable(results))}</p>")


def _survey_section(impact: CampaignImpact) -> str:
    return f"<p id='survey-claim'>{html.escape(funding.survey_sentence(impact))}</p>"


def _safety_section(safety: list[WingSafety], chart: str) -> str:
    if not safety:
        return "<p>No prison running The Conversation has wing figures to compare.</p>"
    rows = [(metrics.MEASURES[r.measure].label,
             (f"{metrics.fmt('pooled_ratio_of_changes', r.pooled.ratio)} (95% CI {r.pooled.lower:.2f} to {r.pooled.upper:.2f}); "
              f"{r.compared} cohorts compared" if r.pooled else "not compared")) for r in safety]
    claims = "".join(f"<li>{html.escape(r.claim)}</li>" for r in safety)
    detectable = "".join(f"<li>{html.escape(metrics.MEASURES[r.measure].label)}: {html.escape(r.detectable)}</li>"
                         for r in safety if r.detectable)
    return (f"<p>For each cohort that started in the period: how the rate on its wing changed from the {funding.SAFETY_WINDOW} "
            f"months before its first workshop to the {funding.SAFETY_WINDOW} months after its last, against the change over the "
            "same months on the same prison's wings without the programme (a ratio of changes; below 1, it fell more on the "
            "programme's wings). Cohorts are pooled across prisons; the 95% interval allows for cohorts differing.</p>"
            f"{_table(rows, 'safety')}{chart}<ul id='safety-claims'>{claims}</ul>"
            + (f"<p>{html.escape(analysis.DETECTABLE_LEAD.rstrip(', '))}:</p><ul>{detectable}</ul>" if detectable else ""))


def _methods_section(keys: list[str], threshold: int) -> str:
    notes = "".join(f"<dt>{html.escape(metrics.figure(k).label)}</dt><dd>{html.escape(metrics.figure(k).help)}</dd>"
                    for k in dict.fromkeys(keys))
    return (f"<p>{html.escape(disclosure.rule_statement(threshold))} Every sentence of this report is generated from its figure and "
            "95% interval: a rise or fall is said only when the interval excludes no change.</p>"
            f"<dl class='methods' id='methods'>{notes}</dl>")


def _table(rows: list[tuple[str, str]], table_id: str) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td class='value'>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table id='{table_id}'>{body}</table>"


def _charts(figures: dict[str, go.Figure], static: bool) -> dict[str, str]:
    """Each figure as HTML: an interactive Plotly div, or (for the PDF) an SVG image drawn by Kaleido,
    all in one browser start. Its text alternative goes in the caption and the image's alt text."""
    if not static:
        return {name: f"<figure>{pio.to_html(f, include_plotlyjs='inline' if i == 0 else False, full_html=False, div_id=name)}"
                      f"<figcaption>{html.escape(charts.describe(f))}</figcaption></figure>"
                for i, (name, f) in enumerate(figures.items())}
    try:
        with tempfile.TemporaryDirectory() as folder:
            paths = [Path(folder) / f"{name}.svg" for name in figures]
            pio.write_images(list(figures.values()), paths, format="svg", width=900)
            images = {name: base64.b64encode(path.read_bytes()).decode() for name, path in zip(figures, paths)}
    except Exception as error:  # no Chromium for Kaleido on this server: the PDF still goes out, each chart in words
        logging.getLogger("prison_dashboard").error("the report's charts could not be drawn", exc_info=error)
        return {name: f"<figure><p>(The chart is in the HTML report; it could not be drawn into this PDF.)</p>"
                      f"<figcaption>{html.escape(charts.describe(f))}</figcaption></figure>" for name, f in figures.items()}
    return {name: f"<figure><img class='chart' id='{name}' alt='{html.escape(charts.describe(f), quote=True)}' "
                  f"src='data:image/svg+xml;base64,{images[name]}'><figcaption>{html.escape(charts.describe(f))}</figcaption></figure>"
            for name, f in figures.items()}


def _document(impact: CampaignImpact, data_source: str, synthetic: bool, generated: datetime | None,
              reoffending: pd.DataFrame | None, targets: pd.DataFrame | None, safety: list[WingSafety] | None, static: bool) -> str:
    generated = generated or datetime.now(UTC)
    c = impact.campaign
    conversation = c["programme"] == "the_conversation"
    safety = safety or []
    figures = {}
    if not impact.cumulative.empty:
        figures["cumulative-giving"] = charts.cumulative_giving(impact.cumulative, c["target_gbp"], c["opens_at"], c["closes_at"])
    safety_table = funding.wing_safety_table(safety)
    if conversation and safety_table["pooled_ratio_of_changes"].notna().any():
        figures["wing-safety"] = charts.measures_forest(safety_table, "The programme's wings against comparison wings")
    drawn = _charts(figures, static)
    quotes = "".join(
        f"<blockquote><p>{html.escape(r.quote)}</p><footer>{html.escape(r.display_name)}, {html.escape(r.prison)}</footer></blockquote>"
        for r in impact.testimonials.itertuples()
    ) or "<p>No testimonial with consent to publish.</p>"
    warning = (
        "<div class='warning' id='synthetic-warning'><strong>Synthetic sample data.</strong> Every figure in this report was made "
        "up by the dashboard's sample generator; it describes no real prison, person or gift.</div>"
        if synthetic else ""
    )
    glance = "".join(f"<li><strong>{html.escape(q)}</strong> {html.escape(a)}</li>"
                     for q, a in funding.at_a_glance(impact, targets, safety, reoffending))
    start, end = impact.period
    other = ("<p>This campaign funded the Good Prison Project. The Conversation's delivery, surveys and wing figures are not "
             "its outcomes; its services, referrals and events, and its prisons against comparison prisons, are on the "
             "dashboard's Good Prison Project page.</p>")
    method_keys = [k for k, _ in impact.giving_rows()] + ([k for k, _ in impact.delivery_rows()] if conversation else [])
    method_keys += ["target_actual", "target_status"] if targets is not None and not targets.empty else []
    method_keys += ["mean_survey_change", "pooled_ratio_of_changes", "cohorts_compared"] if conversation else []
    method_keys += ["reoffending_difference"] if reoffending is not None and not reoffending.empty else []
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Funder report: {html.escape(c['name'])}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(c['name'])}</h1>
<p class="meta">Funder report generated {long_day_label(generated)} {generated:%H:%M} UTC · {html.escape(c['platform'])}
 · open {moment_label(c['opens_at'])} to {moment_label(c['closes_at'])} UTC
 · match funder: {html.escape(match_funder(c) or 'none')}</p>
<p class="meta" id="data-date">{html.escape(data_source)}</p>
{warning}
<div class="glance" id="at-a-glance"><ul>{glance}</ul></div>
<h2>What the campaign raised</h2>
{_table(labelled(impact.giving_rows()), 'giving')}
{drawn.get('cumulative-giving', '<p>No gifts recorded for this campaign.</p>')}
<h2>Delivery against what was agreed</h2>
{_targets_section(targets)}
<h2>What the programme delivered, {day_label(start)} to {day_label(end)}</h2>
{f'''<p>Cohorts that started in the period after the campaign closed. Gifts are not earmarked to cohorts, so this is
what the programme delivered while the campaign's money was being spent, not what it alone paid for.
{html.escape(disclosure.rule_statement(impact.threshold))}</p>
{_table(labelled(impact.delivery_rows()), 'delivery')}''' if conversation else other}
<h2>Change in participants' survey scores</h2>
{_survey_section(impact) if conversation else other}
<h2>Safety on the programme's wings against comparison wings</h2>
{_safety_section(safety, drawn.get('wing-safety', '')) if conversation else other}
<h2>Reoffending</h2>
{_reoffending_section(reoffending)}
<h2>In their words</h2>
{quotes}
<h2>How these figures were made</h2>
{_methods_section(method_keys, impact.threshold)}
</body></html>
"""


def funder_report_html(impact: CampaignImpact, data_source: str, synthetic: bool, generated: datetime | None = None,
                       reoffending: pd.DataFrame | None = None, targets: pd.DataFrame | None = None,
                       safety: list[WingSafety] | None = None) -> str:
    """The report as one HTML file with interactive charts."""
    return _document(impact, data_source, synthetic, generated, reoffending, targets, safety, static=False)


def funder_report_pdf(impact: CampaignImpact, data_source: str, synthetic: bool, generated: datetime | None = None,
                      reoffending: pd.DataFrame | None = None, targets: pd.DataFrame | None = None,
                      safety: list[WingSafety] | None = None) -> bytes:
    """The same report as an A4 PDF, its charts as vector images."""
    from weasyprint import HTML  # imported on demand: only the report's download needs it

    return HTML(string=_document(impact, data_source, synthetic, generated, reoffending, targets, safety, static=True)).write_pdf()
