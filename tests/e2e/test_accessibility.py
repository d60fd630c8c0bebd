"""WCAG 2.2 A and AA, checked by axe-core in Chromium (axe-playwright-python, the maintained
integration): no serious or critical violation on any page for any role."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from dashboard.access import PAGES as PAGES_BY_ROLE
from tests.e2e.conftest import PAGES
from tests.e2e.test_browser import ROLE_LABELS, choose_role, open_app, wait_for_idle

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = ("serious", "critical")


@pytest.mark.parametrize("role", list(ROLE_LABELS))
def test_no_serious_accessibility_violation_on_any_page(server, browser, role):
    axe = Axe()
    context, page = open_app(browser, server)
    found = {}
    try:
        choose_role(page, role)
        for path in PAGES_BY_ROLE[role]:
            page.locator(f"[data-testid=stSidebarNavLink][href$='/{path}']").click()
            page.get_by_role("heading", name=PAGES[path], level=1).wait_for()
            wait_for_idle(page)
            page.wait_for_timeout(1500)  # charts and tables draw after the script finishes
            violations = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}}).response["violations"]
            blocking = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations if v["impact"] in BLOCKING]
            if blocking:
                found[path or "overview"] = blocking
    finally:
        context.close()
    assert not found, found
