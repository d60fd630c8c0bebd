"""Two replicas behind Debian's nginx, started by the same script and balancer configuration the
container set-up ships (deploy/serve.sh, deploy/nginx/dashboard.conf.template): sessions opened through
the balancer stick to a replica; when one replica stops, sessions on the other carry on, and the stopped
one's readers reconnect to the live one and keep their link's view."""

import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from tests.e2e.conftest import PROJECT, free_port

TEMPLATE = PROJECT / "deploy" / "nginx" / "dashboard.conf.template"
SERVE = PROJECT / "deploy" / "serve.sh"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LINKS = ["?prison=WSI&from=2019-01&to=2020-12", "?prison=PVI", "?prison=BLI&from=2018-06", "?prison=EXI&to=2021-06",
         "?prison=WWI", "?prison=WSI&to=2022-12", "?prison=PVI&from=2020-01", "?prison=BLI"]


def _healthy(url: str, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy")


def render_balancer(listen: str, replicas: list[str]) -> str:
    """The shipped template with its two names filled, as the nginx image's envsubst fills them."""
    upstreams = " ".join(f"server {r} max_fails=1 fail_timeout=30s;" for r in replicas)
    return TEMPLATE.read_text().replace("${DASHBOARD_LISTEN}", listen).replace("${DASHBOARD_UPSTREAMS}", upstreams)


@pytest.fixture(scope="module")
def balanced(tmp_path_factory):
    """Two replicas over the sample, one cache and audit trail, and nginx in front: (url, {port: process})."""
    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            raise RuntimeError("nginx not found: `make test` installs Debian's nginx")
        pytest.skip("nginx is not installed (make test installs it)")
    folder = tmp_path_factory.mktemp("replicas")
    replicas = {}
    for _ in range(2):
        port = free_port()
        env = {**{k: v for k, v in os.environ.items() if k != "PRISON_DASHBOARD_DATA"}, "PORT": str(port), "ADDRESS": "127.0.0.1",
               "PYTHON": os.environ.get("PYTHON", __import__("sys").executable)}
        replicas[port] = subprocess.Popen([str(SERVE)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for port in replicas:
        _healthy(f"http://127.0.0.1:{port}")
    listen = free_port()
    (folder / "dashboard.conf").write_text(render_balancer(f"127.0.0.1:{listen}", [f"127.0.0.1:{p}" for p in replicas]))
    (folder / "nginx.conf").write_text(f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/dashboard.conf;
}}
""")
    nginx = subprocess.Popen([NGINX, "-c", str(folder / "nginx.conf"), "-p", str(folder)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{listen}"
    _healthy(url, timeout=30)
    yield url, replicas
    nginx.terminate()
    for process in replicas.values():
        process.terminate()
    for process in [nginx, *replicas.values()]:
        process.wait(timeout=30)


def _replica_of(context, url: str) -> int:
    """Which replica this browser sticks to: the balancer names it on every response."""
    response = context.request.get(f"{url}/_stcore/health")
    return int(response.headers["x-dashboard-replica"].rsplit(":", 1)[1])


def _drawn(page, prison: str) -> None:
    """The Overview has run for the link's prison: its caption names it and a table is drawn."""
    page.locator("[data-testid=stMain] h1").get_by_text("Overview").wait_for(timeout=120_000)
    page.locator("[data-testid=stMain] [data-testid=stCaptionContainer]").get_by_text(prison).first.wait_for(timeout=120_000)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=120_000)


PRISON_NAMES = {"WSI": "Wormwood Scrubs", "PVI": "Pentonville", "BLI": "Bristol", "EXI": "Exeter", "WWI": "Wandsworth"}


def test_sessions_stick_and_survive_a_replica_stopping(browser, balanced):
    url, replicas = balanced
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
