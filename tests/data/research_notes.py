"""The research notes (copies in tests/data/research/) read as the dataset tests need them.

Two readings, both of the notes' own layout:

- ``passages``: every table row, list item and paragraph, each with the text that names its
  source. A list item names its source itself when it holds an address (``http...``); otherwise
  the nearest enclosing item that holds one does ("- **Reuters via The Straits Times**, ..., URL"
  above its quoted sub-items); with no address anywhere above, the item's own words (outlet names)
  are all there is. A table row names its sources in its own cells.
- ``reported_incidents``: the incidents the notes list, from the events table of
  ``at-tanf-facts.md`` (section 3) and the headings and numbered items of
  ``incidents-2016-2025.md`` (sections 1 and 2), each with the date span its words give.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import RESEARCH

FACTS_FILE = RESEARCH / "at-tanf-facts.md"
INCIDENTS_FILE = RESEARCH / "incidents-2016-2025.md"
CNN_FILE = RESEARCH / "cnn-2017-06-08-at-tanf-article.txt"
NOTES = (FACTS_FILE, INCIDENTS_FILE)


def normalise(text: str) -> str:
    """Markdown bold marks and quote escapes (``\\"``) dropped, runs of white space made one."""
    return re.sub(r"\s+", " ", text.replace("**", "").replace('\\"', '"')).strip()


@dataclass(frozen=True)
class Passage:
    file: str
    text: str  # normalised
    names: str  # normalised text that names the passage's source(s)


_ITEM = re.compile(r"^(\s*)(?:-|\d+\.)\s")


def _passages_of(path: Path) -> list[Passage]:
    items: list[tuple[int, list[str], int | None]] = []  # (indent, lines, parent index)
    out: list[Passage] = []
    current: int | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            current = None
            continue
        if line.startswith("|"):
            out.append(Passage(path.name, normalise(line), normalise(line)))
            current = None
            continue
        match = _ITEM.match(line)
        if match is None and current is not None:
            items[current][1].append(line)  # a wrapped line of the current item
            continue
        indent = len(match.group(1)) if match else -1
        parent = current
        while parent is not None and items[parent][0] >= indent:
            parent = items[parent][2]
        items.append((indent, [line], parent))
        current = len(items) - 1
    for index, (_, lines, _) in enumerate(items):
        text = normalise(" ".join(lines))
        names, up = text, index
        while up is not None and "http" not in normalise(" ".join(items[up][1])):
            up = items[up][2]
        if up is not None:
            names = normalise(" ".join(items[up][1]))
        out.append(Passage(path.name, text, names))
    return out


PASSAGES = [p for path in NOTES for p in _passages_of(path)]
CNN_ARTICLE = normalise(CNN_FILE.read_text(encoding="utf-8"))


def passages_with(words: str) -> list[Passage]:
    """The passages of the notes in which ``words`` stand verbatim."""
    words = normalise(words)
    return [p for p in PASSAGES if words in p.text]


# ---- the incidents the notes list -------------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}


@dataclass(frozen=True)
class ReportedIncident:
    where: str  # file and the entry's own words, for messages
    title: str
    first: dt.date
    last: dt.date


def date_span(words: str, default_year: int | None) -> tuple[dt.date, dt.date]:
    """The days a date as the notes write it can mean: "13-14 Jun", "late May - 1 Jun" (with
    en dashes in the notes), "1, 6, 7 Sep 2018", "early Jan 2018" (the whole month), "Late
    October / early November 2023".

    Parenthesised asides ("(CNN: Monday 19 Jun)") are not the entry's date and are dropped.
    Raises ValueError when the words hold no month, or no year and there is no default.
    """
    words = re.sub(r"\([^)]*\)", " ", words.replace("**", ""))
    years = [int(y) for y in re.findall(r"\b(\d{4})\b", words)]
    year = years[0] if years else default_year
    if year is None:
        raise ValueError(f"no year in {words!r}")
    words = re.sub(r"\b\d{4}\b", " ", words)
    days: list[dt.date] = []
    pending: list[int] = []
    for token in re.findall(r"\d{1,2}|[A-Za-z]+", words):
        if token.isdigit():
            pending.append(int(token))
            continue
        month = _MONTHS.get(token.lower())
        if month is None:
            continue
        last_day = calendar.monthrange(year, month)[1]
        numbers = pending or [1, last_day]
        days += [dt.date(year, month, d) for d in numbers]
        pending = []
    if not days:
        raise ValueError(f"no date in {words!r}")
    return min(days), max(days)


def _facts_events() -> list[ReportedIncident]:
    text = FACTS_FILE.read_text(encoding="utf-8")
    table = text.split("## 3. Events", 1)[1].split("###", 1)[0]
    out = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or cells[0].startswith(("Date", "---")):
            continue
        first, last = date_span(cells[0], default_year=2017)  # "Date (2017 unless stated)"
        out.append(ReportedIncident(f"{FACTS_FILE.name}: {cells[0]} {cells[2]}", cells[2], first, last))
    return out


_ENTRY = re.compile(r"^(?:### |\d+\. \*\*)(?P<date>[^:]+): (?P<title>[^*\n]+)")


def _notes_entries() -> list[ReportedIncident]:
    text = INCIDENTS_FILE.read_text(encoding="utf-8")
    body = text.split("## 1.", 1)[1]
    out = []
    for line in body.splitlines():
        match = _ENTRY.match(line)
        if match is None:
            continue
        first, last = date_span(match["date"], default_year=None)
        title = match["title"].strip(" *.")
        out.append(ReportedIncident(f"{INCIDENTS_FILE.name}: {line.strip()}", title, first, last))
    return out


def reported_incidents() -> list[ReportedIncident]:
    return _facts_events() + _notes_entries()


_COMMON = {"with", "from", "near", "into", "after", "over", "same", "their", "that", "this", "when"}


def title_words(title: str) -> set[str]:
    """The words of a title that can tell one incident from another (four letters or more)."""
    return {w for w in re.findall(r"[a-z0-9]+", title.lower()) if len(w) >= 4 and w not in _COMMON}
