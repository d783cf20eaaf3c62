"""The embedded store: one collection's features as typed columns (``app.data.schema``), every
filter a numpy comparison of columns, then shapely (GEOS) for the few polygons left to test.

- ``bbox``: the features whose bounds meet the box, then the exact test for polygons;
- ``near``: those whose bounds meet a safe degree box, then the exact geodesic test
  (``app.geo.near``) for points, and for regions their distance bounds or, where those leave it
  open, their intersection with the geodesic disc;
- ``datetime``, zone status, types, ``min_p_inside``: a comparison of a column (at 100,000
  features, a fraction of a millisecond); ``q``: pyarrow's substring search over what is left.

Bodies are the stored GeoJSON ("heads"); a polygon is kept as WKB and written into its body on
request. A store built from rows (``from_rows``) or mapped from its Arrow file (``load``) is the same.
The ``Store`` protocol (``app.data.store_api``) documents what each method answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from app.data.grid import Cells, count_cells
from app.data.schema import Columns, Row, numbers, to_arrow, true
from app.data.store_api import (
    NO_DAY,
    STATUS_CODES,
    Attributes,
    ItemQuery,
    Store,
    Tally,
    iso_day,
    with_geometries,
)
from app.data.store_file import columns_of, read
from app.geo import near as geo_near
from app.geo.shapes import MAX_CHORD_ERROR_M

# A disc inside a region within this much less than the distance settles the region (the disc a
# region is tested against lies within MAX_CHORD_ERROR_M inside the true circle).
POINT_SLACK_M = MAX_CHORD_ERROR_M + 0.75


def any_of(codes: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    """Whether each code is one of ``wanted``: a comparison per code (``np.isin`` took 70 times as
    long for the one or two statuses or types a request names)."""
    hit = np.zeros(len(codes), dtype=bool)
    for code in wanted:
        hit |= codes == code
    return hit


class FeatureStore:
    """One collection's features: filters over the columns, bodies as bytes."""

    blocking = False  # everything is in memory (or mapped): no waiting on a server

    def __init__(self, columns: Columns) -> None:
        self.columns = c = columns  # read-only
        self._spliced = true(c.geometry.is_valid())  # a polygon, written into its body on request
        self.regions: FeatureStore | None = self if self._spliced.any() else None  # what near tests
        self.owner_rows = np.full(len(c), -1, dtype=np.int64)  # a region's incident's row (link)
        b, dated = c.bounds[~np.isnan(c.bounds[:, 0])], c.days[c.days[:, 0] != NO_DAY]
        self._bounds = [*b[:, :2].min(0).tolist(), *b[:, 2:].max(0).tolist()] if len(b) else None
        first, last = (dated[:, 0].min(), dated[:, 1].max()) if len(dated) else (None, None)
        self._interval = (iso_day(first), iso_day(last))

    def link(self, regions: FeatureStore) -> None:
        """The events' ``near`` filter tests these regions too (each owned by one of our rows)."""
        at = pc.index_in(regions.columns.owner, value_set=self.columns.id)
        regions.owner_rows = np.where(true(at.is_valid()), numbers(at.fill_null(0)), -1).astype(np.int64)
        self.regions = regions

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.columns)

    def answers(self) -> None:
        """Always: nothing here waits on a server."""

    def ids(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        return _take(self.columns.id, rows)

    def head(self, row: int) -> bytes:
        return _take(self.columns.head, [row])[0]  # type: ignore[no-any-return]  # never null

    def body(self, row: int, simplify_m: int | None = None) -> bytes:
        return self.bodies([row], simplify_m)[0]

    def geometries(self, rows: np.ndarray) -> np.ndarray:
        wkb = np.empty(len(rows), dtype=object)
        wkb[:] = _take(self.columns.geometry, rows)
        geoms: np.ndarray = shapely.from_wkb(wkb)
        return geoms

    def shapes(self, rows: np.ndarray) -> np.ndarray:
        """The served geometry of each feature as shapely (None where it has none): a point
        from its bounds (a point's box is the point), anything else from its WKB."""
        rows = np.asarray(rows, dtype=np.int64)
        out, bounds = self.geometries(rows), self.columns.bounds[rows]
        points = ~self._spliced[rows] & ~np.isnan(bounds[:, 0])
        out[points] = shapely.points(bounds[points, :2])
        return out

    def bodies(self, rows: Sequence[int] | np.ndarray, simplify_m: int | None = None) -> list[bytes]:
        """The features as GeoJSON: stored heads, polygons written in from WKB (``with_geometries``)."""
        rows = np.asarray(rows, dtype=np.int64)
        return with_geometries(_take(self.columns.head, rows), _take(self.columns.geometry, rows), simplify_m)

    def csv(self, rows: np.ndarray) -> bytes | None:
        """The features' CSV document joined from their stored lines; None if one has none (a
        polygon) or their columns differ (then ``app.api.formats.features_csv`` writes it)."""
        codes, lines = self.columns.csv_head.codes[rows], _take(self.columns.csv, rows)
        if not len(codes) or (codes != codes[0]).any() or None in lines:
            return None
        return self.columns.csv_head.names[int(codes[0])].encode() + b"".join(lines)

    def get(self, feature_id: str) -> int | None:
        """A binary search of the ids sorted once per store (hashing the id column per lookup
        took milliseconds at 100,000)."""
        ids, order = self._by_id
        at = int(np.searchsorted(ids, feature_id.encode()))
        return int(order[at]) if at < len(ids) and ids[at] == feature_id.encode() else None

    @functools.cached_property
    def _by_id(self) -> tuple[np.ndarray, np.ndarray]:
        """The ids (UTF-8, fixed-width numpy bytes) in sorted order, and each one's row."""
        ids = np.array([fid.encode() for fid in self.columns.id.to_pylist()], dtype=bytes)
        order = np.argsort(ids, kind="stable")
        return ids[order], order

    def has_polygons(self, rows: np.ndarray) -> bool:
        return bool(self._spliced[rows].any())

    def attributes(self, rows: np.ndarray) -> Attributes:
        c, rows = self.columns, np.asarray(rows, dtype=np.int64)
        types = np.array(c.event_type.names, dtype=object)[c.event_type.codes[rows]]
        return Attributes(c.point[rows, 0], c.point[rows, 1], c.status[rows], types)

    def tally(self, q: ItemQuery) -> Tally:
        """A group per match: numpy sums over the matches' columns cost what grouping would."""
        c, rows = self.columns, self.query(q)
        days = c.days[rows].astype(np.int64)
        located, count = ~np.isnan(c.point[rows, 0]), np.ones(len(rows), dtype=np.int64)
        names = tuple(c.event_type.names)
        return Tally(c.status[rows], c.event_type.codes[rows], names, located, days[:, 0], days[:, 1], count)

    def cells(self, q: ItemQuery, level: int) -> Cells:
        c, rows = self.columns, self.query(q)
        point, days = c.point[rows], c.days[rows].astype(np.int64)
        return count_cells(level, point[:, 0], point[:, 1], c.status[rows], days[:, 0], days[:, 1], rows)

    def regions_of(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        drawn = np.flatnonzero(np.isin(self.owner_rows, owners) & (self.owner_rows >= 0))
        return drawn, self.owner_rows[drawn]

    def bounds(self) -> list[float] | None:
        return self._bounds

    def interval(self) -> tuple[str | None, str | None]:
        return self._interval

    # -- querying -----------------------------------------------------------------------------

    def query(self, q: ItemQuery) -> np.ndarray:
        kept = self._select(q)
        return np.arange(len(self)) if kept is None else np.flatnonzero(kept)

    def page(self, q: ItemQuery, offset: int, limit: int, after: str | None = None) -> tuple[int, np.ndarray]:
        """How many features match, and the rows of those from ``offset`` to ``offset + limit``, or
        of those after the feature ``after`` (``Store.page``)."""
        kept, last = self._select(q), None if after is None else self.get(after)
        rows = np.arange(len(self)) if kept is None else np.flatnonzero(kept)
        start = offset if last is None else int(np.searchsorted(rows, last, side="right"))
        return len(rows), rows[start : start + limit]

    def _select(self, q: ItemQuery) -> np.ndarray | None:
        """Whether each row matches every filter (None: no filter, every row)."""
        c, tests, bbox = self.columns, list[Callable[[], np.ndarray]](), q.bbox
        if bbox is not None:
            tests.append(lambda: self._in_bbox(bbox))
        if q.has_time_filter:
            first = -np.inf if q.start is None else q.start.toordinal()
            last = np.inf if q.end is None else q.end.toordinal()
            tests.append(lambda: (c.days[:, 0] != NO_DAY) & (c.days[:, 0] <= last) & (c.days[:, 1] >= first))
        if q.in_zone:
            tests.append(lambda: any_of(c.status, [STATUS_CODES[s] for s in q.in_zone]))
        if q.min_p_inside is not None:
            tests.append(lambda: np.nan_to_num(c.p_inside, nan=-1.0) >= q.min_p_inside)
        for category, wanted in [
            (c.event_type, q.event_types),
            (c.event_type, None if q.event_type is None else {q.event_type}),
            (c.sub_event_type, None if q.sub_event_type is None else {q.sub_event_type}),
        ]:
            if wanted is not None:
                codes = category.matching({w.lower() for w in wanted})
                tests.append(functools.partial(any_of, category.codes, codes))
        if q.ids is not None:
            held = np.array([row for row in map(self.get, q.ids) if row is not None], dtype=np.int64)
            tests.append(lambda: np.isin(np.arange(len(self)), held))
        kept: np.ndarray | None = None
        for test in tests:
            kept = test() if kept is None else kept & test()
        for asked, narrow in [
            (q.q is not None, self._search),
            (q.near is not None and q.within_m is not None, self._near),
            (q.filter is not None, lambda q, rows: q.filter.rows_test(self, rows)),
        ]:
            if asked:
                rows = np.arange(len(self)) if kept is None else np.flatnonzero(kept)
                kept = np.zeros(len(self), dtype=bool)
                kept[narrow(q, rows)] = True
        return kept

    def _search(self, q: ItemQuery, rows: np.ndarray) -> np.ndarray:
        """The rows whose text holds ``q`` (compared lower-case; pyarrow, C++ over the column)."""
        hit = true(pc.match_substring(self.columns.text, (q.q or "").lower()))
        found: np.ndarray = rows[hit[rows]]
        return found

    def _candidates(self, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
        """Whether each row's bounds meet one of the boxes (bool; a comparison of the bounds
        columns: a millisecond at 100,000 rows, no index to build or hold)."""
        b, hit = self.columns.bounds, np.zeros(len(self), dtype=bool)
        for minx, miny, maxx, maxy in boxes:
            hit |= (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        return hit

    def _in_bbox(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """Whether each row's geometry meets the box (across the antimeridian if minx > maxx)."""
        minx, miny, maxx, maxy = bbox
        boxes = [bbox] if minx <= maxx else [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
        kept = self._candidates(boxes)
        polygons = np.flatnonzero(kept & self._spliced)
        if len(polygons):
            geoms = self.geometries(polygons)
            kept[polygons] = np.logical_or.reduce(
                [shapely.intersects(geoms, shapely.box(*box)) for box in boxes]
            )
        return kept

    def _near(self, q: ItemQuery, rows: np.ndarray) -> np.ndarray:
        """Of ``rows`` (sorted), those whose point is within ``within_m`` (geodesic), or one of
        whose regions (a region's own geometry, an incident's claims) comes within."""
        assert q.near is not None and q.within_m is not None
        (lon, lat), within_m = q.near, q.within_m
        boxes = geo_near.reach_boxes(lon, lat, within_m)
        xy, open_rows = self.columns.point, np.zeros(len(self), dtype=bool)
        open_rows[rows] = True
        cand = np.flatnonzero(self._candidates(boxes) & open_rows & ~np.isnan(xy[:, 0]))
        hit: np.ndarray = cand[geo_near.within(lon, lat, xy[cand, 0], xy[cand, 1], within_m)]
        if self.regions is None:
            return hit
        open_rows[hit] = False
        regions = self.regions
        owner = np.arange(len(self)) if regions is self else regions.owner_rows
        region_rows = np.flatnonzero(regions._candidates(boxes) & regions._spliced)
        region_rows = region_rows[open_rows[owner[region_rows]]]
        matched = np.zeros(len(self), dtype=bool)
        matched[hit] = True
        matched[owner[regions._meeting(lon, lat, within_m, region_rows, owner, open_rows)]] = True
        return np.flatnonzero(matched)

    def _meeting(self, lon: float, lat: float, within_m: float, rows: np.ndarray, owner: np.ndarray,
                 open_rows: np.ndarray) -> np.ndarray:  # fmt: skip
        """Of these region rows, those that meet the geodesic disc: settled by their distances from
        their centre (``app.geo.near.settle``) or by a disc inside them that is clearly within,
        else intersected with the disc."""
        near = self.columns.near[rows]
        meets, out = geo_near.settle(lon, lat, within_m, self.columns.bounds[rows], near[:, :4])
        open_ = np.flatnonzero(~meets & ~out & ~np.isnan(near[:, 6]))
        inner = near[open_, 4:]  # a disc inside the region within the distance settles it
        meets[open_] = geo_near.within(
            lon, lat, inner[:, 0], inner[:, 1], within_m - POINT_SLACK_M + inner[:, 2]
        )
        sure: np.ndarray = rows[meets]
        open_rows = open_rows.copy()
        open_rows[owner[sure]] = False
        rest = rows[~meets & ~out & open_rows[owner[rows]]]
        if not len(rest):
            return sure
        disc = geo_near.disc(lon, lat, within_m)
        shapely.prepare(disc)
        return np.concatenate([sure, rest[shapely.intersects(disc, self.geometries(rest))]])


def _take(column: pa.Array, rows: Sequence[int] | np.ndarray) -> list[Any]:
    """The values of these rows (bytes, or str for text; None: null)."""
    return column.take(to_arrow(np.asarray(rows, dtype=np.int64), pa.int64())).to_pylist()  # type: ignore[no-any-return]


def from_rows(rows: list[Row]) -> FeatureStore:
    """A store of ``rows`` (in memory, as a build's are before they are written)."""
    return FeatureStore(columns_of(rows))


def load(path: Path) -> FeatureStore:
    """The store of an Arrow file ``store_file.write`` wrote, mapped."""
    return FeatureStore(Columns.of(read(path)))


def _is_a_store(store: FeatureStore) -> Store:
    """Never called: mypy checks here that ``FeatureStore`` satisfies ``Store``."""
    return store
