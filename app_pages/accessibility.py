"""Accessibility statement, in the form the public sector accessibility regulations ask for (kept in
docs/accessibility-statement.md, beside the tests it describes)."""

from pathlib import Path

import streamlit as st

STATEMENT = Path(__file__).resolve().parent.parent / "docs" / "accessibility-statement.md"

st.title("Accessibility statement")
st.markdown(STATEMENT.read_text())
