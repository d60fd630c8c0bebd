"""Data: every extract, where it came from, what loaded and every problem found."""

import json

import pandas as pd
import streamlit as st

from dashboard import analysis, disclosure, summary, ui
from dashboard.template import template_bytes
from dashboard.text import md, moment_label

REJECTED_ROWS_SHOWN = 1000

st.title("Data")
db = ui.database()
report = db.report
is_admin = ui.viewer().role == "admin"  # row keys and rejected values can name people and wings
source = "synthetic sample made by `dashboard.sample_data`" if db.synthetic else "extracts"
st.markdown(
    f"Reading **{source}**" + (f" from `{report.data_dir}` (set `PRISON_DASHBOARD_DATA` to read another folder)" if is_admin else "")
    + f". Loaded and validated in {report.seconds:.1f} s."
)

protected = ui.viewer().suppresses_small_counts  # rows are counts: shown as counts are on every other page
k = disclosure.configured_threshold()
extracts = summary.extracts_table(report, protected, k)
kept = [t for t in report.tables.values() if t.state == "kept last good"]
for t in kept:
    st.warning(f"**{t.table}**: the current file could not be used, so the app still serves the version loaded "
               f"{moment_label(t.loaded_at)} UTC ({disclosure.shown_count(t.rows_loaded, k, protected)} rows). Its problems are listed below.", icon=":material/autorenew:")
if not report.problems:
    st.success(f"All {len(extracts)} extracts loaded with no problems.")
else:
    st.warning(summary.problems_sentence(report, protected, k))
ui.table(extracts, "extracts")
ui.download_csv(extracts, "extracts.csv")

st.subheader("Problems found")
if report.problems:
    problems = summary.problems_table(report, is_admin, protected, k)
    ui.table(problems, "problems")
    ui.download_csv(problems, "problems.csv")
else:
    st.write("No problems found: every row of every extract was accepted.")

if not is_admin and any(t.rows_rejected for t in report.tables.values()):
    st.caption("The rejected rows themselves, their values and the keys of example rows are shown to administrators only.")
for t in report.tables.values():
    if not t.rows_rejected or not is_admin:
        continue
    with st.expander(f"Rejected rows of {t.table} ({t.rows_rejected:,})"):
        rejected = ui.query("rejected_rows", table_name=t.table, max_rows=REJECTED_ROWS_SHOWN)
        values = pd.DataFrame([json.loads(v) for v in rejected["row_values"]])
        shown = pd.concat([rejected[["source_row", "problems"]], values], axis=1)
        shown["source_file"] = rejected["source_file"].str.rsplit("/", n=1).str[-1]
        if t.rows_rejected > REJECTED_ROWS_SHOWN:
            st.caption(f"First {REJECTED_ROWS_SHOWN:,} of {t.rows_rejected:,}; the download has them all.")
        ui.table(shown, f"rejected_{t.table}", as_extracted=True)
        everything = ui.query("rejected_rows", table_name=t.table, max_rows=t.rows_rejected)
        ui.download_csv(everything, f"rejected_{t.table}.csv", "Download all rejected rows (CSV)", as_extracted=True)

# A governor checks her prison's recorded incidents against the published statistics; an
# administrator checks every prison that has both.
viewer = ui.viewer()
if viewer.role in ("admin", "governor") and not report.unavailable("prison_incident_counts", "incidents", "wing_population"):
    reconciliation = ui.query("published_reconciliation")
    if viewer.role == "governor":
        reconciliation = reconciliation[reconciliation["prison_id"].isin(viewer.prisons)]
    if not reconciliation.empty:
        st.subheader("Published figures against recorded")
        st.markdown(analysis.reconciliation_summary(reconciliation))
        st.caption("Each published count (Safety in Custody) beside the prison's recorded incidents over the same months, "
                   "and the published average population (the population bulletin) beside the average of its wing "
                   "populations; rates are per 1,000 prisoners per year. Counts must agree exactly; populations may "
                   "differ by up to half a prisoner, as the bulletin rounds.")
        shown = analysis.reconciliation_table(reconciliation)
        ui.table(shown, "published_against_recorded")
        ui.download_csv(shown, "published_against_recorded.csv")

st.subheader("The data contract")
st.markdown(
    "Each extract must follow the contract in `docs/data-contract.md`: required columns and types, "
    "allowed values, unique keys and references to other extracts. Extra columns are allowed and ignored."
)
st.download_button("Download a workbook to fill in, one sheet per extract (XLSX)", ui.audited(template_bytes, file="prison_dashboard_template.xlsx"),
                   file_name="prison_dashboard_template.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   help="Notes on every column and drop-down lists for fixed values; administrators import it on the Import page.",
                   on_click="ignore")
extra = {t.table: t.extra_columns for t in report.tables.values() if t.extra_columns}
if extra:
    st.caption("Extra columns ignored: " + "; ".join(f"{k}: {', '.join(md(c) for c in v)}" for k, v in extra.items()))
