"""The prison impact dashboard: page map, global filters and the synthetic-data banner."""

import streamlit as st

from dashboard import filters, ui

st.set_page_config(page_title="Prison impact dashboard", page_icon="🏛️", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon="📊", url_path="overview", default=True),
        st.Page("pages/data.py", title="Data", icon="🗂️", url_path="data"),
    ]
)
ui.synthetic_banner(ui.database())
filters.sidebar_filters()
navigation.run()
