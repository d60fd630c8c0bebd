"""The data contract: one pydantic model per extract table.

These models are the single source of every table's columns, types and rules. The loader
(`dashboard.loader`) reads them to build whole-column checks in DuckDB, so the same rule is
never written twice; `Model.model_validate(row)` applies the column and row rules to one row
(used in tests to cross-check the vectorised validator).

Contract v1, from the data producers' `data-contract.md`; documented for users in
`docs/data-contract.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, Optional, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Domains shared by several tables or pages.
INCIDENT_TYPES = ("assault_on_staff", "prisoner_on_prisoner_assault", "self_harm", "use_of_force")
ROLES = ("prisoner", "staff")
WAVES = ("pre", "post", "follow_up")
SURVEY_ITEMS = (
    "empathy",
    "understanding_other_side",
    "relationship_quality",
    "trust",
    "feeling_safe",
    "wing_culture",
    "hope",
)
WORKSHOP_STATUSES = ("delivered", "cancelled", "rescheduled")
PROGRAMMES = ("the_conversation", "good_prison_project")
SERVICE_CATEGORIES = (
    "housing",
    "employment_education_training",
    "health_wellbeing",
    "substance_misuse",
    "family",
    "finance_benefit_debt",
    "mentoring",
    "arts_faith_culture",
    "other",
)
SERVICE_STATUSES = ("available", "gap")
REFERRAL_OUTCOMES = ("pending", "engaged", "declined", "not_eligible")

Id = Annotated[str, Field(min_length=1)]

# The dates a column may hold, per column (loader and models alike): from its earliest plausible day
# to today plus how far ahead it may look. What is recorded as having happened gets a month's margin
# (clocks, time zones, a register typed up ahead of the day); what is planned (workshops, cohorts,
# campaigns, targets, a site's end) ten years. Published statistics reach back decades (the published
# examples' populations start in 1981); the programmes' own records begin long after 2000. A date
# of 01/01/0001 or 31/12/9999 is a slip, rejected with its row, never "data up to 31 December 9999".
STATISTICS_EARLIEST = date(1900, 1, 1)
PROGRAMME_EARLIEST = date(2000, 1, 1)
RECORDED_AHEAD_DAYS = 31
PLANNED_AHEAD_DAYS = 3653
DATE_RANGES: dict[str, tuple[date, int]] = {  # "column" or "table.column": (earliest, days after today)
    "month": (STATISTICS_EARLIEST, RECORDED_AHEAD_DAYS),
    "occurred_on": (STATISTICS_EARLIEST, RECORDED_AHEAD_DAYS),
    "prison_incident_counts.period_start": (STATISTICS_EARLIEST, RECORDED_AHEAD_DAYS),
    "published_on": (STATISTICS_EARLIEST, RECORDED_AHEAD_DAYS),
    "start_date": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "scheduled_on": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "delivered_on": (PROGRAMME_EARLIEST, RECORDED_AHEAD_DAYS),
    "responded_on": (PROGRAMME_EARLIEST, RECORDED_AHEAD_DAYS),
    "started_on": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "ended_on": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "targets.period_start": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "period_end": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "opens_at": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "closes_at": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),
    "donated_at": (PROGRAMME_EARLIEST, RECORDED_AHEAD_DAYS),
    "mapped_on": (PROGRAMME_EARLIEST, RECORDED_AHEAD_DAYS),
    "referred_on": (PROGRAMME_EARLIEST, RECORDED_AHEAD_DAYS),
    "held_on": (PROGRAMME_EARLIEST, PLANNED_AHEAD_DAYS),  # an Outside In event can be on the calendar
}


def date_range(table: str, column: str, today: date | None = None) -> tuple[date, date]:
    """The first and last day `table.column` may hold (KeyError for a date column nobody declared)."""
    earliest, ahead = DATE_RANGES.get(f"{table}.{column}") or DATE_RANGES[column]
    return earliest, (today or date.today()) + timedelta(days=ahead)

# Other headers people give a column in the spreadsheets they keep (the importer matches headers
# ignoring case, spaces and punctuation, so "Prison ID", "prison-id" and "PRISON_ID" are all
# prison_id already). No name here means two columns of one table.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "prison_id": ("Prison", "Prison code", "Establishment", "Establishment code", "Estab code"),
    "name": ("Prison name", "Establishment name"),
    "prison_type": ("Type", "Function", "Prison function", "Category"),
    "operational_capacity": ("Capacity", "Op cap", "Operational capacity (OpCap)"),
    "wing_id": ("Wing", "Wing code", "Unit", "Residential unit"),
    "wing_name": ("Wing name", "Unit name"),
    "incident_id": ("Incident", "Incident number", "Incident ref", "Incident reference"),
    "incident_type": ("Type of incident", "Incident category"),
    "occurred_on": ("Incident date", "Date of incident", "Date occurred"),
    "average_population": ("Average population", "Population", "Avg population", "Roll"),
    "population": ("Average population", "Prison population", "Population (average)"),
    "cohort_id": ("Cohort", "Cohort code", "Group"),
    "participant_id": ("Participant", "Participant ref", "Respondent", "Respondent ID"),
    "responded_on": ("Date completed", "Completed on", "Response date", "Survey date"),
    "delivered_on": ("Date delivered", "Delivery date"),
    "scheduled_on": ("Date scheduled", "Scheduled date"),
    "period_start": ("Period start", "From", "Start of period"),
    "period_months": ("Months", "Period length (months)"),
    "started_on": ("Start date", "Started", "From date"),
    "ended_on": ("End date", "Ended", "To date"),
    "amount_gbp": ("Amount", "Amount (£)", "Gift", "Donation"),
    "source": ("Publication", "Published in"),
}

# Each survey item's label, as a survey export may head its column (the code works too).
SURVEY_ITEM_LABELS: dict[str, str] = {
    "empathy": "Empathy",
    "understanding_other_side": "Understanding the other side",
    "relationship_quality": "Relationship quality",
    "trust": "Trust",
    "feeling_safe": "Feeling safe",
    "wing_culture": "Wing culture",
    "hope": "Hope",
}


# --- Rules that span more than one column -------------------------------------------------
# Each rule carries both its SQL (for the loader's whole-column check) and its Python form
# (for one-row validation), side by side so the two cannot drift apart unnoticed.


@dataclass(frozen=True)
class RequiredWhen:
    """`column` must not be null when `when_column` equals `value`."""

    column: str
    when_column: str
    value: str

    @property
    def message(self) -> str:
        return f"required when {self.when_column} is '{self.value}'"

    def failing_sql(self, col) -> str:
        return f"({col(self.when_column)} = '{self.value}' AND {col(self.column)} IS NULL)"

    def fails(self, row: Any) -> bool:
        return getattr(row, self.when_column) == self.value and getattr(row, self.column) is None


@dataclass(frozen=True)
class LaterThan:
    """`column` must be strictly after `other` (or, with `or_same`, on or after it)."""

    column: str
    other: str
    or_same: bool = False

    @property
    def message(self) -> str:
        return f"must be {'on or ' if self.or_same else ''}after {self.other}"

    def failing_sql(self, col) -> str:
        return f"({col(self.column)} {'<' if self.or_same else '<='} {col(self.other)})"

    def fails(self, row: Any) -> bool:
        a, b = getattr(row, self.column), getattr(row, self.other)
        return a is not None and b is not None and (a < b if self.or_same else a <= b)


@dataclass(frozen=True)
class AtMost:
    """`column` must not exceed `other` (a part no larger than its whole)."""

    column: str
    other: str

    @property
    def message(self) -> str:
        return f"must not exceed {self.other}"

    def failing_sql(self, col) -> str:
        return f"({col(self.column)} > {col(self.other)})"

    def fails(self, row: Any) -> bool:
        a, b = getattr(row, self.column), getattr(row, self.other)
        return a is not None and b is not None and a > b


@dataclass(frozen=True)
class FirstOfMonth:
    column: str

    @property
    def message(self) -> str:
        return "must be the first day of a month"

    def failing_sql(self, col) -> str:
        return f"(day({col(self.column)}) <> 1)"

    def fails(self, row: Any) -> bool:
        value = getattr(row, self.column)
        return value is not None and value.day != 1


@dataclass(frozen=True)
class AtLeast:
    """`column` must be at least `minimum`, for a reason a reader should see (e.g. a publisher's own rule)."""

    column: str
    minimum: float
    reason: str

    @property
    def message(self) -> str:
        return f"under {self.minimum:g}: {self.reason}"

    def failing_sql(self, col) -> str:
        return f"({col(self.column)} < {self.minimum})"

    def fails(self, row: Any) -> bool:
        value = getattr(row, self.column)
        return value is not None and value < self.minimum


@dataclass(frozen=True)
class IntervalHolds:
    """The interval [`low`, `high`] must contain `value` − `minus`, to rounding: published values are
    rounded, so the difference of two may miss its own interval by a little (a tolerance of 0.05 plus
    1% of the larger value)."""

    low: str
    high: str
    value: str
    minus: str

    @property
    def column(self) -> str:
        return self.low

    @property
    def message(self) -> str:
        return f"the interval {self.low} to {self.high} does not contain {self.value} − {self.minus}"

    def failing_sql(self, col) -> str:
        difference = f"({col(self.value)} - {col(self.minus)})"
        slack = f"(0.05 + 0.01 * greatest(abs({col(self.value)}), abs({col(self.minus)})))"
        return (f"({col(self.low)} > {col(self.high)} OR {difference} < {col(self.low)} - {slack} "
                f"OR {difference} > {col(self.high)} + {slack})")

    def fails(self, row: Any) -> bool:
        low, high, a, b = (getattr(row, c) for c in (self.low, self.high, self.value, self.minus))
        if None in (low, high, a, b):
            return False
        slack = 0.05 + 0.01 * max(abs(a), abs(b))
        return low > high or not (low - slack <= a - b <= high + slack)


@dataclass(frozen=True)
class KnownKey:
    """`column` must be one of `keys`; the message lists them (a reader fixing the row needs the list)."""

    column: str
    keys: tuple[str, ...]
    what: str

    @property
    def message(self) -> str:
        return f"not {self.what}; known: {', '.join(self.keys)}"

    def failing_sql(self, col) -> str:
        allowed = ", ".join("'" + k.replace("'", "''") + "'" for k in self.keys)
        return f"({col(self.column)} NOT IN ({allowed}))"

    def fails(self, row: Any) -> bool:
        value = getattr(row, self.column)
        return value is not None and value not in self.keys


RowRule = RequiredWhen | LaterThan | AtMost | FirstOfMonth | AtLeast | IntervalHolds | KnownKey


@dataclass(frozen=True)
class NoOverlap:
    """Rows that agree on `within` cover months [start, start + `months` months) that must not overlap:
    a rule across rows, so only the loader checks it (one row alone cannot break it)."""

    start: str
    months: str
    within: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"overlaps another row's period with the same {', '.join(self.within)}"

    def failing_sql(self, col, table: str) -> str:
        """True for a row of `table` (with its _file and _row) whose period overlaps another's."""
        same = " AND ".join(f"o.{col(c)} = {table}.{col(c)}" for c in self.within)
        return (f"EXISTS (SELECT 1 FROM {table} o WHERE {same} AND (o._file, o._row) <> ({table}._file, {table}._row) "
                f"AND o.{col(self.start)} < {table}.{col(self.start)} + to_months({table}.{col(self.months)}) "
                f"AND {table}.{col(self.start)} < o.{col(self.start)} + to_months(o.{col(self.months)}))")


@dataclass(frozen=True)
class Reference:
    """Every non-null tuple of `columns` must exist in `target` (a clean table or a SELECT).

    `target` is a table name whose `target_columns` are matched, or a SELECT over clean tables
    returning `target_columns` (for rules like "a participant of the same cohort").
    """

    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]
    message: str
    depends_on: tuple[str, ...] = ()

    @property
    def tables_needed(self) -> tuple[str, ...]:
        return self.depends_on or (self.target,)


class Extract(BaseModel):
    """Base of every table model: extra columns are allowed and ignored."""

    # NaN and infinity are not numbers a register holds ("£nan", "inf" on a page): refused as the loader refuses them
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    table: ClassVar[str]
    key: ClassVar[tuple[str, ...]]
    references: ClassVar[tuple[Reference, ...]] = ()
    row_rules: ClassVar[tuple[RowRule, ...]] = ()
    set_rules: ClassVar[tuple[NoOverlap, ...]] = ()  # rules across rows, checked by the loader
    # The column that dates a row, for the Data page's date range.
    date_column: ClassVar[Optional[str]] = None
    description: ClassVar[str] = ""
    # What a reader must know about the figures built on this table when some of its rows are
    # rejected (shown at the top of every page whose queries read it).
    when_rows_lost: ClassVar[str] = "counts and totals built on it are too low"

    @model_validator(mode="after")
    def _check_dates_plausible(self):
        for spec in column_specs(type(self)):
            value = getattr(self, spec.name)
            if spec.earliest is not None and value is not None:
                day = value.date() if isinstance(value, datetime) else value
                if not spec.earliest <= day <= spec.latest:
                    raise ValueError(f"{spec.name}: {spec.date_rule}")
        return self

    @model_validator(mode="after")
    def _check_row_rules(self):
        failures = [f"{rule.column}: {rule.message}" for rule in self.row_rules if rule.fails(self)]
        if failures:
            raise ValueError("; ".join(failures))
        return self


# --- Places and denominators --------------------------------------------------------------


class Prison(Extract):
    table: ClassVar[str] = "prisons"
    key: ClassVar[tuple[str, ...]] = ("prison_id",)
    description: ClassVar[str] = "Establishments, programme and comparison prisons."

    prison_id: Id
    name: Id
    prison_type: Id
    region: Id
    operational_capacity: int = Field(gt=0)


class ProgrammeSite(Extract):
    table: ClassVar[str] = "programme_sites"
    key: ClassVar[tuple[str, ...]] = ("programme", "prison_id", "started_on")
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
    )
    row_rules: ClassVar[tuple[RowRule, ...]] = (LaterThan("ended_on", "started_on", or_same=True),)
    date_column: ClassVar[Optional[str]] = "started_on"
    description: ClassVar[str] = (
        "Where and when each programme ran (for example the Good Prison Project coordinator's first and last day): "
        "programme membership and periods come from here, never from code."
    )
    when_rows_lost: ClassVar[str] = "a prison may be missing from its programme, or compared over the wrong period"

    programme: Id  # the_conversation, good_prison_project, or another lower-case code
    prison_id: Id
    started_on: date
    ended_on: Optional[date] = None  # null while it continues
    note: Optional[str] = None


class PrisonIncidentCount(Extract):
    table: ClassVar[str] = "prison_incident_counts"
    key: ClassVar[tuple[str, ...]] = ("prison_id", "period_start", "period_months", "incident_type")
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
    )
    row_rules: ClassVar[tuple[RowRule, ...]] = (FirstOfMonth("period_start"), AtMost("serious_incidents", "incidents"))
    set_rules: ClassVar[tuple[NoOverlap, ...]] = (NoOverlap("period_start", "period_months", ("prison_id", "incident_type", "period_months")),)
    date_column: ClassVar[Optional[str]] = "period_start"
    description: ClassVar[str] = (
        "Published or aggregated incident counts for prisons whose incidents are not held row by row (the Ministry of "
        "Justice's Safety in Custody establishment tables). For one prison and incident type, periods of the same length "
        "do not overlap."
    )
    when_rows_lost: ClassVar[str] = "a prison whose published figures lost rows no longer covers the period and is left out of prison-level views"

    prison_id: Id
    period_start: date
    period_months: Literal[1, 3, 12]
    incident_type: Literal[INCIDENT_TYPES]
    incidents: int = Field(ge=0)
    serious_incidents: Optional[int] = Field(default=None, ge=0)
    source: Id  # publication and table, e.g. "Safety in Custody, 12 months to March 2019, table 3.11"


class PrisonPopulation(Extract):
    table: ClassVar[str] = "prison_population"
    key: ClassVar[tuple[str, ...]] = ("prison_id", "month")
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
    )
    row_rules: ClassVar[tuple[RowRule, ...]] = (FirstOfMonth("month"),)
    date_column: ClassVar[Optional[str]] = "month"
    description: ClassVar[str] = (
        "Monthly population of prisons without wing populations (the monthly prison population bulletin): the "
        "denominator of their published counts."
    )
    when_rows_lost: ClassVar[str] = "a prison missing a population month is left out of prison-level views over that month"

    prison_id: Id
    month: date
    population: float = Field(ge=0)
    operational_capacity: Optional[int] = Field(default=None, gt=0)
    source: Id  # e.g. "Prison population figures, monthly bulletin, August 2014"


class Wing(Extract):
    table: ClassVar[str] = "wings"
    key: ClassVar[tuple[str, ...]] = ("wing_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
    )
    description: ClassVar[str] = "Wings (residential units) of each prison."

    wing_id: Id
    prison_id: Id
    wing_name: Id
    capacity: int = Field(ge=0)


class WingPopulation(Extract):
    table: ClassVar[str] = "wing_population"
    key: ClassVar[tuple[str, ...]] = ("wing_id", "month")
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("wing_id",), "wings", ("wing_id",), "wing_id not in wings"),
    )
    row_rules: ClassVar[tuple[RowRule, ...]] = (FirstOfMonth("month"),)
    date_column: ClassVar[Optional[str]] = "month"
    description: ClassVar[str] = "Average monthly population of each wing: the denominator of every rate."
    when_rows_lost: ClassVar[str] = (
        "rates per 1,000 prisoners divide by fewer prisoner-months than there were and can be far too high"
    )

    wing_id: Id
    month: date
    average_population: float = Field(ge=0)


class Incident(Extract):
    table: ClassVar[str] = "incidents"
    key: ClassVar[tuple[str, ...]] = ("incident_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
        Reference(
            ("wing_id", "prison_id"),
            "wings",
            ("wing_id", "prison_id"),
            "wing_id not a wing of this prison",
        ),
    )
    date_column: ClassVar[Optional[str]] = "occurred_on"
    description: ClassVar[str] = "One row per recorded incident (assault, self-harm, use of force)."

    incident_id: Id
    prison_id: Id
    wing_id: Optional[Id] = None
    occurred_on: date
    incident_type: Literal[INCIDENT_TYPES]
    serious: bool


# --- The Conversation (Spark Inside) --------------------------------------------------------


class Cohort(Extract):
    table: ClassVar[str] = "cohorts"
    key: ClassVar[tuple[str, ...]] = ("cohort_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
        Reference(
            ("wing_id", "prison_id"),
            "wings",
            ("wing_id", "prison_id"),
            "wing_id not a wing of this prison",
        ),
    )
    date_column: ClassVar[Optional[str]] = "start_date"
    description: ClassVar[str] = "One cohort = three workshops on one wing."

    cohort_id: Id
    prison_id: Id
    wing_id: Id
    sdm: Id
    start_date: date
    cost_gbp: Optional[float] = Field(default=None, ge=0)


class Workshop(Extract):
    table: ClassVar[str] = "workshops"
    key: ClassVar[tuple[str, ...]] = ("workshop_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("cohort_id",), "cohorts", ("cohort_id",), "cohort_id not in cohorts"),
    )
    row_rules: ClassVar[tuple[RowRule, ...]] = (
        RequiredWhen("delivered_on", "status", "delivered"),
        RequiredWhen("cancellation_reason", "status", "cancelled"),
    )
    date_column: ClassVar[Optional[str]] = "scheduled_on"
    description: ClassVar[str] = "Scheduled workshops and what happened to them."

    workshop_id: Id
    cohort_id: Id
    session_number: Literal[1, 2, 3]
    scheduled_on: date
    status: Literal[WORKSHOP_STATUSES]
    delivered_on: Optional[date] = None
    cancellation_reason: Optional[str] = None
    duration_hours: float = Field(gt=0)


class Participant(Extract):
    table: ClassVar[str] = "participants"
    key: ClassVar[tuple[str, ...]] = ("participant_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("cohort_id",), "cohorts", ("cohort_id",), "cohort_id not in cohorts"),
    )
    description: ClassVar[str] = "Pseudonymous participants of each cohort, prisoners and staff."

    participant_id: Id
    cohort_id: Id
    role: Literal[ROLES]


class Attendance(Extract):
    table: ClassVar[str] = "attendance"
    key: ClassVar[tuple[str, ...]] = ("workshop_id", "participant_id")
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("workshop_id",), "workshops", ("workshop_id",), "workshop_id not in workshops"),
        Reference(
            ("participant_id",), "participants", ("participant_id",), "participant_id not in participants"
        ),
        Reference(
            ("workshop_id", "participant_id"),
            "SELECT w.workshop_id, p.participant_id FROM workshops w JOIN participants p USING (cohort_id)",
            ("workshop_id", "participant_id"),
            "participant is not in the workshop's cohort",
            depends_on=("workshops", "participants"),
        ),
    )
    description: ClassVar[str] = "Who attended each workshop."

    workshop_id: Id
    participant_id: Id
    attended: bool


class SurveyResponse(Extract):
    table: ClassVar[str] = "survey_responses"
    key: ClassVar[tuple[str, ...]] = ("participant_id", "wave", "item")
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(
            ("participant_id",), "participants", ("participant_id",), "participant_id not in participants"
        ),
    )
    date_column: ClassVar[Optional[str]] = "responded_on"
    description: ClassVar[str] = "Likert answers (1-5, 5 best) before, after and at follow-up."

    participant_id: Id
    wave: Literal[WAVES]
    item: Literal[SURVEY_ITEMS]
    score: int = Field(ge=1, le=5)
    responded_on: date


class Testimonial(Extract):
    table: ClassVar[str] = "testimonials"
    key: ClassVar[tuple[str, ...]] = ("testimonial_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
        Reference(("cohort_id",), "cohorts", ("cohort_id",), "cohort_id not in cohorts"),
    )
    description: ClassVar[str] = "Quotes from participants; only rows with consent may ever be shown."

    testimonial_id: Id
    prison_id: Id
    cohort_id: Optional[Id] = None
    role: Literal[ROLES]
    display_name: Id
    quote: Id
    consent_to_publish: bool


# --- Outcomes ---------------------------------------------------------------------------------

REOFFENDING_MEASURES = ("proven_reoffending_rate", "reoffending_frequency", "days_to_first_reoffence", "custodial_sentence_rate")
JUSTICE_DATA_LAB_MINIMUM = 60  # the smallest treatment group the Justice Data Lab reports on


class Reoffending(Extract):
    table: ClassVar[str] = "reoffending"
    key: ClassVar[tuple[str, ...]] = ("analysis_id", "measure")
    row_rules: ClassVar[tuple[RowRule, ...]] = (
        AtLeast("treatment_n", JUSTICE_DATA_LAB_MINIMUM, "the Justice Data Lab's smallest reportable treatment group"),
        IntervalHolds("difference_low", "difference_high", "treatment_value", "comparison_value"),
    )
    date_column: ClassVar[Optional[str]] = "published_on"
    description: ClassVar[str] = (
        "Results of matched-comparison reoffending analyses (the Justice Data Lab's), one row per analysis and measure, "
        "as published."
    )
    when_rows_lost: ClassVar[str] = "a reoffending result whose row was rejected is not shown"

    analysis_id: Id
    programme: Id
    title: Id
    published_on: date
    measure: Literal[REOFFENDING_MEASURES]
    treatment_n: int
    comparison_n: int = Field(gt=0)
    treatment_value: float
    comparison_value: float
    difference_low: float
    difference_high: float
    p_value: Optional[float] = Field(default=None, ge=0, le=1)
    source_url: Optional[str] = None


# Figures a delivery target can be set on: keys of the metric registry whose actual the dashboard
# computes from the named queries for a programme and period (`funding.target_actuals`).
TARGET_INDICATORS = ("cohorts_started", "workshops_delivered", "participants_reached", "prisoners_reached", "staff_reached",
                     "contact_hours", "paired_surveys")


class Target(Extract):
    table: ClassVar[str] = "targets"
    key: ClassVar[tuple[str, ...]] = ("target_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("campaign_id",), "campaigns", ("campaign_id",), "campaign_id not in campaigns"),
    )
    row_rules: ClassVar[tuple[RowRule, ...]] = (
        KnownKey("indicator", TARGET_INDICATORS, "a figure the dashboard computes for a target"),
        LaterThan("period_end", "period_start", or_same=True),
    )
    date_column: ClassVar[Optional[str]] = "period_start"
    description: ClassVar[str] = "What a funder and the programme agreed it would deliver, figure by figure, over a period."
    when_rows_lost: ClassVar[str] = "a target whose row was rejected is not shown"

    target_id: Id
    programme: Id
    funder: Id
    campaign_id: Optional[Id] = None
    indicator: Id
    period_start: date
    period_end: date
    target_value: float = Field(gt=0)


# --- Funding ---------------------------------------------------------------------------------


class Campaign(Extract):
    table: ClassVar[str] = "campaigns"
    key: ClassVar[tuple[str, ...]] = ("campaign_id",)
    row_rules: ClassVar[tuple[RowRule, ...]] = (LaterThan("closes_at", "opens_at"),)
    date_column: ClassVar[Optional[str]] = "opens_at"
    description: ClassVar[str] = "Match-funded fundraising campaigns."

    campaign_id: Id
    programme: Literal[PROGRAMMES]
    name: Id
    platform: Id
    opens_at: datetime
    closes_at: datetime
    target_gbp: float = Field(gt=0)
    match_pledged_gbp: float = Field(ge=0)
    champion: Optional[str] = None


class Donation(Extract):
    table: ClassVar[str] = "donations"
    key: ClassVar[tuple[str, ...]] = ("donation_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("campaign_id",), "campaigns", ("campaign_id",), "campaign_id not in campaigns"),
    )
    date_column: ClassVar[Optional[str]] = "donated_at"
    description: ClassVar[str] = "Gifts to a campaign and the match funds each released."

    donation_id: Id
    campaign_id: Id
    donated_at: datetime
    amount_gbp: float = Field(gt=0)
    matched_gbp: float = Field(ge=0)


# --- Good Prison Project ---------------------------------------------------------------------


class Service(Extract):
    table: ClassVar[str] = "services"
    key: ClassVar[tuple[str, ...]] = ("service_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
    )
    date_column: ClassVar[Optional[str]] = "mapped_on"
    description: ClassVar[str] = "The coordinator's map of voluntary-sector provision and gaps."

    service_id: Id
    prison_id: Id
    provider: Id
    category: Literal[SERVICE_CATEGORIES]
    status: Literal[SERVICE_STATUSES]
    mapped_on: date
    through_the_gate: bool
    protected_characteristic: Optional[str] = None


class Referral(Extract):
    table: ClassVar[str] = "referrals"
    key: ClassVar[tuple[str, ...]] = ("referral_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("service_id",), "services", ("service_id",), "service_id not in services"),
    )
    date_column: ClassVar[Optional[str]] = "referred_on"
    description: ClassVar[str] = "Referrals of prisoners to mapped services, with outcomes."

    referral_id: Id
    service_id: Id
    referred_on: date
    outcome: Literal[REFERRAL_OUTCOMES]


class Event(Extract):
    table: ClassVar[str] = "events"
    key: ClassVar[tuple[str, ...]] = ("event_id",)
    references: ClassVar[tuple[Reference, ...]] = (
        Reference(("prison_id",), "prisons", ("prison_id",), "prison_id not in prisons"),
    )
    date_column: ClassVar[Optional[str]] = "held_on"
    description: ClassVar[str] = "Events such as the Outside In marketplace."

    event_id: Id
    prison_id: Id
    held_on: date
    name: Id
    providers_attending: int = Field(ge=0)
    prisoners_attending: int = Field(ge=0)
    staff_attending: int = Field(ge=0)
    connections_made: int = Field(ge=0)


# In load order: a table comes after every table it references.
MODELS: tuple[type[Extract], ...] = (
    Prison,
    ProgrammeSite,
    PrisonIncidentCount,
    PrisonPopulation,
    Wing,
    WingPopulation,
    Incident,
    Cohort,
    Workshop,
    Participant,
    Attendance,
    SurveyResponse,
    Testimonial,
    Reoffending,
    Campaign,
    Donation,
    Target,
    Service,
    Referral,
    Event,
)
MODELS_BY_TABLE: dict[str, type[Extract]] = {m.table: m for m in MODELS}
TABLES: tuple[str, ...] = tuple(MODELS_BY_TABLE)


# --- Column specs derived from the models ----------------------------------------------------

SQL_TYPES: dict[type, str] = {
    str: "VARCHAR",
    int: "BIGINT",
    float: "DOUBLE",
    bool: "BOOLEAN",
    date: "DATE",
    datetime: "TIMESTAMP",  # UTC; the loader sets the session time zone to UTC
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    python_type: type
    nullable: bool
    domain: Optional[tuple] = None
    ge: Optional[float] = None
    gt: Optional[float] = None
    le: Optional[float] = None
    min_length: Optional[int] = None
    earliest: Optional[date] = None  # a date column's plausible days (contract.DATE_RANGES)
    latest: Optional[date] = None

    @property
    def date_rule(self) -> str:
        return f"outside the dates this column may hold ({self.earliest:%-d %b %Y} to {self.latest:%-d %b %Y})"

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.python_type]

    @property
    def type_name(self) -> str:
        return "timestamp" if self.python_type is datetime else self.python_type.__name__


def _unwrap(annotation: Any) -> tuple[Any, bool, list]:
    """Strip Optional[...] and Annotated[...]: (inner type, nullable, constraint metadata)."""
    nullable = False
    metadata: list = []
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated:
            for meta in annotation.__metadata__:
                metadata.extend(getattr(meta, "metadata", [meta]))
            annotation = args[0]
        elif origin is not Literal and type(None) in args:
            nullable = True
            (annotation,) = [a for a in args if a is not type(None)]
        else:
            return annotation, nullable, metadata


def column_specs(model: type[Extract]) -> list[ColumnSpec]:
    specs = []
    for name, field in model.model_fields.items():
        inner, nullable, metadata = _unwrap(field.annotation)
        metadata = metadata + list(field.metadata)
        domain = None
        if get_origin(inner) is Literal:
            domain = inner.__args__
            inner = type(domain[0])
        bounds = {attr: getattr(m, attr) for m in metadata for attr in ("ge", "gt", "le", "min_length") if hasattr(m, attr)}
        if inner in (date, datetime):
            bounds["earliest"], bounds["latest"] = date_range(model.table, name)
        specs.append(
            ColumnSpec(
                name=name,
                python_type=inner,
                nullable=nullable or not field.is_required(),
                domain=domain,
                **bounds,
            )
        )
    return specs
