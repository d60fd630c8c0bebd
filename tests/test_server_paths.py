"""No page shows a server path (the extracts' folder, a file's full path) to anyone but an
administrator, even when extracts are unreadable, half-written or missing."""

from pathlib import Path

import pytest

from tests.apptest import open_page, page_files, start

PROJECT = str(Path(__file__).resolve().parent.parent)
TEXT_ELEMENTS = ("markdown", "caption", "warning", "info", "error", "success", "code", "title", "subheader", "header", "text")


def _everything_shown(at) -> str:
    texts = [e.value for kind in TEXT_ELEMENTS for e in getattr(at, kind)]
    texts += [str(getattr(e, "label", "")) + str(getattr(e, "help", "")) for e in at.get("expandable") + at.get("metric")]
    texts += [frame.value.to_csv() for frame in at.dataframe]
    return " ".join(texts)


@pytest.mark.parametrize("role", ["funder", "governor:WSI", "sdm:Priya S.", "admin"])
def test_no_page_shows_a_server_path_but_to_an_administrator(monkeypatch, sample_copy, role):
    (sample_copy / "incidents.parquet").write_bytes(b"PAR1 half-written")  # unreadable
    (sample_copy / "targets.parquet").unlink()  # missing
    folder = str(sample_copy)
    seen = {}
    for page in page_files(role.split(":")[0]):
        if page.endswith("import_data.py"):
            continue
        at = open_page(start(monkeypatch, data_dir=sample_copy, session_state={"view_as": role}), page)
        shown = _everything_shown(at)
        seen[page] = folder in shown
        assert PROJECT not in shown and "site-packages" not in shown and "Traceback" not in shown, page  # not even to an admin
    if role == "admin":
        assert seen["app_pages/data.py"]  # the administrator is told which folder is read
    else:
        assert not any(seen.values()), [p for p, shown in seen.items() if shown]
