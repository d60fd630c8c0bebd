"""Plotly figures for the pages: plain functions of frames, no Streamlit, readable colours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard import stats

# NHS "Making Data Count" icon colours: blue improvement, orange concern, grey common cause.
SIGNAL_COLOURS = {"improvement": "#289de0", "concern": "#fab428", "common cause": "#7b7d7d"}
PROGRAMME_COLOUR = "#d81b60"
OTHER_COLOUR = "#9e9e9e"
PALETTE = px.colors.qualitative.Safe


def _layout(figure: go.Figure, title: str, y_title: str, x_title: str = "Month") -> go.Figure:
    figure.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title, hovermode="closest",
        legend_title_text="", margin={"t": 60, "r": 20}, font={"size": 13},
    )
    return figure


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
    return _layout(figure, f"Monthly rate by wing ({unit}, annualised)", "Wing")


def spc_chart(series: pd.DataFrame, cohorts: pd.DataFrame, workshops: pd.DataFrame, title: str, unit: str) -> go.Figure:
    figure = go.Figure()
    for _, cohort in cohorts.iterrows():
        figure.add_vrect(x0=cohort["first_workshop"], x1=cohort["last_workshop"], fillcolor="#6a1b9a", opacity=0.12, line_width=0)
    figure.add_trace(go.Scatter(x=series["month"], y=series["rate"], mode="lines", line={"color": "#5f6b6d", "width": 1.5},
                                name="Rate", hoverinfo="skip", showlegend=False))
    for signal, colour in SIGNAL_COLOURS.items():
        points = series[series["signal"] == signal]
        figure.add_trace(go.Scatter(
            x=points["month"], y=points["rate"], mode="markers", name=signal.capitalize(),
            marker={"color": colour, "size": 9, "line": {"width": 1, "color": "white"}},
            customdata=np.stack([points["incidents"], points["prisoner_years"]], axis=-1) if len(points) else None,
            hovertemplate="%{x|%b %Y}: %{y:.0f}<br>%{customdata[0]} incidents / %{customdata[1]:.1f} prisoner-years<extra>" + signal + "</extra>",
        ))
    for column, name, dash in (("mean", "Mean", "solid"), ("upper", "Upper process limit", "dash"), ("lower", "Lower process limit", "dash")):
        figure.add_trace(go.Scatter(x=series["month"], y=series[column], mode="lines", name=name,
                                    line={"color": "#231f20" if column == "mean" else "#7b7d7d", "dash": dash, "width": 1.2}))
    if not workshops.empty:
        figure.add_trace(go.Scatter(
            x=workshops["delivered_on"], y=[0] * len(workshops), mode="markers", name="Workshop delivered",
            marker={"symbol": "triangle-up", "size": 10, "color": "#6a1b9a"},
            text=workshops["cohort_id"] + " · session " + workshops["session_number"].astype(str),
            hovertemplate="%{x|%d %b %Y}: %{text}<extra></extra>",
        ))
    return _layout(figure, title, f"Rate ({unit}, annualised)")


def funnel_plot(prisons: pd.DataFrame, reference_rate: float, phi: float, title: str, unit: str) -> go.Figure:
    """Funnel of rate against prisoner-years with 95% and 99.8% limits around the reference rate."""
    exposure = np.linspace(max(prisons["prisoner_years"].min() * 0.8, 1.0), prisons["prisoner_years"].max() * 1.1, 120)
    figure = go.Figure()
    for level, dash in ((0.998, "dash"), (0.95, "dot")):
        limits = [stats.funnel_limits(reference_rate, e, level, phi=phi) for e in exposure]
        for side, name in ((0, "lower"), (1, "upper")):
            figure.add_trace(go.Scatter(
                x=exposure, y=[l[side] for l in limits], mode="lines", line={"color": "#455a64", "dash": dash, "width": 1},
                name=f"{level:.1%} limits".replace(".0%", "%"), legendgroup=str(level), showlegend=side == 1,
                hovertemplate=f"{level:.1%} {name} limit: %{{y:.0f}}<extra></extra>",
            ))
    figure.add_hline(y=reference_rate, line={"color": "#231f20", "width": 1.2},
                     annotation_text=f"reference {reference_rate:,.0f}", annotation_position="top left")
    for is_programme, colour, name in ((False, OTHER_COLOUR, "Other prisons"), (True, PROGRAMME_COLOUR, "Programme prisons")):
        points = prisons[prisons["programme"] == is_programme]
        figure.add_trace(go.Scatter(
            x=points["prisoner_years"], y=points["rate"], mode="markers+text" if is_programme else "markers",
            text=points["prison_id"] if is_programme else None, textposition="top center",
            marker={"color": colour, "size": 11 if is_programme else 8, "line": {"width": 1, "color": "white"}},
            name=name, customdata=np.stack([points["name"], points["incidents"]], axis=-1) if len(points) else None,
            hovertemplate="%{customdata[0]}<br>%{customdata[1]} incidents / %{x:,.0f} prisoner-years<br>%{y:.0f} " + unit + "<extra></extra>",
        ))
    return _layout(figure, title, f"Rate ({unit})", "Prisoner-years (exposure)")


def trend_small_multiples(quarterly: pd.DataFrame, unit: str) -> go.Figure:
    """Each programme prison's quarterly rate against its comparison group, one panel each."""
    figure = px.line(
        quarterly, x="quarter", y="rate", color="series", facet_col="panel", facet_col_wrap=3,
        color_discrete_map={"This prison": PROGRAMME_COLOUR, "Comparison group": "#455a64"},
        custom_data=["incidents", "prisoner_years"], height=300 * int(np.ceil(quarterly["panel"].nunique() / 3)),
    )
    figure.update_traces(hovertemplate="%{x|%b %Y}: %{y:.0f}<br>%{customdata[0]} incidents / %{customdata[1]:,.0f} prisoner-years<extra></extra>")
    figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    figure.update_yaxes(title_text="", matches=None, rangemode="tozero")
    figure.update_xaxes(title_text="")
    figure.update_layout(title=f"Quarterly rate ({unit}): programme prisons against prisons of the same type without a programme",
                         legend_title_text="", margin={"t": 80})
    return figure
