"""Size one replica: how many concurrent sessions one core serves within the page targets.

    python -m bench.sessions [--data DIR | --scale national] [--sessions 2,4,8,16,32] [--seconds 60] [--think 5]
    python -m bench.sessions --url http://replica:8501 ...   (a server already running elsewhere)

Virtual readers speak Streamlit's own WebSocket protocol (`/_stcore/stream`, protobuf BackMsg and
ForwardMsg), so no browser is needed and one process can drive dozens of sessions. Each reader
opens a session from a random link (a prison, a start month, a measure), views `--views` random
pages of the app, reading each for `--think` seconds (uniformly 0.5 to 1.5 times), then closes it
and opens another, until the time is up. The response time of a page view is from sending the
request to the server's "script finished": what a user waits for, queueing included.

Started here, the server is pinned to one core (taskset -c 0) and this process to the other, and
the server logs each run's own time (PRISON_DASHBOARD_RENDER_LOG). For each number of readers it
reports page views, response-time median and p95, the server-side run time, and the CPU the
server and the load generator used; the largest number whose response p95 stays under 300 ms is
the replica's sessions per core at that think time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from tests.e2e.conftest import PAGES as E2E_PAGES
from tests.e2e.conftest import start_server

TARGET_P95_MS = 300
PAGES = [p for p in E2E_PAGES if p != "import"]  # url paths of the pages readers open (Import waits for a file)
MEASURES = ["all_assaults", "self_harm", "use_of_force", "serious_assaults"]


class PageError(RuntimeError):
    pass


def connect(server_url: str, open_timeout: float = 120):
    """A WebSocket to the server's session stream, as Streamlit's own client opens it."""
    import websockets

    stream = server_url.replace("http", "ws", 1) + "/_stcore/stream"
    return websockets.connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=open_timeout)


async def view(ws, query_string: str, page: str) -> float:
    """Ask for one page and wait until its script has run; return the seconds it took."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    request = BackMsg()
    request.rerun_script.query_string = query_string
    request.rerun_script.page_name = page
    started = time.perf_counter()
    await ws.send(request.SerializeToString())
    while True:
        message = ForwardMsg()
        message.ParseFromString(await ws.recv())
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            if message.delta.new_element.WhichOneof("type") == "exception":
                raise PageError(f"/{page}?{query_string}: {message.delta.new_element.exception.message}")
        elif kind == "script_finished" and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            return time.perf_counter() - started


async def reader(server_url: str, seed: int, deadline: float, think: float, views: int, links: list[str], times: list[float]) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, think))  # readers do not all arrive at once
    while time.monotonic() < deadline:
        link = rng.choice(links)
        async with connect(server_url) as ws:
            pages = [""] + [rng.choice(PAGES) for _ in range(views - 1)]  # a link opens the Overview first
            for page in pages:
                if time.monotonic() >= deadline:
                    break
                times.append(await view(ws, link, page))
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))


def links_for(data_dir: Path, count: int = 40, seed: int = 7) -> list[str]:
    """Varied links a reader might open: all prisons or one, a start month, a measure."""
    import pandas as pd

    prisons = list(pd.read_parquet(data_dir / "prisons.parquet", columns=["prison_id"])["prison_id"])
    rng = random.Random(seed)
    links = []
    for i in range(count):
        parts = [f"prison={rng.choice(prisons)}"] if i % 3 else []
        parts += [f"from={rng.randint(2016, 2020)}-{rng.randint(1, 12):02d}", f"measure={rng.choice(MEASURES)}"]
        links.append("&".join(parts))
    return links


def cpu_seconds(pid: int | str = "self") -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def resident_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM), MB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round((len(ordered) - 1) * p)))] if ordered else float("nan")


def measure(server_url: str, sessions: int, seconds: float, think: float, views: int, links: list[str],
            server_pid: int | None, log: Path | None) -> dict:
    if log:
        log.write_text("")
    times: list[float] = []
    server_cpu, own_cpu, started = (cpu_seconds(server_pid) if server_pid else 0.0), cpu_seconds(), time.monotonic()

    async def drive():
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(reader(server_url, i, deadline, think, views, links, times) for i in range(sessions)))

    asyncio.run(drive())
    elapsed = time.monotonic() - started
    runs = [float(line.split("\t")[2]) for line in log.read_text().splitlines() if line] if log else []
    return {
        "sessions": sessions, "page_views": len(times), "views_per_s": len(times) / elapsed,
        "response_median_ms": percentile(times, 0.5) * 1000, "response_p95_ms": percentile(times, 0.95) * 1000,
        "run_median_ms": percentile(runs, 0.5), "run_p95_ms": percentile(runs, 0.95),
        "server_cpu_share": (cpu_seconds(server_pid) - server_cpu) / elapsed if server_pid else float("nan"),
        "generator_cpu_share": (cpu_seconds() - own_cpu) / elapsed,
        **(dict(zip(("server_rss_mb", "server_peak_mb"), resident_mb(server_pid))) if server_pid else {}),
    }


def main(argv: list[str] | None = None) -> None:
    from dashboard.database import configured_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="extracts folder (default: the configured one, else the bundled sample)")
    parser.add_argument("--scale", default=None, help="generate extracts at a scale of bench.run (sample, tenth, national) in a temporary folder")
    parser.add_argument("--url", default=None, help="measure a server already running there instead of starting one")
    parser.add_argument("--sessions", default="2,4,8,16,32")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=5)
    parser.add_argument("--views", type=int, default=5, help="page views per session before a reader opens a new link")
    args = parser.parse_args(argv)
    if args.scale:
        from bench.run import SCALES
        from dashboard.sample_data import generate

        data_dir = Path(tempfile.mkdtemp(prefix=f"sessions-{args.scale}-"))
        generate(data_dir, **SCALES[args.scale])
    else:
        data_dir = Path(args.data) if args.data else configured_data_dir()
    links = links_for(data_dir)
    server, log = None, None
    if args.url:
        url = args.url.rstrip("/")
    else:
        log = Path(tempfile.mkdtemp(prefix="render-log-")) / "renders.tsv"
        env = {**os.environ, "PRISON_DASHBOARD_RENDER_LOG": str(log), "PRISON_DASHBOARD_DATA": str(data_dir)}
        server, url = start_server(env, prefix=("taskset", "-c", "0"), timeout=900)
        os.sched_setaffinity(0, {1 % os.cpu_count()})  # the load generator: the other core
    results = []
    try:
        measure(url, 1, 1, 0, 1, links[:1], None, None)  # warm: the first session loads the extracts
        for sessions in (int(n) for n in args.sessions.split(",")):
            row = measure(url, sessions, args.seconds, args.think, args.views, links, server.pid if server else None, log)
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if args.scale:
            shutil.rmtree(data_dir, ignore_errors=True)
    within = [r["sessions"] for r in results if r["response_p95_ms"] < TARGET_P95_MS]
    print(json.dumps({"sessions_per_core_within_target": max(within) if within else 0, "think_seconds": args.think,
                      "data": str(data_dir)}))


if __name__ == "__main__":
    main()
