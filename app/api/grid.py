"""``/api/collections/events/grid``: incidents counted per cell of the WebMercatorQuad grid, as
GeoJSON (one polygon feature per non-empty cell), with the items' filters.

What the map and the embed load instead of markers when more incidents fall in view than a
reader can tell apart (``static/js/view-data.js``), and a density grid for a GIS. The grid and
its counting are ``app.data.grid``; caching (ETag on the dataset version, 304, gzip, answers
kept) is the API's, as for every other answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app import urls
from app.api import formats
from app.api import params as declared
from app.api.cql import compile_filter
from app.api.params import Parameter, Parameters, parse_crs, parse_item_query, reject_unknown
from app.data.grid import MAX_LEVEL, Cells, cell_bounds
from app.data.store_api import STATUS_CODES, Store, Tally, iso_day
from app.errors import BadRequest, NotFound, problem_responses

router = APIRouter(prefix="/api", tags=["Aggregation"], responses={**problem_responses(400, 404, 406, 500)})

MAX_CELLS = 10_000  # non-empty cells in one answer; beyond, a coarser level or a smaller bbox
GRID_PARAMS = {"f", "level", "bbox", "bbox-crs", "datetime", "in_zone", "min_p_inside", "near",
               "within_km", "event_type", "sub_event_type", "q", "filter", "filter-lang",
               "filter-crs"}  # fmt: skip
STATUSES = list(STATUS_CODES)

LEVEL_DOC = (
    f"Required. The level (0..{MAX_LEVEL}) of the WebMercatorQuad grid (OGC 17-083r4): 2^level "
    "cells a side, the tiles of web maps; a map at zoom z shows a cell of level z+2 as 64 px."
)


LEVEL = Parameter("level", LEVEL_DOC)
GRID = Parameters(
    declared.COLLECTION_ID,
    LEVEL,
    declared.F,
    declared.BBOX,
    declared.BBOX_CRS,
    declared.DATETIME,
    declared.IN_ZONE,
    declared.MIN_P_INSIDE,
    declared.NEAR,
    declared.WITHIN_KM,
    declared.EVENT_TYPE,
    declared.SUB_EVENT_TYPE,
    declared.Q,
    declared.FILTER,
    declared.FILTER_LANG,
    declared.FILTER_CRS,
)


def parse_level(text: str | None) -> int:
    """The grid level: an integer 0..MAX_LEVEL, required (400 naming ``level`` otherwise)."""
    if text is None:
        raise BadRequest(f"parameter 'level' is required: an integer 0..{MAX_LEVEL}", "level")
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_LEVEL:
        raise BadRequest(f"parameter 'level' must be an integer 0..{MAX_LEVEL}, got {text[:40]!r}", "level")
    return int(text)


def _cell_feature(cells: Cells, k: int) -> dict[str, Any]:
    col, row = int(cells.col[k]), int(cells.row[k])
    west, south, east, north = (round(v, 6) for v in cell_bounds(cells.level, col, row))
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "type": "Feature",
        "id": f"{cells.level}/{col}/{row}",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "level": cells.level,
            "col": col,
            "row": row,
            "count": int(cells.count[k]),
            **{s: int(cells.by_status[k, STATUS_CODES[s]]) for s in STATUSES},
            "mean_lon": round(float(cells.mean_lon[k]), 5),
            "mean_lat": round(float(cells.mean_lat[k]), 5),
            "points_bbox": [round(float(v), 5) for v in cells.extent[k]],
            "date_start": iso_day(int(cells.first_day[k])),
            "date_end": iso_day(int(cells.last_day[k])),
        },
    }


_EPOCH = dt.date(1970, 1, 1).toordinal()


def _periods(starts: np.ndarray, ends: np.ndarray, count: np.ndarray, unit: str) -> dict[str, int]:
    """How many incidents each year (``unit`` "Y": "2017") or month ("M": "2017-06") holds: those
    whose dates touch it, as the items' ``datetime`` filter of that period counts them. Periods
    that hold none are left out. ``starts``/``ends``: proleptic Gregorian ordinals of groups of
    dated incidents, ``count`` incidents each."""
    if not len(starts):
        return {}

    def index(days: np.ndarray) -> np.ndarray:
        as_dates = (days.astype(np.int64) - _EPOCH).astype("datetime64[D]")
        return as_dates.astype(f"datetime64[{unit}]").astype(np.int64)

    first, last = index(starts), index(ends)
    low = int(first.min())
    change = np.zeros(int(last.max()) - low + 2, dtype=np.int64)
    np.add.at(change, first - low, count)
    np.add.at(change, last - low + 1, -count)
    counts = np.cumsum(change)[:-1]
    names = np.arange(low, low + len(counts)).astype(f"datetime64[{unit}]").astype(str)
    return {str(name): int(n) for name, n in zip(names, counts, strict=True) if n}


def _totals(tally: Tally, periods: bool) -> dict[str, Any]:
    """Counts of every matched incident (located or not) by zone status and by event type, the
    first and last day among them, and with ``periods`` (level 0: the dataset, or the filters'
    matches, in a few numbers) how many each year and month holds (the map's period menu)."""
    dated = tally.start >= 0
    starts, ends, count = tally.start[dated], tally.end[dated], tally.count[dated]
    interval = [iso_day(int(starts.min())), iso_day(int(ends.max()))] if dated.any() else None
    totals: dict[str, Any] = {
        "zone_status": tally.by_status(),
        "event_type": tally.by_type(),
        "interval": interval,
    }
    if periods:
        totals["years"] = _periods(starts, ends, count, "Y")
        totals["months"] = _periods(starts, ends, count, "M")
    return totals


@router.get(
    "/collections/{collectionId}/grid",
    summary="Incidents counted per grid cell (GeoJSON polygons), with the items' filters",
    operation_id="getGrid",
    responses={200: {"content": {formats.GEOJSON: {"schema": {"type": "object"}}, "text/html": {}}}},
    openapi_extra=GRID.openapi_extra(),
)
async def grid(request: Request) -> Response:
    """One feature per non-empty cell: its square as a polygon, ``count``, the counts per zone
    status (``inside`` ... ``contested``), the mean of its incidents' points (``mean_lon``,
    ``mean_lat``), their ``points_bbox`` and first and last day. At the top: ``numberMatched``
    (every incident the filters match, located or not), ``numberLocated`` (the sum of the
    counts) and ``totals`` by zone status and event type. The other parameters (``min_p_inside``,
    ``near``/``within_km``, ``sub_event_type``, ``q``, ``filter-lang``) are those of items."""
    collectionId = request.path_params["collectionId"]
    if collectionId != "events":
        raise NotFound(f"collection {collectionId[:60]!r} has no grid; incidents are counted in 'events'")
    params = request.query_params
    reject_unknown(params, GRID_PARAMS)
    for name in ("bbox-crs", "filter-crs"):
        if name in params:
            parse_crs(params[name], name)
    cell_level = parse_level(params.get("level"))
    query = parse_item_query(params)
    if "filter" in params:
        query = dataclasses.replace(
            query, filter=compile_filter(params["filter"], params.get("filter-lang"), "events")
        )
    elif "filter-lang" in params:
        compile_filter("true", params["filter-lang"], "events")
    fmt = formats.negotiate(request)
    store: Store = request.app.state.stores["events"]
    # Counted by the store where it holds them (PostGIS: GROUP BY in SQL), no match read one by one.
    if store.blocking:  # a database: two statements at once, each waiting on it off the event loop
        tally, cells = await asyncio.gather(
            run_in_threadpool(store.tally, query), run_in_threadpool(store.cells, query, cell_level)
        )
    else:
        tally, cells = store.tally(query), store.cells(query, cell_level)
    totals, matched = _totals(tally, cell_level == 0), tally.matched
    if len(cells) > MAX_CELLS:
        raise BadRequest(
            f"parameter 'level': {len(cells)} cells hold incidents at level {cell_level}, more than "
            f"{MAX_CELLS} in one answer; ask a lower level or a smaller bbox",
            "level",
        )
    path = urls.route_path(request)
    items_params = {k: v for k, v in params.items() if k not in ("level", "f")}
    doc = {
        "type": "FeatureCollection",
        "grid": "WebMercatorQuad",
        "level": cell_level,
        "numberMatched": matched,
        "numberLocated": int(cells.count.sum()),
        "numberReturned": len(cells),
        "totals": totals,
        "dataset_version": request.app.state.served.version,
        "links": [
            {"href": urls.link(request, path, dict(params)), "rel": "self", "type": formats.GEOJSON},
            {"href": urls.link(request, path.removesuffix("/grid") + "/items", items_params), "rel": "items",
             "type": formats.GEOJSON, "title": "The incidents counted here"},
        ],
        "features": [_cell_feature(cells, k) for k in range(len(cells))],
    }  # fmt: skip
    if fmt == "html":
        return HTMLResponse(formats.html_page("Incidents per grid cell", doc, urls.root(request)))
    return JSONResponse(doc, media_type=formats.GEOJSON)
