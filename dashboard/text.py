"""Text from an extract or a link, made safe for where it is shown.

Streamlit renders messages, captions and Markdown as (GitHub-flavoured) Markdown, and Plotly renders
a subset of HTML (links included) in labels and hover text. A value the app did not write itself —
a prison or campaign name, a testimonial, a wing id, a link parameter — is therefore escaped before
either sees it, so it can only ever show as the text it is.
"""

from __future__ import annotations

import html
import re

# Every ASCII punctuation character is written as a numeric character reference (`&#58;`), which
# CommonMark always reads as literal text: no link, image, heading, emphasis, directive
# (`:red[...]`), maths (`$`) or HTML. A backslash escape is not enough: GitHub's autolinking of bare
# URLs (`https://…`, `www.…`, e-mail addresses), which Streamlit's renderer applies, still links
# `https\:\/\/…`, but it cannot see `://` through character references.
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
# GitHub's autolinking runs on the decoded text after parsing (remark-gfm's find-and-replace over
# text nodes), so no escape can hide `https://`, `www.` or `name@domain.org` from it; a zero-width
# space before the `:`, `.` or `@` that follows a letter or digit breaks every pattern it looks
# for, and shows as nothing. Only where a pattern can start: a `:` or `.` after a letter (a scheme such
# as `https:` or `mailto:`, `www.`), an `@` after any word character. Not inside a number such as 0.45,
# which a reader copies into a spreadsheet: no autolink begins with a digit followed by `.` or `:`.
_LINKABLE = re.compile(r"(?<=[^\W\d])(?=[:.])|(?<=\w)(?=@)")
ZERO_WIDTH_SPACE = "\u200b"
_WHITESPACE = re.compile(r"\s+")
MESSAGE_LIMIT = 60  # characters of an outside value quoted in a message


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP's CSV injection list,
# with the full-width forms some locales of Excel accept too): `=HYPERLINK("http://evil.example","x")`
# in a wing or funder name would reach a funder's Excel live.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def spreadsheet_cell(value: object) -> object:
    """A cell for a CSV a spreadsheet will open: a text that a spreadsheet would run as a formula gets a
    leading apostrophe (shown as the text, never run); a number, or a text that is only a number such
    as "-3" or "-1.5%", is left as it is (a negative number is not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def md(value: object, limit: int | None = MESSAGE_LIMIT) -> str:
    """`value` as literal text inside Markdown: one line, at most `limit` characters (then "…")."""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return _ASCII_PUNCTUATION.sub(lambda m: f"&#{ord(m.group())};", _LINKABLE.sub(ZERO_WIDTH_SPACE, text))


def label(value: object) -> str:
    """`value` as literal text in a Plotly label or hover text (Plotly reads tags and entities)."""
    return html.escape(str(value), quote=False)


def count_of(n: int, singular: str, plural: str | None = None) -> str:
    """"1 workshop", "3 workshops", "1,204 cohorts": a count with its noun in the right number."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def most_often(counts, quote=md) -> str:
    """The most frequent of `counts` (a Series of counts by label, largest first), saying so when
    several are equally frequent instead of naming one of them as the most frequent. `quote` makes a
    label safe where the sentence goes (Markdown by default; a chart's sentence is escaped whole)."""
    top = sorted(counts[counts == counts.iloc[0]].index, key=str)  # ties in one order wherever they are named
    if len(top) == 1:
        return f"most often for {quote(top[0])} ({counts.iloc[0]:,})"
    return f"equally often for {', '.join(quote(label) for label in top[:-1])} and {quote(top[-1])} ({counts.iloc[0]:,} each)"


def first_upper(words: str) -> str:
    """Free text from an extract as a table's row name: its first letter a capital, the rest as written
    ("older prisoners" -> "Older prisoners", "LGBT+" unchanged)."""
    return words[:1].upper() + words[1:]


def month_label(month) -> str:
    """A month as people write it: "Mar 2024"."""
    return month.strftime("%b %Y")


# A day, and a moment, as people write them, in sentences, tables and reports alike: "9 Mar 2024" (no
# leading zero, as the grids' dates are drawn), "9 March 2024" for a publication, "9 Mar 2024 14:05".
DAY = "{0.day} {0:%b %Y}"
LONG_DAY = "{0.day} {0:%B %Y}"
MOMENT = "{0.day} {0:%b %Y %H:%M}"


def day_label(day) -> str:
    return DAY.format(day)


def long_day_label(day) -> str:
    return LONG_DAY.format(day)


def moment_label(moment) -> str:
    return MOMENT.format(moment)
