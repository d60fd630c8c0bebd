"""A careless refresh under the real server: every extract is broken while a browser session is
open; the session and a new one keep the last good data, say so, and show no traceback or path."""

from tests.e2e.test_browser import open_app, wait_for_idle
from tests.test_refresh import break_every_table, key_column_gone


def page_text(page) -> str:
    return page.inner_text("[data-testid=stMain]")


def test_an_open_session_survives_every_extract_breaking(served_copy, browser):
    folder, url = served_copy
    context, page = open_app(browser, url)
    try:
        before = page_text(page)
        assert "Incidents" in before
        break_every_table(folder, key_column_gone)
        page.reload()
        wait_for_idle(page)
        after = page_text(page)
        assert page.locator("[data-testid=stException]").count() == 0
        assert "Traceback" not in after and str(folder) not in after
        assert "newest extract could not be used" in after
        page.goto(f"{url}/data")
        wait_for_idle(page)
        assert "still serves the version loaded" in page_text(page)
    finally:
        context.close()
