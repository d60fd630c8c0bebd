"""Replicas behind Debian's nginx, started the way the container set-up starts them: each replica by
deploy/serve.sh, the balancer from deploy/nginx/dashboard.conf.template with its two names filled as the
nginx image's envsubst fills them. Used by the replicas' end-to-end test and by `make sessions`, so what
ships is what is tested and what is measured."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.conftest import PROJECT, free_port, healthy

TEMPLATE = PROJECT / "deploy" / "nginx" / "dashboard.conf.template"
SERVE = PROJECT / "deploy" / "serve.sh"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REPLICA_HEADER = "x-dashboard-replica"  # the replica that answered, named by the balancer on every response
COOKIE = "dashboard_replica"  # the balancer's own cookie: the key that keeps a browser on its replica


def render_balancer(listen: str, replicas: list[str]) -> str:
    """The shipped template with its two names filled, as the nginx image's envsubst fills them."""
    upstreams = " ".join(f"server {r} max_fails=1 fail_timeout=30s;" for r in replicas)
    return TEMPLATE.read_text().replace("${DASHBOARD_LISTEN}", listen).replace("${DASHBOARD_UPSTREAMS}", upstreams)


@dataclass
class Balanced:
    url: str  # the balancer's address: where readers go
    replicas: dict[int, subprocess.Popen] = field(default_factory=dict)  # port: its process


@contextmanager
def balanced(folder: Path, count: int = 2, env: dict | None = None, pin: bool = False, timeout: float = 300,
             env_for: Callable[[int], dict] | None = None):
    """`count` replicas (each pinned to a core of its own when `pin`) and nginx in front of them, with
    the nginx files in `folder`. `env` is each replica's environment (PRISON_DASHBOARD_* say what it
    serves), with its own port added and whatever `env_for(port)` adds."""
    if not os.path.exists(NGINX):
        raise FileNotFoundError("nginx is not installed (`make test` installs Debian's nginx-light)")
    started, nginx = Balanced(""), None
    try:
        for i in range(count):
            port = free_port()
            replica_env = {**(env if env is not None else os.environ), "PORT": str(port), "ADDRESS": "127.0.0.1",
                           "PYTHON": os.environ.get("PYTHON", sys.executable), **(env_for(port) if env_for else {})}
            prefix = ("taskset", "-c", str(i % os.cpu_count())) if pin else ()
            started.replicas[port] = subprocess.Popen([*prefix, str(SERVE)], env=replica_env, stdout=subprocess.DEVNULL,
                                                      stderr=subprocess.DEVNULL)
        for port in started.replicas:
            healthy(f"http://127.0.0.1:{port}", timeout)
        listen = free_port()
        (folder / "dashboard.conf").write_text(render_balancer(f"127.0.0.1:{listen}", [f"127.0.0.1:{p}" for p in started.replicas]))
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
        started.url = f"http://127.0.0.1:{listen}"
        healthy(started.url, timeout=30)
        yield started
    finally:
        processes = [*started.replicas.values(), *([nginx] if nginx else [])]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def sticky_cookie(url: str) -> tuple[str | None, int]:
    """What a new browser gets from the balancer: its key cookie and the port of the replica it sticks
    to (None and 0 from a server with no balancer in front)."""
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
        cookie = next((v.split(";", 1)[0] for k, v in response.headers.items() if k.lower() == "set-cookie" and v.startswith(COOKIE)), None)
        named = response.headers.get(REPLICA_HEADER)
        return cookie, int(named.rsplit(":", 1)[1]) if named else 0


def replica_of(url: str, cookie: str) -> int:
    """The port of the replica that answers a browser holding `cookie`."""
    request = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.headers[REPLICA_HEADER].rsplit(":", 1)[1])
