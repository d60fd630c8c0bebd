"""The metric registry: every figure's label, format, formula, denominator, sources, caveat and
disclosure rule, declared once (the rows are in `dashboard.registry_figures`).

Pages, tables, downloads, the Methods page and the funder report take labels and formats from here,
and compute rates with the functions here, so "incidents per 1,000 prisoners" means the same thing
everywhere. A table is a frame whose columns are registry keys: `display` and `readable` turn it into
what a reader sees, with labels for codes and one number format per kind of figure.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.disclosure import configured_threshold
from dashboard.pages import OVERVIEW, PAGE_TABLE
from dashboard.registry_figures import CODE_LABELS, FIGURES
from dashboard.text import DAY, spreadsheet_cell


@dataclass(frozen=True)
class Kind:
    """How one kind of figure is written: in text, in a table column (Streamlit's printf-style
    format), and in a download (rounded to `decimals`; percentages as 0-100)."""

    text: str  # str.format pattern for one value
    column: str | None  # NumberColumn format; None for text and dates
    decimals: int | None = None
    scale: float = 1.0  # 100 for percentages: a share of 0.45 is shown and downloaded as 45


KINDS: dict[str, Kind] = {
    "count": Kind("{:,.0f}", "%,d", 0),
    "rate": Kind("{:,.0f}", "%,.0f", 0),
    "years": Kind("{:,.1f}", "%,.1f", 1),
    "population": Kind("{:,.1f}", "%,.1f", 1),
    "percent": Kind("{:.0f}%", "%.0f%%", 0, 100.0),
    "change_percent": Kind("{:+.0f}%", "%+.0f%%", 0, 100.0),
    "money": Kind("£{:,.0f}", "£%,.0f", 0),
    "score_change": Kind("{:+.2f}", "%+.2f", 2),
    "ratio": Kind("{:.2f}", "%.2f", 2),
    # a published result as published: up to the two decimals publishers give, no zeros added ("38.2", "172", "1.21")
    "published": Kind("{:,g}", "localized", 2),
    "days": Kind("{:,.0f}", "%,.0f", 0),
    "per_ten": Kind("{:.1f}", "%.1f", 1),
    "date": Kind(DAY, None),
    "month": Kind("{:%b %Y}", None),
    "text": Kind("{}", None),
    "code": Kind("{}", None),
}
MISSING = "–"  # a figure that does not exist (the Note column or the page says why)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str
    formula: str
    denominator: str = ""
    queries: tuple[str, ...] = ()
    caveat: str = ""
    disclosure: str = ""
    codes: str | None = None  # which CODE_LABELS its values are

    @property
    def csv_label(self) -> str:
        """The download's header: percentages are written as 0-100, so the header says so."""
        return f"{self.label} (%)" if KINDS[self.kind].scale == 100.0 else self.label

    def format(self, value) -> str:
        """One value as this kind of figure is written everywhere (a dash where there is none; text,
        such as a suppressed "<5", as it is)."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            return MISSING
        if isinstance(value, str):
            return CODE_LABELS.get(self.codes or "", {}).get(value, value)
        kind = KINDS[self.kind]
        return kind.text.format(value * kind.scale if kind.scale != 1.0 else value)

    @property
    def help(self) -> str:
        """The method note: formula, denominator, caveat and disclosure rule, in one paragraph."""
        parts = [f"{self.formula[0].upper()}{self.formula[1:]}."]
        if self.denominator:
            parts.append(f"Denominator: {self.denominator}.")
        if self.caveat:
            parts.append(self.caveat)
        if self.disclosure:
            parts.append(self.disclosure_rule)
        if self.queries:
            parts.append(f"Source: the named {'query' if len(self.queries) == 1 else 'queries'} {', '.join(self.queries)}.")
        return " ".join(parts).replace("{k}", str(configured_threshold()))

    @property
    def disclosure_rule(self) -> str:
        """The disclosure rule with the deployment's threshold in it ("" when none applies)."""
        k = configured_threshold()
        return self.disclosure.format(k=k, k_less=k - 1)

    def text_column_config(self):
        """A count as a funder sees it ("1,335", "<5") is text: right-aligned like the numbers it stands for."""
        import streamlit as st

        return st.column_config.TextColumn(help=self.help, alignment="right")

    def column_config(self):
        import streamlit as st  # only pages draw; the rest of the registry is plain Python

        kind = KINDS[self.kind]
        if self.kind == "date":
            return st.column_config.DateColumn(format="D MMM YYYY", help=self.help)
        if self.kind == "month":
            return st.column_config.DateColumn(format="MMM YYYY", help=self.help)
        if kind.column is None:
            return st.column_config.TextColumn(help=self.help)
        return st.column_config.NumberColumn(format=kind.column, help=self.help)


def _metric(key: str, row: tuple) -> Metric:
    label, kind, formula, denominator, queries, caveat, disclosure, *codes = row
    return Metric(key, label, kind, formula, denominator, tuple(queries), caveat, disclosure,
                  codes[0] if codes else (key if kind == "code" else None))


REGISTRY: dict[str, Metric] = {key: _metric(key, row) for key, row in FIGURES.items()}
CODE_LABELS["figure"] = {key: metric.label for key, metric in REGISTRY.items()}  # a figure-and-value table's rows
CODE_LABELS["page"] = {page.url_path or OVERVIEW: page.title for page in PAGE_TABLE}  # the pages the audit trail names
LABELS: frozenset[str] = frozenset({m.label for m in REGISTRY.values()} | {m.csv_label for m in REGISTRY.values()})


def figure(key: str) -> Metric:
    return REGISTRY[key]


def fmt(key: str, value) -> str:
    """`value` written as the registry writes figure `key` (e.g. fmt("rate", 1234.4) -> "1,234")."""
    return REGISTRY[key].format(value)


def code_label(codes: str, value: str) -> str:
    """The words for a code held in the extracts (the code itself if it has none)."""
    return CODE_LABELS[codes].get(value, value)


def unregistered(columns) -> list[str]:
    return [c for c in columns if c not in REGISTRY]


def _numeric(values: pd.Series, kind: Kind) -> pd.Series:
    """Numbers scaled and rounded as shown; a column of suppressed counts keeps its text ("<5") but
    writes the other cells as numbers, not "1,333"."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        def cell(v):
            if isinstance(v, str):
                plain = v.replace(",", "")
                try:
                    return float(plain) if "." in plain else int(plain)
                except ValueError:
                    return v
            return v
        return values.map(cell)
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return values
    scaled = values * kind.scale if kind.scale != 1.0 else values
    if kind.decimals is None:
        return scaled
    rounded = scaled.round(kind.decimals)
    return rounded.astype("Int64") if kind.decimals == 0 and rounded.dropna().mod(1).eq(0).all() else rounded


def _with_code_labels(frame: pd.DataFrame) -> pd.DataFrame:
    coded = {c: REGISTRY[c].codes for c in frame.columns if c in REGISTRY and REGISTRY[c].codes}
    if not coded:
        return frame
    return frame.assign(**{c: frame[c].map(lambda v, m=CODE_LABELS[codes]: m.get(v, v) if isinstance(v, str) else v)
                           for c, codes in coded.items()})


def display(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A table for the screen: the registry's labels as headers, codes as words, percentages as
    0-100, values rounded to what is shown (the browser gets no more precision than the reader sees),
    and a column config per column with the registry's format and method note. Columns not in the
    registry pass unchanged (a test keeps there from being any)."""
    shown = _with_code_labels(frame)
    values, config = {}, {}
    for column in shown.columns:
        metric = REGISTRY.get(column)
        if metric is None:
            values[column] = shown[column]
            continue
        if metric.label in values:
            raise ValueError(f"two columns of one table would both be headed {metric.label!r} ({column})")
        kind = KINDS[metric.kind]
        column_values = shown[column]
        if kind.column and pd.api.types.is_numeric_dtype(column_values) and not pd.api.types.is_bool_dtype(column_values):
            # scaled and rounded as shown: the browser receives no more precision than the reader sees
            scaled = column_values * kind.scale if kind.scale != 1.0 else column_values
            values[metric.label] = scaled.round(kind.decimals) if kind.decimals is not None and scaled.dtype.kind == "f" else scaled
            config[metric.label] = metric.column_config()
        elif kind.column:  # counts as a funder sees them ("1,335", "<5"): text, written as shown
            values[metric.label] = column_values
            config[metric.label] = metric.text_column_config()
        else:
            values[metric.label] = column_values
            config[metric.label] = metric.column_config()
    return pd.DataFrame(values, index=shown.index), config


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for a download: the registry's headers, codes as words, numbers as numbers rounded as
    on screen, percentages as 0-100 under a "(%)" header, dates as ISO dates."""
    shown = _with_code_labels(frame)
    out = {}
    for column in shown.columns:
        metric = REGISTRY.get(column)
        if metric is None:
            out[column] = shown[column]
            continue
        kind = KINDS[metric.kind]
        values = shown[column]
        if metric.kind in ("date", "month"):
            values = pd.to_datetime(values, errors="coerce").dt.date
        elif kind.column:
            values = _numeric(values, kind)
        out[metric.csv_label] = values
    return pd.DataFrame(out, index=shown.index)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A download as a reader opens it: the registry's headers, words for codes, rounded numbers; no
    text a spreadsheet would run as a formula. The one writer of every tabular download."""
    return spreadsheet_safe(readable(frame)).to_csv(index=False).encode("utf-8")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell (and header) as `text.spreadsheet_cell` writes it; number columns untouched."""
    safe = frame.rename(columns=spreadsheet_cell)
    for column in safe.columns[[not pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_datetime64_any_dtype(t)
                                for t in safe.dtypes]]:
        safe[column] = safe[column].map(spreadsheet_cell)
    return safe


def data_zip(tables: dict[str, pd.DataFrame], title: str) -> bytes:
    """Tables (name: frame with registry keys as columns) as one zip of CSVs with a README of their
    columns and methods from the registry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        readme_text = readme([c for frame in tables.values() for c in frame.columns], f"{title}: the data behind the page")
        listing = "\n".join(f"{name}.csv" for name in tables)
        archive.writestr("README.txt", f"{readme_text}\nFiles\n-----\n{listing}\n")
        for name, frame in tables.items():
            archive.writestr(f"{name}.csv", csv_bytes(frame))
    return buffer.getvalue()


def readme(keys, title: str) -> str:
    """A plain-text description of the columns `keys` (those in the registry), for a download."""
    lines = [title, "=" * len(title), ""]
    for key in dict.fromkeys(keys):
        metric = REGISTRY.get(key)
        if metric is None:
            continue
        lines += [f"{metric.csv_label}", f"    {metric.help}"]
    return "\n".join(lines) + "\n"


KIND_NAMES = {  # the kinds of figure, as the Methods page names them, with a value to show the format
    "count": ("Counts", 1234), "rate": ("Rates per 1,000 prisoners per year", 1234.4), "years": ("Prisoner-years", 1234.56),
    "population": ("Average populations and sizes", 612.35), "percent": ("Percentages (shares)", 0.4567),
    "change_percent": ("Changes in a rate", -0.123), "money": ("Money", 12345.6), "score_change": ("Survey score changes", 0.234),
    "ratio": ("Ratios and effect sizes", 0.8765),
    "published": ("Published results (reoffending)", -6.9), "days": ("Days", 63), "per_ten": ("Staff per 10 prisoners", 2.345),
    "date": ("Dates", pd.Timestamp("2024-03-31")), "month": ("Months", pd.Timestamp("2024-03-01")),
    "text": ("Words", "as written"), "code": ("Codes from the extracts", "shown as words"),
}


def example(kind: str) -> str:
    value = KIND_NAMES[kind][1]
    if isinstance(value, str):
        return value
    spec = KINDS[kind]
    return spec.text.format(value * spec.scale if spec.scale != 1.0 else value)


def methods_table(search: str = "") -> pd.DataFrame:
    """Every figure in the registry (those whose label, formula or caveat contain `search`)."""
    k = str(configured_threshold())
    rows = [{"figure": m.key, "figure_kind": KIND_NAMES[m.kind][0], "formula": m.formula.replace("{k}", k), "denominator": m.denominator,
             "caveat": m.caveat.replace("{k}", k), "disclosure": m.disclosure_rule,
             "queries": ", ".join(m.queries)}
            for m in REGISTRY.values()]
    table = pd.DataFrame(rows)
    if search.strip():
        words = search.strip().lower()
        text = (table["figure"].map(CODE_LABELS["figure"]) + " " + table["formula"] + " " + table["caveat"]).str.lower()
        table = table[text.str.contains(words, regex=False)]
    return table


def formats_table() -> pd.DataFrame:
    """One number format per kind of figure, with an example."""
    return pd.DataFrame([{"figure_kind": name, "example": example(kind)} for kind, (name, _) in KIND_NAMES.items()])


INCIDENT_RATE = REGISTRY["rate"]

INCIDENT_TYPE_LABELS = CODE_LABELS["incident_type"]
ROLE_LABELS = CODE_LABELS["role"]


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


def incident_rate(incidents, prisoner_years):
    """INCIDENT_RATE for scalars or Series; NaN where there is no population."""
    if isinstance(incidents, pd.Series) or isinstance(prisoner_years, pd.Series):
        years = pd.Series(prisoner_years, dtype="float64")
        return pd.Series(incidents, dtype="float64") / years.where(years > 0) * 1000.0
    return incidents / prisoner_years * 1000.0 if prisoner_years and prisoner_years > 0 else np.nan


def share(part, whole):
    return part / whole if whole else np.nan
