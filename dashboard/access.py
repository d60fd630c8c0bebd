"""Who may see what: roles, the deployer's access file, and the scope every named query receives.

The one place that decides access. A viewer's scope is bound into every named query as
`$scope_role`, `$scope_prisons` and `$scope_sdm` (see `Viewer.scope_params`) and the SQL
filters by it; pages only decide what to draw. Plain Python, no Streamlit.

Roles:
- admin: everything, including rejected rows' values on the Data page.
- governor: wing-level detail and cohorts at their prisons; prison-level figures elsewhere.
- sdm: their own cohorts in detail; prison-level figures and programme aggregates otherwise.
- funder: programme and campaign aggregates only, small counts suppressed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from dashboard.pages import paths_for

Role = Literal["admin", "governor", "sdm", "funder"]
ROLES: tuple[Role, ...] = ("admin", "governor", "sdm", "funder")
ROLE_LABELS = {"admin": "Administrator", "governor": "Governor", "sdm": "Service Delivery Manager", "funder": "Funder"}

ACCESS_FILE_VARIABLE = "PRISON_DASHBOARD_ACCESS"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_ACCESS_FILE = PROJECT_DIR / ".streamlit" / "access.toml"
EXAMPLE_ACCESS_FILE = PROJECT_DIR / "docs" / "access.example.toml"

# Pages by url path ("" is the Overview), from the one page table. A page not listed for a role is
# not in its navigation.
PAGES: dict[str, tuple[str, ...]] = {role: paths_for(role) for role in ROLES}

# Queries that return nothing narrower than a prison or a programme, or only what may be
# public (consented quotes, campaign totals): every viewer gets the same rows. Every other
# query filters by the scope parameters in its SQL (a test holds both lists to that).
UNSCOPED_QUERIES = {
    "campaigns": "campaign names, dates and targets",
    "campaign_totals": "a campaign's totals",
    "campaign_cumulative": "a campaign's hourly giving",
    "data_period": "the months the extracts cover",
    "prisons": "prison names, types and which programmes run there",
    "programme_sites": "where and when each programme ran",
    "prison_counts": "prison-level incident counts (published nationally as Safety in Custody statistics)",
    "funded_delivery": "programme totals after a campaign",
    "funded_outcomes": "programme survey totals after a campaign",
    "funded_prisons": "the prisons where cohorts started after a campaign",
    "published_testimonials": "quotes with consent to publish",
    "gpp_services": "the Good Prison Project's map of services",
    "gpp_referrals_monthly": "referral counts per prison and month",
    "gpp_events": "Outside In events and attendance",
    "targets": "delivery targets agreed for a programme or campaign",
    "reoffending": "published reoffending analyses of a whole programme (groups of at least 60 people)",
    "published_reconciliation": "prison-level published and recorded counts side by side (the Data page shows it to administrators and governors)",
}


class AccessEntry(BaseModel):
    """One user's line in the access file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Role
    prisons: tuple[str, ...] = ()
    sdm: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _scope_fits_role(self):
        if self.role == "governor" and not self.prisons:
            raise ValueError("a governor needs `prisons`, the prison ids they govern")
        if self.role != "governor" and self.prisons:
            raise ValueError(f"`prisons` is only for governors, not {self.role}")
        if self.role == "sdm" and not self.sdm:
            raise ValueError("an sdm needs `sdm`, their name as the cohorts extract spells it")
        if self.role != "sdm" and self.sdm:
            raise ValueError(f"`sdm` is only for SDMs, not {self.role}")
        return self


class AccessFileError(ValueError):
    def __init__(self, message: str, summary: str):
        super().__init__(message)
        self.summary = summary  # what is wrong, naming nobody: for the page


@dataclass(frozen=True)
class Viewer:
    role: Role
    prisons: tuple[str, ...] = ()  # a governor's prisons
    sdm: str | None = None  # an SDM's name as in cohorts.sdm
    email: str | None = None
    name: str | None = None

    @classmethod
    def from_entry(cls, email: str, entry: AccessEntry) -> Viewer:
        return cls(role=entry.role, prisons=entry.prisons, sdm=entry.sdm, email=email, name=entry.name)

    def scope_params(self) -> dict:
        """The parameters every named query is given. `scope_prisons`: prisons whose wings and
        cohorts the viewer sees in detail (None = all); `scope_sdm`: whose cohorts they run."""
        return {
            "scope_role": self.role,
            "scope_prisons": None if self.role == "admin" else list(self.prisons),
            "scope_sdm": self.sdm if self.role == "sdm" else None,
        }

    @property
    def key(self) -> tuple:
        """Hashable scope, so cached results are never shared across different scopes."""
        return (self.role, self.prisons, self.sdm)

    def sees_wings_of(self, prison_id: str) -> bool:
        return self.role == "admin" or (self.role == "governor" and prison_id in self.prisons)

    def sees_cohort(self, prison_id: str, sdm: str | None) -> bool:
        return self.sees_wings_of(prison_id) or (self.role == "sdm" and sdm == self.sdm)

    @property
    def sees_cohort_detail(self) -> bool:
        return self.role in ("admin", "governor", "sdm")

    @property
    def suppresses_small_counts(self) -> bool:
        return self.role == "funder"

    @property
    def pages(self) -> tuple[str, ...]:
        return PAGES[self.role]

    def describe(self) -> str:
        label = ROLE_LABELS[self.role]
        if self.role == "governor":
            return f"{label} of {', '.join(self.prisons)}"
        if self.role == "sdm":
            return f"{label} ({self.sdm})"
        return label


# For scripts and tests that need every row (benchmarks, checks against pandas).
ADMIN = Viewer(role="admin", name="scripts and tests")


def access_file_path(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(ACCESS_FILE_VARIABLE) or DEFAULT_ACCESS_FILE).expanduser()


# An address is compared in one form: printable ASCII without spaces, one @, at most 254 characters,
# in lower case. Anything else is refused, never mapped: Unicode normalisation (NFKC) would turn a KELVIN
# SIGN into K and let the owner of "\u212aate@partner.org" sign in as kate@partner.org.
_ADDRESS = re.compile(r"[!-?A-~]+@[!-?A-~]+")  # printable ASCII but space and a second @
MAX_ADDRESS_LENGTH = 254
ADDRESS_RULE = "printable ASCII with one @ and no spaces, at most 254 characters"


def canonical_address(text: object) -> str | None:
    """The address as the dashboard compares it (lower case), or None when it is not one it accepts."""
    if not isinstance(text, str):
        return None
    text = text.strip(" \t")
    if len(text) > MAX_ADDRESS_LENGTH or not text.isascii() or not _ADDRESS.fullmatch(text):
        return None
    return text.lower()


def email_verified(claims: Mapping) -> bool:
    """False when the provider says the address is not verified. A provider that sends no
    `email_verified` claim (Entra ID's work accounts) vouches for the address by issuing it; one that
    sends the claim must send true (some send the text "true")."""
    value = claims.get("email_verified", True)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def read_access_file(path: Path) -> dict[str, AccessEntry]:
    """The access file's users by canonical address; AccessFileError names what is wrong (its
    `summary` says so without naming anyone, for the page; the message, for the server's log, does)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise AccessFileError(f"no access file at {path}", "it does not exist") from error
    except (OSError, UnicodeDecodeError) as error:
        raise AccessFileError(f"{path} could not be read: {error}", "it could not be read") from error
    except tomllib.TOMLDecodeError as error:
        raise AccessFileError(f"{path} is not valid TOML: {error}", f"it is not valid TOML ({toml_position(error)})") from error
    users = document.get("users")
    if not isinstance(users, dict):
        raise AccessFileError(f"{path} has no [users] table", "it has no [users] table")
    entries, spelt, problems = {}, {}, []
    for email, fields in users.items():
        address = canonical_address(email)
        if address is None:
            problems.append(f"users.{email!r}: not an address the dashboard accepts ({ADDRESS_RULE})")
            continue
        if address in spelt:  # "Sam@…" and "sam@…": which role would they get? Neither, until one is removed
            problems.append(f"users.{email!r} and users.{spelt[address]!r} are the same address once compared in lower case")
            continue
        spelt[address] = email
        try:
            entries[address] = AccessEntry.model_validate(fields)
        except ValidationError as error:
            reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
            problems.append(f"users.{email!r}: {reasons}")
    if problems:
        raise AccessFileError(f"{path}: " + " | ".join(problems),
                              f"{len(problems)} of its entries {'is' if len(problems) == 1 else 'are'} not usable "
                              "(which, and why, is in the server's log)")
    return entries


def toml_position(error: tomllib.TOMLDecodeError) -> str:
    """Where a TOML file broke, without quoting it (the text around a client secret is the secret)."""
    found = re.search(r"at line (\d+), column (\d+)", str(error))
    return f"line {found[1]}, column {found[2]}" if found else "position unknown"


def viewer_for(email: str | None, entries: dict[str, AccessEntry]) -> Viewer | None:
    """The signed-in user's viewer, or None when the access file does not list them."""
    address = canonical_address(email)
    entry = entries.get(address) if address else None
    return Viewer.from_entry(address, entry) if entry else None


# --- Which mode the app runs in ------------------------------------------------------------------

DEVELOPMENT_VARIABLE = "PRISON_DASHBOARD_DEVELOPMENT"
# What st.login() needs for its one (default) provider, each a non-empty text in [auth].
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


class SignInSetupError(Exception):
    """Sign-in settings that are present but unusable, or none where none were asked for. `shown` may be
    read by anyone who reaches the page (no server path, no secret, nobody's address); the message is
    for the server's log."""

    def __init__(self, shown: str, detail: str | None = None):
        super().__init__(detail or shown)
        self.shown = shown


@dataclass(frozen=True)
class SignInSetup:
    development: bool  # the "view as" switcher, asked for, with nothing of sign-in configured
    entries: dict[str, AccessEntry] = field(default_factory=dict)  # the access file's users, when signing in


def shown_path(path: Path) -> str:
    """A settings file as the page may name it: relative to the project or the home folder, otherwise
    by its name alone (the full path goes to the server's log)."""
    path = Path(path).expanduser().resolve()
    for base, prefix in ((PROJECT_DIR, ""), (Path.home().resolve(), "~/")):
        if path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return path.name


def sign_in_setup(auth: object, secrets_named: str, environ: Mapping[str, str] = os.environ) -> SignInSetup:
    """How the app may run, failing closed. `auth` is the secrets' [auth] value (None when no secrets
    source has one; a source present but unreadable is refused before this). Sign-in when [auth] is
    there and complete and the access file is usable; development mode only when nothing of sign-in is
    configured and the person starting the app asked for it (PRISON_DASHBOARD_DEVELOPMENT=1); otherwise
    SignInSetupError, and no page."""
    access_path = access_file_path(environ)
    if auth is None:
        if environ.get(ACCESS_FILE_VARIABLE) or access_path.exists():
            raise SignInSetupError(
                f"An access file is set ({shown_path(access_path)}), but sign-in is not: {secrets_named} has no [auth] "
                "table. Configure sign-in as docs/sign-in.md says, or remove the access file to run in development mode.",
                f"access file {access_path} present without [auth] in the secrets ({secrets_named})")
        asked = environ.get(DEVELOPMENT_VARIABLE, "")
        if asked == "1":
            return SignInSetup(development=True)
        if asked not in ("", "0"):
            raise SignInSetupError(f"{DEVELOPMENT_VARIABLE} is set, but not to 1: set it to 1 to ask for development mode "
                                   "(anyone can then view as any role), or leave it unset and configure sign-in.")
        raise SignInSetupError(
            "No sign-in is configured, and development mode (anyone may view as any role) was not asked for. To serve "
            "the dashboard, configure sign-in as docs/sign-in.md says; to try it on the bundled sample, start it with "
            f"`make run`, which sets {DEVELOPMENT_VARIABLE}=1.")
    if not isinstance(auth, Mapping):
        raise SignInSetupError(f"Sign-in is configured in {secrets_named}, but its auth entry is not a table ([auth]).")
    missing = [key for key in AUTH_KEYS if not (isinstance(auth.get(key), str) and auth.get(key).strip())]
    if missing:
        raise SignInSetupError(f"Sign-in is configured in {secrets_named}, but its [auth] table has no {', '.join(missing)} "
                               "(docs/sign-in.md lists what it needs).")
    try:
        entries = read_access_file(access_path)
    except AccessFileError as error:
        raise SignInSetupError(f"Sign-in is configured, but the access file {shown_path(access_path)} cannot be used: "
                               f"{error.summary}.", str(error)) from error
    return SignInSetup(development=False, entries=entries)
