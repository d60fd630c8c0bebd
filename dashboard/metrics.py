"""The metric registry: each figure's label, unit, formula and description, defined once.

Pages, tables and exports take labels and formats from here, and compute rates with the
functions here, so "incidents per 1,000 prisoners" means the same thing everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    formula: str
    description: str
    decimals: int = 0
    percent: bool = False

    def format(self, value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.percent:
            return f"{value:.{self.decimals}%}"
        return f"{value:,.{self.decimals}f}"

    @property
    def help(self) -> str:
        return f"{self.description} Formula: {self.formula}."


INCIDENT_RATE = Metric(
    key="incident_rate",
    label="Incidents per 1,000 prisoners per year",
    unit="per 1,000 prisoners per year",
    formula="incidents ÷ prisoner-years × 1,000; prisoner-years = sum of monthly average wing population ÷ 12",
    description="Recorded incidents over the population at risk in the same places and months.",
    decimals=0,
)
PRISONER_YEARS = Metric(
    key="prisoner_years",
    label="Prisoner-years",
    unit="prisoner-years",
    formula="sum of monthly average wing population ÷ 12",
    description="The denominator of every incident rate.",
    decimals=0,
)
INCIDENTS = Metric(
    key="incidents",
    label="Incidents",
    unit="incidents",
    formula="count of incident rows",
    description="Recorded incidents.",
)
SESSIONS_DELIVERED_SHARE = Metric(
    key="sessions_delivered_share",
    label="Workshops delivered",
    unit="% of planned sessions",
    formula="planned sessions with a delivered workshop ÷ planned sessions (cohort × session number 1-3)",
    description="A rescheduled workshop and its replacement count as one planned session.",
    decimals=0,
    percent=True,
)
COHORTS = Metric(
    key="cohorts",
    label="Cohorts",
    unit="cohorts",
    formula="cohorts whose start date falls in the period",
    description="One cohort is three workshops on one wing.",
)
PARTICIPANTS = Metric(
    key="participants",
    label="Participants",
    unit="people",
    formula="participants of the cohorts started in the period",
    description="Prisoners and staff who took part.",
)
MEAN_SURVEY_CHANGE = Metric(
    key="mean_survey_change",
    label="Mean survey change (post − pre)",
    unit="points on a 1–5 scale",
    formula="mean over paired participants of (mean post score − mean pre score over items answered in both)",
    description="Positive is better. Only participants with both a pre and a post survey (a pair) count.",
    decimals=2,
)

INCIDENT_TYPE_LABELS = {
    "assault_on_staff": "Assaults on staff",
    "prisoner_on_prisoner_assault": "Prisoner-on-prisoner assaults",
    "self_harm": "Self-harm",
    "use_of_force": "Use of force",
}
ROLE_LABELS = {"prisoner": "Prisoners", "staff": "Staff"}


@dataclass(frozen=True)
class Measure:
    """A family of incidents a rate can be built on: which types, and serious ones only or all."""

    key: str
    label: str
    incident_types: tuple[str, ...]
    serious_only: bool = False

    def params(self) -> dict:
        return {"incident_types": list(self.incident_types), "serious_only": self.serious_only}


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("all_assaults", "All assaults", ("assault_on_staff", "prisoner_on_prisoner_assault")),
        Measure("assault_on_staff", "Assaults on staff", ("assault_on_staff",)),
        Measure("prisoner_on_prisoner_assault", "Prisoner-on-prisoner assaults", ("prisoner_on_prisoner_assault",)),
        Measure("serious_assaults", "Serious assaults", ("assault_on_staff", "prisoner_on_prisoner_assault"), True),
        Measure("self_harm", "Self-harm", ("self_harm",)),
        Measure("serious_self_harm", "Self-harm with hospital attendance", ("self_harm",), True),
        Measure("use_of_force", "Use of force", ("use_of_force",)),
    )
}

METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        INCIDENT_RATE,
        PRISONER_YEARS,
        INCIDENTS,
        SESSIONS_DELIVERED_SHARE,
        COHORTS,
        PARTICIPANTS,
        MEAN_SURVEY_CHANGE,
    )
}


def incident_rate(incidents, prisoner_years):
    """INCIDENT_RATE for scalars or Series; NaN where there is no population."""
    if isinstance(incidents, pd.Series) or isinstance(prisoner_years, pd.Series):
        years = pd.Series(prisoner_years, dtype="float64")
        return pd.Series(incidents, dtype="float64") / years.where(years > 0) * 1000.0
    return incidents / prisoner_years * 1000.0 if prisoner_years and prisoner_years > 0 else np.nan


def share(part, whole):
    return part / whole if whole else np.nan
