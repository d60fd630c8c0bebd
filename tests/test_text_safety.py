"""Text from extracts and links is shown as text: no page renders a link, image, heading or HTML
from it, in Markdown or in a chart. Checked with a CommonMark parser with GitHub's extensions
(markdown-it-py's gfm-like preset, bare URLs included), property-based (hypothesis)."""

import json
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard.contract import MODELS, column_specs
from dashboard.text import ZERO_WIDTH_SPACE, label, md
from tests.apptest import each_tab, open_page, page_files, start

PARSER = MarkdownIt("gfm-like")
MARKER = "injected.example"  # every link or image a payload carries points here
HEADING = "INJECTEDHEADING"

# Markdown and HTML that would render as something other than text.
FRAGMENTS = [
    f"[sign in again](https://{MARKER}/login)", f"![p](https://{MARKER}/pixel.png)", f"\n# {HEADING}\n",
    f"{HEADING}\n===", f"<a href='https://{MARKER}/a'>x</a>", f"<img src='https://{MARKER}/i.png'>", f"<https://{MARKER}/auto>",
    f"https://{MARKER}/bare", f"www.{MARKER}", ":red[alarm]", "$x^2$", "**bold** _it_", "`code`", "> quoted", "- item",
    "| a | b |\n|---|---|", "<script>window.__injected=1</script>", "&amp; &lt;", "\\", "<br>",
]
payloads = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), min_size=1, max_size=6).map("".join)


def rendered_tokens(markdown: str):
    for block in PARSER.parse(markdown):
        yield block
        yield from block.children or []


def renders_something_from(markdown: str) -> list[str]:
    """What a Markdown text would render from a payload: links or images to the marker, headings
    with the marker text, raw HTML."""
    found, heading = [], False
    for token in rendered_tokens(markdown):
        if token.type in ("link_open", "image") and MARKER in (token.attrGet("href") or token.attrGet("src") or ""):
            found.append(f"{token.type} {token.attrGet('href') or token.attrGet('src')}")
        if token.type in ("html_inline", "html_block"):
            found.append(f"html {token.content!r}")
        if token.type == "heading_open":
            heading = True
        elif token.type == "inline" and heading:
            heading = False
            if HEADING in token.content:
                found.append(f"heading {token.content!r}")
    return found


@settings(max_examples=400, deadline=None)
@given(value=payloads, before=st.text(max_size=10))
def test_an_escaped_value_renders_as_exactly_its_text(value, before):
    shown = f"**Note** {md(before)}: {md(value, limit=None)} and more"
    assert not renders_something_from(shown)
    (inline,) = [t for t in PARSER.parse(md(value, limit=None)) if t.type == "inline"] or [None]
    if inline is not None:  # the text read back is the value, whitespace collapsed
        # CommonMark replaces NUL; zero-width spaces are md()'s own marks, dropped on both sides
        expected = " ".join(value.split()).replace("\x00", "\ufffd").replace(ZERO_WIDTH_SPACE, "")
        read_back = "".join(c.content for c in inline.children if c.type == "text").replace(ZERO_WIDTH_SPACE, "")
        assert read_back == expected


def test_numbers_carry_no_hidden_character_into_a_copy():
    """A reader copies 0.45 or 1,350 into a spreadsheet: md() marks only where an autolink can begin."""
    for number in ("0.45 points", "-11.00 to -2.80", "1,350", "10:30", "+0.74"):
        assert ZERO_WIDTH_SPACE not in md(number)
    for linkable in ("https://x.org", "www.x.org", "mailto:a@b.org", "name1@x.org"):
        assert ZERO_WIDTH_SPACE in md(linkable)


@given(value=st.text(min_size=61))
def test_a_long_value_is_cut_in_messages(value):
    collapsed = " ".join(value.split())
    assert md(value).endswith("…") or len(collapsed) <= 60


@given(value=payloads)
def test_a_chart_label_carries_no_tag(value):
    assert "<" not in label(value) and ">" not in label(value)


# --- Every page, with payloads in every text column and link value ------------------------------


def _is_free_text(spec) -> bool:
    return spec.python_type is str and not spec.domain


def write_payloads(folder, payload: str) -> None:
    """Every free-text column gets the payload in front; every id gets it appended, the same way
    in every table, so references still hold and the payload reaches chart axes and messages."""
    for model in MODELS:
        path = folder / f"{model.table}.parquet"
        frame = pd.read_parquet(path)
        for spec in column_specs(model):
            if _is_free_text(spec) and spec.name in frame:
                present = frame[spec.name].notna()
                text = frame[spec.name].astype("object")
                if spec.name.endswith("_id") or spec.name == "sdm":
                    text[present] = text[present] + " " + payload
                else:
                    text[present] = payload + " " + text[present]
                frame[spec.name] = text
        frame.to_parquet(path, index=False)


TEXT_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader")


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def page_findings(at, page: str) -> list[str]:
    findings = []
    texts = [e.value for kind in TEXT_ELEMENTS for e in getattr(at, kind)] + [m.label for m in at.metric]
    for text in texts:
        findings += [f"{page}: {f}" for f in renders_something_from(str(text))]
    for chart in at.get("plotly_chart"):
        for text in strings_in(json.loads(chart.proto.spec)):
            if re.search(rf"<(a|img)\b[^>]*{re.escape(MARKER)}", text) or re.search(r"<script", text):
                findings.append(f"{page}: chart text {text[:80]!r}")
    return findings


@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(payload=payloads.filter(lambda p: p.strip()))
def test_no_page_renders_markup_from_an_extract_or_a_link(monkeypatch, tmp_path_factory, sample_dir, payload):
    folder = tmp_path_factory.mktemp("payload") / "extracts"
    import shutil

    shutil.copytree(sample_dir, folder)
    write_payloads(folder, payload)
    link = {"prison": [payload, f"[x](https://{MARKER}/p) ![p](https://{MARKER}/q.png)"], "wing": payload,
            "campaign": payload, "measure": f"# {HEADING}", "from": payload}
    findings = []
    for role in ("admin", "funder"):
        at = start(monkeypatch, data_dir=folder, query_params=link, session_state={"view_as": role})
        findings += page_findings(at, f"{role} overview")
        for page in page_files(role)[1:]:  # the first, the Overview, is open already
            for tab, drawn in each_tab(open_page(at, page), page):  # a lazy tab is drawn only when opened
                findings += page_findings(drawn, f"{role} {page} {tab}")
    assert not findings, sorted(set(findings))


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_every_fragment_alone_is_text(fragment):
    assert not renders_something_from(f"The link asks for {md(fragment)}.")


def test_counts_take_the_right_number_and_ties_are_named_as_ties():
    from dashboard.text import count_of, most_often

    assert count_of(1, "workshop") == "1 workshop" and count_of(3, "workshop") == "3 workshops"
    assert count_of(1204, "cohort") == "1,204 cohorts" and count_of(0, "event") == "0 events"
    assert most_often(pd.Series({"staff shortage": 3, "lockdown": 1})) == "most often for staff shortage (3)"
    tied = most_often(pd.Series({"staff shortage": 2, "lockdown": 2, "other": 1}))
    assert tied.startswith("equally often for lockdown and staff shortage (2 each)")


def test_a_chart_names_tied_reasons_as_the_page_does():
    """The cancelled workshops' sentence above the chart and the chart's own text alternative agree."""
    from dashboard import charts
    from dashboard.text import most_often

    cancelled = pd.DataFrame({"scheduled_on": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-05-01", "2024-06-01", "2024-07-01"]),
                              "cancellation_reason": ["staff shortage", "regime lockdown", "staff shortage", "regime lockdown", "illness"]})
    figure = charts.cancellation_reasons(cancelled, ["regime lockdown", "staff shortage", "illness"])
    said = charts.describe(figure)
    assert "equally often for regime lockdown and staff shortage (2 each)" in said
    assert most_often(cancelled["cancellation_reason"].value_counts()) in said

    # a reason keeps its colour and pattern when the view holds fewer reasons
    def look(fig):
        return {bar.name: (bar.marker.color, bar.marker.pattern.shape) for bar in fig.data}

    fewer = charts.cancellation_reasons(cancelled[cancelled["cancellation_reason"] == "illness"], ["regime lockdown", "staff shortage", "illness"])
    assert look(fewer)["illness"] == look(figure)["illness"] and len(set(look(figure).values())) == 3
