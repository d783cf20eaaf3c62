"""The map's URL state on the server side: the same parameters as static/js/state.js.

Used by the embed page, the SVG image and oEmbed. Values that do not parse are ignored (as in
the browser), so a damaged shared link still shows the map.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from app.data.store_api import NO_DAY, STATUS_CODES, ItemQuery, Tally, features
from app.served import Served

STATE_KEYS = ("v", "from", "to", "types", "status", "sel")
STATUSES = ("inside", "uncertain", "contested", "outside")
# The same rules as static/js/state.js (held equal by tests/web/test_state_contract.py): zoom in
# quarter steps from 1 to 18, latitude within Web Mercator's 85 degrees, at most 20 list values.
ZOOM_SNAP = 0.25
ZOOM_RANGE = (1.0, 18.0)
MAX_LAT = 85.0
CENTRE_DECIMALS = 5
NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def snap_zoom(zoom: float) -> float:
    """The nearest quarter step within ZOOM_RANGE (as the map's ``zoomSnap``)."""
    zoom = min(ZOOM_RANGE[1], max(ZOOM_RANGE[0], zoom))  # clamped first: 1e308 / 0.25 overflows
    return math.floor(zoom / ZOOM_SNAP + 0.5) * ZOOM_SNAP  # JavaScript's Math.round


@dataclass(frozen=True)
class MapState:
    view: tuple[float, float, float] | None = None  # lat, lon, zoom
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    types: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    sel: str | None = None


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text and DAY.fullmatch(text) else None
    except ValueError:
        return None


def parse_state(params: Mapping[str, str]) -> MapState:
    view = None
    if "v" in params:
        parts = params["v"].split(",")
        lat = lon = zoom = math.nan
        if len(parts) == 3 and all(NUMBER.fullmatch(x) for x in parts):
            lat, lon, zoom = (float(x) for x in parts)
        if all(math.isfinite(x) for x in (lat, lon, zoom)) and abs(lat) <= MAX_LAT and abs(lon) <= 180:
            view = (lat, lon, snap_zoom(zoom))

    def listed(name: str) -> tuple[str, ...] | None:
        return tuple(v for v in params[name].split(",") if v)[:20] if name in params else None

    return MapState(
        view=view,
        date_from=_date(params.get("from")),
        date_to=_date(params.get("to")),
        types=listed("types"),
        statuses=listed("status"),
        sel=(params.get("sel") or "")[:200] or None,
    )


def state_query(params: Mapping[str, str]) -> str:
    """Only the state parameters of a query, re-encoded (commas kept readable)."""
    kept = {k: params[k][:500] for k in STATE_KEYS if k in params}
    return urlencode(kept).replace("%2C", ",")


def visible_query(state: MapState) -> ItemQuery:
    """The items query of the incidents the map state shows (a status filter naming no known
    status shows none: it asks for no id)."""
    statuses = frozenset(s for s in state.statuses or () if s in STATUS_CODES)
    return ItemQuery(
        start=state.date_from,
        end=state.date_to,
        has_time_filter=state.date_from is not None or state.date_to is not None,
        in_zone=statuses,
        event_types=frozenset(state.types) if state.types is not None else None,
        ids=frozenset() if state.statuses is not None and not statuses else None,
    )


def selected_row(served: Served, state: MapState) -> int | None:
    """The row of the selected incident if the state shows it (one page of one feature)."""
    query = visible_query(state)
    if not state.sel or query.ids is not None:
        return None
    _, rows = served.stores["events"].page(dataclasses.replace(query, ids=frozenset({state.sel})), 0, 1)
    return int(rows[0]) if len(rows) else None


def years_text(served: Served) -> str:
    """The years the incidents span, from the data ("2016" and "2024" joined by an en dash)."""
    first, last = served.stores["events"].interval()
    if first is None or last is None:
        return "no incidents"
    return first[:4] if first[:4] == last[:4] else f"{first[:4]}–{last[:4]}"


def _month(day: dt.date) -> str:
    return day.strftime("%B %Y")


def _day(day: dt.date) -> str:
    return f"{day.day} {_month(day)}"


def period_words(start: dt.date, end: dt.date) -> tuple[str, str, str]:
    """The period a range of days covers, in words, as static/js/list.js's periodWords: a whole
    month ("June 2017"), a whole year ("2017"), or its first and last days. Returns (during,
    start, end): "in June 2017", "June 2017", "June 2017"."""
    last_day = calendar.monthrange(end.year, end.month)[1]
    if start.day == 1 and end.day == last_day and start.year == end.year:
        if start.month == end.month:
            return f"in {_month(start)}", _month(start), _month(end)
        if start.month == 1 and end.month == 12:
            return f"in {start.year}", str(start.year), str(end.year)
    return f"from {_day(start)} to {_day(end)}", _day(start), _day(end)


def summary_text(served: Served, state: MapState, shown: Tally | None = None) -> str:
    """The same sentence as the page's summary (static/js/list.js): how many incidents the state
    shows, when (the period chosen, or the months they span), how many by zone status; for a
    period chosen, how many of them began before it or went on after it (an incident is shown
    when its days meet the period, as the API's datetime filter does). ``shown``: the store's
    tally of them (``visible_query``), if the caller has it."""
    events = served.stores["events"]
    shown = events.tally(visible_query(state)) if shown is None else shown
    radius = f"{served.zone.radius_m / 1000:g}"
    head = f"Map of the {radius} km At Tanf de-confliction zone."
    if not shown.matched:
        return f"{head} No incidents match the filters ({len(events)} in all)."
    counts, note = _counts(served, state, shown)
    unlocated = shown.matched - shown.located_count
    note += f" {unlocated} not located on the map." if unlocated else ""
    props = _selected(served, state)
    if props is not None:
        note += f" Selected: {props['title']}. {props['zone_answer']}"
    return f"{head} {counts}{note}"


def caption_text(served: Served, state: MapState, shown: Tally | None = None) -> str:
    """The static embed's caption, short enough for two or three lines of a 320 px frame (the
    whole of ``summary_text`` is the image's alt text, "Open the full map" the rest): the selected
    incident's answer and title ("Contested: Coalition strike on ..."), or else how many
    incidents, when and by zone status ("36 incidents from June 2016 to December 2024: 27
    inside, 1 uncertain, 2 contested, 6 outside.")."""
    shown = served.stores["events"].tally(visible_query(state)) if shown is None else shown
    if not shown.matched:
        return f"No incidents match the filters ({len(served.stores['events'])} in all)."
    props = _selected(served, state)
    if props is not None:  # the answer's headline is "<label>: <who says what>"
        return f"{props['zone_answer'].split(':', 1)[0]}: {props['title']}"
    return _counts(served, state, shown)[0]


def _selected(served: Served, state: MapState) -> dict[str, Any] | None:
    row = selected_row(served, state)
    if row is None:
        return None
    props: dict[str, Any] = features(served.stores["events"], [row])[0]["properties"]
    return props


def span_words(first: str, last: str) -> str:
    """The months the incidents shown span, in words: "in June 2018" when they are one month,
    else "from June 2016 to December 2024" (static/js/list.js words it the same)."""
    return f"in {first}" if first == last else f"from {first} to {last}"


def _counts(served: Served, state: MapState, shown: Tally) -> tuple[str, str]:
    """("36 incidents from June 2016 to December 2024: 27 inside, ... 6 outside.", and for a
    period chosen " 2 of them began before June 2017." and so on) for the ``shown`` incidents."""
    events = served.stores["events"]
    total, matched, dated = len(events), shown.matched, shown.start != NO_DAY
    first = dt.date.fromordinal(int(shown.start[dated].min()))
    last = dt.date.fromordinal(int(shown.end[dated].max()))
    count = f"{total} incidents" if matched == total else f"{matched} of {total} incidents"
    statuses = shown.by_status()
    by_status = ", ".join(f"{statuses[s]} {s}" for s in STATUSES)
    when = span_words(_month(first), _month(last))
    note = ""
    data_first, data_last = (dt.date.fromisoformat(d) if d else None for d in events.interval())
    if data_first and data_last:
        chosen_from, chosen_to = state.date_from or data_first, state.date_to or data_last
        if chosen_from > data_first or chosen_to < data_last:
            when, start_words, end_words = period_words(chosen_from, chosen_to)
            before = int(shown.count[shown.start < chosen_from.toordinal()].sum())
            after = int(shown.count[shown.end > chosen_to.toordinal()].sum())
            note += f" {before} of them began before {start_words}." if before else ""
            note += f" {after} of them went on after {end_words}." if after else ""
    return f"{count} {when}: {by_status}.", note
