"""Size a replica: how many concurrent readers each replica serves within the page target, through the
balancer that ships (deploy/nginx/) or one server alone.

    python -m bench.sessions [--data DIR | --scale national] [--replicas 2] [--sessions 4,8,16] [--seconds 60] [--think 5]
    python -m bench.sessions --replicas 0 ...                (one server, no balancer, on one core)
    python -m bench.sessions --url http://balancer:8080 ...  (a deployment already running elsewhere)

Virtual readers speak Streamlit's own WebSocket protocol (`/_stcore/stream`, protobuf BackMsg and
ForwardMsg), so no browser is needed and one process can drive dozens of sessions. Each reader
opens a session from a random link (a prison, a start month, a measure), views `--views` random
pages of the app, reading each for `--think` seconds (uniformly 0.5 to 1.5 times), then closes it
and opens another, until the time is up. The response time of a page view is from sending the
request to the server's "script finished": what a user waits for, queueing included.

With `--replicas N` (what `make sessions` runs: 2) it starts N replicas with deploy/serve.sh, each
pinned to a core of its own, and Debian's nginx in front with the shipped configuration, as
tests/e2e/balancer.py does for the replicas' end-to-end test. Each reader is a browser to the
balancer: it takes the balancer's cookie once and keeps it, so it sticks to one replica, and the
replica that answered is read from the balancer's X-Dashboard-Replica header. With `--replicas 0`
one server runs alone, pinned to one core, and this process to the other. Every server logs each
run's own time (PRISON_DASHBOARD_RENDER_LOG). For each number of readers it reports page views,
response-time median and p95 (overall and per replica, with the readers each replica held), the
server-side run time (and each page's, a tabbed page's each tab apart, slowest first: what sets the tail), and the CPU each server
and the load generator used; the largest number whose response p95 stays under 300 ms, divided by the
replicas, is the readers per replica at that think time. Before the levels, the fewest readers meet
the servers' empty query caches for `--cold-seconds`: reported apart, as what the first readers after
a start or a new set of extracts see.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.run import LATER_TABS, link_suffix
from tests.e2e.conftest import PAGES as E2E_PAGES
from tests.e2e.conftest import start_server

TARGET_P95_MS = 300
PAGES = [p for p in E2E_PAGES if p != "import"]  # url paths of the pages readers open (Import waits for a file)
MEASURES = ["all_assaults", "self_harm", "use_of_force", "serious_assaults"]
DIRECT = 0  # the replica "port" of a server measured without a balancer


class PageError(RuntimeError):
    pass


def connect(server_url: str, open_timeout: float = 120, cookie: str | None = None):
    """A WebSocket to the server's session stream, as Streamlit's own client opens it (with the
    balancer's cookie, when a browser holds one)."""
    import websockets

    stream = server_url.replace("http", "ws", 1) + "/_stcore/stream"
    return websockets.connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=open_timeout,
                              additional_headers={"Cookie": cookie} if cookie else None)


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


def answered_by(ws) -> int:
    """The port of the replica behind this WebSocket, as the balancer names it (DIRECT without one)."""
    from tests.e2e.balancer import REPLICA_HEADER

    named = ws.response.headers.get(REPLICA_HEADER)
    return int(named.rsplit(":", 1)[1]) if named else DIRECT


async def reader(server_url: str, seed: int, deadline: float, think: float, views: int, links: list[str],
                 times: dict[int, list[float]], held: dict[int, int], balanced: bool) -> None:
    """One reader: a browser that keeps the balancer's cookie (so one replica) and opens link after link."""
    from tests.e2e.balancer import sticky_cookie

    rng = random.Random(seed)
    cookie, replica = await asyncio.to_thread(sticky_cookie, server_url) if balanced else (None, DIRECT)
    held[replica] = held.get(replica, 0) + 1
    await asyncio.sleep(rng.uniform(0, think))  # readers do not all arrive at once
    while time.monotonic() < deadline:
        link = rng.choice(links)
        async with connect(server_url, cookie=cookie) as ws:
            if answered_by(ws) != replica:
                raise PageError(f"a reader kept on replica {replica} was answered by {answered_by(ws)}: sessions do not stick")
            pages = [""] + [rng.choice(PAGES) for _ in range(views - 1)]  # a link opens the Overview first
            for page in pages:
                if time.monotonic() >= deadline:
                    break
                times.setdefault(replica, []).append(await view(ws, link + open_tab(page, rng), page))
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))


def open_tab(page: str, rng: random.Random) -> str:
    """On a page drawn in tabs, a reader opens any of them (only the open one is computed): the link's
    addition that opens it, empty for the first tab or a page without tabs."""
    key, later = LATER_TABS.get(page, ("", ()))
    tab = rng.choice([None, *later])
    return link_suffix({key: tab} if tab else {})


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
            servers: dict[int, tuple[int, Path]], balanced: bool) -> dict:
    """`sessions` readers for `seconds`. `servers`: each replica's port (DIRECT without a balancer)
    and its process id and render log, for its CPU, memory and run times (empty: a server elsewhere)."""
    for _pid, log in servers.values():
        log.write_text("")
    times: dict[int, list[float]] = {}
    held: dict[int, int] = {}
    cpu_before = {port: cpu_seconds(pid) for port, (pid, _log) in servers.items()}
    own_cpu, started = cpu_seconds(), time.monotonic()

    async def drive():
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(reader(server_url, i, deadline, think, views, links, times, held, balanced) for i in range(sessions)))

    asyncio.run(drive())
    elapsed = time.monotonic() - started
    every = [t for values in times.values() for t in values]
    logged = [line.split("\t") for _pid, log in servers.values() for line in log.read_text().splitlines() if line]
    every_run = [float(ms) for _at, _page, ms in logged]
    by_page: dict[str, list[float]] = {}
    for _at, page, ms in logged:
        by_page.setdefault(page, []).append(float(ms))
    row = {
        "sessions": sessions, "replicas": len(servers) or None, "page_views": len(every), "views_per_s": len(every) / elapsed,
        "response_median_ms": percentile(every, 0.5) * 1000, "response_p95_ms": percentile(every, 0.95) * 1000,
        "run_median_ms": percentile(every_run, 0.5), "run_p95_ms": percentile(every_run, 0.95),
        "generator_cpu_share": (cpu_seconds() - own_cpu) / elapsed,
        "per_replica": [],
        # which pages set the tail: each page's server-side runs (every replica), slowest first
        "runs_by_page": dict(sorted(((page, {"runs": len(ms), "median_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95),
                                             "max_ms": max(ms)}) for page, ms in by_page.items()), key=lambda kv: -kv[1]["p95_ms"])),
    }
    for port in sorted(set(servers) | set(times)):
        mine = times.get(port, [])
        replica = {"replica": port, "readers": held.get(port, 0), "page_views": len(mine),
                   "response_median_ms": percentile(mine, 0.5) * 1000, "response_p95_ms": percentile(mine, 0.95) * 1000}
        if port in servers:
            pid = servers[port][0]
            replica |= {"cpu_share": (cpu_seconds(pid) - cpu_before[port]) / elapsed,
                        **dict(zip(("rss_mb", "peak_mb"), resident_mb(pid)))}
        row["per_replica"].append(replica)
    return row


def main(argv: list[str] | None = None) -> None:
    from dashboard.database import configured_data_dir
    from tests.e2e.balancer import balanced
    from tests.e2e.conftest import healthy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="extracts folder (default: the configured one, else the bundled sample)")
    parser.add_argument("--scale", default=None, help="generate extracts at a scale of bench.run (sample, tenth, national) in a temporary folder")
    parser.add_argument("--replicas", type=int, default=2, help="replicas behind nginx, each on a core of its own (0: one server, no balancer)")
    parser.add_argument("--url", default=None, help="measure a deployment already running there instead of starting one")
    parser.add_argument("--sessions", default="2,4,8,16,32", help="total concurrent readers at each level")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=5)
    parser.add_argument("--views", type=int, default=5, help="page views per session before a reader opens a new link")
    parser.add_argument("--cold-seconds", type=float, default=60,
                        help="a first level at the fewest readers over the empty query cache, reported apart (0: none)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sessions-"))
    if args.scale:
        from bench.run import SCALES
        from dashboard.sample_data import generate

        data_dir = work / "extracts"
        generate(data_dir, **SCALES[args.scale])
    else:
        data_dir = Path(args.data) if args.data else configured_data_dir()
    links = links_for(data_dir)
    env = {**os.environ, "PRISON_DASHBOARD_DATA": str(data_dir), "PRISON_DASHBOARD_CACHE": str(work / "cache"),
           "PRISON_DASHBOARD_AUDIT": str(work / "audit.jsonl")}
    results = []
    with contextlib.ExitStack() as stack:
        servers: dict[int, tuple[int, Path]] = {}
        balancing = bool(args.url or args.replicas)  # a deployment elsewhere: its replicas are named if it runs the shipped balancer
        if args.url:
            url = args.url.rstrip("/")
        elif args.replicas:
            def render_log(port: int) -> Path:  # each replica logs its own runs
                return work / f"renders-{port}.tsv"

            started = stack.enter_context(balanced(work, count=args.replicas, env=env, pin=True, timeout=900,
                                                   env_for=lambda port: {"PRISON_DASHBOARD_RENDER_LOG": str(render_log(port))}))
            url = started.url
            servers = {port: (process.pid, render_log(port)) for port, process in started.replicas.items()}
        else:
            log = work / "renders.tsv"
            server, url = start_server({**env, "PRISON_DASHBOARD_RENDER_LOG": str(log)}, prefix=("taskset", "-c", "0"), timeout=900)
            stack.callback(lambda: (server.terminate(), server.wait(timeout=30)))
            servers = {DIRECT: (server.pid, log)}
            os.sched_setaffinity(0, {1 % os.cpu_count()})  # the load generator: the other core
        healthy(url)
        warm(url, links, servers, balancing)
        levels = [int(n) for n in args.sessions.split(",")]
        if args.cold_seconds:  # the first readers meet an empty query cache: reported, not counted
            print(json.dumps({"cold_cache": True, **measure(url, levels[0], args.cold_seconds, args.think, args.views, links,
                                                            servers, balancing)}), flush=True)
        for sessions in levels:
            row = measure(url, sessions, args.seconds, args.think, args.views, links, servers, balancing)
            results.append(row)
            print(json.dumps(row), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    within = [r["sessions"] for r in results if r["response_p95_ms"] < TARGET_P95_MS]
    replicas = max(1, len(servers) if servers else args.replicas)
    print(json.dumps({"sessions_within_target": max(within) if within else 0, "replicas": replicas,
                      "readers_per_replica_within_target": (max(within) if within else 0) / replicas,
                      "think_seconds": args.think, "data": str(data_dir)}))


def warm(url: str, links: list[str], servers: dict, balanced: bool) -> None:
    """Open a session on every replica before measuring: the first loads the extracts (and writes the
    kept database file the others open)."""
    from tests.e2e.balancer import sticky_cookie

    async def one(cookie):
        async with connect(url, open_timeout=900, cookie=cookie) as ws:
            await view(ws, links[0], "")

    seen: set[int] = set()
    for _ in range(50):
        cookie, replica = sticky_cookie(url) if balanced else (None, DIRECT)
        if replica in seen:
            continue
        asyncio.run(one(cookie))
        seen.add(replica)
        if not servers or seen >= set(servers):
            return
    raise RuntimeError(f"the balancer sent 50 new browsers to replicas {sorted(seen)} only, not to {sorted(servers)}")


if __name__ == "__main__":
    main()
