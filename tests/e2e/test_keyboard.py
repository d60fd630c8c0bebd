"""Keyboard only: from the top of the Overview, Tab reaches the sidebar filters, a prison can be chosen
with the keys, and Tab then reaches a chart's data table, which Enter opens."""

from tests.e2e.test_browser import open_app, wait_for_idle

FOCUS_IN_PRISONS = ("() => { const box = document.activeElement && document.activeElement.closest('[data-testid=stMultiSelect]');"
                    " return !!box && box.innerText.includes('Prisons'); }")
FOCUS_ON_CHART_DATA = ("() => { const e = document.activeElement; return !!e && !!e.closest('[data-testid=stExpander]') &&"
                       " e.innerText.includes(\"The chart's data as a table\"); }")
MAX_TABS = 400  # every focusable control in the sidebar and the page, with room to spare


def tab_until(page, condition: str) -> int:
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return presses
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached the control")


def test_tab_to_a_filter_change_it_and_reach_a_charts_data_table(server, browser):
    context, page = open_app(browser, server)
    try:
        page.locator("body").focus()
        tab_until(page, FOCUS_IN_PRISONS)
        page.keyboard.type("Wormwood")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.wait_for_url("**prison=WSI**", timeout=60_000)
        wait_for_idle(page)
        tab_until(page, FOCUS_ON_CHART_DATA)
        page.keyboard.press("Enter")
        expander = page.locator("[data-testid=stExpander]").filter(has_text="The chart's data as a table").first
        expander.locator("[data-testid=stDataFrame]").wait_for(state="visible", timeout=30_000)
        assert "prison=WSI" in page.url
    finally:
        context.close()
