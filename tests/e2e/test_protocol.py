"""The browserless load generator (bench/sessions.py) against the real server: it speaks
Streamlit's WebSocket protocol well enough to open a session and see every page finish."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from bench.sessions import PAGES, connect, view


async def _views(server: str, link: str, pages: list[str]) -> list[float]:
    async with connect(server) as ws:
        return [await asyncio.wait_for(view(ws, link, page), timeout=120) for page in pages]


def test_every_page_is_served_to_a_websocket_client(server):
    with ThreadPoolExecutor(1) as thread:  # its own event loop: sync Playwright may hold this thread's
        times = thread.submit(asyncio.run, _views(server, "prison=WSI&from=2018-03", ["", *PAGES])).result()
    assert len(times) == len(PAGES) + 1 and all(0 < t < 60 for t in times)
