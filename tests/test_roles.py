"""Every page as every role: what each table, chart and figure holds, tampered links, and sign-in.

Everything a page sends is gathered as text (table cells, chart data, metrics, markdown) and
searched for what the role must never receive."""

import json
import re

import pytest

from dashboard import disclosure
from tests.apptest import APP, DEFAULT_PAGE, check, each_tab, open_page, open_section, rendered, start, warnings_shown

PAGE_FILES = {
    "": DEFAULT_PAGE,
    "wing-trends": "app_pages/wing_trends.py",
    "prison-comparison": "app_pages/prison_comparison.py",
    "cohorts": "app_pages/cohorts.py",
    "campaign": "app_pages/campaign.py",
    "good-prison-project": "app_pages/good_prison_project.py",
    "data": "app_pages/data.py",
}
TITLES = {"": "Overview", "wing-trends": "Wing trends", "prison-comparison": "Prison comparison",
          "cohorts": "Cohorts of The Conversation", "campaign": "Campaign impact",
          "good-prison-project": "Good Prison Project", "data": "Data"}
ROLES = {"admin": "admin", "governor": "governor:WSI", "sdm": "sdm:Priya S.", "funder": "funder"}
K = disclosure.DEFAULT_THRESHOLD
# Columns whose cells count people or incidents: a funder never sees 1 to K-1 in them.
PEOPLE_AND_INCIDENT_COLUMNS = {"Incidents", "of which serious", "Participants", "Pairs", "Referrals",
                               "Prisoners attending", "Staff attending", "Connections made", "Value"}


def as_role(monkeypatch, role: str, query_params=None):
    """A new session viewing as `role` from its first run, as a signed-in user would."""
    return start(monkeypatch, query_params=query_params, session_state={"view_as": ROLES[role]})


def everything_sent(at) -> str:
    """All data the run sent to the browser, as one text."""
    parts = [frame.value.to_csv() for frame in at.dataframe]
    parts += [chart.proto.spec for chart in at.get("plotly_chart")]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [e.value for e in (*at.markdown, *at.caption, *at.info, *at.warning, *at.success)]
    parts += [f"{s.label} {s.options}" for s in at.selectbox]
    parts += [f"{s.label} {s.options}" for s in at.multiselect]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def ids(raw_module):
    wings, cohorts = raw_module("wings"), raw_module("cohorts")
    return {
        "wings_outside_wsi": set(wings.loc[wings["prison_id"] != "WSI", "wing_id"]),
        "all_wings": set(wings["wing_id"]),
        "cohorts_outside_wsi": set(cohorts.loc[cohorts["prison_id"] != "WSI", "cohort_id"]),
        "cohorts_not_priya": set(cohorts.loc[cohorts["sdm"] != "Priya S.", "cohort_id"]),
        "wings_not_priya": set(wings["wing_id"]) - set(cohorts.loc[cohorts["sdm"] == "Priya S.", "wing_id"]),
        "all_cohorts": set(cohorts["cohort_id"]),
    }


@pytest.fixture(scope="module")
def raw_module():
    import pandas as pd

    from dashboard.database import SAMPLE_DATA_DIR

    return lambda table: pd.read_parquet(SAMPLE_DATA_DIR / f"{table}.parquet")


def found(text: str, identifiers: set[str]) -> set[str]:
    return {i for i in identifiers if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)}


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_as_every_role(monkeypatch, role, ids):
    at = as_role(monkeypatch, role)
    allowed = {"admin": set(PAGE_FILES), "governor": set(PAGE_FILES),
               "sdm": set(PAGE_FILES) - {"wing-trends"}, "funder": {"", "campaign", "good-prison-project", "data"}}[role]
    for path in sorted(PAGE_FILES):
        if path not in allowed:  # not in the role's navigation, so no URL can open it
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(PAGE_FILES[path])
            continue
        at = open_page(at, PAGE_FILES[path])
        assert TITLES[path] in [t.value for t in at.title], (role, path)
        for tab, drawn in each_tab(at, PAGE_FILES[path]):
            check_nothing_forbidden(drawn, role, f"{path} ({tab})" if tab else path, ids)


def check_nothing_forbidden(at, role: str, path: str, ids: dict) -> None:
    sent = everything_sent(at)
    assert "Traceback" not in sent
    assert not re.search(r"\bP\d{6}\b", sent), f"{role} received a participant id on /{path}"
    if role == "governor":
        assert not found(sent, ids["wings_outside_wsi"]), path
        assert not found(sent, ids["cohorts_outside_wsi"]), path
    if role == "sdm":  # their own cohorts in detail, wing included
        assert not found(sent, ids["wings_not_priya"]), path
        assert not found(sent, ids["cohorts_not_priya"]), path
    if role == "funder":
        assert not found(sent, ids["all_wings"]), path
        assert not found(sent, ids["all_cohorts"]), path
        for frame in at.dataframe:
            for column in PEOPLE_AND_INCIDENT_COLUMNS & set(frame.value.columns):
                cells = frame.value[column].astype(str).str.replace(",", "")
                small = cells[cells.str.fullmatch(r"[1-4]")]
                assert small.empty, (path, column, list(small))
        for metric in at.metric:
            assert not re.fullmatch(r"[1-4]( of .*)?", metric.value), (path, metric.label, metric.value)


def test_a_governor_sees_wing_detail_only_for_their_prison(monkeypatch, raw):
    at = as_role(monkeypatch, "governor", query_params={"prison": "PVI"})
    assert at.multiselect(key="f_prisons").value == ["PVI"]  # prison-level figures elsewhere are fine
    assert not [m for m in at.multiselect if m.key == "f_wings"]  # but no wing of PVI: said in words
    assert any("no wing detail for your role" in c.value for c in at.sidebar.caption)
    at = open_page(at, PAGE_FILES["wing-trends"])
    assert any("not available to you for PVI" in i.value for i in at.info)
    assert "PVI-" not in json.dumps([json.loads(c.proto.spec) for c in at.get("plotly_chart")])
    at = open_page(as_role(monkeypatch, "governor"), PAGE_FILES["wing-trends"])  # no prison in the link: their own
    assert at.multiselect(key="f_prisons").value == ["WSI"]
    at = open_section(at, "Statistical process control")  # the XmR chart, whose wing choices name wings by code
    drawn = json.dumps([json.loads(c.proto.spec) for c in at.get("plotly_chart")]) + str(at.selectbox(key="spc_wing").options)
    assert "WSI-" in drawn and "PVI-" not in drawn


def test_tampered_links_are_refused_and_change_nothing(monkeypatch):
    plain = as_role(monkeypatch, "governor", query_params={"prison": "PVI"})
    tampered = as_role(monkeypatch, "governor", query_params={"prison": "PVI", "wing": "PVI-B", "view_as": "admin", "role": "admin"})
    assert any("wing=PVI-B" in w for w in warnings_shown(tampered))
    assert not [m for m in tampered.multiselect if m.key == "f_wings"]
    assert tampered.selectbox(key="view_as").value == "governor:WSI"
    assert [(m.label, m.value) for m in tampered.metric] == [(m.label, m.value) for m in plain.metric]
    assert [f.value.to_csv() for f in tampered.dataframe] == [f.value.to_csv() for f in plain.dataframe]

    cohorts = as_role(monkeypatch, "sdm", query_params={"cohort": "C-PVI-2017-01"})  # Tom B.'s cohort, not Priya's
    cohorts = open_page(cohorts, PAGE_FILES["cohorts"])
    assert any("cohort=C-PVI-2017-01" in w for w in warnings_shown(cohorts))
    assert cohorts.selectbox(key="cohort").value == "all"
    assert cohorts.selectbox(key="sdm").options == ["Priya S."]  # her own cohorts: no "all SDMs" to choose


# --- Sign-in ----------------------------------------------------------------------------------

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-secret",
        "client_id": "id", "client_secret": "secret", "server_metadata_url": "https://example.org/.well-known/openid-configuration"}


JO = '[users."jo@justice.gov.uk"]\nrole = "governor"\nprisons = ["WSI"]\n'


def signed_in(monkeypatch, tmp_path, user: dict, auth=AUTH, access_body: str | None = JO):
    """A session with sign-in configured (`auth` as the secrets' [auth]; the access file `access_body`,
    none when None) and the provider's claims `user`. The tests ask for development mode too
    (tests/conftest.py): sign-in must win."""
    from streamlit.testing.v1 import AppTest

    access = tmp_path / "access.toml"
    if access_body is not None:
        access.write_text(access_body)
    monkeypatch.setenv("PRISON_DASHBOARD_ACCESS", str(access))
    monkeypatch.delenv("PRISON_DASHBOARD_DATA", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    if auth is not None:
        at.secrets["auth"] = auth
    at.user = user
    return check(at.run())


def shows_nothing(at) -> bool:
    """No figure, table, chart, page link or role switcher reached the browser."""
    return (not at.dataframe and not at.metric and not at.get("plotly_chart") and not [s for s in at.selectbox if s.key == "view_as"]
            and not at.sidebar.multiselect)


def refusals(trail) -> list[dict]:
    return [line for line in map(json.loads, trail.read_text(encoding="utf-8").splitlines()) if line["event"] == "refused_sign_in"]


@pytest.mark.parametrize("verified", [False, "false", "False", None, 0])
def test_an_address_the_provider_has_not_verified_is_refused_and_audited(monkeypatch, tmp_path, verified):
    trail = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(trail))
    at = signed_in(monkeypatch, tmp_path, {"is_logged_in": True, "email": "jo@justice.gov.uk", "email_verified": verified})
    assert any("has not been verified" in i.value for i in at.info) and shows_nothing(at)
    assert [(r["user"], r["reason"]) for r in refusals(trail)] == [("jo@justice.gov.uk", "email_not_verified")]


@pytest.mark.parametrize("claim", ["\u212aate@justice.gov.uk".replace("kate", "jo"), "jo@justice.gov.uk\u200b", "jo\uff20justice.gov.uk",
                                   "\ud800jo@justice.gov.uk", "jo@justice.gov.uk\n<b>admin</b>", "x" * 5000 + "@justice.gov.uk"])
def test_an_address_that_only_looks_like_a_listed_one_is_refused_audited_and_never_shown(monkeypatch, tmp_path, claim):
    trail = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(trail))
    at = signed_in(monkeypatch, tmp_path, {"is_logged_in": True, "email": claim, "email_verified": True})
    assert any("not one the dashboard accepts" in i.value for i in at.info) and shows_nothing(at)
    assert "justice.gov.uk" not in " ".join(e.value for e in (*at.info, *at.markdown, *at.caption))
    ((line),) = refusals(trail)
    assert line["reason"] == "address_not_accepted" and line["user"].removesuffix("…").isascii() and len(line["user"]) <= 320
    assert line["user"][:10] == claim.encode("ascii", "backslashreplace").decode()[:10]  # a look-alike shows as what it is


@pytest.mark.parametrize("auth, named", [
    ({k: v for k, v in AUTH.items() if k != "client_secret"}, "client_secret"),
    ({**AUTH, "cookie_secret": ""}, "cookie_secret"),
    ({k: v for k, v in AUTH.items() if k not in ("redirect_uri", "server_metadata_url")}, "redirect_uri, server_metadata_url"),
])
def test_incomplete_sign_in_settings_show_no_page_and_no_switcher(monkeypatch, tmp_path, auth, named):
    at = signed_in(monkeypatch, tmp_path, {"is_logged_in": False}, auth=auth)
    (error,) = at.error
    assert "cannot open" in error.value and named in rendered(error.value)
    assert shows_nothing(at) and not at.button and not at.warning  # not even the sign-in button, nor the data's banner


@pytest.mark.parametrize("access_body, why", [(None, "does not exist"), ("[users\n", "not valid TOML"),
                                              (JO + JO.replace("jo@", "Jo@").replace("governor", "admin").replace('prisons = ["WSI"]\n', ""), "not usable")])
def test_sign_in_with_an_unusable_access_file_shows_no_page_to_anyone(monkeypatch, tmp_path, access_body, why):
    for user in ({"is_logged_in": False}, {"is_logged_in": True, "email": "jo@justice.gov.uk"}):
        at = signed_in(monkeypatch, tmp_path, user, access_body=access_body)
        (error,) = at.error
        assert "cannot open" in error.value and why in rendered(error.value) and shows_nothing(at) and not at.button


def test_without_sign_in_development_mode_must_be_asked_for(monkeypatch):
    monkeypatch.delenv("PRISON_DASHBOARD_DEVELOPMENT")
    monkeypatch.delenv("PRISON_DASHBOARD_ACCESS", raising=False)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120).run()
    (error,) = at.error
    assert "development mode" in rendered(error.value) and "make run" in rendered(error.value) and shows_nothing(at)
    monkeypatch.setenv("PRISON_DASHBOARD_DEVELOPMENT", "1")  # the control: asked for, the switcher is there
    assert [s for s in start(monkeypatch).selectbox if s.key == "view_as"]


def test_with_sign_in_configured_a_signed_out_user_sees_no_data(monkeypatch, tmp_path):
    at = signed_in(monkeypatch, tmp_path, {"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
    assert not [s for s in at.selectbox if s.key == "view_as"]


def test_with_sign_in_configured_an_unknown_user_is_turned_away_politely(monkeypatch, tmp_path):
    at = signed_in(monkeypatch, tmp_path, {"is_logged_in": True, "email": "stranger@example.org"})
    assert any("has not been opened to this address" in i.value for i in at.info)
    assert not at.dataframe and not at.metric
    assert not [s for s in at.selectbox if s.key == "view_as"]


def test_a_sign_in_without_an_email_claim_is_turned_away_and_written_to_the_audit_trail(monkeypatch, tmp_path):
    trail = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PRISON_DASHBOARD_AUDIT", str(trail))
    at = signed_in(monkeypatch, tmp_path, {"is_logged_in": True})
    assert any("did not say which e-mail address" in i.value for i in at.info)
    assert not at.dataframe and not at.metric and "None" not in " ".join(i.value for i in at.info)
    assert '"event":"refused_sign_in"' in trail.read_text()


def test_with_sign_in_configured_a_known_user_gets_their_role_and_no_switcher(monkeypatch, tmp_path):
    at = signed_in(monkeypatch, tmp_path, {"is_logged_in": True, "email": "Jo@Justice.gov.uk"})
    assert not [s for s in at.selectbox if s.key == "view_as"]
    assert any("Governor of WSI" in c.value for c in at.sidebar.caption)
    assert at.metric  # the Overview drew


def test_a_governor_opens_on_her_own_prison_and_a_link_still_wins(monkeypatch):
    at = start(monkeypatch, session_state={"view_as": "governor:WSI"})
    (prisons,) = [m for m in at.sidebar.multiselect if m.key == "f_prisons"]
    assert prisons.value == ["WSI"] and at.query_params["prison"] == "WSI"
    assert "HMP Wormwood Scrubs" in " ".join(c.value for c in at.caption) or "WSI" in " ".join(c.value for c in at.caption)
    linked = start(monkeypatch, query_params={"prison": "PVI"}, session_state={"view_as": "governor:WSI"})
    (prisons,) = [m for m in linked.sidebar.multiselect if m.key == "f_prisons"]
    assert prisons.value == ["PVI"]
    # an administrator still opens on the whole estate
    admin = start(monkeypatch)
    (prisons,) = [m for m in admin.sidebar.multiselect if m.key == "f_prisons"]
    assert prisons.value == [] and "prison" not in admin.query_params
