"""Audit trail (administrators only): who signed in or was refused, which pages they viewed with which
filters, and what they downloaded, read from the trail every session appends to."""

import streamlit as st

from dashboard import audit, metrics, ui
from dashboard.text import count_of, day_label, md

st.title("Audit trail")
events, unreadable = audit.read()
st.caption(f"Read from {md(audit.audit_file(), limit=None)} (set {audit.AUDIT_VARIABLE} to keep it elsewhere), which every "
           "session and replica appends to, one line per event. It holds pages, filters and file names, never a person in prison.")
if unreadable:
    st.warning(f"{count_of(unreadable, 'line')} of the trail could not be read: cut short by a crash while being written. "
               "Every other line is shown.")
if events.empty:
    st.info("Nothing has been recorded yet.")
    st.stop()

choices = st.columns(4)
users = choices[0].multiselect("Who", sorted(events["user"].dropna().unique()), key="audit_user", placeholder="Everyone")
roles = choices[1].multiselect("Role", sorted(events["role"].dropna().unique()), key="audit_role", placeholder="Every role",
                               format_func=lambda r: metrics.code_label("viewer_role", r))
kinds = choices[2].multiselect("What", list(audit.EVENTS), key="audit_event", placeholder="Every kind of event",
                               format_func=lambda e: metrics.code_label("audit_event", e))
# a slider over the days in the trail (the date picker's day and month fields are under WCAG's 24 px target size)
days = sorted(events["time"].dt.date.unique())
first, last = choices[3].select_slider("Between", days, value=(days[0], days[-1]), key="audit_days",
                                       format_func=day_label) if len(days) > 1 else (days[0], days[0])
shown = audit.chosen(events, users, roles, kinds, first, last)
st.markdown(audit.sentence(shown))
ui.table(shown, "audit_trail")
ui.download_csv(shown, "audit_trail.csv", "Download these events (CSV)")
