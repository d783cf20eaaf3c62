"""Counts of incidents per cell of a square grid: what a map draws when more incidents fall in
view than a reader can tell apart, and what a GIS draws as a density grid.

The grid is the WebMercatorQuad tile matrix set (OGC 17-083r4, Annex D; the tiles of web maps):
at ``level`` z the world between ±85.0511° latitude is 2^z by 2^z square cells in Web Mercator,
numbered ``col`` from 180° W eastward and ``row`` from the north. A map at zoom z draws a cell of
level z + 2 as 64 px square, whatever the latitude, so counts per cell are counts per patch of
screen. Incidents are counted at their representative point; an incident with no point (no
source locates it) is in no cell.

The rule is here once, for the API (``app.api.grid``), the map and embed (which call the API)
and the server's SVG (``app.export.svg``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.data.store_api import STATUS_CODES

MAX_LEVEL = 24
MERCATOR_MAX_LAT = 85.0511287798066  # WebMercatorQuad's edge: atan(sinh(pi))


@dataclass(frozen=True)
class Cells:
    """Non-empty cells at one level, sorted by (col, row); arrays of one length.

    ``count``: incidents in the cell; ``by_status``: [n_cells, 4] counts per zone status in the
    order of ``STATUS_CODES``; ``mean_lon``/``mean_lat``: the mean of the incidents' points
    (degrees); ``extent``: [n_cells, 4] minlon, minlat, maxlon, maxlat of those points;
    ``first_day``/``last_day``: earliest start and latest end (proleptic ordinals; -1: undated).
    """

    level: int
    col: np.ndarray
    row: np.ndarray
    count: np.ndarray
    by_status: np.ndarray
    mean_lon: np.ndarray
    mean_lat: np.ndarray
    extent: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray

    def __len__(self) -> int:
        return len(self.count)


def cell_of(lon: np.ndarray, lat: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """The (col, row) of each point at ``level`` (degrees in; latitudes beyond WebMercatorQuad's
    ±85.0511° fall in its first or last row)."""
    n = 1 << level
    x = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0
    phi = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MERCATOR_MAX_LAT, MERCATOR_MAX_LAT))
    y = (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0
    col = np.clip(np.floor(x * n), 0, n - 1).astype(np.int64)
    row = np.clip(np.floor(y * n), 0, n - 1).astype(np.int64)
    return col, row


def cell_bounds(level: int, col: int, row: int) -> tuple[float, float, float, float]:
    """minlon, minlat, maxlon, maxlat (degrees) of one cell."""
    n = 1 << level

    def lat(r: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * r / n))))

    return col / n * 360.0 - 180.0, lat(row + 1), (col + 1) / n * 360.0 - 180.0, lat(row)


def cells_in_box(level: int, bbox: tuple[float, float, float, float]) -> int:
    """How many cells of ``level`` a box covers (a box crossing 180° counts both parts)."""
    minx, miny, maxx, maxy = bbox
    spans = [(minx, maxx)] if minx <= maxx else [(minx, 180.0), (-180.0, maxx)]
    total = 0
    for west, east in spans:
        cols, rows = cell_of(np.array([west, east]), np.array([maxy, miny]), level)
        total += int(cols[1] - cols[0] + 1) * int(rows[1] - rows[0] + 1)
    return total


def count_cells(
    level: int,
    lon: np.ndarray,
    lat: np.ndarray,
    status: np.ndarray,
    first_day: np.ndarray,
    last_day: np.ndarray,
) -> Cells:
    """Group incidents (one entry each; NaN points are skipped) into the cells of ``level``.

    ``status``: zone status codes (``STATUS_CODES``, -1 for none); days as proleptic ordinals.
    Vectorised: one sort of the cell keys, then ``np.bincount`` and ``reduceat`` per column.
    """
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"level must be 0..{MAX_LEVEL}")
    located = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = np.asarray(lon)[located], np.asarray(lat)[located]
    status, first_day, last_day = status[located], first_day[located], last_day[located]
    col, row = cell_of(lon, lat, level)
    key = col * (1 << level) + row
    order = np.argsort(key, kind="stable")
    key, lon, lat = key[order], lon[order], lat[order]
    status, first_day, last_day = status[order], first_day[order], last_day[order]
    keys, starts, count = np.unique(key, return_index=True, return_counts=True)
    n = len(keys)
    slot = np.repeat(np.arange(n), count)
    by_status = np.zeros((n, len(STATUS_CODES)), dtype=np.int64)
    for code in STATUS_CODES.values():
        by_status[:, code] = np.bincount(slot, weights=status == code, minlength=n).astype(np.int64)
    dated = np.where(first_day >= 0, first_day, np.iinfo(np.int64).max)
    empty = np.zeros(0, dtype=np.float64)
    extent = (
        np.column_stack([np.minimum.reduceat(lon, starts), np.minimum.reduceat(lat, starts),
                         np.maximum.reduceat(lon, starts), np.maximum.reduceat(lat, starts)])
        if n else empty.reshape(0, 4)
    )  # fmt: skip
    first = np.minimum.reduceat(dated, starts) if n else np.zeros(0, dtype=np.int64)
    return Cells(
        level=level,
        col=keys >> level if level else np.zeros(n, dtype=np.int64),
        row=keys & ((1 << level) - 1),
        count=count,
        by_status=by_status,
        mean_lon=np.bincount(slot, weights=lon, minlength=n) / np.maximum(count, 1),
        mean_lat=np.bincount(slot, weights=lat, minlength=n) / np.maximum(count, 1),
        extent=extent,
        first_day=np.where(first == np.iinfo(np.int64).max, -1, first),
        last_day=np.maximum.reduceat(last_day, starts) if n else np.zeros(0, dtype=np.int64),
    )
