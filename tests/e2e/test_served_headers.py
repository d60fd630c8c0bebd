"""What the real server sends: Streamlit's protections stay on (XSRF, no CORS wildcard, no
cross-origin WebSocket) and no response names a server path."""

import json
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

EVIL = "http://evil.example"


def _get(url: str, headers: dict | None = None, method: str = "GET", data: bytes | None = None):
    request = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_no_origin_is_allowed_across_sites(server):
    for path in ("/", "/_stcore/health", "/_stcore/host-config"):
        status, headers, _ = _get(server + path, {"Origin": EVIL})
        assert status == 200, path
        allowed = {k.lower(): v for k, v in headers.items()}.get("access-control-allow-origin")
        assert allowed in (None, ""), (path, allowed)  # neither "*" nor the asking origin echoed back
    _, _, body = _get(server + "/_stcore/host-config")
    assert "*" not in json.loads(body)["allowedOrigins"]


def test_the_xsrf_cookie_is_set_same_site_and_an_upload_without_its_token_is_refused(server):
    _, headers, _ = _get(server + "/_stcore/health")
    cookie = {k.lower(): v for k, v in headers.items()}.get("set-cookie", "")
    assert cookie.startswith("_streamlit_xsrf=") and "SameSite=Lax" in cookie
    status, _, body = _get(server + "/_stcore/upload_file/session/file", {"Origin": EVIL, "Content-Type": "application/octet-stream"},
                           method="PUT", data=b"incidents")
    assert status == 403 and b"XSRF" in body


@pytest.mark.parametrize("origin, opens", [(EVIL, False), (None, True)])
def test_a_websocket_from_another_origin_is_refused(server, origin, opens):
    # the synchronous client: the browser tests' Playwright keeps an event loop running in this thread
    try:
        with connect(server.replace("http", "ws") + "/_stcore/stream", origin=origin or server, subprotocols=["streamlit"],
                     open_timeout=30):
            opened = True
    except InvalidStatus as refused:
        assert refused.response.status_code == 403
        opened = False
    assert opened is opens


def test_the_app_shell_names_no_server_path(server):
    _, _, body = _get(server + "/")
    page = body.decode()
    assert "/work/" not in page and "site-packages" not in page and "PRISON_DASHBOARD" not in page
