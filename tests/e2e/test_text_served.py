"""Payloads in every extract text column and in the link, through the real server and Chromium:
the browser's own Markdown and Plotly rendering make no link, image or heading from them."""

import os
import shutil
from urllib.parse import urlencode

import pytest

from dashboard.pages import PAGE_TABLE

ALL_PAGES = [p.url_path for p in PAGE_TABLE]
from dashboard.database import SAMPLE_DATA_DIR
from tests.e2e.conftest import start_server
from tests.e2e.test_browser import open_app
from tests.test_text_safety import FRAGMENTS, HEADING, MARKER, write_payloads

PAYLOAD = " ".join(FRAGMENTS)


@pytest.fixture(scope="module")
def payload_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("payload") / "extracts"
    shutil.copytree(SAMPLE_DATA_DIR, folder)
    write_payloads(folder, PAYLOAD)
    process, url = start_server({**os.environ, "PRISON_DASHBOARD_DATA": str(folder)})
    yield url
    process.terminate()
    process.wait(timeout=20)


RENDERED = f"""() => [
  ...[...document.querySelectorAll('a[href*="{MARKER}"], img[src*="{MARKER}"]')].map(e => e.outerHTML.slice(0, 120)),
  ...[...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(h => h.innerText.includes('{HEADING}')).map(h => 'heading ' + h.innerText.slice(0, 80)),
  ...(window.__injected ? ['script ran'] : []),
]"""


@pytest.mark.parametrize("path", ALL_PAGES, ids=[p or "overview" for p in ALL_PAGES])
def test_the_browser_renders_no_markup_from_extracts_or_the_link(payload_server, browser, path):
    link = urlencode({"prison": f"[x](https://{MARKER}/p) ![p](https://{MARKER}/q.png)", "wing": PAYLOAD}, doseq=True)
    context, page = open_app(browser, f"{payload_server}/{path}?{link}")
    try:
        page.wait_for_timeout(1500)  # charts draw after the script finishes
        assert page.locator("[data-testid=stException]").count() == 0
        assert page.evaluate(RENDERED) == []
    finally:
        context.close()
