"""Who is looking: Streamlit's own sign-in (`st.login`, OIDC) when `[auth]` is configured in
`.streamlit/secrets.toml`, with each user's role and scope from the access file; a bannered
development mode with a "view as" switcher only when nothing of sign-in is configured and the person
starting the app asked for it. Sign-in settings that are present but unusable stop every page with a
message saying which file and what is wrong (`access.sign_in_setup`). A role never comes from the URL."""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

import streamlit as st
from streamlit import config

from dashboard import access, ui
from dashboard.access import SignInSetupError, Viewer
from dashboard.text import md

VIEW_AS = "view_as"
_log = logging.getLogger("prison_dashboard")


def _secrets_named() -> str:
    """The secrets files that exist (else every place Streamlit looks), as the page may name them."""
    paths = config.get_option("secrets.files")
    present = [p for p in paths if os.path.exists(p)] or paths
    return " and ".join(access.shown_path(Path(p)) for p in present) or "the secrets file"


def _auth_section() -> object:
    """The secrets' [auth] value; None when no secrets source exists or none has [auth]. A source that
    exists but cannot be read raises SignInSetupError: it may be the sign-in settings, and reading it as
    "none configured" would open development mode to anyone."""
    try:
        return st.secrets.get("auth")
    except Exception as error:  # Streamlit raises the same error for "no file" and "cannot parse"; OSError for one it may not open
        present = [Path(p) for p in config.get_option("secrets.files") if os.path.exists(p)]
        if not present:
            return None
        raise SignInSetupError(_why_unreadable(present), f"secrets could not be read: {error}") from error


def _why_unreadable(present: list[Path]) -> str:
    for path in present:
        if path.is_file():
            try:
                tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as error:
                return (f"{access.shown_path(path)} is not valid TOML ({access.toml_position(error)}; a stray or missing "
                        "quote is the usual cause), so the sign-in settings it may hold cannot be read.")
            except (OSError, UnicodeDecodeError):
                return f"{access.shown_path(path)} could not be read, so the sign-in settings it may hold are unknown."
    return f"The secrets ({', '.join(access.shown_path(p) for p in present)}) could not be read: the server's log says why."


def resolve_viewer() -> Viewer | None:
    """The session's viewer, remembered for the queries; None (after drawing why) when nobody may look."""
    try:
        setup = access.sign_in_setup(_auth_section(), _secrets_named())
    except SignInSetupError as error:
        _log.error("the dashboard's sign-in settings are not usable, so no page is shown: %s", error)
        st.title("Prison impact dashboard")
        st.error(f"**The dashboard cannot open: its sign-in settings are not usable.** {md(error.shown, limit=None)} "
                 "No page or figure is shown until this is put right.", icon=":material/block:")
        viewer = None
    else:
        viewer = _development_viewer() if setup.development else _signed_in_viewer(setup.entries)
    st.session_state[ui.VIEWER] = viewer
    return viewer


def _turned_away(message: str) -> None:
    st.title("Prison impact dashboard")
    st.info(message)
    st.button("Sign out", on_click=st.logout)


def _signed_in_viewer(entries: dict[str, access.AccessEntry]) -> Viewer | None:
    if not st.user.is_logged_in:
        st.title("Prison impact dashboard")
        st.markdown("The dashboard shows sensitive figures about prisons and the people in them. "
                    "Sign in with your organisation account to continue.")
        st.button("Sign in", on_click=st.login, type="primary")
        return None
    claim = st.user.get("email")
    if not claim:  # the provider sent no e-mail claim: nobody to look up in the access file
        _audit_sign_in(None, None, "no_email_claim")
        _turned_away("You are signed in, but your sign-in did not say which e-mail address you use, so the dashboard "
                     "cannot tell what you may see. Ask the dashboard's administrator to have the sign-in send the e-mail claim.")
        return None
    email = access.canonical_address(claim)
    if email is None:  # never shown back: it may hold anything, and look like someone else's address
        # written in ASCII with escapes, so an administrator sees \u212aate@…, not a K that passes for kate@…
        _audit_sign_in(str(claim).encode("ascii", "backslashreplace").decode("ascii"), None, "address_not_accepted")
        _turned_away("You are signed in, but the e-mail address your sign-in gave is not one the dashboard accepts "
                     f"({access.ADDRESS_RULE}), so it cannot tell what you may see. Ask the dashboard's administrator.")
        return None
    if not access.email_verified(st.user):
        _audit_sign_in(email, None, "email_not_verified")
        _turned_away(f"You are signed in as **{md(email)}**, but your sign-in says this address has not been verified, "
                     "so the dashboard cannot be sure it is yours. Verify it with your organisation's sign-in, then sign in again.")
        return None
    viewer = access.viewer_for(email, entries)
    _audit_sign_in(email, viewer, None if viewer is not None else "not_listed")
    if viewer is None:
        _turned_away(f"You are signed in as **{md(email)}**, but the dashboard has not been opened to this address. "
                     "Ask the dashboard's administrator to add you to the access file, then sign in again.")
        return None
    st.sidebar.caption(f"Signed in as {md(email)} · {md(viewer.describe())}")
    st.sidebar.button("Sign out", on_click=st.logout)
    return viewer


_AUDITED_SIGN_IN = "_audited_sign_in"


def _audit_sign_in(email: object, viewer: Viewer | None, refused: str | None = None) -> None:
    """A sign-in, or a refused one (`refused`: why, a code), once per session and person (and, in
    development mode, per role chosen). `email` is the claim as it came: the trail writes any text safely."""
    who = (str(email), viewer.key if viewer is not None else None, refused)
    if st.session_state.get(_AUDITED_SIGN_IN) != who:
        st.session_state[_AUDITED_SIGN_IN] = who
        if viewer is None:
            ui.audit("refused_sign_in", user=str(email) if email else "(no e-mail claim)", reason=refused)
        else:
            ui.audit("sign_in", viewer)


def development_viewers() -> dict[str, Viewer]:
    """Every role a reviewer can try, from the data: each prison's governor and each SDM."""
    choices = {"admin": Viewer(role="admin")}
    db = ui.database()
    if not db.report.unavailable("prisons"):
        for prison in ui.query_as(access.ADMIN, "prisons").itertuples():
            choices[f"governor:{prison.prison_id}"] = Viewer(role="governor", prisons=(prison.prison_id,), name=prison.name)
    if not db.report.unavailable("cohorts"):
        for sdm in ui.query_as(access.ADMIN, "sdm_names")["sdm"]:
            choices[f"sdm:{sdm}"] = Viewer(role="sdm", sdm=sdm)
    choices["funder"] = Viewer(role="funder")
    return choices


def _development_viewer() -> Viewer:
    choices = development_viewers()
    if st.session_state.get(VIEW_AS) not in choices:
        st.session_state[VIEW_AS] = "admin"
    key = st.sidebar.selectbox(
        "View as", list(choices), key=VIEW_AS, persist_state=ui.KEEP,
        format_func=lambda k: choices[k].describe() + (f" — {choices[k].name}" if choices[k].role == "governor" else ""),
        help="Development mode only: with sign-in configured, each user's role comes from the access file.",
    )
    st.sidebar.caption("**Development mode**: no sign-in is configured, so anyone can view as any role.")
    st.info(f"**Development mode**, viewing as {md(choices[key].describe())}: "
            "no sign-in is configured, so the sidebar's \"View as\" chooses the role.", icon=":material/science:")
    _audit_sign_in(None, choices[key])
    return choices[key]
