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
    A store makes them (``Store.cells``): the embedded one with ``count_cells``, PostGIS in SQL.
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
    member: np.ndarray  # a row handle of one of the cell's incidents (of a cell of one: its own)

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
    rows: np.ndarray,
) -> Cells:
    """Group incidents (one entry each; NaN points are skipped) into the cells of ``level``.

    ``status``: zone status codes (``STATUS_CODES``, -1 for none); days as proleptic ordinals;
    ``rows``: each incident's row handle (``Cells.member``).
    """
    located = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = np.asarray(lon)[located], np.asarray(lat)[located]
    col, row = cell_of(lon, lat, level)
    one_hot = np.asarray(status)[located, None] == np.array(list(STATUS_CODES.values()))
    return gathered(level, col, row, np.ones(len(lon), dtype=np.int64), one_hot.astype(np.int64),
                    np.column_stack([lon, lat]), np.column_stack([lon, lat, lon, lat]),
                    np.asarray(first_day)[located], np.asarray(last_day)[located],
                    np.asarray(rows)[located])  # fmt: skip


def gathered(
    level: int, col: np.ndarray, row: np.ndarray, count: np.ndarray, by_status: np.ndarray,
    sums: np.ndarray, extent: np.ndarray, first_day: np.ndarray, last_day: np.ndarray, member: np.ndarray,
) -> Cells:  # fmt: skip
    """The cells of groups of incidents, each group within one cell (a store's partial counts: an
    incident each, or the rows of a SQL GROUP BY): the groups of a cell summed. One entry per
    group; ``sums``: [k, 2] sums of the points' lon and lat; ``extent`` [k, 4]; ``first_day``
    -1 where the group is undated. Vectorised: one sort of the cell keys, then ``reduceat``."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"level must be 0..{MAX_LEVEL}")
    key = np.asarray(col, dtype=np.int64) * (1 << level) + np.asarray(row, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    keys, starts = np.unique(key[order], return_index=True)
    if not len(keys):
        no, ints = np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
        return Cells(level, ints, ints, ints, ints.reshape(0, 4), no[:, 0], no[:, 0], no, ints, ints, ints)

    def total(values: np.ndarray, ufunc: np.ufunc = np.add) -> np.ndarray:
        return ufunc.reduceat(np.asarray(values)[order], starts)

    never = np.iinfo(np.int64).max
    count, sums = total(count), total(sums)
    first = total(np.where(first_day >= 0, first_day, never), np.minimum)
    return Cells(
        level=level,
        col=keys >> level if level else np.zeros(len(keys), dtype=np.int64),
        row=keys & ((1 << level) - 1),
        count=count,
        by_status=total(by_status),
        mean_lon=sums[:, 0] / count,
        mean_lat=sums[:, 1] / count,
        extent=np.column_stack([total(extent[:, :2], np.minimum), total(extent[:, 2:], np.maximum)]),
        first_day=np.where(first == never, -1, first),
        last_day=total(last_day, np.maximum),
        member=total(member, np.minimum),
    )
