"""Who is looking: Streamlit's own sign-in (`st.login`, OIDC) when `[auth]` is configured in
`.streamlit/secrets.toml`, with each user's role and scope from the access file; otherwise a
bannered development mode with a "view as" switcher. The switcher never exists when sign-in is
configured, and a role never comes from the URL."""

from __future__ import annotations

import logging

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard import access, ui
from dashboard.access import Viewer
from dashboard.text import md

VIEW_AS = "view_as"


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except StreamlitSecretNotFoundError:
        return False


def resolve_viewer() -> Viewer | None:
    """The session's viewer, remembered for the queries; None (after drawing why) when nobody may look."""
    viewer = _signed_in_viewer() if auth_configured() else _development_viewer()
    st.session_state[ui.VIEWER] = viewer
    return viewer


def _signed_in_viewer() -> Viewer | None:
    if not st.user.is_logged_in:
        st.title("Prison impact dashboard")
        st.markdown("The dashboard shows sensitive figures about prisons and the people in them. "
                    "Sign in with your organisation account to continue.")
        st.button("Sign in", on_click=st.login, type="primary")
        return None
    email = st.user.get("email")
    if not email:  # the provider sent no e-mail claim: nobody to look up in the access file
        _audit_sign_in(None, None)
        st.title("Prison impact dashboard")
        st.info("You are signed in, but your sign-in did not say which e-mail address you use, so the dashboard cannot "
                "tell what you may see. Ask the dashboard's administrator to have the sign-in send the e-mail claim.")
        st.button("Sign out", on_click=st.logout)
        return None
    try:
        entries = access.read_access_file(access.access_file_path())
    except access.AccessFileError as error:
        # the reason names the file's path and other people's entries: for the server's log only
        logging.getLogger("prison_dashboard").error("access file refused: %s", error)
        st.error("The dashboard's access settings could not be read, so nothing can be shown. The reason is in the "
                 "server's log for the dashboard's administrators.", icon=":material/block:")
        return None
    viewer = access.viewer_for(email, entries)
    _audit_sign_in(email, viewer)
    if viewer is None:
        st.title("Prison impact dashboard")
        st.info(f"You are signed in as **{md(email)}**, but the dashboard has not been opened to this address. "
                "Ask the dashboard's administrator to add you to the access file, then sign in again.")
        st.button("Sign out", on_click=st.logout)
        return None
    st.sidebar.caption(f"Signed in as {md(email)} · {md(viewer.describe())}")
    st.sidebar.button("Sign out", on_click=st.logout)
    return viewer


_AUDITED_SIGN_IN = "_audited_sign_in"


def _audit_sign_in(email: str | None, viewer: Viewer | None) -> None:
    """A sign-in, or a refused one, once per session and person (and, in development mode, per role chosen)."""
    who = (email, viewer.key if viewer is not None else None)
    if st.session_state.get(_AUDITED_SIGN_IN) != who:
        st.session_state[_AUDITED_SIGN_IN] = who
        if viewer is None:
            ui.audit("refused_sign_in", user=email or "(no e-mail claim)")
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
