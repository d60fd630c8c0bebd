"""Size one replica: how many concurrent sessions one core serves within the page targets.

    python -m bench.sessions [--data DIR] [--sessions 2,4,8,16] [--seconds 60] [--think 5]

The server runs pinned to one core (taskset -c 0) and logs each run's server-side time
(PRISON_DASHBOARD_RENDER_LOG); headless Chromium runs pinned to the other core, so the browsers
do not take the server's CPU. Each session opens the app, then keeps moving to a random page of
its role and waiting `--think` seconds, as a reader would. For each number of sessions it reports
the server-side median and p95 per run and the runs per second; the largest number whose p95
stays under 300 ms is the replica's sessions per core at that think time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path

from tests.e2e.conftest import start_server

TARGET_P95_MS = 300


async def _reader(browser, url: str, seed: int, deadline: float, think: float, pages: dict) -> int:
    rng = random.Random(seed)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(120_000)
    page = await context.new_page()
    views = 0
    try:
        await page.goto(url)
        await page.get_by_role("heading", name="Overview", level=1).wait_for()
        while time.monotonic() < deadline:
            path = rng.choice(list(pages))
            await page.locator(f"[data-testid=stSidebarNavLink][href$='/{path}']").click()
            await page.get_by_role("heading", name=pages[path], level=1).wait_for()
            await page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
            views += 1
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    finally:
        await context.close()
    return views


async def _drive(url: str, sessions: int, seconds: float, think: float) -> int:
    from playwright.async_api import async_playwright

    from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS, PAGES

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        deadline = time.monotonic() + seconds
        views = await asyncio.gather(*(_reader(browser, url, i, deadline, think, PAGES) for i in range(sessions)))
        await browser.close()
    return sum(views)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round((len(ordered) - 1) * p)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="extracts folder (default: the bundled sample)")
    parser.add_argument("--sessions", default="2,4,8,16")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=5)
    args = parser.parse_args(argv)
    log = Path(tempfile.mkdtemp(prefix="render-log-")) / "renders.tsv"
    env = {**os.environ, "PRISON_DASHBOARD_RENDER_LOG": str(log)}
    if args.data:
        env["PRISON_DASHBOARD_DATA"] = args.data
    server, url = start_server(env, prefix=("taskset", "-c", "0"), timeout=900)
    results = []
    try:
        asyncio.run(_drive(url, 1, 1, 0))  # warm: the first session loads the extracts
        os.sched_setaffinity(0, {1})  # this process and the Chromium it starts: the other core
        for sessions in (int(n) for n in args.sessions.split(",")):
            log.write_text("")
            started = time.time()
            views = asyncio.run(_drive(url, sessions, args.seconds, args.think))
            elapsed = time.time() - started
            runs = [float(line.split("\t")[2]) for line in log.read_text().splitlines() if line]
            row = {"sessions": sessions, "page_views": views, "runs": len(runs), "runs_per_s": len(runs) / elapsed,
                   "median_ms": _percentile(runs, 0.5), "p95_ms": _percentile(runs, 0.95)}
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    within = [r["sessions"] for r in results if r["p95_ms"] < TARGET_P95_MS]
    print(json.dumps({"sessions_per_core_within_target": max(within) if within else 0, "think_seconds": args.think}))


if __name__ == "__main__":
    main()
