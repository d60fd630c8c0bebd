"""Two replicas behind Debian's nginx, started by the same script and balancer configuration the
container set-up ships (deploy/serve.sh, deploy/nginx/dashboard.conf.template): sessions opened through
the balancer stick to a replica; when one replica stops, sessions on the other carry on, and the stopped
one's readers reconnect to the live one and keep their link's view."""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.sessions import connect, measure, view
from tests.e2e.balancer import NGINX, REPLICA_HEADER, balanced

LINKS = ["?prison=WSI&from=2019-01&to=2020-12", "?prison=PVI", "?prison=BLI&from=2018-06", "?prison=EXI&to=2021-06",
         "?prison=WWI", "?prison=WSI&to=2022-12", "?prison=PVI&from=2020-01", "?prison=BLI"]


@pytest.fixture(scope="module")
def balanced_sample(tmp_path_factory):
    """Two replicas over the sample, one cache and audit trail, and nginx in front: (url, {port: process})."""
    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            raise RuntimeError("nginx not found: `make test` installs Debian's nginx")
        pytest.skip("nginx is not installed (make test installs it)")
    env = {k: v for k, v in os.environ.items() if k != "PRISON_DASHBOARD_DATA"}
    with balanced(tmp_path_factory.mktemp("replicas"), count=2, env=env) as started:
        yield started.url, started.replicas


def _replica_of(context, url: str) -> int:
    """Which replica this browser sticks to: the balancer names it on every response."""
    response = context.request.get(f"{url}/_stcore/health")
    return int(response.headers[REPLICA_HEADER].rsplit(":", 1)[1])


def _drawn(page, prison: str) -> None:
    """The Overview has run for the link's prison: its caption names it and a table is drawn."""
    page.locator("[data-testid=stMain] h1").get_by_text("Overview").wait_for(timeout=120_000)
    page.locator("[data-testid=stMain] [data-testid=stCaptionContainer]").get_by_text(prison).first.wait_for(timeout=120_000)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=120_000)


def test_make_sessions_readers_stick_and_are_counted_per_replica(balanced_sample):
    """`make sessions` measures through this balancer: each virtual reader keeps the balancer's cookie,
    every page view it makes is answered by its one replica (the load generator checks the balancer's
    header on every session it opens), and the views and readers counted per replica add up."""
    url, replicas = balanced_sample
    with ThreadPoolExecutor(1) as thread:  # its own event loop: sync Playwright holds this thread's
        row = thread.submit(measure, url, 6, 8, 0.3, 3, ["prison=WSI", "prison=PVI&from=2019-01", ""], {}, True).result()
    counted = {r["replica"]: r for r in row["per_replica"]}
    assert set(counted) <= set(replicas) and sum(r["readers"] for r in counted.values()) == 6
    assert sum(r["page_views"] for r in counted.values()) == row["page_views"] > 6
    # a session opened without the balancer's cookie (a new browser) is answered by some replica, named
    async def unnamed():
        async with connect(url) as ws:
            await view(ws, "", "")
            return ws.response.headers[REPLICA_HEADER]
    with ThreadPoolExecutor(1) as thread:
        assert int(thread.submit(asyncio.run, unnamed()).result().rsplit(":", 1)[1]) in replicas


PRISON_NAMES = {"WSI": "Wormwood Scrubs", "PVI": "Pentonville", "BLI": "Bristol", "EXI": "Exeter", "WWI": "Wandsworth"}


def test_sessions_stick_and_survive_a_replica_stopping(browser, balanced_sample):
    url, replicas = balanced_sample
    readers = []  # (context, page, link, replica)
    for link in LINKS:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/" + link)
        prison = link.split("prison=")[1].split("&")[0]
        _drawn(page, PRISON_NAMES[prison])
        readers.append((context, page, link, _replica_of(context, url)))
        if len({r[3] for r in readers}) == 2 and len(readers) >= 4:
            break
    on = {port: [r for r in readers if r[3] == port] for port in replicas}
    assert all(on.values()), f"every reader landed on one replica: {[r[3] for r in readers]}"
    for context, _page, _link, port in readers:  # sticky: the same replica answers again
        assert _replica_of(context, url) == port

    stopped, live = list(replicas)
    replicas[stopped].terminate()
    replicas[stopped].wait(timeout=30)

    # readers on the live replica carry on: a new page in the same session draws
    for context, page, _link, _port in on[live]:
        page.locator("[data-testid=stSidebarNav] a").filter(has_text="Prison comparison").click()
        page.locator("[data-testid=stMain] h1").get_by_text("Prison comparison").wait_for(timeout=120_000)
        assert _replica_of(context, url) == live
    # the stopped replica's readers come back through the balancer to the live replica (the page says it
    # lost its connection; reloading it, as its message suggests, opens a new session) and keep their
    # link's view: their prison and period, drawn by the live replica, and carried to the next page
    for context, page, link, _port in on[stopped]:
        prison = link.split("prison=")[1].split("&")[0]
        page.reload()
        _drawn(page, PRISON_NAMES[prison])
        assert f"prison={prison}" in page.url and _replica_of(context, url) == live
        page.locator("[data-testid=stSidebarNav] a").filter(has_text="Prison comparison").click(timeout=120_000)
        page.locator("[data-testid=stMain] h1").get_by_text("Prison comparison").wait_for(timeout=120_000)
        page.wait_for_url(f"**prison={prison}**", timeout=60_000)
    for context, *_ in readers:
        context.close()
