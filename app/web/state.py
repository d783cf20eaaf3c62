"""The map's URL state on the server side: the same parameters as static/js/state.js.

Used by the embed page, the SVG image and oEmbed. Values that do not parse are ignored (as in
the browser), so a damaged shared link still shows the map.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from app.data.catalog import Catalog, DerivedIncident

STATE_KEYS = ("v", "from", "to", "types", "status", "sel")
STATUSES = ("inside", "uncertain", "outside")


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
        return dt.date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None


def parse_state(params: Mapping[str, str]) -> MapState:
    view = None
    if "v" in params:
        try:
            lat, lon, zoom = (float(x) for x in params["v"].split(","))
        except ValueError:
            lat = lon = zoom = math.nan
        if all(math.isfinite(x) for x in (lat, lon, zoom)) and abs(lat) <= 85 and abs(lon) <= 180:
            view = (lat, lon, float(min(18, max(1, round(zoom * 2) / 2))))

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


def visible_incidents(catalog: Catalog, state: MapState) -> list[DerivedIncident]:
    out = []
    for d in catalog.incidents:
        inc = d.incident
        if state.date_from and inc.date.last < state.date_from:
            continue
        if state.date_to and inc.date.start > state.date_to:
            continue
        if state.types is not None and inc.event_type not in state.types:
            continue
        if state.statuses is not None and d.status not in state.statuses:
            continue
        out.append(d)
    return out


def _month(day: dt.date) -> str:
    return day.strftime("%B %Y")


def summary_text(catalog: Catalog, state: MapState) -> str:
    """The same sentence as the page's summary (static/js/list.js)."""
    everything = catalog.incidents
    shown = visible_incidents(catalog, state)
    radius = f"{catalog.zone.radius_m / 1000:g}"
    head = f"Map of the {radius} km At Tanf de-confliction zone."
    if not shown:
        return f"{head} No incidents match the filters ({len(everything)} in all)."
    first = min(d.incident.date.start for d in shown)
    last = max(d.incident.date.last for d in shown)
    count = f"{len(everything)} incidents" if len(shown) == len(everything) else (
        f"{len(shown)} of {len(everything)} incidents")  # fmt: skip
    by_status = ", ".join(f"{sum(d.status == s for d in shown)} {s}" for s in STATUSES)
    unlocated = sum(d.point is None for d in shown)
    note = f" {unlocated} not located on the map." if unlocated else ""
    return f"{head} {count} from {_month(first)} to {_month(last)}: {by_status}.{note}"
