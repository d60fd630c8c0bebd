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
import tomllib
from dataclasses import dataclass
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
    pass


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


def access_file_path() -> Path:
    return Path(os.environ.get(ACCESS_FILE_VARIABLE) or DEFAULT_ACCESS_FILE).expanduser()


def read_access_file(path: Path) -> dict[str, AccessEntry]:
    """The access file's users by lower-case e-mail; AccessFileError names what is wrong."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError as error:
        raise AccessFileError(f"no access file at {path}") from error
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AccessFileError(f"{path} could not be read: {error}") from error
    users = document.get("users")
    if not isinstance(users, dict):
        raise AccessFileError(f"{path} has no [users] table")
    entries, problems = {}, []
    for email, fields in users.items():
        try:
            entries[email.strip().lower()] = AccessEntry.model_validate(fields)
        except ValidationError as error:
            reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
            problems.append(f"users.{email!r}: {reasons}")
    if problems:
        raise AccessFileError(f"{path}: " + " | ".join(problems))
    return entries


def viewer_for(email: str | None, entries: dict[str, AccessEntry]) -> Viewer | None:
    """The signed-in user's viewer, or None when the access file does not list them."""
    if not email:
        return None
    entry = entries.get(email.strip().lower())
    return Viewer.from_entry(email, entry) if entry else None
