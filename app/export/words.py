"""Dates in words for the server's drawings: the same rules as static/js/format.js (``dayText``,
``whenText``), held equal by tests/web/test_state_contract.py."""

from __future__ import annotations

import datetime as dt

PRECISION = {
    "day": "exact day",
    "days": "over several days",
    "month": "within the month",
    "approximate": "approximate dates",
}


def day_text(day: dt.date) -> str:
    """A day in words, as "8 June 2017"."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


def when_text(start: dt.date, end: dt.date, precision: str) -> str:
    """A day, or a span of days with how precise it is (the span joined by an en dash)."""
    span = day_text(start) if start == end else f"{day_text(start)} – {day_text(end)}"
    words = PRECISION.get(precision)
    return f"{span} ({words})" if words and precision != "day" else span
