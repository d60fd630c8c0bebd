#!/bin/sh
# How a replica starts, in the container image and in the replicas' end-to-end test alike: Streamlit's
# server on $PORT (8501 by default), every other setting from .streamlit/config.toml, the extracts,
# the validated-extracts cache and the audit trail where the environment says
# (PRISON_DASHBOARD_DATA, PRISON_DASHBOARD_CACHE, PRISON_DASHBOARD_AUDIT).
set -eu
cd "$(dirname "$0")/.."
exec "${PYTHON:-python}" -m streamlit run app.py \
    --server.headless true \
    --server.address "${ADDRESS:-0.0.0.0}" \
    --server.port "${PORT:-8501}" \
    --browser.gatherUsageStats false
