"""The grid's own "Download as CSV" is off on the real server (client.disableDataExport): it is not
audited and would write cells a spreadsheet runs as formulas; the page's downloads, written by one
writer, take its place. The control: the same page served with the export on shows the button."""

import os

import pytest

from tests.e2e.conftest import start_server
from tests.e2e.test_browser import open_app

EXPORT = "[data-testid=stElementToolbarButton] button[aria-label='Download as CSV'], button[title='Download as CSV']"


def _grid_export_buttons(browser, url: str) -> int:
    context, page = open_app(browser, f"{url}/data")
    try:
        grid = page.locator("[data-testid=stDataFrame]").first
        grid.wait_for(timeout=60_000)
        grid.hover()  # the grid's toolbar shows on hover
        page.wait_for_timeout(800)
        return page.locator(EXPORT).count()
    finally:
        context.close()


@pytest.mark.parametrize("export", ["as configured", "switched on (the control)"])
def test_the_grids_own_csv_download_is_off(browser, server, export):
    if export == "as configured":
        assert _grid_export_buttons(browser, server) == 0
        return
    process, url = start_server({k: v for k, v in os.environ.items() if k != "PRISON_DASHBOARD_DATA"},
                                options=("--client.disableDataExport", "false"))
    try:
        assert _grid_export_buttons(browser, url) >= 1
    finally:
        process.terminate()
        process.wait(timeout=20)
