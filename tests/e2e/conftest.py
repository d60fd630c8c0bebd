"""The real server and Debian's Chromium, shared by the end-to-end tests."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from dashboard.database import SAMPLE_DATA_DIR
from dashboard.pages import PAGE_TABLE

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = {p.url_path: p.heading for p in PAGE_TABLE}  # url path: the page's heading
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]



def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
        pytest.skip("Chromium is not installed (make test installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str, timeout: float = 300) -> None:
    """Wait until the server at `url` answers its health check."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer /_stcore/health within {timeout:.0f} s")


def start_server(env: dict, prefix: tuple[str, ...] = (), timeout: float = 300, port: int | None = None,
                 options: tuple[str, ...] = (), script: Path = PROJECT / "app.py") -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` (or another `script`, with the project's server settings; after
    `prefix`, such as taskset; with more `options`, such as --secrets.files) and wait for its health check."""
    port = port or free_port()
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", *options],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        healthy(url, timeout)
    except RuntimeError:
        process.kill()
        raise
    return process, url


@pytest.fixture(scope="session")
def server():
    process, url = start_server({k: v for k, v in os.environ.items() if k != "PRISON_DASHBOARD_DATA"})
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def served_copy(tmp_path):
    """A server of its own over a copy of the sample, for tests that change the extracts: (folder, url)."""
    folder = tmp_path / "extracts"
    shutil.copytree(SAMPLE_DATA_DIR, folder)
    process, url = start_server({**os.environ, "PRISON_DASHBOARD_DATA": str(folder)})
    yield folder, url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()
