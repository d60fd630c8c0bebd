"""Methods: every figure the dashboard shows, as the metric registry declares it, and every named
query with its SQL. Generated from the registry, so it cannot drift from the pages."""

import streamlit as st

from dashboard import metrics, ui
from dashboard.queries import query_description, query_names, query_sql
from dashboard.text import md

st.title("Methods")
st.markdown(
    "Every figure on every page, download and report is declared once, here: its label, how it is written, the formula "
    "in words, its denominator, the named queries it comes from, the caveat to read it with, and the rule that protects "
    "small counts when a funder sees it. On a page, the question mark beside each headline figure and each column "
    "header shows the same note, and ‘How were these figures made?’ at the foot of the page lists them all."
)
search = st.text_input("Find a figure", placeholder="for example: rate, survey, gift", key="methods_search")
ui.table(metrics.methods_table(search), "figures")

st.subheader("How figures are written")
ui.table(metrics.formats_table(), "number_formats")

st.subheader("The named queries")
st.markdown("Each page runs named SQL queries over the extracts, with every value bound as a parameter. Each page lists "
            "the queries it ran at its foot; here are all of them.")
for name in query_names():
    with st.expander(name):
        st.markdown(md(query_description(name), limit=None))
        st.code(query_sql(name), language="sql")
