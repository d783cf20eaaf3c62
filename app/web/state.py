"""The map's URL state on the server side: the same parameters as static/js/state.js.

Used by the embed page, the SVG image and oEmbed. Values that do not parse are ignored (as in
the browser), so a damaged shared link still shows the map.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from app.data.store_api import STATUS_CODES, ItemQuery, features
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


def visible_incidents(served: Served, state: MapState) -> np.ndarray:
    """Indices (in the events collection) of the incidents the map state shows."""
    statuses = frozenset(s for s in state.statuses or () if s in STATUS_CODES)
    if state.statuses is not None and not statuses:
        return np.zeros(0, dtype=np.int64)  # a status filter naming no known status shows nothing
    query = ItemQuery(
        start=state.date_from,
        end=state.date_to,
        has_time_filter=state.date_from is not None or state.date_to is not None,
        in_zone=statuses,
        event_types=frozenset(state.types) if state.types is not None else None,
    )
    return served.stores["events"].query(query)


def years_text(served: Served) -> str:
    """The years the incidents span, from the data ("2016" and "2024" joined by an en dash)."""
    first, last = served.stores["events"].interval()
    if first is None or last is None:
        return "no incidents"
    return first[:4] if first[:4] == last[:4] else f"{first[:4]}–{last[:4]}"


def _month(day: dt.date) -> str:
    return day.strftime("%B %Y")


def summary_text(served: Served, state: MapState) -> str:
    """The same sentence as the page's summary (static/js/list.js)."""
    events = served.stores["events"]
    total = len(events)
    shown = visible_incidents(served, state)
    radius = f"{served.zone.radius_m / 1000:g}"
    head = f"Map of the {radius} km At Tanf de-confliction zone."
    if not len(shown):
        return f"{head} No incidents match the filters ({total} in all)."
    starts, ends = events.days(shown)
    first, last = dt.date.fromordinal(int(starts.min())), dt.date.fromordinal(int(ends.max()))
    count = f"{total} incidents" if len(shown) == total else f"{len(shown)} of {total} incidents"
    codes = events.statuses(shown)
    by_status = ", ".join(f"{int((codes == STATUS_CODES[s]).sum())} {s}" for s in STATUSES)
    unlocated = int((~events.located(shown)).sum())
    note = f" {unlocated} not located on the map." if unlocated else ""
    selected = events.get(state.sel) if state.sel else None
    if selected is not None and selected in shown:
        props = features(events, [selected])[0]["properties"]
        note += f" Selected: {props['title']}. {props['zone_answer']}"
    return f"{head} {count} from {_month(first)} to {_month(last)}: {by_status}.{note}"
