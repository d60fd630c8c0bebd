"""The global filters (programme, prison, wing, period) in the sidebar, mirrored in the URL.

The URL is read once per session to seed the widgets, and rewritten from the widgets on every
run, so a copied link reopens the same view. Values in a URL that do not exist in the data, or
that the viewer may not see, are refused with a message, never obeyed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.pages import BY_PATH
from dashboard.text import md, month_label

PROGRAMMES = {
    "all": "All prisons",
    "the_conversation": "The Conversation (Spark Inside)",
    "good_prison_project": "Good Prison Project (Clinks)",
}
URL_KEYS = ("programme", "prison", "wing", "from", "to")
_SEEDED = "_filters_seeded_from_url"
_URL_WINGS = "_wings_from_url"
# A range slider must be given its initial range as `value` (Session State alone makes it a
# single-value slider), and that value must stay the same all session or the widget resets.
_INITIAL_PERIOD = "_initial_period"
CURRENT = "_current_filters"


@dataclass(frozen=True)
class Filters:
    programme: str
    prison_ids: tuple[str, ...]  # resolved: the chosen prisons, or every prison of the programme
    chosen_prisons: tuple[str, ...]
    wing_ids: tuple[str, ...] | None  # None = every wing (and incidents off the wings)
    period_start: date  # first day of the first month
    period_end: date  # first day of the month after the last (exclusive)
    place_names: dict = field(default_factory=dict, compare=False)  # the chosen prisons' and wings' names, by code

    def params(self) -> dict:
        """The parameters every named query takes for the global filters."""
        return {
            "prison_ids": list(self.prison_ids),
            "wing_ids": list(self.wing_ids) if self.wing_ids is not None else None,
            "period_start": self.period_start,
            "period_end": self.period_end,
        }

    @property
    def last_month(self) -> date:
        return (pd.Timestamp(self.period_end) - pd.DateOffset(months=1)).date()

    def describe(self) -> str:
        places = (
            ", ".join(md(self.place_names.get(p, p)) for p in self.chosen_prisons)
            if self.chosen_prisons
            else f"{PROGRAMMES[self.programme].lower() if self.programme != 'all' else 'all prisons'}"
            f" ({len(self.prison_ids)} prisons)"
        )
        wings = f" · wings {', '.join(md(self.place_names.get(w, w)) for w in self.wing_ids)}" if self.wing_ids else ""
        return f"{places}{wings} · {month_label(self.period_start)} to {month_label(self.last_month)}"


def _month_from_url(text: str | None) -> date | None:
    try:
        return date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        return None


def _seed_from_url(prisons: pd.DataFrame, months: list[date]) -> list[str]:
    """Copy valid URL values into widget state once per session; return what was ignored."""
    params = st.query_params
    ignored = []
    programme = params.get("programme")
    if programme in PROGRAMMES:
        st.session_state["f_programme"] = programme
    elif programme:
        ignored.append(f"programme={programme}")
    known = set(prisons["prison_id"])
    chosen = params.get_all("prison")
    st.session_state["f_prisons"] = [p for p in chosen if p in known]
    ignored += [f"prison={p}" for p in chosen if p not in known]
    st.session_state["f_wings"] = st.session_state[_URL_WINGS] = params.get_all("wing")  # checked against the wing options later
    start, end = _month_from_url(params.get("from")), _month_from_url(params.get("to"))
    if start in months or end in months:
        first = start if start in months else months[0]
        last = end if end in months else months[-1]
        st.session_state[_INITIAL_PERIOD] = (min(first, last), max(first, last))
    for key, value in (("from", params.get("from")), ("to", params.get("to"))):
        if value and _month_from_url(value) not in months:
            ignored.append(f"{key}={value}")
    return ignored


_DEFAULTED_FOR = "_prisons_defaulted_for"


def _open_on_own_prisons(prisons: pd.DataFrame) -> None:
    """A governor opens on her own prisons, not on every prison in the estate: once per viewer (the
    development switcher can change the viewer mid-session), and never over a link that names prisons."""
    viewer = ui.viewer()
    if st.session_state.get(_DEFAULTED_FOR) == viewer.key:
        return
    st.session_state[_DEFAULTED_FOR] = viewer.key
    if viewer.role == "governor" and not st.query_params.get_all("prison"):
        known = set(prisons["prison_id"])
        st.session_state["f_prisons"] = [p for p in viewer.prisons if p in known]


def _write_url(filters: Filters, months: list[date]) -> None:
    wanted = {
        "programme": filters.programme if filters.programme != "all" else None,
        "prison": list(filters.chosen_prisons) or None,
        "wing": list(filters.wing_ids) if filters.wing_ids else None,
        "from": filters.period_start.strftime("%Y-%m") if filters.period_start != months[0] else None,
        "to": filters.last_month.strftime("%Y-%m") if filters.last_month != months[-1] else None,
    }
    for key, value in wanted.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
            st.query_params[key] = value


def sidebar_filters(applies: bool = True) -> Filters | None:
    """Draw the global filters; return the current choice (None when the places are unavailable).
    On a page they do not apply to (`applies` False) they stay, so the choice carries to the next
    page, under a note saying this page does not use them."""
    db = ui.database()
    # places and months: from wings and their populations, or from published prison populations alone
    if db.report.unavailable("prisons") or (db.report.unavailable("wings", "wing_population")
                                            and db.report.unavailable("prison_population")):
        st.sidebar.info("Filters need the prisons extract and populations (wings and wing_population, or "
                        "prison_population): see the Data page.")
        return None
    prisons = ui.query("prisons")
    period = ui.query("data_period")
    if prisons.empty or period["first_month"].isna().all():
        st.sidebar.info("No prisons or population months loaded: see the Data page.")
        return None
    months = [d.date() for d in pd.date_range(period["first_month"][0], period["last_month"][0], freq="MS")]

    if not st.session_state.get(_SEEDED):
        ignored = _seed_from_url(prisons, months)
        st.session_state[_SEEDED] = True
        refuse_link_values(ignored)
    _open_on_own_prisons(prisons)

    sidebar = st.sidebar
    sidebar.header("Filters")
    if not applies:
        sidebar.info("**These filters do not apply to this page**: it shows what its own controls choose. They are "
                     "kept for the other pages.", icon=":material/filter_alt_off:")
    programme = sidebar.selectbox(
        "Programme", list(PROGRAMMES), format_func=PROGRAMMES.get, key="f_programme", persist_state=ui.KEEP,
        help="Narrows the prisons to those where the programme ran (according to the extracts).",
    )
    in_programme = {
        "all": prisons,
        "the_conversation": prisons[prisons["runs_the_conversation"]],
        "good_prison_project": prisons[prisons["runs_good_prison_project"]],
    }[programme]
    names = dict(zip(in_programme["prison_id"], in_programme["name"]))
    st.session_state["f_prisons"] = [p for p in st.session_state.get("f_prisons", []) if p in names]
    chosen_prisons = sidebar.multiselect(
        "Prisons", list(names), format_func=lambda p: f"{names[p]} ({p})", key="f_prisons", persist_state=ui.KEEP,
        placeholder=f"All {len(names)} prisons",
    )
    prison_ids = tuple(chosen_prisons) or tuple(names)

    wings = ui.query("wings", prison_ids=list(chosen_prisons)) if chosen_prisons else pd.DataFrame()
    wing_options = list(wings["wing_id"]) if not wings.empty else []
    refuse_link_values([f"wing={w}" for w in st.session_state.pop(_URL_WINGS, []) if w not in wing_options])
    st.session_state["f_wings"] = [w for w in st.session_state.get("f_wings", []) if w in wing_options]
    if wing_options:
        chosen_wings = sidebar.multiselect(
            "Wings", wing_options, key="f_wings", persist_state=ui.KEEP, placeholder="All wings",
            format_func=lambda w: f"{w} · {int(wings.set_index('wing_id').at[w, 'cohorts'])} cohorts",
            help="With no wing chosen, incidents off the wings count too.",
        )
    else:  # said in words, not as a greyed-out control (whose faint label fails WCAG contrast)
        chosen_wings = []
        sidebar.caption("**Wings**: " + ("choose a prison to filter by its wings." if not chosen_prisons
                                         else "no wing detail for your role at the chosen prisons."))
    _fit_period_to(months)
    first, last = sidebar.select_slider(
        "Period", options=months, key="f_period", persist_state=ui.KEEP, format_func=month_label,
        value=st.session_state.setdefault(_INITIAL_PERIOD, (months[0], months[-1])),
        help="Cohorts count when they started in the period; incidents when they occurred in it.",
    )
    filters = Filters(
        programme=programme,
        prison_ids=prison_ids,
        chosen_prisons=tuple(chosen_prisons),
        wing_ids=tuple(chosen_wings) or None,
        period_start=first,
        period_end=(pd.Timestamp(last) + pd.DateOffset(months=1)).date(),
        place_names={p: names[p] for p in chosen_prisons}
        | (dict(zip(wings["wing_id"], wings["wing_name"])) if not wings.empty and "wing_name" in wings else {}),
    )
    _write_url(filters, months)
    st.session_state[CURRENT] = filters
    return filters


def _fit_period_to(months: list[date]) -> None:
    """Keep the chosen period inside the months the data now covers. A refresh can move them (a
    rolling window drops its first months) while sessions are open; the slider's kept values must
    be options or it cannot be drawn. A period that still overlaps the data is cut to it; one that
    no longer does becomes the whole range, and the reader is told either way."""
    for key in (_INITIAL_PERIOD, "f_period"):
        kept = st.session_state.get(key)
        if kept is None or all(m in months for m in kept):
            continue
        first, last = kept
        if last < months[0] or first > months[-1]:
            fitted = (months[0], months[-1])
        else:
            fitted = (max(first, months[0]), min(last, months[-1]))
        st.session_state[key] = fitted
        if key == "f_period":
            st.info(
                f"The data now covers {month_label(months[0])} to {month_label(months[-1])}, so the period "
                f"{month_label(first)} to {month_label(last)} became {month_label(fitted[0])} to {month_label(fitted[1])}.",
                icon=":material/calendar_month:",
            )


def refuse_link_values(refused: list[str]) -> None:
    """Say which link values were not obeyed; each is quoted as text (a link can carry Markdown) and cut short."""
    if refused:
        st.warning(
            f"This link asks for {', '.join(md(r, limit=40) for r in refused)}, which you cannot see or which matches nothing in the data; "
            "it was left out.", icon=":material/block:",
        )


def current_filters() -> Filters | None:
    return st.session_state.get(CURRENT)


def page_choice(label: str, options: list, key: str, default, format_func=str, help: str | None = None, container=st):
    """A page-level selectbox mirrored in the URL under `key` and kept when the user leaves the page.

    Streamlit drops a widget's state when a run does not draw it, so a value the user chose (or a link
    gave) is also kept under a plain key and restored on return, on any page that offers the same key
    (a measure chosen on Wing trends is the Good Prison Project's too). A page's own default is never
    kept: a page the user made no choice on opens on its default, not on another page's. A URL value
    that is not an option is ignored.
    """
    kept, drawn_on = f"_kept_{key}", f"_drawn_{key}"
    # a widget is its page's own: one drawn under the same key on another page leaves a value in the
    # session that this page's widget would not take up, so a page arriving sets its value afresh
    if key not in st.session_state or st.session_state.get(drawn_on) != ui.page_path():
        asked = st.query_params.get(key)
        from_url = [o for o in options if str(o) == asked]
        if asked is not None and not from_url:
            refuse_link_values([f"{key}={asked}"])
        if from_url:
            st.session_state[kept] = from_url[0]
        st.session_state[key] = from_url[0] if from_url else st.session_state.get(kept, default)
    if st.session_state[key] not in options:
        st.session_state[key] = default
    value = container.selectbox(label, options, key=key, format_func=format_func, help=help,
                                on_change=_keep_choice, args=(key, kept))
    st.session_state[drawn_on] = ui.page_path()
    ui.note_choice(key, value)
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)
    return value


def _keep_choice(key: str, kept: str) -> None:
    st.session_state[kept] = st.session_state[key]


def page_tabs(*shows) -> None:
    """The page's sections as tabs, only the open one drawn and computed: each is a few queries at
    national scale, and what is not drawn costs a shared link nothing before its first chart. The
    labels and link key are the page table's (`dashboard/pages.py`), one `show` per label, in order.
    The open tab is kept in the link as ?key=label; a label the page does not have is refused with a
    message."""
    tabs = BY_PATH[ui.page_path()].tabs
    if tabs is None or len(tabs.labels) != len(shows):
        raise ValueError(f"the page table declares {tabs} for this page, not {len(shows)} tabs")
    key, labels = tabs.key, list(tabs.labels)
    if key not in st.session_state and st.query_params.get(key, labels[0]) not in labels:
        refuse_link_values([f"{key}={st.query_params[key]}"])
    for tab, label, show in zip(st.tabs(labels, key=key, bind="query-params"), labels, shows):
        if tab.open:
            ui.note_open_tab(key, label)
            with tab:
                show()


def one_prison(current: Filters, prisons: pd.DataFrame, allowed=lambda prison_id: True) -> str:
    """The prison a single-prison page shows: the one chosen in the sidebar, or one picked here
    among those `allowed` (picking it here sets the sidebar filter, so every page follows)."""
    if len(current.chosen_prisons) == 1 and allowed(current.chosen_prisons[0]):
        return current.chosen_prisons[0]
    names = dict(zip(prisons["prison_id"], prisons["name"]))
    options = [p for p in current.prison_ids if p in names and allowed(p)]
    refused = [p for p in current.chosen_prisons if not allowed(p)]
    if refused:
        st.info(f"This page's detail is not available to you for {', '.join(md(p) for p in refused)}.", icon=":material/lock:")
    if not options:
        st.info("No prison in the sidebar's filter is one this page can show you.", icon=":material/lock:")
        st.stop()
    cohorts = prisons.set_index("prison_id")["cohorts"]
    default = max(options, key=lambda p: cohorts.get(p, 0))  # the prison with the most cohorts

    def choose():
        st.session_state["f_prisons"] = [st.session_state["_one_prison"]]

    if st.session_state.get("_one_prison") not in options:  # a refresh or a filter took it away
        st.session_state.pop("_one_prison", None)

    st.selectbox(
        "Prison", options, index=options.index(default), key="_one_prison", on_change=choose,
        format_func=lambda p: f"{names[p]} ({p})", help="This page shows one prison at a time; your choice sets the sidebar filter.",
    )
    return st.session_state["_one_prison"]
