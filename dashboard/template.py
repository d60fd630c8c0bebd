"""A workbook to fill in, made from the contract: one sheet per table, a notes row saying what each
column holds (type, rule, example), the header the importer reads, and drop-down lists wherever a
column takes a fixed set of values. `python -m dashboard.ingest --template FILE.xlsx` writes it; the
Data page offers it as a download."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from dashboard.contract import COLUMN_SYNONYMS, MODELS, ColumnSpec, Extract, column_specs

ROWS_WITH_LISTS = 5000  # drop-down lists reach this far down each sheet
NOTES_ROW, HEADER_ROW = 1, 2
EXAMPLES = {date: "31/12/2024", datetime: "31/12/2024 14:30", bool: "Yes", int: "12", float: "12.5", str: "text"}
TYPE_WORDS = {date: "date (day/month/year)", datetime: "date and time (UK time)", bool: "Yes or No",
              int: "whole number", float: "number", str: "text"}


def column_note(model: type[Extract], spec: ColumnSpec) -> str:
    """What a person filling in the column needs: type, whether it may be blank, its rules, an example."""
    parts = [TYPE_WORDS[spec.python_type], "may be blank" if spec.nullable else "required"]
    if spec.name in model.key:
        parts.append("identifies the row" if len(model.key) == 1 else f"with {', '.join(k for k in model.key if k != spec.name)} identifies the row")
    for bound, words in (("ge", "at least"), ("gt", "more than"), ("le", "at most")):
        if getattr(spec, bound) is not None:
            parts.append(f"{words} {getattr(spec, bound):g}")
    parts += [ref.message for ref in model.references if spec.name == ref.columns[0]]
    parts += [f"{rule.column}: {rule.message}" for rule in model.row_rules if rule.column == spec.name]
    if spec.domain:
        parts.append("one of " + ", ".join(map(str, spec.domain)))
    example = str(spec.domain[0]) if spec.domain else EXAMPLES[spec.python_type]
    also = COLUMN_SYNONYMS.get(spec.name)
    return "; ".join(parts) + f". Example: {example}" + (f". Also read under: {', '.join(also)}" if also else "")


def workbook() -> Workbook:
    book = Workbook()
    book.remove(book.active)
    for model in MODELS:
        sheet = book.create_sheet(model.table)
        specs = column_specs(model)
        for i, spec in enumerate(specs, 1):
            letter = get_column_letter(i)
            note = sheet.cell(NOTES_ROW, i, column_note(model, spec))
            note.font, note.alignment = Font(italic=True, color="555555"), Alignment(wrap_text=True, vertical="top")
            head = sheet.cell(HEADER_ROW, i, spec.name)
            head.font, head.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
            sheet.column_dimensions[letter].width = max(18, len(spec.name) + 4)
            choices = [str(d) for d in spec.domain] if spec.domain else (["Yes", "No"] if spec.python_type is bool else None)
            if choices:
                rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=spec.nullable,
                                      showErrorMessage=True, error=f"Choose one of: {', '.join(choices)}")
                rule.add(f"{letter}{HEADER_ROW + 1}:{letter}{HEADER_ROW + ROWS_WITH_LISTS}")
                sheet.add_data_validation(rule)
        sheet.row_dimensions[NOTES_ROW].height = 90
        sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    return book


def write_template(path: Path) -> None:
    workbook().save(path)


def template_bytes() -> bytes:
    out = io.BytesIO()
    workbook().save(out)
    return out.getvalue()
