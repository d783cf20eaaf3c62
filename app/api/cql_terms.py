"""What both CQL2 compilers share (the embedded store's ``app.api.cql_eval`` and the PostGIS
store's ``app.api.cql_sql``): how a literal is read (dates and timestamps in µs since 1970, LIKE
patterns, CASEI/ACCENTI folding), a queryable's kind, and the temporal and spatial relations by
their CQL2 names (OGC 21-065r2, 7.10-7.12).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from app.errors import BadRequest

DAY_US = 86_400_000_000
EPOCH = dt.date(1970, 1, 1).toordinal()
OPEN_LOW, OPEN_HIGH = np.iinfo(np.int64).min, np.iinfo(np.int64).max
# RFC 3339 §5.6: a time's seconds may be 60 (a leap second, e.g. 2016-12-31T23:59:60Z), as in
# ``app.api.params``.
LEAP_SECOND = re.compile(r"^(.{10}[Tt ]\d\d:\d\d:)60(?=[.,]\d+|[Zz+-]|$)")
SPATIAL = {
    "s_intersects": shapely.intersects, "s_equals": shapely.equals, "s_disjoint": shapely.disjoint,
    "s_touches": shapely.touches, "s_within": shapely.within, "s_overlaps": shapely.overlaps,
    "s_crosses": shapely.crosses, "s_contains": shapely.contains,
}  # fmt: skip
# CQL2 temporal relations of closed intervals a = [a0, a1], b = [b0, b1] (OGC 21-065r2, 7.12).
TEMPORAL: dict[str, Callable[[Any, Any, Any, Any], Any]] = {
    "t_after": lambda a0, a1, b0, b1: a0 > b1,
    "t_before": lambda a0, a1, b0, b1: a1 < b0,
    "t_contains": lambda a0, a1, b0, b1: (a0 < b0) & (a1 > b1),
    "t_disjoint": lambda a0, a1, b0, b1: (a0 > b1) | (a1 < b0),
    "t_during": lambda a0, a1, b0, b1: (a0 > b0) & (a1 < b1),
    "t_equals": lambda a0, a1, b0, b1: (a0 == b0) & (a1 == b1),
    "t_finishedby": lambda a0, a1, b0, b1: (a0 < b0) & (a1 == b1),
    "t_finishes": lambda a0, a1, b0, b1: (a0 > b0) & (a1 == b1),
    "t_intersects": lambda a0, a1, b0, b1: (a0 <= b1) & (a1 >= b0),
    "t_meets": lambda a0, a1, b0, b1: a1 == b0,
    "t_metby": lambda a0, a1, b0, b1: a0 == b1,
    "t_overlappedby": lambda a0, a1, b0, b1: (a0 > b0) & (a0 < b1) & (a1 > b1),
    "t_overlaps": lambda a0, a1, b0, b1: (a0 < b0) & (a1 > b0) & (a1 < b1),
    "t_startedby": lambda a0, a1, b0, b1: (a0 == b0) & (a1 > b1),
    "t_starts": lambda a0, a1, b0, b1: (a0 == b0) & (a1 < b1),
}


def kind_of(schema: dict[str, Any]) -> str:
    if str(schema.get("format", "")).startswith("geometry"):
        return "geometry"
    if schema.get("format") in ("date", "date-time"):
        return "time"
    types = schema.get("type")
    names = [types] if isinstance(types, str) else [t for t in (types or []) if t != "null"]
    first = names[0] if names else "string"
    return {"integer": "number", "number": "number", "boolean": "boolean"}.get(first, "string")


def time_span(text: str, name: str | None, error: Callable[[], BadRequest] | None = None) -> tuple[int, int]:
    """A date (its whole UTC day) or an RFC 3339 timestamp (one instant), in µs since 1970."""
    if len(text) == 11 and text[-1] in "Tt":  # GDAL writes a date as "2017-06-01T"
        text = text[:-1]
    try:
        if len(text) == 10:
            first = (dt.date.fromisoformat(text).toordinal() - EPOCH) * DAY_US
            return first, first + DAY_US - 1
        leap = LEAP_SECOND.match(text)
        iso = LEAP_SECOND.sub(r"\g<1>59", text) if leap else text
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00").replace("z", "+00:00"))
        if leap:  # the last instant of second 59, as the ``datetime`` parameter reads it
            moment = moment.replace(microsecond=999_999)
    except ValueError:
        if error is not None:
            raise error() from None
        raise ValueError(f"property {name!r}: {text!r} is not a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    us = (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return us, us


def literal_time(node: Any) -> str | None:
    """The text of a date or timestamp literal (an INTERVAL's end), or None (``'..'``, a property)."""
    if isinstance(node, dict):
        node = node.get("date") or node.get("timestamp")
    return node if isinstance(node, str) and node != ".." else None


def folder_for(op: str) -> Callable[[str], str]:
    if op == "casei":
        return str.casefold
    return lambda s: "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def folding(node: Any) -> Callable[[str], str]:
    """The folding the pattern's CASEI/ACCENTI wrappers ask for (the subject is folded by its own)."""
    steps: list[Callable[[str], str]] = []
    while isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti"):
        steps.append(folder_for(str(node["op"]).lower()))
        node = node["args"][0]

    def fold(text: str) -> str:
        for step in steps:
            text = step(text)
        return text

    return fold


def unwrap(node: Any) -> Any:
    while isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti"):
        node = node["args"][0]
    return node


def like_regex(pattern: str) -> str:
    """A CQL2 LIKE pattern as a regular expression: ``%`` any run, ``_`` one character,
    ``\\`` escapes the next character."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)
