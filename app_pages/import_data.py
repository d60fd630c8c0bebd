"""Import (administrators): bring spreadsheets into the extracts folder through the browser, as
`python -m dashboard.ingest` does: upload, see what would be accepted and rejected, publish or cancel,
roll back an import by name (refused while a later import changed the same extracts)."""

import pandas as pd
import streamlit as st

from dashboard import ingest, metrics, ui
from dashboard.contract import TABLES
from dashboard.database import configured_data_dir
from dashboard.template import template_bytes
from dashboard.text import count_of, md

PREVIEW_ROWS = 200
REJECTIONS_LISTED = 20
FROM_NAME = "(from each file's or sheet's name)"

st.title("Import spreadsheets")
data_dir = configured_data_dir()
st.markdown(
    "Upload CSV, Excel (XLSX) or OpenDocument (ODS) files. Each file, or each sheet of a workbook, is one extract, named "
    "after it (a sheet called *incidents*, a file called *Survey responses.csv*). Headers are matched whatever their "
    "case or spacing, title rows above the header are skipped, dates are read day first, and a survey export with one "
    "column per question becomes one row per answer. Nothing is written until you publish."
)
st.download_button("Download the template workbook (XLSX)", ui.audited(template_bytes, file="prison_dashboard_template.xlsx"), file_name="prison_dashboard_template.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   on_click="ignore")

round_key = st.session_state.setdefault("import_round", 0)  # a new round clears the uploader
uploads = st.file_uploader("Spreadsheets", type=["csv", "xlsx", "ods"], accept_multiple_files=True, key=f"upload_{round_key}")
options = st.columns(2)
table = options[0].selectbox("Extract", [FROM_NAME, *TABLES], help="For a file whose name says nothing; its first sheet is read as this extract.")
replace = options[1].toggle("Replace the whole extract", help="Otherwise rows with new keys are added and rows whose key exists are updated.")

if uploads:
    signature = (tuple((u.name, u.size, u.file_id) for u in uploads), table, replace, ui.extracts_version())
    if st.session_state.get("import_plan", (None,))[0] != signature:
        with st.spinner("Reading and checking…"):
            plan = ingest.plan_import(data_dir, [(u.name, u.getvalue()) for u in uploads],
                                      None if table == FROM_NAME else table, replace)
        st.session_state["import_plan"] = (signature, plan)
    plan = st.session_state["import_plan"][1]
    for problem in plan.unreadable:
        st.error(md(problem, limit=None))
    for skipped in plan.skipped:
        (st.warning if not plan.tables else st.caption)("Skipped: " + md(skipped, limit=None))
    for part in plan.tables.values():
        st.subheader(f"{part.table}")
        rejected = {r.origin for r in part.rejections}
        read = len(set(part.origins))
        cells = st.columns(6)
        for cell, (key, value) in zip(cells, [("rows_read", read), ("rows_accepted", read - len(rejected)),
                                             ("rows_rejected", len(rejected)), ("rows_added", part.added),
                                             ("rows_updated", part.updated), ("rows_unchanged", part.unchanged)]):
            ui.metric(key, metrics.fmt(key, value), cell)
        st.caption("From " + md("; ".join(part.sheets), limit=None)
                   + (". Columns ignored: " + md(", ".join(part.ignored_columns), limit=None) if part.ignored_columns else "") + ".")
        if part.rejections:
            st.markdown(f"**{count_of(len(rejected), 'row')} rejected**, each with where and why:\n\n"
                        + "\n".join(f"- {md(r.line(), limit=None)}" for r in part.rejections[:REJECTIONS_LISTED]))
            reasons = pd.DataFrame([{"source_file": r.origin.file, "sheet": r.origin.sheet or "", "source_row": r.origin.row,
                                     "column": r.column or "", "problem": r.reason} for r in part.rejections])
            if len(part.rejections) > REJECTIONS_LISTED:
                st.caption(f"The first {REJECTIONS_LISTED} of {len(part.rejections):,} reasons; the download has them all.")
            ui.download_csv(reasons, f"rejected_{part.table}.csv", "Download the rejected rows' reasons (CSV)")
        for problem in part.existing_problems[:20]:
            st.caption("Already in the folder and rejected by the loader (unchanged by this import): " + md(problem, limit=None))
        accepted = [row for row, origin in zip(part.rows, part.origins) if origin not in rejected]
        if accepted:
            st.markdown(f"Accepted rows{f' (first {PREVIEW_ROWS})' if len(accepted) > PREVIEW_ROWS else ''}:")
            ui.table(pd.DataFrame(accepted[:PREVIEW_ROWS]), f"accepted_{part.table}", as_extracted=True)
    if plan.tables:
        accept = True
        if plan.rejected:
            accept = st.checkbox(f"Publish the accepted rows and leave the {count_of(plan.rejected, 'rejected row')} out "
                                 "(they are kept in the import's history)")
        buttons = st.columns([1, 1, 4])
        if buttons[0].button("Publish", type="primary", disabled=not accept):
            try:
                history = ingest.publish(plan, by=ui.viewer().email or "development mode")
            except ingest.ImportRefused as refused:
                st.session_state.pop("import_plan", None)  # checked again against the folder as it now is
                st.error(f"**Nothing was published.** {md(refused, limit=None)}", icon=":material/block:")
            else:
                ui.audit("import_published", file=", ".join(plan.files), import_id=history.name)
                st.session_state["import_round"] = round_key + 1
                st.session_state.pop("import_plan", None)
                st.session_state["import_done"] = f"Published {', '.join(plan.tables)} as import {history.name}; the replaced files are kept with it."
                st.rerun()
        if buttons[1].button("Cancel"):
            st.session_state["import_round"] = round_key + 1
            st.session_state.pop("import_plan", None)
            st.rerun()

if done := st.session_state.pop("import_done", None):
    st.success(md(done, limit=None))

st.subheader("Undo")
if undone := st.session_state.pop("import_undone", None):
    st.success(md(undone, limit=None))
history = ingest.history_entries(data_dir)
if not history:
    st.write("No import to roll back.")
else:
    # newest first; an import a later one changed the same extracts of is rolled back after that one
    chosen = st.selectbox("Import", [e.name for e in reversed(history)], key="rollback_import",
                          format_func=lambda name: next(e.describe() for e in history if e.name == name))
    if st.button("Roll back this import"):
        try:
            restored = ingest.rollback(data_dir, chosen)
        except ingest.ImportRefused as refused:
            st.error(f"**Nothing was rolled back.** {md(refused, limit=None)}", icon=":material/block:")
        else:
            if restored is not None:
                ui.audit("import_rolled_back", import_id=restored.name)
                st.session_state["import_undone"] = f"Rolled back import {restored.name}: the files it replaced are back."
            st.session_state.pop("rollback_import", None)
            st.rerun()  # the list of imports as it now is: the one undone is no longer offered
