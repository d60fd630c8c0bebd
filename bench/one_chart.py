"""The yardstick for a page's time to first chart (bench.measure's browser task): a one-chart Streamlit
page, a heading and a line chart of two years of monthly points, served by the same server software
with the project's own settings (.streamlit/config.toml) in the same run as the dashboard's pages."""

import math

import plotly.graph_objects as go
import streamlit as st

st.title("One chart")
months = list(range(24))
st.plotly_chart(go.Figure(go.Scatter(x=months, y=[10 + 3 * math.sin(m / 2) for m in months], mode="lines+markers")))
