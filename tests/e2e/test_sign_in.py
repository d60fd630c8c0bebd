"""Sign-in for real: a real OpenID Connect provider (panva's oidc-provider, from the npm registry)
on localhost, the app's [auth] pointed at it, and Chromium through the redirect flow as a governor,
an SDM, a funder and an address the access file does not list. Each sees exactly their role's pages
and scope; the unlisted one, one the provider has not verified and one that only looks like a listed
address see no data and are audited; signing out ends the session; a tampered or expired session
cookie gets the sign-in page. Sign-in settings that are present but unusable, or none where
development mode was not asked for, give the real server no page at all."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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

[users."kate@example.org"]
role = "admin"

[users."unverified@example.org"]
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


def _refusals() -> list[dict]:
    """The refused sign-ins in this test session's audit trail (the servers inherit its variable)."""
    trail = Path(os.environ["PRISON_DASHBOARD_AUDIT"])
    return [line for line in map(json.loads, trail.read_text(encoding="utf-8").splitlines()) if line["event"] == "refused_sign_in"]


def _shows_nothing(page) -> bool:
    return (page.locator("[data-testid=stDataFrame]").count() == 0 and page.locator("[data-testid=stMetric]").count() == 0
            and page.locator("[data-testid=stSidebarNav] a").count() == 0 and "View as" not in page.inner_text("body"))


@pytest.mark.parametrize("claim, told, reason", [
    ("\u212aate@example.org", "not one the dashboard accepts", "address_not_accepted"),  # KELVIN SIGN, not kate@example.org (an admin)
    ("kate@example.org\u200b", "not one the dashboard accepts", "address_not_accepted"),
    ("unverified@example.org", "has not been verified", "email_not_verified"),  # listed, but the provider says unverified
])
def test_an_address_that_is_not_the_listed_ones_owner_is_refused_and_audited(browser, signed_in_server, claim, told, reason):
    app, _ = signed_in_server
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, app, claim)
    page.get_by_text(told).wait_for(timeout=90_000)
    assert _shows_nothing(page)
    assert "kate@example.org" not in page.inner_text("body")
    assert reason in [line.get("reason") for line in _refusals()]
    context.close()


@pytest.fixture(scope="module")
def unusable_settings_server(tmp_path_factory):
    """A real server whose --secrets.files names a file the test rewrites: (url, the file). Development
    mode is asked for (the tests' environment), as on the machine where the stray quote was found."""
    folder = tmp_path_factory.mktemp("unusable")
    secrets = folder / "secrets.toml"
    secrets.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("PRISON_DASHBOARD_DATA", "PRISON_DASHBOARD_ACCESS")}
    server, url = start_server(env, options=("--secrets.files", str(secrets)))
    yield url, secrets
    server.terminate()
    server.wait(timeout=20)


# In this order: Streamlit keeps the first secrets it could parse, so the file that parses comes last.
UNUSABLE = [
    ("stray quote", f'[auth]\nredirect_uri = "x"\nclient_secret = "ab"c"\ncookie_secret = "{COOKIE_SECRET}"\n', "is not valid TOML (line 3"),
    ("a key twice", '[auth]\nclient_id = "a"\nclient_id = "b"\n', "is not valid TOML (line 3"),
    ("incomplete", '[auth]\nredirect_uri = "http://127.0.0.1/oauth2callback"\nclient_id = "x"\n', "no cookie_secret, client_secret, server_metadata_url"),
]


def test_unusable_sign_in_settings_give_the_real_server_no_page_even_with_development_asked_for(browser, unusable_settings_server):
    url, secrets = unusable_settings_server
    for name, body, told in UNUSABLE:
        secrets.write_text(body)
        context = browser.new_context()
        page = context.new_page()
        for path in ("", "/data", "/import"):  # a deep link too: no page opens on any
            page.goto(url + path)
            page.get_by_text("The dashboard cannot open").wait_for(timeout=90_000)
            text = page.inner_text("body").replace("\u200b", "")  # Markdown's zero-width spaces keep names from turning into links
            assert told in text and "secrets.toml" in text and str(secrets.parent) not in text, name
            assert _shows_nothing(page) and page.get_by_role("button").filter(has_text="Sign in").count() == 0, name
        context.close()


def test_without_sign_in_a_server_not_asked_for_development_mode_shows_no_page(browser):
    env = {k: v for k, v in os.environ.items() if k not in ("PRISON_DASHBOARD_DATA", "PRISON_DASHBOARD_ACCESS", access.DEVELOPMENT_VARIABLE)}
    server, url = start_server(env)
    try:
        page = browser.new_page()
        page.goto(url + "/import")
        page.get_by_text("The dashboard cannot open").wait_for(timeout=90_000)
        assert "make run" in page.inner_text("body").replace("\u200b", "") and _shows_nothing(page)
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_a_server_whose_secrets_are_not_utf8_does_not_start(tmp_path):
    """Streamlit's own server reads the secrets for its cookie secret before serving: a file that is not
    UTF-8 stops it there, so nothing is served (the closed side; the control is every other server here)."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_bytes(b'[auth]\nclient_secret = "\xff\xfe"\n')
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
                               str(free_port()), "--secrets.files", str(secrets)], cwd=PROJECT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        _, log = server.communicate(timeout=120)
    finally:
        server.kill()
    assert server.returncode != 0 and "UnicodeDecodeError" in log
