"""End to end in headless Chromium (Debian's package, driven by Playwright): the real server,
every page, a filter round trip through the URL, and a download. Screenshots go to artifacts/."""

import pytest

from dashboard.pages import BY_PATH, PAGE_TABLE
from tests.e2e.conftest import ARTIFACTS, PAGES


def open_app(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=stApp]")
    wait_for_idle(page)
    return context, page


def wait_for_idle(page, timeout=60_000):
    """Wait until Streamlit has finished running the script (no running indicator) and drawn."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]') && document.querySelector('[data-testid=stMainBlockContainer] h1')",
        timeout=timeout,
    )
    page.wait_for_timeout(500)


def plotted_points(page) -> int:
    """Marks actually drawn by Plotly: points, line paths, bars, heatmap images."""
    return page.evaluate(
        "() => document.querySelectorAll('.js-plotly-plot .point, .js-plotly-plot .scatterlayer path.js-line, "
        ".js-plotly-plot .heatmaplayer image, .js-plotly-plot .barlayer path').length"
    )


@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
def test_every_page_loads_without_error_and_draws_its_charts(server, browser, path):
    context, page = open_app(browser, f"{server}/{path}")
    try:
        page.get_by_role("heading", name=PAGES[path], level=1).wait_for()
        assert page.locator("[data-testid=stException]").count() == 0
        assert "Synthetic sample data" in page.inner_text("[data-testid=stMainBlockContainer]")
        charts = page.locator(".js-plotly-plot").count()
        if BY_PATH[path].charts:
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=30_000)
            page.wait_for_timeout(1000)
            assert plotted_points(page) > 0, "charts are on the page but draw nothing"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{path or 'overview'}.png"), full_page=True)
        assert charts >= 0
    finally:
        context.close()


def metric_value(page, label: str) -> str:
    metric = page.locator("[data-testid=stMetric]").filter(has_text=label).first
    return metric.locator("[data-testid=stMetricValue]").inner_text()


def test_a_filter_change_updates_the_url_and_a_fresh_browser_restores_it(server, browser):
    context, page = open_app(browser, server)
    try:
        assert metric_value(page, "Prisons") != "1"
        prisons = page.locator("[data-testid=stSidebar] [data-testid=stMultiSelect]").first
        prisons.click()
        page.keyboard.type("Pentonville")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.wait_for_function("() => location.search.includes('prison=PVI')", timeout=30_000)
        wait_for_idle(page)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stMetric]')].some(m => m.innerText.includes('Prisons') && m.querySelector('[data-testid=stMetricValue]').innerText.trim() === '1')",
            timeout=30_000,
        )
        shared = page.url
        cohorts_there = metric_value(page, "Cohorts")
    finally:
        context.close()
    context, page = open_app(browser, shared)
    try:
        assert metric_value(page, "Prisons") == "1"
        assert metric_value(page, "Cohorts") == cohorts_there
        # a fresh session's widgets can draw a few seconds after its script has finished
        page.locator("[data-testid=stSidebar]").get_by_text("HMP Pentonville").first.wait_for(timeout=30_000)
    finally:
        context.close()


def test_a_download_button_produces_a_file(server, browser, tmp_path):
    context, page = open_app(browser, server)
    try:
        # Under load a page's elements keep mounting after its run has finished, and for a moment the first
        # "Download CSV" in the page can be the incidents table's (a locator resolved then clicked it: CI
        # twice, and 2 to 5 in 8 tries here with two busy cores). So wait until the first one sits under
        # "Better or worse?", then click that very element (10 in 10 right, same load).
        page.get_by_role("heading", name="Survey change after The Conversation").wait_for()
        wait_for_idle(page)
        page.wait_for_function("""() => {
            const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes('Download CSV'));
            const above = button ? [...document.querySelectorAll('h3')].filter(h => h.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING) : [];
            return above.length > 0 && above[above.length - 1].innerText.includes('Better or worse?');
        }""", timeout=30_000)
        button = page.get_by_role("button", name="Download CSV").first.element_handle()
        with page.expect_download() as download:
            button.click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        text = saved.read_text()
        assert download.value.suggested_filename == "better_or_worse.csv"
        assert text.startswith("Incident type,Better or worse?,Rate ratio,95% CI low,95% CI high")
        assert len(text.splitlines()) == 5
    finally:
        context.close()


def test_each_download_and_funder_report_writes_its_audit_line(server, browser, tmp_path):
    import json
    import os
    from pathlib import Path

    trail = Path(os.environ["PRISON_DASHBOARD_AUDIT"])  # the test session's own trail, which the server writes
    before = len(trail.read_text().splitlines()) if trail.exists() else 0
    context, page = open_app(browser, server + "/campaign")
    try:
        choose_role(page, "funder")
        page.get_by_role("heading", name="Funder report").wait_for()
        wait_for_idle(page)
        got = []
        for label in ("Download the funder report (HTML, opens offline)", "Download the funder report (PDF)",
                      "Download this page's data (ZIP of CSVs with a README)"):
            with page.expect_download(timeout=120_000) as download:
                page.get_by_role("button", name=label).click()
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            got.append(saved)
        assert got[1].read_bytes().startswith(b"%PDF") and b"<!doctype html>" in got[0].read_bytes()[:100]
        lines = [json.loads(line) for line in trail.read_text().splitlines()[before:]]
        made = [(line["event"], line["file"], line["role"], line["page"]) for line in lines if line["event"] in ("download", "report")]
        assert made == [("report", "funder_report_CAMP-2019-XMAS.html", "funder", "campaign"),
                        ("report", "funder_report_CAMP-2019-XMAS.pdf", "funder", "campaign"),
                        ("download", "campaign_impact_data.zip", "funder", "campaign")]
    finally:
        context.close()


ROLE_LABELS = {"admin": "Administrator", "governor": "Governor of WSI", "sdm": "Service Delivery Manager (Priya S.)",
               "funder": "Funder"}
# Pages that draw no chart for a role: those the page table marks, and the Overview for funders (its
# monthly series would give back suppressed counts).
NO_CHART = {(p.url_path, role) for p in PAGE_TABLE if not p.charts for role in ROLE_LABELS} | {("", "funder")}


def choose_role(page, role: str) -> None:
    """Choose `role` in the development "View as" switcher (its first option of that role)."""
    switcher = page.locator("[data-testid=stSelectbox]").filter(has_text="View as").locator("input")
    for _ in range(3):  # the options list can open late on a busy machine: check, and choose again
        switcher.click()
        page.keyboard.type(ROLE_LABELS[role])
        page.keyboard.press("Enter")
        wait_for_idle(page)
        if switcher.input_value().startswith(ROLE_LABELS[role]):
            break
    assert switcher.input_value().startswith(ROLE_LABELS[role])


@pytest.mark.parametrize("role", list(ROLE_LABELS))
def test_every_page_as_every_role_loads_and_draws(server, browser, role):
    """In one session per role, chosen with the development switcher: the navigation offers exactly
    the role's pages, and each loads without an exception box and draws its charts with data."""
    from dashboard.access import PAGES as PAGES_BY_ROLE

    context, page = open_app(browser, server)
    try:
        choose_role(page, role)
        # the navigation is redrawn for the new role after its run: wait for it rather than read it at once
        expected = sorted(PAGES_BY_ROLE[role])
        page.wait_for_function(
            "expected => JSON.stringify([...document.querySelectorAll('[data-testid=stSidebarNavLink]')]"
            ".map(e => new URL(e.href).pathname.replace(/^\\/+|\\/+$/g, '')).sort()) === JSON.stringify(expected)",
            arg=expected, timeout=30_000)
        links = page.locator("[data-testid=stSidebarNavLink]").evaluate_all("els => els.map(e => new URL(e.href).pathname)")
        assert sorted(p.strip("/") for p in links) == expected
        for path in PAGES_BY_ROLE[role]:
            page.locator(f"[data-testid=stSidebarNavLink][href$='/{path}']").click()
            page.get_by_role("heading", name=PAGES[path], level=1).wait_for()
            wait_for_idle(page)
            assert page.locator("[data-testid=stException]").count() == 0, path
            if (path, role) not in NO_CHART:
                page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=30_000)
                page.wait_for_timeout(1000)
                assert plotted_points(page) > 0, f"/{path} as {role}: charts draw nothing"
            (ARTIFACTS / role).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / role / f"{path or 'overview'}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("link, heading, tab, in_link, only_in_tab", [
    ("cohorts?prison=PVI", "Cohorts of The Conversation", "Survey outcomes", "tab=Survey", "Largest paired change"),
    ("wing-trends?prison=WSI", "Wing trends", "Statistical process control", "section=Statistical", "Is it more than noise?"),
])
def test_a_tab_is_drawn_when_opened_and_its_link_reopens_it(server, browser, link, heading, tab, in_link, only_in_tab):
    context, page = open_app(browser, f"{server}/{link}")
    try:
        page.get_by_role("heading", name=heading, level=1).wait_for()
        wait_for_idle(page)
        assert page.get_by_text(only_in_tab).count() == 0  # the tab is not computed yet
        page.get_by_role("tab", name=tab).click()
        page.wait_for_function("wanted => location.search.includes(wanted)", arg=in_link, timeout=30_000)
        page.get_by_text(only_in_tab).first.wait_for(timeout=30_000)
        wait_for_idle(page)
        assert page.locator("[data-testid=stException]").count() == 0
        shared = page.url
    finally:
        context.close()
    context, page = open_app(browser, shared)
    try:
        page.get_by_text(only_in_tab).first.wait_for(timeout=30_000)
        assert page.get_by_role("tab", name=tab).get_attribute("aria-selected") == "true"
    finally:
        context.close()
