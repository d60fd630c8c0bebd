"""Plotly figures for the pages: plain functions of frames, no Streamlit, readable colours."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.metrics import CODE_LABELS, INCIDENT_TYPE_LABELS
from dashboard.text import count_of, day_label, label, most_often

# The Government Analysis Function's accessible categorical palette, in its order. Series are also told
# apart by line dash, marker symbol or fill pattern, never by colour alone.
DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE = "#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"
PALETTE = [DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
PATTERNS = ["", "/", ".", "x", "-", "+"]
SPAN_COLOUR = LIGHT_PURPLE  # shading for a programme's weeks or period
# NHS "Making Data Count" signals: blue improvement, orange concern, grey common cause, each with its own marker.
SIGNAL_COLOURS = {"improvement": DARK_BLUE, "concern": ORANGE, "common cause": "#707070"}
SIGNAL_SYMBOLS = {"improvement": "diamond", "concern": "square", "common cause": "circle"}
PROGRAMME_COLOUR = DARK_PINK


_TEXT_FIELDS = ("x", "y", "z", "text", "hovertext", "customdata", "name", "legendgroup", "labels", "ids")


def _escaped_values(value):
    """Strings in `value` (a string, a sequence, an object array, nested) escaped for Plotly."""
    if isinstance(value, str):
        return label(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OUS":
            return np.vectorize(_escaped_values, otypes=[object])(value) if value.size else value
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_escaped_values(v) for v in value)
    return value


def escaped(build):
    """Every figure builder's output with the data's text escaped: names, ids and categories from
    the extracts show as text, never as Plotly's HTML (links, images). The builders' own
    templates keep their markup; a value spliced into a template is escaped where it is spliced."""

    def wrapper(*args, **kwargs) -> go.Figure:
        figure = build(*args, **kwargs)
        for trace in figure.data:
            for field in _TEXT_FIELDS:
                value = getattr(trace, field, None)
                if value is not None:
                    trace[field] = _escaped_values(value)
        for annotation in figure.layout.annotations:  # subplot titles are prison names
            annotation.text = label(annotation.text) if annotation.text else annotation.text
        for axis in (a for a in figure.layout if a.startswith(("xaxis", "yaxis"))):
            for field in ("categoryarray", "ticktext"):
                value = figure.layout[axis][field]
                if value is not None:
                    figure.layout[axis][field] = _escaped_values(value)
        return figure

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = build.__name__, build.__doc__, build
    return wrapper


def _number(value) -> str:
    value = float(value)
    if value == int(value) or abs(value) >= 10:  # "between 93 and 184", not "93.0 and 184"
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _point(value) -> str:
    if isinstance(value, str):
        return html.unescape(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "strftime"):
        return pd.Timestamp(value).strftime("%b %Y")
    return _number(value)


def _series_text(trace) -> str | None:
    """One series in words: a line from its first to its last value with its range, bars by their
    largest, markers by their range."""
    name = html.unescape(trace.name or "")
    if trace.type == "heatmap":
        z = np.asarray(trace.z, dtype=float)
        if not np.isfinite(z).any():
            return None
        row, column = np.unravel_index(np.nanargmax(z), z.shape)
        return (f"highest {_number(np.nanmax(z))} ({_point(trace.y[row])}, {_point(trace.x[column])}), "
                f"lowest {_number(np.nanmin(z))}")
    horizontal = getattr(trace, "orientation", None) == "h"
    values, places = (trace.x, trace.y) if horizontal else (trace.y, trace.x)
    if values is None or places is None or len(values) == 0:
        return None
    numbers = pd.to_numeric(pd.Series(list(values)), errors="coerce")
    if numbers.notna().sum() == 0:
        return None
    at = lambda i: _point(places[int(i)])  # noqa: E731 (only the points named are written out)
    if trace.type == "bar":
        top = int(numbers.idxmax())
        return f"{name}: largest {_number(numbers.max())} ({at(top)})"
    if "lines" in (trace.mode or "") and numbers.notna().sum() > 2:
        first, last = numbers.first_valid_index(), numbers.last_valid_index()
        return (f"{name}: {_number(numbers[first])} in {at(first)} to {_number(numbers[last])} in {at(last)}, "
                f"between {_number(numbers.min())} and {_number(numbers.max())}")
    if numbers.notna().sum() == 1:
        return f"{name}: {_number(numbers.dropna().iloc[0])} ({at(numbers.first_valid_index())})"
    return f"{name}: {numbers.notna().sum()} points from {_number(numbers.min())} to {_number(numbers.max())}"


def _summarised(figure: go.Figure, sentence: str) -> go.Figure:
    """Keep the chart's one-sentence text alternative with it (written by its builder, from the data
    it draws); `describe` returns it. Kept escaped, as every string in a figure is (names come from
    the extracts)."""
    figure.update_layout(meta={"summary": label(sentence)})
    return figure


def _month(value) -> str:
    return pd.Timestamp(value).strftime("%b %Y")


def _quarter_end(value) -> str:
    """The last month of the quarter starting at `value`: a span of quarters runs to its end ("to Dec 2024",
    not to the last quarter's first month, which read as if October's data were the last)."""
    return _month(pd.Timestamp(value) + pd.DateOffset(months=2))


MAX_SERIES_DESCRIBED = 4  # a one-sentence alternative: the chart's data table has the rest


def describe(figure: go.Figure) -> str:
    """The chart's text alternative, generated from what it draws (so it cannot disagree with it): its
    title, then each named series' values in words."""
    meta = figure.layout.meta
    if isinstance(meta, dict) and meta.get("summary"):
        return html.unescape(meta["summary"])
    title = html.unescape(figure.layout.title.text or "Chart")
    parts = [text for trace in figure.data if (trace.name or trace.type == "heatmap") and trace.showlegend is not False
             and (text := _series_text(trace))]
    if len(parts) > MAX_SERIES_DESCRIBED:
        parts = [*parts[:MAX_SERIES_DESCRIBED], f"and {len(parts) - MAX_SERIES_DESCRIBED} more series (see the data table)"]
    return f"{title}: " + ("; ".join(parts) if parts else "nothing to draw") + "."


def template_text(value: object) -> str:
    """An outside value spliced into a hover template: escaped, and no `%{` to be read as a field."""
    return label(value).replace("%{", "%\u200b{")


def _layout(figure: go.Figure, title: str, y_title: str, x_title: str = "Month") -> go.Figure:
    figure.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title, hovermode="closest",
        legend_title_text="", margin={"t": 60, "r": 20}, font={"size": 13},
    )
    return figure


@escaped
def monthly_incident_rates(monthly: pd.DataFrame) -> go.Figure:
    """One line per incident type: the monthly rate, with its count and prisoner-years on hover."""
    monthly = monthly.assign(type=monthly["incident_type"].map(INCIDENT_TYPE_LABELS))
    figure = go.Figure([
        go.Scatter(
            x=part["month"], y=part["rate"], name=kind, mode="lines", line={"color": colour, "dash": dash},
            customdata=part[["incidents", "prisoner_years"]].to_numpy(),
            hovertemplate="%{x|%b %Y}: %{y:.0f} per 1,000 per year<br>%{customdata[0]} incidents / %{customdata[1]:.1f} prisoner-years<extra></extra>",
        )
        for (kind, part), colour, dash in zip(monthly.sort_values("month").groupby("type"), PALETTE, DASHES)
    ])
    title = "Monthly incident rates, annualised"
    _layout(figure, title, "Incidents per 1,000 prisoners per year (annualised)")
    figure.update_layout(hovermode="x unified", margin={"t": 50})
    return _summarised(figure, f"{title}, per 1,000 prisoners per year: " + "; ".join(filter(None, map(_series_text, figure.data))) + ".")


@escaped
def services_by_category(counts: pd.DataFrame) -> go.Figure:
    """Services available and gaps per category, a panel per prison (`analysis.services_table`)."""
    prisons = sorted(counts["prison"].unique())
    statuses = {"services_available": ("Available", "#12436D"), "services_gap": ("Gap", "#F46A25")}
    counts = counts.assign(category=counts["category"].map(lambda c: CODE_LABELS["category"].get(c, c)))
    figure = make_subplots(rows=1, cols=len(prisons), subplot_titles=prisons, shared_yaxes=True, horizontal_spacing=0.03)
    for column, prison in enumerate(prisons, start=1):
        part = counts[counts["prison"] == prison]
        for status, (name, colour) in statuses.items():
            figure.add_trace(go.Bar(
                x=part[status], y=part["category"], orientation="h", name=name, marker_color=colour,
                marker_pattern_shape="" if status == "services_available" else "/",  # not colour alone
                legendgroup=status, showlegend=column == 1,
                hovertemplate="%{y}: %{x} " + name.lower() + "<extra>" + template_text(prison) + "</extra>",
            ), row=1, col=column)
    figure.update_layout(barmode="stack", height=420)
    figure.update_xaxes(title_text="Services")
    title = "Provision and gaps by category, prison by prison"
    _layout(figure, title, "", "Services")
    figure.update_layout(margin={"t": 80})
    worst = counts.loc[counts["services_gap"].idxmax()] if len(counts) else None
    most = (f"; the most gaps are in {worst['category'].lower()} at {worst['prison']} ({worst['services_gap']})"
            if worst is not None and worst["services_gap"] > 0 else "")
    return _summarised(figure, f"{title}: {counts['services_available'].sum()} services available and {counts['services_gap'].sum()} gaps "
                               f"across {len(prisons)} prisons{most}.")


@escaped
def referrals_by_quarter(quarterly: pd.DataFrame, coordinator_period: tuple | None) -> go.Figure:
    """Stacked referrals per quarter by outcome (`quarter`, `outcome`, `referrals`), the coordinator
    period shaded when it is known."""
    figure = go.Figure([
        go.Bar(x=part["quarter"], y=part["referrals"], name=CODE_LABELS["outcome"].get(outcome, outcome), marker_color=colour,
               marker_pattern_shape=pattern,
               hovertemplate="quarter from %{x|%b %Y}: %{y} " + CODE_LABELS["outcome"].get(outcome, outcome).lower() + "<extra></extra>")
        for (outcome, part), colour, pattern in zip(quarterly.groupby("outcome"), PALETTE, PATTERNS)
    ])
    per_quarter = quarterly.groupby("quarter")["referrals"].sum()
    if coordinator_period is not None:
        figure.add_vrect(x0=coordinator_period[0], x1=coordinator_period[1], fillcolor=SPAN_COLOUR, opacity=0.08, line_width=0,
                         annotation_text="coordinator period", annotation_position="top left")
        figure.update_yaxes(range=[0, max(per_quarter.max(), 1) * 1.18])  # room for the span's label above the tallest bar
    figure.update_layout(barmode="stack")
    title = "Referrals per quarter by outcome"
    _layout(figure, title, "Referrals", "Quarter")
    outcomes = quarterly.groupby("outcome")["referrals"].sum().sort_values()
    return _summarised(figure, f"{title}: {per_quarter.sum():,} referrals from {_month(per_quarter.index.min())} to "
                               f"{_quarter_end(per_quarter.index.max())}, most in the quarter from {_month(per_quarter.idxmax())} "
                               f"({per_quarter.max():,}); most often {CODE_LABELS['outcome'].get(outcomes.index[-1], outcomes.index[-1]).lower()}.")


@escaped
def wing_rate_heatmap(rates: pd.DataFrame, unit: str) -> go.Figure:
    """Wing × month rates as a heatmap: readable for many wings where lines would tangle."""
    grid = rates.pivot_table(index="wing_name", columns="month", values="rate")
    incidents = rates.pivot_table(index="wing_name", columns="month", values="incidents")
    years = rates.pivot_table(index="wing_name", columns="month", values="prisoner_years")
    figure = go.Figure(go.Heatmap(
        z=grid.values, x=grid.columns, y=grid.index, colorscale="YlOrRd", colorbar={"title": "per 1,000<br>per year"},
        customdata=np.dstack([incidents.values, years.values]),
        hovertemplate="%{y}, %{x|%b %Y}: %{z:.0f}<br>%{customdata[0]} incidents / %{customdata[1]:.1f} prisoner-years<extra></extra>",
    ))
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=120 + 36 * len(grid.index))
    title = f"Monthly rate by wing ({unit}, annualised)"
    _layout(figure, title, "Wing")
    means = rates.groupby("wing_name")["incidents"].sum() / rates.groupby("wing_name")["prisoner_years"].sum() * 1000
    if means.dropna().empty:
        return _summarised(figure, f"{title}: no rates to draw.")
    top = rates.loc[rates["rate"].idxmax()]
    return _summarised(figure, f"{title}: {len(grid.index)} wings over {len(grid.columns)} months; over the whole span "
                               f"{means.idxmax()} has the highest rate ({means.max():,.0f}) and {means.idxmin()} the lowest "
                               f"({means.min():,.0f}); the highest month was {top['wing_name']} in {_month(top['month'])} "
                               f"({top['rate']:,.0f}).")


@escaped
def spc_chart(series: pd.DataFrame, cohorts: pd.DataFrame, workshops: pd.DataFrame, title: str, unit: str) -> go.Figure:
    # One layout update for all spans: add_vrect per cohort re-validates the figure each time.
    figure = go.Figure(layout={"shapes": [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": first, "x1": last, "y0": 0, "y1": 1,
         "fillcolor": SPAN_COLOUR, "opacity": 0.12, "line": {"width": 0}, "layer": "below"}
        for first, last in zip(cohorts["first_workshop"], cohorts["last_workshop"])
    ]})
    figure.add_trace(go.Scatter(x=series["month"], y=series["rate"], mode="lines", line={"color": "#5f6b6d", "width": 1.5},
                                name="Rate", hoverinfo="skip", showlegend=False))
    for signal, colour in SIGNAL_COLOURS.items():
        points = series[series["signal"] == signal]
        figure.add_trace(go.Scatter(
            x=points["month"], y=points["rate"], mode="markers", name=signal.capitalize(),
            marker={"color": colour, "size": 9, "symbol": SIGNAL_SYMBOLS[signal], "line": {"width": 1, "color": "white"}},
            customdata=np.stack([points["incidents"], points["prisoner_years"]], axis=-1) if len(points) else None,
            hovertemplate="%{x|%b %Y}: %{y:.0f}<br>%{customdata[0]} incidents / %{customdata[1]:.1f} prisoner-years<extra>" + signal + "</extra>",
        ))
    for column, name, dash in (("mean", "Mean", "solid"), ("upper", "Upper process limit", "dash"), ("lower", "Lower process limit", "dash")):
        figure.add_trace(go.Scatter(x=series["month"], y=series[column], mode="lines", name=name,
                                    line={"color": "#231f20" if column == "mean" else "#7b7d7d", "dash": dash, "width": 1.2}))
    if not workshops.empty:
        # workshops in a strip of their own below zero, clear of a lower limit that sits at 0
        top = float(np.nanmax([series["rate"].max(), series["upper"].max(), 1.0])) * 1.05 if not series.empty else 1.0
        figure.update_yaxes(range=[-0.12 * top, top])
        figure.add_trace(go.Scatter(
            x=workshops["delivered_on"], y=[-0.06 * top] * len(workshops), mode="markers", name="Workshop delivered",
            marker={"symbol": "triangle-up", "size": 10, "color": DARK_PINK},
            text=workshops["cohort_id"] + " · session " + workshops["session_number"].astype(str),
            hovertemplate="%{x|%-d %b %Y}: %{text}<extra></extra>",
        ))
    _layout(figure, title, f"Rate ({unit}, annualised)")
    if series.empty:
        return _summarised(figure, f"{html.unescape(title)}: no months to draw.")
    signals, latest = series["signal"].value_counts(), series.iloc[-1]
    return _summarised(figure, f"{html.unescape(title)}: {len(series)} months, mean {series['mean'].iloc[-1]:,.0f}, process limits "
                               f"{series['lower'].iloc[-1]:,.0f} to {series['upper'].iloc[-1]:,.0f}; {signals.get('improvement', 0)} months "
                               f"signal improvement and {signals.get('concern', 0)} concern; the latest, {_month(latest['month'])}, is "
                               f"{latest['rate']:,.0f} ({latest['signal']}).")


def _ratio_axis(figure: go.Figure, values) -> None:
    """A log-scale ratio axis with plain ticks around 1 (a halving and a doubling look the same size)."""
    finite = [v for v in values if v is not None and np.isfinite(v) and v > 0] or [1.0]
    low, high = min(min(finite), 0.8), max(max(finite), 1.25)
    ticks = [t for t in (0.25, 0.33, 0.5, 0.67, 0.75, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, 4) if low / 1.05 <= t <= high * 1.05]
    figure.update_xaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], range=[np.log10(low / 1.1), np.log10(high * 1.1)])


@escaped
def forest_plot(cohorts: pd.DataFrame, pooled, title: str) -> go.Figure:
    """Each compared cohort's ratio of changes with its 95% interval, and the pooled estimate below
    them as a diamond; a line at 1 (no difference). `cohorts` has cohort_label, ratio, ratio_low,
    ratio_high."""
    rows = list(cohorts["cohort_label"]) + ["All cohorts together"]
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=cohorts["ratio"], y=cohorts["cohort_label"], mode="markers", name="One cohort",
        marker={"symbol": "square", "size": 9, "color": "#455a64"},
        error_x={"type": "data", "symmetric": False, "array": cohorts["ratio_high"] - cohorts["ratio"],
                 "arrayminus": cohorts["ratio"] - cohorts["ratio_low"], "color": "#455a64", "thickness": 1.5},
        customdata=np.stack([cohorts["ratio_low"], cohorts["ratio_high"]], axis=-1) if len(cohorts) else None,
        hovertemplate="%{y}: %{x:.2f} (95% CI %{customdata[0]:.2f} to %{customdata[1]:.2f})<extra></extra>",
    ))
    if pooled is not None:
        figure.add_trace(go.Scatter(
            x=[pooled.ratio], y=[rows[-1]], mode="markers", name="Pooled",
            marker={"symbol": "diamond", "size": 16, "color": PROGRAMME_COLOUR},
            error_x={"type": "data", "symmetric": False, "array": [pooled.upper - pooled.ratio],
                     "arrayminus": [pooled.ratio - pooled.lower], "color": PROGRAMME_COLOUR, "thickness": 3},
            hovertemplate=f"All cohorts together: %{{x:.2f}} (95% CI {pooled.lower:.2f} to {pooled.upper:.2f})<extra></extra>",
        ))
    figure.add_vline(x=1, line={"color": "#231f20", "width": 1})
    _ratio_axis(figure, [*cohorts["ratio_low"], *cohorts["ratio_high"], *((pooled.lower, pooled.upper) if pooled else ())])
    figure.update_yaxes(categoryorder="array", categoryarray=rows[::-1], title="")
    figure.update_layout(height=max(260, 26 * len(rows) + 120), showlegend=False)
    _layout(figure, title, "", "Ratio of changes, cohort's wing against comparison wings (below 1: fell more)")
    if cohorts.empty:
        return _summarised(figure, f"{title}: no cohort could be compared.")
    below = int((cohorts["ratio"] < 1).sum())
    pooled_text = (f"; all cohorts together {pooled.ratio:.2f} (95% CI {pooled.lower:.2f} to {pooled.upper:.2f})" if pooled is not None
                   else "")
    return _summarised(figure, f"{title}: {len(cohorts)} cohorts, ratios from {cohorts['ratio'].min():.2f} to "
                               f"{cohorts['ratio'].max():.2f}, {below} below 1{pooled_text}.")


@escaped
def measures_forest(table: pd.DataFrame, title: str) -> go.Figure:
    """Each measure's pooled ratio of changes with its 95% interval, and a line at 1 (no difference).
    `table` is `funding.wing_safety_table(...)`: measure, pooled_ratio_of_changes, ratio_low, ratio_high."""
    shown = table.dropna(subset=["pooled_ratio_of_changes"])
    figure = go.Figure(go.Scatter(
        x=shown["pooled_ratio_of_changes"], y=shown["measure"], mode="markers", name="Cohorts pooled",
        marker={"symbol": "diamond", "size": 14, "color": PROGRAMME_COLOUR},
        error_x={"type": "data", "symmetric": False, "array": shown["ratio_high"] - shown["pooled_ratio_of_changes"],
                 "arrayminus": shown["pooled_ratio_of_changes"] - shown["ratio_low"], "color": PROGRAMME_COLOUR, "thickness": 2.5},
        customdata=np.stack([shown["ratio_low"], shown["ratio_high"]], axis=-1) if len(shown) else None,
        hovertemplate="%{y}: %{x:.2f} (95% CI %{customdata[0]:.2f} to %{customdata[1]:.2f})<extra></extra>",
    ))
    figure.add_vline(x=1, line={"color": "#231f20", "width": 1})
    _ratio_axis(figure, [*shown["ratio_low"], *shown["ratio_high"]])
    figure.update_yaxes(categoryorder="array", categoryarray=list(shown["measure"])[::-1], title="")
    figure.update_layout(height=max(240, 40 * len(shown) + 140), showlegend=False)
    _layout(figure, title, "", "Ratio of changes, programme wings against comparison wings (below 1: fell more)")
    said = "; ".join(f"{r.measure.lower()} {r.pooled_ratio_of_changes:.2f} (95% CI {r.ratio_low:.2f} to {r.ratio_high:.2f})"
                     for r in shown.itertuples())
    return _summarised(figure, f"{title}: {said or 'no measure could be compared'}.")


@escaped
def event_study_chart(study: pd.DataFrame, title: str) -> go.Figure:
    """The rate ratio against comparison wings by month from the first workshop, with its 95% band,
    a line at 1 and the workshops' months shaded."""
    shown = study[study["cohorts"] > 0]
    figure = go.Figure(layout={"shapes": [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": -0.5, "x1": 2.5, "y0": 0, "y1": 1,
         "fillcolor": SPAN_COLOUR, "opacity": 0.10, "line": {"width": 0}, "layer": "below"},
    ]})
    figure.add_trace(go.Scatter(
        x=list(shown["months_from_first_workshop"]) + list(shown["months_from_first_workshop"])[::-1],
        y=list(shown["ratio_high"]) + list(shown["ratio_low"])[::-1], fill="toself", fillcolor="rgba(216,27,96,0.15)",
        line={"width": 0}, name="95% interval", hoverinfo="skip",
    ))
    figure.add_trace(go.Scatter(
        x=shown["months_from_first_workshop"], y=shown["ratio"], mode="lines+markers", name="Rate ratio",
        line={"color": PROGRAMME_COLOUR, "width": 2}, marker={"size": 6},
        customdata=np.stack([shown["ratio_low"], shown["ratio_high"], shown["cohorts"], shown["cohort_incidents"]], axis=-1) if len(shown) else None,
        hovertemplate=("Month %{x}: %{y:.2f} (95% CI %{customdata[0]:.2f} to %{customdata[1]:.2f})<br>"
                       "%{customdata[2]} cohorts, %{customdata[3]:.0f} incidents on their wings<extra></extra>"),
    ))
    figure.add_hline(y=1, line={"color": "#231f20", "width": 1})
    figure.update_yaxes(type="log")
    figure.update_xaxes(dtick=3, zeroline=False)
    _layout(figure, title, "Rate ratio against comparison wings", "Months from the first workshop (0 = its month; shaded: the workshops)")
    before, after = shown[shown["months_from_first_workshop"] < 0]["ratio"], shown[shown["months_from_first_workshop"] >= 0]["ratio"]
    span = lambda part: f"between {part.min():.2f} and {part.max():.2f}" if part.notna().any() else "not estimated"  # noqa: E731
    return _summarised(figure, f"{title}: the ratio to what comparison wings predict is {span(before)} in the months before the "
                               f"first workshop and {span(after)} from its month on (1 means no difference).")


def _label_positions(x: pd.Series, y: pd.Series, x_span: float, y_span: float) -> list[str]:
    """Each named point's label above it, or below when the label of a point just to its left sits above
    and close by (within an eighth of each axis's span): neighbours' names would print over each other."""
    order = np.argsort(x.to_numpy(), kind="stable")
    xs, ys = x.to_numpy()[order], y.to_numpy()[order]
    positions = [""] * len(xs)
    for i in range(len(xs)):
        crowded = any(positions[j] == "top center" and abs(xs[i] - xs[j]) < x_span / 8 and abs(ys[i] - ys[j]) < y_span / 8
                      for j in range(i))
        positions[i] = "bottom center" if crowded else "top center"
    placed = [""] * len(xs)
    for rank, index in enumerate(order):
        placed[index] = positions[rank]
    return placed


@escaped
def funnel_plot(result, title: str, unit: str, highlight=(), show_unadjusted: bool = False) -> go.Figure:
    """Funnel of rate against prisoner-years with 95% and 99.8% limits around the reference rate
    (`result` is an `analysis.Funnel`): its limits as used, and optionally the limits without the
    over-dispersion adjustment. Prisons are named; the viewer's prisons (`highlight`) stand out."""
    prisons = result.table
    exposure = np.linspace(max(prisons["prisoner_years"].min() * 0.8, 1.0), prisons["prisoner_years"].max() * 1.1, 120)
    traces = []  # plain dicts, validated once by the figure (a trace object each costs several ms)
    variants = [(result.adjusted, DARK_GREY, "")]
    if show_unadjusted and result.adjusted:
        variants.append((False, "#b0bec5", " without adjustment"))
    for adjusted, colour, suffix in variants:
        for level, dash in ((0.998, "dash"), (0.95, "dot")):
            limits = result.limits(exposure, level, adjusted)
            for side, name in ((0, "lower"), (1, "upper")):
                legend = f"{level:.1%} limits{suffix}".replace(".0%", "%")
                traces.append(dict(
                    type="scatter", x=exposure, y=np.asarray(limits[side]), mode="lines",
                    line={"color": colour, "dash": dash, "width": 1},
                    name=legend, legendgroup=legend, showlegend=side == 1,
                    hovertemplate=f"{legend}, {name}: %{{y:.0f}}<extra></extra>",
                ))
    traces.append(dict(type="scatter", x=[exposure[0], exposure[-1]], y=[result.reference_rate] * 2, mode="lines",
                       line={"color": "#231f20", "width": 1.2}, name=f"Reference {result.reference_rate:,.0f}",
                       hovertemplate=f"reference rate {result.reference_rate:,.0f}<extra></extra>"))
    mine = prisons["prison_id"].isin(list(highlight))
    named = prisons[prisons["programme"] | mine]
    span = lambda column: prisons[column].max() - prisons[column].min()  # noqa: E731
    placed = dict(zip(named["prison_id"], _label_positions(named["prisoner_years"], named["rate"], span("prisoner_years"), span("rate"))))
    groups = (
        (~prisons["programme"] & ~mine, "#707070", 8, "Other prisons", False),
        (prisons["programme"] & ~mine, PROGRAMME_COLOUR, 10, "Programme prisons", True),
        (mine, DARK_BLUE, 14, "Your prison" if mine.sum() == 1 else "Your prisons", True),
    )
    for chosen, colour, size, name, labelled in groups:
        points = prisons[chosen]
        if "source" in points:  # recorded first: the legend shows a trace's first marker
            points = points.sort_values("source", key=lambda source: source != "recorded", kind="stable")
        traces.append(dict(
            type="scatter", x=points["prisoner_years"].to_numpy(), y=points["rate"].to_numpy(),
            mode="markers+text" if labelled else "markers",
            text=points["name"].to_numpy() if labelled else None,
            textposition=[placed.get(p, "top center") for p in points["prison_id"]],
            textfont={"shadow": "auto"},  # a halo: a name crossing a limit line stays legible
            marker={"color": colour, "size": size, "line": {"width": 1.5 if labelled else 1, "color": "white"},
                    # a diamond: a prison known from published counts, not recorded incidents
                    "symbol": ["star" if name.startswith("Your prison") else "diamond" if source == "published" else "circle"
                               for source in points.get("source", pd.Series("recorded", index=points.index))]},
            name=name, customdata=np.stack([
                points["name"], points["incidents"],
                points.get("source", pd.Series("recorded", index=points.index)).map({"published": "published counts"}).fillna("recorded incidents"),
            ], axis=-1) if len(points) else None,
            hovertemplate="%{customdata[0]}<br>%{customdata[1]} incidents (%{customdata[2]}) / %{x:,.0f} prisoner-years<br>%{y:.0f} " + unit + "<extra></extra>",
        ))
    if "source" in prisons and (prisons["source"] == "published").any():  # the diamond explained in the legend
        traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", name="From published counts",
                           marker={"color": "#707070", "size": 9, "symbol": "diamond"}, hoverinfo="skip"))
    figure = _layout(go.Figure(traces), title, f"Rate ({unit})", "Prisoner-years (exposure)")
    positions = prisons["position"].value_counts()
    outside = "; ".join(f"{n} {p}" for p, n in positions.items() if p != "within limits") or "none outside the 95% limits"
    return _summarised(figure, f"{title}: {len(prisons)} prisons against a reference rate of {result.reference_rate:,.0f} {unit}; "
                               f"{positions.get('within limits', 0)} within the limits; {outside}.")


def _panel_grid(titles: list[str], columns: int, panel_height: int, gap_px: int = 90) -> tuple[dict, list[tuple[str, str]]]:
    """A grid of panels as a plain layout (what `make_subplots` builds, at a tenth of its cost):
    each panel's axes placed by domain, titled above, x axes shared so every panel reads against
    the same quarters. Returns the layout and each panel's (x axis, y axis) trace references."""
    rows = int(np.ceil(len(titles) / columns))
    height = panel_height * rows
    across, down = 0.2 / columns, gap_px / height
    width, tall = (1 - across * (columns - 1)) / columns, (1 - down * (rows - 1)) / rows
    layout: dict = {"height": height, "annotations": []}
    references = []
    for i, title in enumerate(titles):
        row, column = divmod(i, columns)
        suffix = "" if i == 0 else str(i + 1)
        left, top = column * (width + across), 1 - row * (tall + down)
        bottom, right = max(0.0, top - tall), min(1.0, left + width)  # never past the edge by a rounding error
        has_panel_below = i + columns < len(titles)
        layout[f"xaxis{suffix}"] = {"domain": [left, right], "anchor": f"y{suffix}", "matches": None if i == 0 else "x",
                                    "showticklabels": not has_panel_below}
        layout[f"yaxis{suffix}"] = {"domain": [bottom, top], "anchor": f"x{suffix}", "rangemode": "tozero"}
        layout["annotations"].append({"text": title, "x": (left + right) / 2, "y": top, "xref": "paper", "yref": "paper",
                                      "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 16}})
        references.append((f"x{suffix}", f"y{suffix}"))
    return layout, references


@escaped
def trend_small_multiples(quarterly: pd.DataFrame, unit: str, sites: pd.DataFrame) -> go.Figure:
    """Each programme prison's quarterly rate against its comparison group, one panel each, with a
    dotted line where a programme started there (`sites`: the programme_sites query's rows)."""
    panels = list(dict.fromkeys(quarterly["panel"]))
    # up to three a row; fewer panels share the width rather than leave it empty
    layout, references = _panel_grid(panels, columns=min(3, len(panels)), panel_height=300)
    prison_of = dict(zip(quarterly["panel"], quarterly["prison_id"]))
    first, last = pd.Timestamp(quarterly["quarter"].min()), pd.Timestamp(quarterly["quarter"].max()) + pd.DateOffset(months=3)
    layout["shapes"] = []
    for panel, (x_axis, y_axis) in zip(panels, references):
        started = sites[sites["prison_id"] == prison_of[panel]].sort_values("started_on")
        shown = [site for site in started.itertuples() if first <= pd.Timestamp(site.started_on) < last]
        for j, site in enumerate(shown):  # a second programme's label one line lower, clear of the first's
            day = pd.Timestamp(site.started_on)
            layout["shapes"].append({"type": "line", "xref": x_axis, "yref": f"{y_axis} domain", "x0": day, "x1": day, "y0": 0,
                                     "y1": 1, "line": {"color": DARK_PINK, "dash": "dot", "width": 1.5}})
            layout["annotations"].append({"text": f"{CODE_LABELS['programme'].get(site.programme, site.programme)} from {_month(day)}",
                                          "x": day, "y": 1 - 0.08 * j, "xref": x_axis, "yref": f"{y_axis} domain", "xanchor": "left",
                                          "yanchor": "top", "showarrow": False, "font": {"size": 11, "color": DARK_PINK},
                                          "bgcolor": "rgba(255,255,255,0.85)"})
    colours = {"This prison": (PROGRAMME_COLOUR, "solid"), "Comparison group": (DARK_GREY, "dash")}
    parts = dict(iter(quarterly.groupby(["panel", "series"], sort=False)))
    traces = []
    for i, (panel, (x_axis, y_axis)) in enumerate(zip(panels, references)):
        for series, (colour, dash) in colours.items():
            part = parts.get((panel, series))
            if part is None:
                continue
            traces.append(dict(  # plain dicts and arrays: validated once, by the figure
                type="scatter", x=part["quarter"].to_numpy(), y=part["rate"].to_numpy(), mode="lines", name=series,
                legendgroup=series, showlegend=i == 0, line={"color": colour, "width": 2, "dash": dash}, xaxis=x_axis, yaxis=y_axis,
                customdata=np.stack([part["incidents"], part["prisoner_years"]], axis=-1),
                hovertemplate="%{x|%b %Y}: %{y:.0f}<br>%{customdata[0]:.0f} incidents / %{customdata[1]:,.0f} prisoner-years<extra>" + series + "</extra>",
            ))
    figure = go.Figure(traces, layout)
    figure.update_layout(
        title=f"Quarterly rate ({unit}): programme prisons against prisons of the same type without a programme",
        legend_title_text="", margin={"t": 90}, font={"size": 13},
    )
    last = quarterly[quarterly["quarter"] == quarterly["quarter"].max()]
    rates = {(p, s): r for p, s, r in zip(last["panel"], last["series"], last["rate"])}
    latest = {p for p, _ in rates}
    above = sum(1 for p in latest if rates.get((p, "This prison"), 0) > rates.get((p, "Comparison group"), float("inf")))
    return _summarised(figure, f"Quarterly rates ({unit}) of {count_of(len(panels), 'programme prison')} against their comparison "
                               f"groups, {_month(quarterly['quarter'].min())} to {_quarter_end(quarterly['quarter'].max())}: in the latest "
                               f"quarter, {above} of {len(latest)} above their comparison group.")


# --- The Conversation: cohorts ---------------------------------------------------------------

# Plain graph objects rather than plotly.express here: px costs ~80 ms a figure, too slow for a page.
DELIVERY_COLOURS = {"all three sessions": DARK_BLUE, "2 of 3 sessions": TURQUOISE, "1 of 3 sessions": ORANGE, "0 of 3 sessions": DARK_GREY}


@escaped
def cohort_timeline(delivery: pd.DataFrame) -> go.Figure:
    frame = delivery.dropna(subset=["first_scheduled"]).sort_values("first_scheduled").copy()
    start = pd.to_datetime(frame["first_scheduled"])
    end = pd.to_datetime(frame["last_delivered"]).fillna(start)
    # a cohort with one workshop delivered (or none) spans no days; drawn six weeks wide, it shows as a
    # mark rather than a hairline on an axis of years (its hover text gives the real days)
    end = end.where(end > start, start + pd.Timedelta(days=42))
    frame["duration_ms"] = (end - start).dt.total_seconds() * 1000
    frame["delivery"] = frame["sessions_delivered"].map(lambda n: "all three sessions" if n >= 3 else f"{n} of 3 sessions")
    figure = go.Figure()
    for (delivery_label, colour), pattern in zip(DELIVERY_COLOURS.items(), PATTERNS):
        part = frame[frame["delivery"] == delivery_label]
        if part.empty:
            continue
        figure.add_trace(go.Bar(
            y=part["cohort_id"], x=part["duration_ms"], base=pd.to_datetime(part["first_scheduled"]), orientation="h",
            # the pattern drawn over the colour, not instead of it: a short bar of dots alone was nearly blank
            name=delivery_label, marker_color=colour, marker_pattern={"shape": pattern, "fillmode": "overlay", "fgcolor": "white"},
            customdata=np.stack([part["prison_id"], part["wing_id"], part["sdm"], part["days_first_to_last"].fillna(-1)], axis=-1),
            hovertemplate="%{y}: %{customdata[0]} %{customdata[1]}, %{customdata[2]}<br>%{base|%-d %b %Y}, %{customdata[3]} days first to last<extra>" + delivery_label + "</extra>",
        ))
    figure.update_xaxes(type="date")
    figure.update_yaxes(categoryorder="array", categoryarray=list(frame["cohort_id"]), autorange="reversed", title_text="")
    figure.update_layout(height=max(300, 18 * len(frame) + 120), barmode="overlay")
    title = "Cohorts from first scheduled to last delivered workshop"
    _layout(figure, title, "", "Date")
    delivered = frame["delivery"].value_counts()
    return _summarised(figure, f"{title}: {len(frame)} cohorts first scheduled from {day_label(start.min())} to {day_label(start.max())}; "
                               + ", ".join(f"{delivered[d]} delivered {d}" for d in DELIVERY_COLOURS if d in delivered) + ".")


@escaped
def cancellation_reasons(cancelled: pd.DataFrame, every_reason: list[str]) -> go.Figure:
    """Cancelled workshops by quarter, stacked by reason. A reason's colour and pattern follow its place in
    `every_reason` (all the viewer's reasons, most frequent first), so it keeps them whatever the filters."""
    frame = cancelled.assign(quarter=pd.to_datetime(cancelled["scheduled_on"]).dt.to_period("Q").dt.to_timestamp())
    counts = frame.groupby(["quarter", "cancellation_reason"], as_index=False).size()
    order = list(every_reason) + sorted(set(counts["cancellation_reason"]) - set(every_reason))
    figure = go.Figure([
        go.Bar(x=part["quarter"], y=part["size"], name=reason, marker_color=PALETTE[i % len(PALETTE)],
               marker_pattern_shape=PATTERNS[(i + i // len(PALETTE)) % len(PATTERNS)],  # past the colours, a new pairing
               width=1000 * 60 * 60 * 24 * 80, offset=0,  # a quarter wide (ms), whatever the span shown
               hovertemplate="%{x|%b %Y} quarter: %{y} cancelled<extra>" + template_text(reason) + "</extra>")
        for i, reason in enumerate(order)
        if not (part := counts[counts["cancellation_reason"] == reason]).empty
    ])
    figure.update_layout(barmode="stack")
    figure.update_yaxes(dtick=1)
    title = "Cancelled workshops by quarter and reason"
    _layout(figure, title, "Workshops cancelled", "Quarter")
    reasons = cancelled["cancellation_reason"].value_counts()
    return _summarised(figure, f"{title}: {len(cancelled)} workshops cancelled from {_month(frame['quarter'].min())} to "
                               f"{_quarter_end(frame['quarter'].max())}, {most_often(reasons, quote=str)}.")


@escaped
def days_first_to_last(delivery: pd.DataFrame, planned_days: int) -> go.Figure:
    frame = delivery[delivery["sessions_delivered"] >= 3].dropna(subset=["days_first_to_last"])
    jitter = np.linspace(-0.3, 0.3, len(frame)) if len(frame) > 1 else np.zeros(len(frame))
    figure = go.Figure(go.Scatter(
        x=frame["days_first_to_last"], y=jitter, mode="markers", marker={"color": DARK_BLUE, "size": 9, "opacity": 0.8},
        text=frame["cohort_id"], hovertemplate="%{text}: %{x} days<extra></extra>", name="Cohort",
    ))
    figure.add_trace(go.Scatter(x=[planned_days, planned_days], y=[-0.5, 0.5], mode="lines", line={"dash": "dash", "color": "#231f20"},
                                name=f"plan: {planned_days} days (9 weeks)"))
    figure.update_yaxes(visible=False, range=[-0.6, 0.6])
    figure.update_layout(height=260)
    title = "Days from first to last workshop, cohorts that delivered all three sessions"
    _layout(figure, title, "", "Days")
    days = frame["days_first_to_last"]
    if days.empty:
        return _summarised(figure, f"{title}: no cohort has delivered all three sessions.")
    return _summarised(figure, f"{title}: {len(days)} cohorts took from {days.min():.0f} to {days.max():.0f} days, median "
                               f"{days.median():.0f}, against a plan of {planned_days}.")


@escaped
def retention_chart(retention: pd.DataFrame) -> go.Figure:
    colours = {"prisoner": (DARK_BLUE, ""), "staff": (ORANGE, "/")}
    figure = go.Figure([
        go.Bar(
            x=[f"Session {n}" for n in part["session_number"]], y=part["share"], name=CODE_LABELS["role"].get(role, role),
            marker_color=colours.get(role, (DARK_GREY, ""))[0], marker_pattern_shape=colours.get(role, (DARK_GREY, ""))[1],
            # above the bar, not on it: a percentage on the staff bars' hatching was hard to read
            text=[f"{v:.0%}" for v in part["share"]], textposition="outside", cliponaxis=False,
            customdata=np.stack([part["attended"], part["participants"]], axis=-1),
            hovertemplate="%{x}: %{y:.0%}<br>%{customdata[0]} attended of %{customdata[1]} participants<extra>" + role + "</extra>",
        )
        for role, part in retention.sort_values("session_number").groupby("role")
    ])
    figure.update_yaxes(tickformat=".0%", range=[0, 1.12])  # room for a 100% bar's label
    title = "Retention: share of participants at each session"
    _layout(figure, title, "Share attending", "")
    by_role = [f"{CODE_LABELS['role'].get(role, role).lower()} " + " → ".join(f"{v:.0%}" for v in part.sort_values("session_number")["share"])
               for role, part in retention.groupby("role")]
    return _summarised(figure, f"{title}, sessions 1 to 3: " + "; ".join(by_role) + ".")


@escaped
def likert_diverging(shares: pd.DataFrame, item_labels: dict) -> go.Figure:
    """Diverging stacked bars: scores 1-2 to the left of zero, 4-5 to the right, 3 split across it."""
    colours = {1: "#b2182b", 2: "#ef8a62", 3: "#bababa", 4: "#67a9cf", 5: "#2166ac"}
    labels = {1: "1 (worst)", 2: "2", 3: "3", 4: "4", 5: "5 (best)"}
    frame = shares.assign(row=shares["item"].map(item_labels) + " · " + shares["wave"])
    figure = go.Figure()
    for score in (3, 2, 1):  # negative side, outward from zero
        part = frame[frame["score"] == score]
        x = -part["share"] / (2 if score == 3 else 1)
        figure.add_trace(go.Bar(y=part["row"], x=x, orientation="h", name=labels[score], marker_color=colours[score],
                                legendrank=score, customdata=part["answers"],
                                hovertemplate="%{y}: score " + str(score) + ", %{customdata} answers<extra></extra>"))
    for score in (3, 4, 5):
        part = frame[frame["score"] == score]
        x = part["share"] / (2 if score == 3 else 1)
        figure.add_trace(go.Bar(y=part["row"], x=x, orientation="h", name=labels[score], marker_color=colours[score],
                                legendrank=score, showlegend=score != 3, customdata=part["answers"],
                                hovertemplate="%{y}: score " + str(score) + ", %{customdata} answers<extra></extra>"))
    order = [f"{item_labels[i]} · {w}" for i in item_labels for w in ("pre", "post") if f"{item_labels[i]} · {w}" in set(frame["row"])]
    figure.update_layout(barmode="relative", height=140 + 28 * len(order))
    figure.update_xaxes(tickformat=".0%", range=[-1, 1])
    figure.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed")
    title = "Answers before (pre) and after (post): share at each score"
    _layout(figure, title, "", "Share of answers (left: 1-3, right: 3-5)")
    high = shares[shares["score"] >= 4].groupby(["item", "wave"])["share"].sum().unstack("wave")
    if not {"pre", "post"} <= set(high.columns):
        return _summarised(figure, f"{title}: answers from one survey wave only.")
    rise = (high["post"] - high["pre"]).sort_values()
    return _summarised(figure, f"{title}: answers of 4 or 5 went from {high['pre'].min():.0%}–{high['pre'].max():.0%} of answers per item "
                               f"before to {high['post'].min():.0%}–{high['post'].max():.0%} after; the largest rise was in "
                               f"{item_labels.get(rise.index[-1], rise.index[-1]).lower()} ({rise.iloc[-1] * 100:+.0f} points).")


@escaped
def cumulative_giving(cumulative: pd.DataFrame, target: float, opens_at, closes_at) -> go.Figure:
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=cumulative["day"], y=cumulative["cumulative_total_gbp"], mode="lines", name="Gifts + match",
                                line={"color": DARK_BLUE, "width": 2.5, "shape": "hv"},
                                hovertemplate="by the end of %{x|%-d %b}: £%{y:,.0f} with match<extra></extra>"))
    figure.add_trace(go.Scatter(x=cumulative["day"], y=cumulative["cumulative_raised_gbp"], mode="lines", name="Gifts only",
                                line={"color": DARK_PINK, "width": 2, "dash": "dot", "shape": "hv"},
                                hovertemplate="by the end of %{x|%-d %b}: £%{y:,.0f} from gifts<extra></extra>"))
    figure.add_hline(y=target, line={"color": "#231f20", "dash": "dash"}, annotation_text=f"target £{target:,.0f}", annotation_position="top left")
    figure.update_xaxes(range=[opens_at, closes_at])
    figure.update_yaxes(tickprefix="£", rangemode="tozero")
    title = "Cumulative giving over the campaign window"
    _layout(figure, title, "Raised (£)", "Day (UTC)")
    if cumulative.empty:
        return _summarised(figure, f"{title}: no gifts.")
    last = cumulative.iloc[-1]
    return _summarised(figure, f"{title}: £{last['cumulative_total_gbp']:,.0f} with the match (£{last['cumulative_raised_gbp']:,.0f} from "
                               f"gifts) by {day_label(pd.Timestamp(last['day']))}, against a target of £{target:,.0f}.")
