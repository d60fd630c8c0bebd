"""The one table of pages: each page's script, its name in the navigation, the heading it shows, its
icon, its link and the roles that may open it. `app.py` builds the navigation from it, the access rules
read who sees what from it, and the tests and benchmarks walk it. Plain Python, no Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = ("admin", "governor", "sdm", "funder")
OVERVIEW = "overview"  # the Overview's name where a page's path cannot be empty: the audit trail, the render log


@dataclass(frozen=True)
class Tabs:
    """A page drawn in lazy tabs (`filters.page_tabs`): only the open one is computed and drawn."""
    key: str  # the link parameter that keeps the open tab (?key=label)
    labels: tuple[str, ...]  # in order; the first opens when the link names none


@dataclass(frozen=True)
class PageSpec:
    script: str
    title: str  # in the navigation
    heading: str  # the page's own title (its h1)
    icon: str
    url_path: str  # "" is the Overview, the default page
    roles: tuple[str, ...]
    filtered: bool = True  # the sidebar's place-and-period filters apply to it
    charts: bool = True  # it draws charts (the Chromium walk waits for them)
    tabs: Tabs | None = None  # its sections, when it is drawn in tabs


PAGE_TABLE: tuple[PageSpec, ...] = (
    PageSpec("app_pages/overview.py", "Overview", "Overview", ":material/dashboard:", "", EVERYONE),
    # Wing trends opens on Wings at a glance: every prison with wings has it, while the programme's
    # effect needs cohorts in the period (and the Overview gives a governor that answer too)
    PageSpec("app_pages/wing_trends.py", "Wing trends", "Wing trends", ":material/show_chart:", "wing-trends",
             ("admin", "governor"),
             tabs=Tabs("section", ("Wings at a glance", "The programme's effect", "Statistical process control"))),
    PageSpec("app_pages/prison_comparison.py", "Prison comparison", "Prison comparison", ":material/leaderboard:",
             "prison-comparison", ("admin", "governor", "sdm"),
             tabs=Tabs("section", ("Against prisons of its kind", "Programme prisons over time"))),
    PageSpec("app_pages/cohorts.py", "Cohorts", "Cohorts of The Conversation", ":material/groups:", "cohorts",
             ("admin", "governor", "sdm"), tabs=Tabs("tab", ("Delivery", "Attendance", "Survey outcomes"))),
    PageSpec("app_pages/campaign.py", "Campaign impact", "Campaign impact", ":material/volunteer_activism:", "campaign", EVERYONE,
             filtered=False),
    PageSpec("app_pages/good_prison_project.py", "Good Prison Project", "Good Prison Project", ":material/handshake:",
             "good-prison-project", EVERYONE, filtered=False,
             tabs=Tabs("section", ("Services and gaps", "Referrals", "Events", "Safety"))),
    PageSpec("app_pages/data.py", "Data", "Data", ":material/dataset:", "data", EVERYONE, filtered=False,
             charts=False),
    PageSpec("app_pages/methods.py", "Methods", "Methods", ":material/functions:", "methods", EVERYONE, filtered=False,
             charts=False),
    PageSpec("app_pages/accessibility.py", "Accessibility", "Accessibility statement", ":material/accessibility_new:",
             "accessibility", EVERYONE, filtered=False, charts=False),
    # only administrators write to the extracts, and read who looked at what
    PageSpec("app_pages/import_data.py", "Import", "Import spreadsheets", ":material/upload_file:", "import", ("admin",),
             filtered=False, charts=False),
    PageSpec("app_pages/audit.py", "Audit", "Audit trail", ":material/policy:", "audit", ("admin",), filtered=False, charts=False),
)
BY_PATH = {p.url_path: p for p in PAGE_TABLE}
BY_SCRIPT = {p.script: p for p in PAGE_TABLE}


def paths_for(role: str) -> tuple[str, ...]:
    """The url paths `role` may open, in navigation order."""
    return tuple(p.url_path for p in PAGE_TABLE if role in p.roles)
