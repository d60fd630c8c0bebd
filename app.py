"""The prison impact dashboard: who is looking, the pages their role may see, global filters and
the synthetic-data banner."""

import time

import streamlit as st

from dashboard import filters, identity, ui

st.set_page_config(page_title="Prison impact dashboard", page_icon=":material/account_balance:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/wing_trends.py", title="Wing trends", icon=":material/show_chart:", url_path="wing-trends"),
    st.Page("app_pages/prison_comparison.py", title="Prison comparison", icon=":material/leaderboard:", url_path="prison-comparison"),
    st.Page("app_pages/cohorts.py", title="Cohorts", icon=":material/groups:", url_path="cohorts"),
    st.Page("app_pages/campaign.py", title="Campaign impact", icon=":material/volunteer_activism:", url_path="campaign"),
    st.Page("app_pages/good_prison_project.py", title="Good Prison Project", icon=":material/handshake:", url_path="good-prison-project"),
    st.Page("app_pages/data.py", title="Data", icon=":material/dataset:", url_path="data"),
    st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:", url_path="import"),
]
started, page_path = time.perf_counter(), "sign-in"
try:
    ui.start_run()
    ui.synthetic_banner(ui.database())
    viewer = identity.resolve_viewer()
    if viewer is None:
        st.stop()
    # A page the viewer's role may not see is not in the navigation: its URL opens the Overview.
    navigation = st.navigation([page for page in PAGES if page.url_path in viewer.pages])
    page_path = navigation.url_path
    filters.sidebar_filters()
    notice = st.container()  # above the page: filled once the page has run its queries
    ui.record_inputs()
    try:
        navigation.run()
    finally:  # a page that stops early (st.stop) still says what its figures rest on
        with notice:
            ui.inputs_notice(ui.database())
except Exception as error:  # st.stop() and reruns are not Exceptions: they pass through
    ui.show_failure(error)
finally:  # st.stop() and reruns end a run early: they count too
    ui.log_render(page_path, time.perf_counter() - started)
