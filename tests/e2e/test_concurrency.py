"""Twenty sessions at once in headless Chromium, each with its own role and filters, walking every
page its role may see, and on until a deadline: no error anywhere, and no session ever shows another
session's role or filters."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from playwright.async_api import async_playwright

from dashboard.access import PAGES as PAGES_BY_ROLE
from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS, PAGES, require_chromium

SESSIONS = 20
WALK_SECONDS = 30
ARRIVAL_SECONDS = 0.5  # sessions open half a second apart, then all run together
# (role as the "View as" switcher labels it, its access role, the prison in its link)
PEOPLE = [
    ("Administrator", "admin", "DAI"),
    ("Governor of WSI", "governor", "WSI"),
    ("Governor of PVI", "governor", "PVI"),
    ("Service Delivery Manager (Priya S.)", "sdm", "EXI"),
    ("Service Delivery Manager (Amira K.)", "sdm", "GMI"),
    ("Funder", "funder", "WSI"),
    ("Governor of DAI", "governor", "DAI"),
]


@dataclass
class Walk:
    name: str
    pages_seen: int = 0
    seconds_per_page: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def wait_until_drawn(page, title: str) -> None:
    await page.get_by_role("heading", name=title, level=1).wait_for(timeout=120_000)
    await page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)


async def walk(browser, url: str, number: int, deadline: float) -> Walk:
    label, role, prison = PEOPLE[number % len(PEOPLE)]
    result = Walk(f"session {number}: {label}, prison={prison}")
    opened = time.monotonic()
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(120_000)  # twenty Chromium pages share two cores with the server
    page = await context.new_page()
    await asyncio.sleep(number * ARRIVAL_SECONDS)
    try:
        await page.goto(f"{url}/?prison={prison}")
        await wait_until_drawn(page, "Overview")
        switcher = page.locator("[data-testid=stSelectbox]").filter(has_text="View as").locator("input")
        for _ in range(3):  # the options list can open late on a busy machine: check, and choose again
            await switcher.click()
            await page.keyboard.type(label)
            await page.keyboard.press("Enter")
            await page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)
            if (await switcher.input_value()).startswith(label):
                break
        paths = PAGES_BY_ROLE[role]
        step = 0
        while step < len(paths) or time.monotonic() < deadline:  # every page once, then until the deadline
            path = paths[(step + number) % len(paths)]  # sessions start on different pages
            step += 1
            await page.locator(f"[data-testid=stSidebarNavLink][href$='/{path}']").click()
            await wait_until_drawn(page, PAGES[path])
            problems = []
            if await page.locator("[data-testid=stException]").count():
                problems.append("an exception box")
            shown_role = await switcher.input_value()
            if not shown_role.startswith(label):
                problems.append(f"the switcher shows {shown_role!r}")
            if f"prison={prison}" not in page.url:
                problems.append(f"the URL is {page.url}")
            prisons = await page.locator("[data-testid=stMultiSelect]").filter(has_text="Prisons").inner_text()
            if f"({prison})" not in prisons or prisons.count("(") != 1:
                problems.append(f"the prison filter shows {prisons!r}")
            result.errors += [f"/{path}: {p}" for p in problems]
            result.pages_seen += 1
            result.seconds_per_page.append(time.monotonic() - opened)
            opened = time.monotonic()
    except Exception as error:  # a timeout or a lost page is a failure of this session, reported below
        result.errors.append(f"{type(error).__name__}: {' '.join(str(error).splitlines()[:3])}")
    finally:
        await context.close()
    return result


async def run_sessions(url: str) -> tuple[list[Walk], float]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        started = time.monotonic()
        walks = await asyncio.gather(*(walk(browser, url, i, started + WALK_SECONDS) for i in range(SESSIONS)))
        elapsed = time.monotonic() - started
        await browser.close()
    return walks, elapsed


def test_twenty_sessions_at_once_keep_their_own_role_and_filters(server):
    require_chromium()
    # Its own thread and event loop: the other browser tests' synchronous Playwright holds this one's.
    with ThreadPoolExecutor(max_workers=1) as pool:
        walks, elapsed = pool.submit(asyncio.run, run_sessions(server)).result()
    failures = [f"{w.name}: {e}" for w in walks for e in w.errors]
    assert not failures, "\n".join(failures)
    assert all(w.pages_seen >= len(PAGES_BY_ROLE[PEOPLE[i % len(PEOPLE)][1]]) for i, w in enumerate(walks))
    waits = sorted(t for w in walks for t in w.seconds_per_page[1:])
    print(f"\n{SESSIONS} sessions, {len(waits) + SESSIONS} page views in {elapsed:.0f} s; page switch to drawn: "
          f"median {waits[len(waits) // 2]:.1f} s, p95 {waits[int(len(waits) * 0.95)]:.1f} s")
