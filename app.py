"""The prison impact dashboard: who is looking, the pages their role may see, global filters and
the synthetic-data banner."""

import time

import streamlit as st

from dashboard import filters, identity, ui
from dashboard.pages import BY_PATH, PAGE_TABLE

st.set_page_config(page_title="Prison impact dashboard", page_icon=":material/account_balance:", layout="wide")
# WCAG 2.2 target size (24 px): a multiselect with chosen items squeezes its text box to 12 px.
st.html("<style>[data-testid='stMultiSelect'] input { min-width: 24px !important; }</style>")

PAGES = [  # from the one page table (dashboard/pages.py)
    st.Page(p.script, title=p.title, icon=p.icon, **({"url_path": p.url_path} if p.url_path else {"default": True}))
    for p in PAGE_TABLE
]
started, page_path = time.perf_counter(), "sign-in"
try:
    ui.start_run()
    viewer = identity.resolve_viewer()  # first: sign-in settings that are not usable show no page and no data
    if viewer is None:
        st.stop()
    ui.synthetic_banner(ui.database())
    # A page the viewer's role may not see is not in the navigation: its URL opens the Overview.
    navigation = st.navigation([page for page in PAGES if page.url_path in viewer.pages])
    page_path = navigation.url_path
    ui.set_page(page_path)
    spec = BY_PATH[page_path]
    chosen = filters.sidebar_filters(applies=spec.filtered)
    notice = st.container()  # above the page: filled once the page has run its queries
    ui.record_inputs()
    try:
        navigation.run()
    finally:  # a page that stops early (st.stop) still says what its figures rest on, and offers its data
        with notice:
            ui.inputs_notice(ui.database())
        ui.page_footer(spec.heading)
        # after the page: its own controls have been drawn by then
        ui.audit_page_view(page_path, chosen.params() if chosen is not None and spec.filtered else None)
except Exception as error:  # st.stop() and reruns are not Exceptions: they pass through
    ui.show_failure(error)
finally:  # st.stop() and reruns end a run early: they count too
    ui.log_render(page_path, time.perf_counter() - started)
