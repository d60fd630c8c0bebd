"""Benchmark the dashboard at several data scales and write docs/benchmarks.md.

    python -m bench.run [--scales sample,tenth,national] [--runs 20] [--out docs/benchmarks.md]

For each scale it generates extracts with the sample generator in a temporary folder, then
measures in fresh processes (so memory and caches are per scale): load and validation time and
rows per second, peak memory, app cold start to the first page ready, each page's server-side
render (Streamlit AppTest) and each named query over varied filters (median and p95), and the
heaviest computations done the way a user would otherwise do them (pandas over the Parquet).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from dashboard.access import DEVELOPMENT_VARIABLE
from dashboard.pages import PAGE_TABLE

# The benchmarks view the app as each role through development mode, which must be asked for; the
# processes and servers they start inherit it (bench.sessions imports this module).
os.environ[DEVELOPMENT_VARIABLE] = "1"

SCALES = {  # name: generator settings (comparison prisons, volume, prisons running The Conversation)
    "sample": {"n_comparison_prisons": 15, "volume": 1.0},
    "tenth": {"n_comparison_prisons": 15, "volume": 3.3, "conversation_prisons": 10},
    "national": {"n_comparison_prisons": 115, "volume": 8.0, "conversation_prisons": 100},
}
TASKS = ("load", "cold_start", "restart", "queries", "pages", "served", "pandas", "browser")
# Each measured page script and its URL path and query, from the page table; a tab after a page's first
# is its own render (only the open tab is computed), keyed by the link's ?key=label. The Import page
# reads no extracts until a file arrives.
LATER_TABS = {  # url path: the link key that opens a tab, and the tabs after the first (timed as renders of their own)
    p.url_path: (p.tabs.key, p.tabs.labels[1:]) for p in PAGE_TABLE if p.tabs
}
NOT_MEASURED = {"import", "methods", "accessibility"}  # forms and fixed text: no figures to time
PAGES: dict[str, str] = {}
for _page in PAGE_TABLE:
    if _page.url_path not in NOT_MEASURED:
        PAGES[_page.script] = _page.url_path
        _key, _tabs = LATER_TABS.get(_page.url_path, ("", ()))
        PAGES |= {f"{_page.script}?{_key}={tab}": f"{_page.url_path}?{_key}={tab}" for tab in _tabs}


def tab_params(page: str) -> dict[str, str]:
    """The link parameters that open a measured page's tab, from its "?key=label" in PAGES ({} on a
    page's first tab or a page without tabs)."""
    _, _, tab = page.partition("?")
    key, _, label = tab.partition("=")
    return {key: label} if tab else {}


def link_suffix(params: dict[str, str]) -> str:
    """Parameters added to a shared link that already has a query: "&key=value", values quoted."""
    from urllib.parse import quote

    return "".join(f"&{key}={quote(value)}" for key, value in params.items())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(values: list[float]) -> dict:
    return {"median_ms": statistics.median(values) * 1000, "p95_ms": percentile(values, 0.95) * 1000, "runs": len(values)}


def _child(task: str, data_dir: str, runs: int) -> dict:
    """Run one measurement in a fresh Python process and return its JSON result."""
    env = {**os.environ, "PRISON_DASHBOARD_DATA": data_dir, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.measure", task, data_dir, str(runs)],
        cwd=PROJECT, env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_scale(name: str, runs: int, workdir: Path, tasks=TASKS) -> dict:
    from dashboard.sample_data import generate

    data_dir = workdir / name
    started = time.perf_counter()
    truth = generate(data_dir, **SCALES[name])
    generated = time.perf_counter() - started
    result = {"scale": name, "settings": SCALES[name], "rows": truth["row_counts"], "generate_s": generated}
    for task in tasks:
        print(f"[{name}] {task}…", file=sys.stderr, flush=True)
        result[task] = _child(task, str(data_dir), runs)
    return result


def _machine() -> str:
    cpus = os.cpu_count()
    try:
        memory = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        memory = float("nan")
    return f"{platform.machine()}, {cpus} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def timing_table(results: list[dict], task: str, title: str, rows: list[str], intro: list[str] = (), digits: int = 0) -> list[str]:
    """A markdown section: one row per page or query, median and p95 at each scale."""
    lines = ["", f"## {title}", "", *intro, *([""] if intro else []),
             "| " + ("query" if task == "queries" else "page") + " | " + " | ".join(f"{r['scale']} median | {r['scale']} p95" for r in results) + " |",
             "|---|" + "---|---|" * len(results)]
    for row in rows:
        cells = []
        for r in results:
            m = r.get(task, {}).get(row, {})
            cells += [f"{m.get('median_ms', float('nan')):.{digits}f}", f"{m.get('p95_ms', float('nan')):.{digits}f}"]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


FIRST_CHART_TARGET = 1.25  # issue 16: a shared link's first chart within 1.25x of a one-chart page's


def browser_table(results: list[dict]) -> list[str]:
    """Time to first chart per page and scale, and each page's median as a multiple of the one-chart page's."""
    rows = list(results[0]["browser"])
    lines = ["", "## A shared link's time to first chart in headless Chromium, ms", "",
             "A new browser context opens a shared link (a prison and a start month; a different one each turn) on a warm",
             "server; the clock stops when Plotly has drawn the page's first mark (the Data page: its first table). The",
             "yardstick is a one-chart Streamlit page (`bench/one_chart.py`) on the same server software and settings,",
             "timed in turn with the pages. Target: every page's median within "
             f"{FIRST_CHART_TARGET}× the one-chart page's.", "",
             "| page | " + " | ".join(f"{r['scale']} median | {r['scale']} p95 | {r['scale']} × one-chart" for r in results) + " |",
             "|---|" + "---|---|---|" * len(results)]
    for row in rows:
        cells = []
        for r in results:
            m = r["browser"].get(row, {})
            cells += [f"{m.get('median_ms', float('nan')):.0f}", f"{m.get('p95_ms', float('nan')):.0f}",
                      f"{m.get('ratio_to_one_chart', float('nan')):.2f}"]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


def write_markdown(results: list[dict], out: Path, runs: int, command: str) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Made by `{command}` on {time.strftime('%Y-%m-%d')} ({_machine()}). Each measurement runs in a fresh process.",
        f"Pages and queries: {runs} runs each with filters varied (prison, period, measure); median and 95th percentile.",
        "Targets at national scale (issue 7): page p95 < 300 ms, query p95 < 100 ms, cold start < 15 s,",
        "validation ≥ 2 million rows/s, peak memory < 2 GB.",
        "",
        "## Data and loading",
        "",
        "Validation is reading and checking every row against the contract; loading adds the rollups built from the",
        "clean rows (`queries/rollups/`). Rows per second are over validation. A cold start validates the extracts; a",
        "restart (or a new replica) over the same extracts opens the database file kept from that validation, read-only",
        "(`dashboard/cache.py`). Both are from a fresh process to the first page rendered.",
        "",
        "| scale | prisons | incidents | survey answers | all rows | validate (s) | rows/s | load with rollups (s) | peak memory (MB) | cold start to first page (s) | restart to first page (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows = r["rows"]
        total = sum(rows.values())
        lines.append(
            f"| {r['scale']} | {rows['prisons']:,} | {rows['incidents']:,} | {rows['survey_responses']:,} | {total:,} "
            + (f"| {r['load']['validate_seconds']:.2f} | {total / r['load']['validate_seconds']:,.0f} | {r['load']['seconds']:.2f} "
               f"| {r['load']['peak_mb']:,.0f} " if "load" in r else "| – | – | – | – ")
            + (f"| {r['cold_start']['seconds']:.1f} " if "cold_start" in r else "| – ")
            + (f"| {r['restart']['seconds']:.1f} |" if "restart" in r else "| – |")
        )
    lines += timing_table(results, "pages", "Page renders (server side, AppTest), ms", PAGES)
    if any("served" in r for r in results):
        lines += timing_table(results, "served", "Page views served by the real server, ms", PAGES, [
            "`streamlit run` with the project's `.streamlit/config.toml`, one WebSocket client speaking Streamlit's",
            "protocol: from the request to the server's \"script finished\", each in a new session opened from a varied",
            "link (its Overview first, then the page). This includes what AppTest leaves out (the session's",
            "messages, serialisation and sending)."])
    lines += timing_table(results, "queries", "Named queries, ms", sorted(results[0].get("queries", {})), digits=1)
    if all("browser" in r for r in results):
        lines += browser_table(results)
    lines += ["", "## The same computations in pandas over the Parquet", "",
              "| computation | scale | DuckDB query median (ms) | pandas median (ms) | pandas ÷ DuckDB |", "|---|---|---|---|---|"]
    for r in results:
        for name, m in r.get("pandas", {}).items():
            lines.append(f"| {name} | {r['scale']} | {m['duckdb_ms']:.1f} | {m['pandas_ms']:.1f} | {m['pandas_ms'] / m['duckdb_ms']:.1f}× |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="sample,tenth,national")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", default=str(PROJECT / "docs" / "benchmarks.md"))
    parser.add_argument("--tasks", default=",".join(TASKS), help="a subset of " + ",".join(TASKS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prison-bench-") as workdir:
        results = [measure_scale(name, args.runs, Path(workdir), tuple(args.tasks.split(","))) for name in args.scales.split(",")]
    (Path(args.out).with_suffix(".json")).write_text(json.dumps(results, indent=2, default=str))
    write_markdown(results, Path(args.out), args.runs, "make bench" if not argv else "python -m bench.run " + " ".join(argv))
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
