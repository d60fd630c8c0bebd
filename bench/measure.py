"""One benchmark measurement, run in its own process by bench.run: prints one JSON line."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

from dashboard.access import ADMIN

PROJECT = Path(__file__).resolve().parent.parent


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from
    the parent through fork and exec, so a child of a large parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def varied_filters(db, runs: int) -> list[dict]:
    """`runs` different filter sets: a prison (or all), a period, a measure."""
    from dashboard.analysis import quarter_windows, window_params
    from dashboard.contract import INCIDENT_TYPES, SURVEY_ITEMS

    prisons = db.query("prisons", viewer=ADMIN)
    with_cohorts = list(prisons.sort_values("cohorts", ascending=False)["prison_id"])
    all_ids = list(prisons["prison_id"])
    campaigns = list(db.query("campaigns", viewer=ADMIN)["campaign_id"]) or ["none"]
    sets = []
    for i in range(runs):
        prison = with_cohorts[i % max(1, min(len(with_cohorts), 5))]
        start_year = 2016 + (i % 5)
        sets.append({
            "prison_id": prison,
            "prison_ids": all_ids if i % 3 == 0 else [prison],
            "wing_ids": None,
            "period_start": dt.date(start_year, 1 + i % 12, 1),
            "period_end": dt.date(2025, 1, 1),
            "incident_types": list(INCIDENT_TYPES) if i % 2 == 0 else ["self_harm"],
            "serious_only": i % 4 == 3,
            "sdm": None, "cohort_id": None, "role": None if i % 2 else "prisoner",
            "later_wave": "post" if i % 2 else "follow_up",
            "items": list(SURVEY_ITEMS),
            "campaign_id": campaigns[i % len(campaigns)],
            "table_name": "incidents", "max_rows": 1000,
        })
        # prison_counts: one period (the funnel) or every quarter of it (the programme prisons' trend)
        period = (sets[-1]["period_start"], sets[-1]["period_end"])
        sets[-1] |= window_params([period] if i % 2 == 0 else quarter_windows(*period))
    return sets


def task_load(data_dir: str, runs: int) -> dict:
    from dashboard.database import open_database

    started = time.perf_counter()
    db = open_database(data_dir, use_cache=False)  # validation itself, not the kept file
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "validate_seconds": db.report.seconds, "peak_mb": peak_mb(),
            "rows_loaded": sum(t.rows_loaded for t in db.report.tables.values())}


def task_cold_start(data_dir: str, runs: int) -> dict:
    """From a fresh process with nothing imported to the first page rendered (AppTest), validating the
    extracts (the first start over new extracts: the cache folder is empty)."""
    import tempfile

    os.environ["PRISON_DASHBOARD_CACHE"] = tempfile.mkdtemp(prefix="bench-cache-")
    return _first_page()


def task_restart(data_dir: str, runs: int) -> dict:
    """The same, over extracts already validated: a restart or a new replica opens the kept database
    file read-only (dashboard/cache.py). Another process writes the file first, untimed."""
    import subprocess
    import tempfile

    os.environ["PRISON_DASHBOARD_CACHE"] = tempfile.mkdtemp(prefix="bench-cache-")
    prepare = ("import sys; from dashboard import cache; from dashboard.database import open_database; "
               "db = open_database(sys.argv[1], use_cache=False); from dashboard.database import extracts_fingerprint; "
               "from pathlib import Path; d = Path(sys.argv[1]).resolve(); "
               "assert cache.save(db.con, db.report, cache.cache_key(d, extracts_fingerprint(d)))")
    subprocess.run([sys.executable, "-c", prepare, data_dir], check=True, cwd=PROJECT, env=os.environ.copy())
    return _first_page()


def _first_page() -> dict:
    started = time.perf_counter()
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=600)
    at.run()
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def task_queries(data_dir: str, runs: int) -> dict:
    from bench.run import summary
    from dashboard.database import open_database
    from dashboard.queries import query_names

    db = open_database(data_dir)
    filters = varied_filters(db, runs)
    results = {}
    for name in query_names():
        times = []
        for params in filters:
            started = time.perf_counter()
            db.query(name, viewer=ADMIN, **params)
            times.append(time.perf_counter() - started)
        results[name] = summary(times)
    return results


def task_pages(data_dir: str, runs: int) -> dict:
    from streamlit.testing.v1 import AppTest

    from bench.run import PAGES, summary, tab_params
    from dashboard.database import open_database

    prisons = list(open_database(data_dir).query("prisons", viewer=ADMIN).sort_values("cohorts", ascending=False)["prison_id"])
    warm = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=600)
    warm.run()  # load the data once: later sessions share it, as on a server
    results = {}
    for page in PAGES:
        script = page.partition("?")[0]
        times = []
        for i in range(runs):
            at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=600)
            for key, label in tab_params(page).items():
                at.query_params[key] = label
            at.query_params["prison"] = prisons[i % min(len(prisons), 5)] if i % 3 else []
            at.query_params["from"] = f"{2016 + i % 5}-{1 + i % 12:02d}"
            at.query_params["measure"] = ["all_assaults", "self_harm", "use_of_force", "serious_assaults"][i % 4]
            if script == "app_pages/overview.py":
                started = time.perf_counter()
                at.run()
            else:
                at.run()
                at.switch_page(script)
                started = time.perf_counter()
                at.run()
            times.append(time.perf_counter() - started)
            if at.exception:
                raise RuntimeError(f"{page}: {at.exception[0].value}")
        results[page] = summary(times)
    return results


def task_pandas(data_dir: str, runs: int) -> dict:
    """The three heaviest computations, done in pandas straight from the Parquet (as an analyst
    without the dashboard would), against the named query on the loaded database."""
    import pandas as pd

    from dashboard.contract import INCIDENT_TYPES
    from dashboard.database import open_database

    db = open_database(data_dir)
    folder = Path(data_dir)
    start, end = dt.date(2024, 1, 1), dt.date(2025, 1, 1)
    prison_ids = list(db.query("prisons", viewer=ADMIN)["prison_id"])
    busiest = db.query("prisons", viewer=ADMIN).sort_values("cohorts", ascending=False)["prison_id"].iloc[0]

    def pandas_overview():
        incidents = pd.read_parquet(folder / "incidents.parquet", columns=["prison_id", "occurred_on", "incident_type", "serious"])
        when = pd.to_datetime(incidents["occurred_on"])
        recent = incidents[(when >= pd.Timestamp(start)) & (when < pd.Timestamp(end))]
        population = pd.read_parquet(folder / "wing_population.parquet")
        months = pd.to_datetime(population["month"])
        years = population[(months >= pd.Timestamp(start)) & (months < pd.Timestamp(end))]["average_population"].sum() / 12
        return recent.groupby("incident_type").agg(n=("serious", "size"), serious=("serious", "sum")).assign(py=years)

    def pandas_wing_months():
        incidents = pd.read_parquet(folder / "incidents.parquet", columns=["prison_id", "wing_id", "occurred_on", "incident_type", "serious"])
        mine = incidents[(incidents["prison_id"] == busiest) & incidents["wing_id"].notna()]
        month = pd.to_datetime(mine["occurred_on"]).dt.to_period("M")
        return mine.groupby(["wing_id", month, "incident_type"]).agg(n=("serious", "size"), serious=("serious", "sum"))

    def pandas_prison_counts():
        incidents = pd.read_parquet(folder / "incidents.parquet", columns=["prison_id", "incident_type"])
        counts = incidents[incidents["incident_type"] == "self_harm"].groupby("prison_id").size()
        population = pd.read_parquet(folder / "wing_population.parquet").merge(pd.read_parquet(folder / "wings.parquet"), on="wing_id")
        return counts.to_frame("n").join(population.groupby("prison_id")["average_population"].sum() / 12)

    cases = {
        "overview incident rates, last 12 months": (
            pandas_overview,
            lambda: db.query("incident_counts_by_type", viewer=ADMIN, prison_ids=prison_ids, wing_ids=None, period_start=start, period_end=end, incident_types=list(INCIDENT_TYPES)),
        ),
        "wing x month x type counts, one prison": (
            pandas_wing_months,
            lambda: db.query("wing_monthly_counts", viewer=ADMIN, prison_id=busiest, period_start=dt.date(2016, 1, 1), period_end=end, incident_types=list(INCIDENT_TYPES)),
        ),
        "self-harm counts and prisoner-years, every prison": (
            pandas_prison_counts,
            lambda: db.query("prison_counts", viewer=ADMIN, window_starts=[dt.date(2016, 1, 1)], window_ends=[end], incident_types=["self_harm"], serious_only=False),
        ),
    }
    results = {}
    for name, (with_pandas, with_duckdb) in cases.items():
        timings = {}
        for label, fn in (("pandas_ms", with_pandas), ("duckdb_ms", with_duckdb)):
            times = []
            for _ in range(max(3, runs // 4)):
                started = time.perf_counter()
                fn()
                times.append(time.perf_counter() - started)
            timings[label] = sorted(times)[len(times) // 2] * 1000
        results[name] = timings
    return results


def task_served(data_dir: str, runs: int) -> dict:
    """Each page as served by the real server (`streamlit run`, the project's .streamlit/config.toml)
    to one WebSocket client: from the request to the server's "script finished", over `runs` new
    sessions opened from varied links, each first showing the Overview (as a link opens) and then the page."""
    import asyncio
    import os

    from bench.run import PAGES, link_suffix, summary, tab_params
    from bench.sessions import connect, links_for, view
    from tests.e2e.conftest import start_server

    server, url = start_server({**os.environ, "PRISON_DASHBOARD_DATA": data_dir}, timeout=900)
    links = links_for(Path(data_dir), count=runs)

    async def measure() -> dict:
        times = {page: [] for page in PAGES}
        for i in range(-1, runs):  # the first session (-1) loads the extracts and is not counted
            for page in PAGES:  # a session per page view, so a tab is read from its link like a shared URL
                path = PAGES[page].partition("?")[0]
                link = links[max(i, 0)] + link_suffix(tab_params(PAGES[page]))
                async with connect(url, open_timeout=900) as ws:
                    await view(ws, link, "")
                    seconds = await view(ws, link, path)
                if i >= 0:
                    times[page].append(seconds)
        return {page: summary(values) for page, values in times.items()}

    try:
        return asyncio.run(measure())
    finally:
        server.terminate()
        server.wait(timeout=30)


def task_browser(data_dir: str, runs: int) -> dict:
    """Time to first chart in headless Chromium, each page against a one-chart Streamlit page served by
    the same server software in the same run (bench/one_chart.py): a fresh browser context opens a
    shared link (a prison and a start month) on a warm server, and the clock stops when Plotly has drawn
    its first chart, even when a table above it draws sooner (the Data and Audit pages have no chart: their first table). The pages and the yardstick take turns,
    so both see the same machine."""
    import os

    from playwright.sync_api import sync_playwright

    from bench.run import NOT_MEASURED, summary
    from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS, PAGES, start_server

    env = {**os.environ, "PRISON_DASHBOARD_DATA": data_dir}
    server, url = start_server(env, timeout=900)
    yardstick, yardstick_url = start_server(env, script=PROJECT / "bench" / "one_chart.py")
    chart_mark = ".js-plotly-plot .point, .js-plotly-plot .scatterlayer path.js-line, .js-plotly-plot .heatmaplayer image, .js-plotly-plot .barlayer path"
    table_mark = "[data-testid=stDataFrame] canvas"

    def first_mark(name: str) -> str:
        # a page with charts is timed to its first chart, even when a table above it draws sooner
        return f"() => document.querySelector({table_mark if name in TABLE_PAGES else chart_mark!r})"

    turns = max(5, runs // 3)
    links = shared_links(Path(data_dir), turns)
    targets = {ONE_CHART: lambda _link: yardstick_url,
               **{path or "overview": (lambda link, path=path: f"{url}/{path}?{link}") for path in PAGES if path not in NOT_MEASURED}}
    try:
        times: dict[str, list[float]] = {name: [] for name in targets}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            for warm_url in (url, yardstick_url):  # the first session loads and validates the extracts
                warm = browser.new_page()
                warm.goto(warm_url)
                warm.wait_for_function(first_mark(ONE_CHART), timeout=600_000)
                warm.close()
            for turn in range(turns):
                for name, target in targets.items():
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(target(links[turn]))
                    try:
                        page.wait_for_function(first_mark(name), timeout=120_000)
                    except Exception as error:
                        raise RuntimeError(f"no chart drawn on {target(links[turn])}") from error
                    times[name].append(time.perf_counter() - started)
                    context.close()
            browser.close()
        results = {name: summary(values) for name, values in times.items()}
        for name in results:
            results[name]["ratio_to_one_chart"] = results[name]["median_ms"] / results[ONE_CHART]["median_ms"]
        return results
    finally:
        for process in (server, yardstick):
            process.terminate()
            process.wait(timeout=30)


ONE_CHART = "one-chart page"
TABLE_PAGES = {"data", "audit"}  # no chart: timed to their first table


def shared_links(data_dir: Path, count: int, seed: int = 11) -> list[str]:
    """Links a reader might share: a prison where The Conversation ran (so every page has a chart to
    draw) and a start month, a different one each turn."""
    import random

    import pandas as pd

    prisons = sorted(pd.read_parquet(data_dir / "cohorts.parquet", columns=["prison_id"])["prison_id"].unique())
    rng = random.Random(seed)
    return [f"prison={rng.choice(prisons)}&from={rng.randint(2016, 2020)}-{rng.randint(1, 12):02d}" for _ in range(count)]


if __name__ == "__main__":
    task, data_dir, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(globals()[f"task_{task}"](data_dir, runs), default=str))
