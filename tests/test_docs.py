"""The documented contract stays in step with the pydantic models."""

import re
from pathlib import Path

from dashboard.contract import MODELS, column_specs

DOC = Path(__file__).resolve().parent.parent / "docs" / "data-contract.md"


def test_every_table_and_column_is_documented_with_its_type():
    text = DOC.read_text()
    sections = re.split(r"^### ", text, flags=re.M)
    by_table = {s.split("`")[1]: s for s in sections[1:]}
    assert set(by_table) == {m.table for m in MODELS}
    for model in MODELS:
        section = by_table[model.table]
        assert f"key ({', '.join(model.key)})" in section
        for spec in column_specs(model):
            assert f"| {spec.name} | {spec.type_name}{'?' if spec.nullable else ''} |" in section, (model.table, spec.name)
            for value in spec.domain or ():
                assert f"`{value}`" in section


def test_every_header_synonym_and_item_label_is_documented():
    from dashboard.contract import COLUMN_SYNONYMS, SURVEY_ITEM_LABELS

    text = DOC.read_text()
    for column, names in COLUMN_SYNONYMS.items():
        assert f"- `{column}`: " + ", ".join(f"\u201c{n}\u201d" for n in names) in text, column
    for item, label in SURVEY_ITEM_LABELS.items():
        assert f"`{item}` \u201c{label}\u201d" in text
