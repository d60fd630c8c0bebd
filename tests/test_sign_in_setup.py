"""Sign-in fails closed: which mode the app runs in for every shape of settings (access.sign_in_setup),
addresses compared in one form (printable ASCII, lower case; anything else refused, never mapped), an
access file refused when two entries are one address, unverified addresses refused, and a trail that
writes any claim."""

import json

import pytest

from dashboard import access, audit
from dashboard.access import DEVELOPMENT_VARIABLE, SignInSetupError

AUTH = {"redirect_uri": "https://dash.example.org/oauth2callback", "cookie_secret": "a-long-random-cookie-secret",
        "client_id": "id", "client_secret": "secret", "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}
LISTED = '[users."kate@partner.org"]\nrole = "admin"\n'


@pytest.mark.parametrize("claim, expected", [
    ("kate@partner.org", "kate@partner.org"),
    ("Kate@Partner.ORG", "kate@partner.org"),
    ("  kate@partner.org\t", "kate@partner.org"),
    ("o'brien+dash@partner.org", "o'brien+dash@partner.org"),
    ("\u212aate@partner.org", None),  # KELVIN SIGN: NFKC would make it "kate@partner.org"
    ("kate\uff20partner.org", None),  # a full-width @
    ("\uff2bate@partner.org", None),  # a full-width K
    ("k\u0430te@partner.org", None),  # a Cyrillic a
    ("kate@partner.org\u200b", None),  # a zero-width space after it
    ("kate@part\u00adner.org", None),  # a soft hyphen inside it
    ("\ud800kate@partner.org", None),  # a lone surrogate
    ("kate partner@partner.org", None),
    ("kate@partner@org", None),
    ("katepartner.org", None),
    ("@partner.org", None),
    ("kate@", None),
    ("", None),
    ("k" * 250 + "@x.org", None),  # longer than 254
    (None, None),
    (["kate@partner.org"], None),
    (42, None),
])
def test_an_address_is_compared_in_one_form_and_anything_else_is_refused(claim, expected):
    assert access.canonical_address(claim) == expected


def test_an_address_that_only_looks_like_a_listed_one_signs_in_as_nobody(tmp_path):
    path = tmp_path / "access.toml"
    path.write_text(LISTED)
    entries = access.read_access_file(path)
    assert access.viewer_for("KATE@partner.org", entries).role == "admin"
    for lookalike in ("\u212aate@partner.org", "kate@partner.org\u200b", "\uff4bate@partner.org", "kate\uff20partner.org"):
        assert access.viewer_for(lookalike, entries) is None


@pytest.mark.parametrize("first, second", [
    ("Sam@partner.org", "sam@partner.org"),
    ("sam@partner.org", "SAM@PARTNER.ORG"),
    ("sam@partner.org", " sam@partner.org"),
    ("sam@Partner.org", "sam@partner.org "),
])
def test_an_access_file_with_two_entries_for_one_address_is_refused_whichever_comes_last(tmp_path, first, second):
    path = tmp_path / "access.toml"
    path.write_text(f'[users."{first}"]\nrole = "admin"\n\n[users."{second}"]\nrole = "funder"\n')
    with pytest.raises(access.AccessFileError, match="the same address") as refused:
        access.read_access_file(path)
    assert first in str(refused.value) and second in str(refused.value)  # the log names both spellings
    assert "sam" not in refused.value.summary.lower()  # the page names nobody


@pytest.mark.parametrize("entry", ["\u212aate@partner.org", "kate@partner.org\u200b", "kate\uff20partner.org", "not an address"])
def test_an_access_file_entry_that_is_not_an_accepted_address_is_refused(tmp_path, entry):
    path = tmp_path / "access.toml"
    path.write_text(f'[users."{entry}"]\nrole = "admin"\n')
    with pytest.raises(access.AccessFileError, match="not an address the dashboard accepts"):
        access.read_access_file(path)


@pytest.mark.parametrize("claims, verified", [
    ({}, True),  # the provider sends no such claim (Entra ID work accounts): it vouches by issuing the address
    ({"email_verified": True}, True),
    ({"email_verified": "true"}, True),
    ({"email_verified": "True"}, True),
    ({"email_verified": False}, False),
    ({"email_verified": "false"}, False),
    ({"email_verified": "False"}, False),
    ({"email_verified": None}, False),
    ({"email_verified": 0}, False),
    ({"email_verified": 1}, False),
    ({"email_verified": "yes"}, False),
    ({"email_verified": ""}, False),
])
def test_an_address_the_provider_says_is_unverified_is_not_trusted(claims, verified):
    assert access.email_verified(claims) is verified


# --- The mode: sign-in, development (asked for, nothing configured), or no page ----------------------


def environ(tmp_path, access_body: str | None = LISTED, development: str | None = None) -> dict:
    env = {}
    if access_body is not None:
        (tmp_path / "access.toml").write_text(access_body)
        env[access.ACCESS_FILE_VARIABLE] = str(tmp_path / "access.toml")
    if development is not None:
        env[DEVELOPMENT_VARIABLE] = development
    return env


def refusal(auth, env) -> str:
    with pytest.raises(SignInSetupError) as refused:
        access.sign_in_setup(auth, ".streamlit/secrets.toml", env)
    return refused.value.shown


def test_development_mode_runs_only_when_asked_for_and_nothing_of_sign_in_is_configured(tmp_path):
    assert access.sign_in_setup(None, ".streamlit/secrets.toml", environ(tmp_path, None, "1")).development
    assert "make run" in refusal(None, environ(tmp_path, None))  # nothing configured, nothing asked: no page
    assert "make run" in refusal(None, environ(tmp_path, None, "0"))
    for slip in ("yes", "true", " 1", "2"):
        assert "not to 1" in refusal(None, environ(tmp_path, None, slip))


@pytest.mark.parametrize("development", [None, "1"])
def test_an_access_file_without_sign_in_is_a_slip_not_development_mode(tmp_path, development):
    assert "has no [auth]" in refusal(None, environ(tmp_path, LISTED, development))
    assert "has no [auth]" in refusal(None, {access.ACCESS_FILE_VARIABLE: str(tmp_path / "missing.toml")})


@pytest.mark.parametrize("key", access.AUTH_KEYS)
@pytest.mark.parametrize("spoil", ["missing", "empty", "blank", "not text"])
def test_an_incomplete_auth_table_stops_the_app_naming_what_it_lacks(tmp_path, key, spoil):
    auth = {k: v for k, v in AUTH.items() if not (k == key and spoil == "missing")}
    if spoil != "missing":
        auth[key] = {"empty": "", "blank": "   ", "not text": 12345}[spoil]
    for development in (None, "1"):  # asking for development mode never opens a broken sign-in
        shown = refusal(auth, environ(tmp_path, LISTED, development))
        assert key in shown and ".streamlit/secrets.toml" in shown


@pytest.mark.parametrize("auth", ["client_id = x", ["redirect_uri"], 1, True])
def test_an_auth_entry_that_is_not_a_table_stops_the_app(tmp_path, auth):
    assert "not a table" in refusal(auth, environ(tmp_path))


@pytest.mark.parametrize("body, why", [
    (None, "it does not exist"),
    ("[users\n", "it is not valid TOML (line 1, column 7)"),
    ('role = "admin"\n', "no [users] table"),
    ('[users."a@b.org"]\nrole = "king"\n', "1 of its entries is not usable"),
    ('[users."Sam@b.org"]\nrole = "admin"\n[users."sam@b.org"]\nrole = "funder"\n', "1 of its entries is not usable"),
])
def test_sign_in_with_an_unusable_access_file_stops_the_app_naming_the_file_and_the_problem(tmp_path, body, why):
    env = {access.ACCESS_FILE_VARIABLE: str(tmp_path / "access.toml")}
    if body is not None:
        (tmp_path / "access.toml").write_text(body)
    shown = refusal(AUTH, env)
    assert why in shown and "access.toml" in shown
    assert str(tmp_path) not in shown and "a@b.org" not in shown and "sam" not in shown.lower()  # no server path, nobody's address


def test_complete_settings_sign_in_with_the_access_files_users_even_when_development_is_asked_for(tmp_path):
    for development in (None, "1"):
        setup = access.sign_in_setup(AUTH, ".streamlit/secrets.toml", environ(tmp_path, LISTED, development))
        assert not setup.development and set(setup.entries) == {"kate@partner.org"}


def test_a_settings_file_is_named_without_the_servers_folders(tmp_path):
    assert access.shown_path(access.PROJECT_DIR / ".streamlit" / "secrets.toml") == ".streamlit/secrets.toml"
    assert access.shown_path(tmp_path / "deep" / "secrets.toml") == "secrets.toml"


# --- The trail writes whatever a claim holds ---------------------------------------------------------


@pytest.mark.parametrize("claim", ["\ud800@x.org", "a\udfffb", "\u212aate@partner.org", "x" * 10_000, "line\nbreak", "\x00nul"])
def test_a_refused_sign_in_is_written_whatever_the_claim_holds(tmp_path, claim):
    path = tmp_path / "audit.jsonl"
    audit.record("refused_sign_in", claim, None, path, reason="address_not_accepted")
    (line,) = [json.loads(t) for t in path.read_text(encoding="utf-8").splitlines()]
    assert line["event"] == "refused_sign_in" and line["reason"] == "address_not_accepted"
    assert len(line["user"]) <= audit.MAX_TEXT and line["user"][:3] == claim.encode("utf-8", "backslashreplace").decode()[:3]
    events, unreadable = audit.read(path)
    assert unreadable == 0 and events.loc[0, "reason"] == "address_not_accepted"
