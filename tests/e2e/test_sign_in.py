"""Sign-in for real: a real OpenID Connect provider (panva's oidc-provider, from the npm registry)
on localhost, the app's [auth] pointed at it, and Chromium through the redirect flow as a governor,
an SDM, a funder and an address the access file does not list. Each sees exactly their role's pages
and scope; the unlisted one sees no data; signing out ends the session; a tampered or expired
session cookie gets the sign-in page."""

import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from dashboard import access
from tests.e2e.conftest import PROJECT, free_port, start_server

PROVIDER_DIR = PROJECT / "tests" / "e2e" / "oidc"
CLIENT_ID, CLIENT_SECRET, COOKIE_SECRET = "prison-dashboard", "test-client-secret", "test-cookie-secret-0123456789abcdef"
ACCESS = """
[users."governor@example.org"]
role = "governor"
prisons = ["WSI"]

[users."sdm@example.org"]
role = "sdm"
sdm = "Priya S."

[users."funder@example.org"]
role = "funder"
"""


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


@pytest.fixture(scope="module")
def signed_in_server(tmp_path_factory):
    """The OIDC provider and an app configured for it: (app url, provider url)."""
    if shutil.which("node") is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        if os.environ.get("CI"):
            raise RuntimeError("the test OIDC provider is not installed: `make test` runs npm ci in tests/e2e/oidc")
        pytest.skip("the test OIDC provider is not installed (make test installs it)")
    folder = tmp_path_factory.mktemp("signin")
    app_port, provider_port = free_port(), free_port()
    app, provider = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{provider_port}"
    oidc = subprocess.Popen(["node", "provider.mjs", str(provider_port), CLIENT_ID, CLIENT_SECRET, f"{app}/oauth2callback"],
                            cwd=PROVIDER_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(f"{provider}/.well-known/openid-configuration")
    (folder / "secrets.toml").write_text(f"""[auth]
redirect_uri = "{app}/oauth2callback"
cookie_secret = "{COOKIE_SECRET}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{provider}/.well-known/openid-configuration"

# Streamlit asks the provider to let the user pick an account (prompt=select_account, which Entra ID
# supports); the test provider knows only the OIDC prompts it implements, so it is asked to log in
[auth.client_kwargs]
prompt = "login"
""")
    (folder / "access.toml").write_text(ACCESS)
    env = {k: v for k, v in os.environ.items() if k != "PRISON_DASHBOARD_DATA"} | {"PRISON_DASHBOARD_ACCESS": str(folder / "access.toml")}
    server, url = start_server(env, port=app_port, options=("--secrets.files", str(folder / "secrets.toml")))
    yield url, provider
    server.terminate()
    oidc.terminate()
    server.wait(timeout=20)
    oidc.wait(timeout=20)


def _sign_in(page, app: str, email: str) -> None:
    page.goto(app)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=login]", timeout=60_000)  # the provider's own login form
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "any password: the development form checks none")
    page.get_by_role("button", name="Sign-in").click()
    consent = page.get_by_role("button", name="Continue")
    consent.wait_for(timeout=60_000)
    consent.click()
    page.wait_for_url(f"{app}/**", timeout=60_000)


def _signed_in_as(page, email: str) -> None:
    """The sidebar names who is signed in (an address is written with a zero-width space, so that it
    is never turned into a link)."""
    note = page.locator("[data-testid=stSidebar]").get_by_text("Signed in as")
    note.wait_for(timeout=90_000)
    assert email in note.inner_text().replace("\u200b", "")


def _navigation(page) -> list[str]:
    links = page.locator("[data-testid=stSidebarNav] a")
    links.first.wait_for(timeout=90_000)
    return [link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1] for link in links.all()]


@pytest.mark.parametrize("email, role", [("governor@example.org", "governor"), ("sdm@example.org", "sdm"),
                                         ("funder@example.org", "funder")])
def test_each_listed_user_signs_in_through_the_provider_and_sees_their_scope(browser, signed_in_server, email, role):
    app, _ = signed_in_server
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, app, email)
    _signed_in_as(page, email)
    host = app.rsplit("/", 1)[-1]
    paths = [p if p != host else "" for p in _navigation(page)]
    assert sorted(paths) == sorted(access.PAGES[role])  # the same scope the role tests check
    assert "View as" not in page.inner_text("[data-testid=stSidebar]")  # no switcher once sign-in is configured
    if role == "governor":
        page.wait_for_url("**prison=WSI**", timeout=60_000)  # she opens on her own prison
    if role == "funder":
        page.get_by_text("rounded to the nearest 5").first.wait_for(timeout=60_000)
    # signing out ends the session at the app and at the provider (which asks to confirm): the sign-in
    # page again, and the cookie is gone
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click(timeout=60_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert not [c for c in context.cookies() if c["name"].startswith("_streamlit_user")]
    context.close()


def test_an_unlisted_address_signs_in_but_sees_no_data(browser, signed_in_server):
    app, _ = signed_in_server
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, app, "stranger@example.org")
    page.get_by_text("has not been opened to this address").wait_for(timeout=90_000)
    assert page.locator("[data-testid=stDataFrame]").count() == 0 and page.locator("[data-testid=stMetric]").count() == 0
    assert page.locator("[data-testid=stSidebarNav] a").count() == 0
    context.close()


@pytest.mark.parametrize("spoil", ["tampered", "expired", "untouched"])
def test_a_tampered_or_expired_session_cookie_gets_the_sign_in_page(browser, signed_in_server, spoil):
    app, _ = signed_in_server
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, app, "governor@example.org")
    _signed_in_as(page, "governor@example.org")
    cookies = [c for c in context.cookies() if c["name"].startswith("_streamlit_user")]
    assert cookies
    spoilt = []
    for cookie in cookies:
        if spoil == "untouched":  # the control: the same cookies put back keep the session
            pass
        elif spoil == "tampered":  # one character of the signed value changed
            value = cookie["value"]
            middle = len(value) // 2
            cookie = cookie | {"value": value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1:]}
        else:  # correctly signed, but 40 days old: older than the cookie's lifetime
            cookie = cookie | {"value": _resigned(cookie["name"], cookie["value"], days_old=40)}
        spoilt.append(cookie)
    context.clear_cookies()
    context.add_cookies(spoilt)
    page.goto(app)
    if spoil == "untouched":
        _signed_in_as(page, "governor@example.org")
    else:
        page.get_by_role("button", name="Sign in").wait_for(timeout=90_000)
        assert page.locator("[data-testid=stDataFrame]").count() == 0
    context.close()


def _resigned(name: str, value: str, days_old: int) -> str:
    """The cookie's own content signed again with the app's secret as Streamlit signs it (itsdangerous,
    salted with the cookie's name), but dated `days_old` days ago."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    content = URLSafeTimedSerializer(COOKIE_SECRET, salt=name).loads(value)  # the cookie was genuine

    class Dated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - days_old * 86400

    return URLSafeTimedSerializer(COOKIE_SECRET, salt=name, signer=Dated).dumps(content)
