"""The embedded store: one collection's features as typed columns (``app.data.schema``), every
filter a numpy comparison of columns, then shapely (GEOS) for the few polygons left to test.

- ``bbox``: the features whose bounds meet the box, then the exact test for polygons;
- ``near``: those whose bounds meet a safe degree box, then the exact geodesic test
  (``app.geo.near``) for points, and for regions their distance bounds or, where those leave it
  open, their intersection with the geodesic disc;
- ``datetime``, zone status, types, ``min_p_inside``: a comparison of a column (at 100,000
  features, a fraction of a millisecond); ``q``: pyarrow's substring search over what is left.

Bodies are the stored GeoJSON ("heads"); a polygon is kept as WKB and written into its body on
request. A store built from rows or read from its Arrow file (``app.data.store_file``) is the same.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from app.data.schema import Blob, Columns, mask, numbers, to_arrow, true, valid
from app.data.store_api import (
    NO_DAY,
    SIMPLIFY_LADDER_M,
    STATUS_CODES,
    STATUS_NAMES,
    ItemQuery,
    Store,
    with_geometries,
)  # fmt: skip

__all__ = ["NO_DAY", "SIMPLIFY_LADDER_M", "STATUS_CODES", "STATUS_NAMES", "FeatureStore", "ItemQuery"]
from app.geo import near as geo_near
from app.geo.shapes import MAX_CHORD_ERROR_M

# A disc inside a region within this much less than the distance settles the region (the disc a
# region is tested against lies within MAX_CHORD_ERROR_M inside the true circle).
POINT_SLACK_M = MAX_CHORD_ERROR_M + 0.75


def any_of(codes: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    """Whether each code is one of ``wanted`` (bool): a comparison per wanted code, as the few
    statuses or types asked for are (``np.isin`` cost more than the rest of a small page's query)."""
    if len(wanted) > 8:
        found: np.ndarray = np.isin(codes, wanted)
        return found
    hit = np.zeros(len(codes), dtype=bool)
    for code in wanted:
        hit |= codes == code
    return hit


class SortedIds:
    """A store's ids (UTF-8 bytes) seen in sorted order, for ``bisect``: item ``i`` is the id of
    row ``order[i]``."""

    def __init__(self, ids: Blob, order: np.ndarray) -> None:
        self.ids, self.order = ids, order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, at: int) -> bytes:
        return self.ids[self.order[at]]


class FeatureStore:
    """One collection's features: filters over the columns, bodies as bytes."""

    blocking = False  # everything is in memory (or mapped): no waiting on a server

    def __init__(self, columns: Columns, order: np.ndarray | None = None) -> None:
        """``order``: the row of the text and bytes columns of each feature (collection order;
        None: their rows in order). Their other rows are not served (an incident edited since)."""
        self.columns = columns  # read-only
        c = columns
        self.order = np.arange(len(c.id)) if order is None else order
        self._heads, self._wkb, self._csv = (
            Blob(column, self.order) for column in (c.head, c.geometry, c.csv)
        )
        self._ids = Blob(c.id, self.order)
        self._spliced = self._wkb.valid
        self._bounds_xy = np.column_stack([c.minx, c.miny, c.maxx, c.maxy])
        self.regions: FeatureStore | None = self if self._spliced.any() else None  # what near tests
        self.owner_rows = np.full(len(c), -1, dtype=np.int64)  # a region's incident's row (link)
        self._bounds, self._interval = self._extent()

    def link(self, regions: FeatureStore) -> None:
        """The events' ``near`` filter tests these regions too (each owned by one of our rows)."""
        at = pc.index_in(regions.in_order(regions.columns.owner), value_set=self.in_order(self.columns.id))
        regions.owner_rows = np.where(valid(at), numbers(at), -1).astype(np.int64)
        self.regions = regions

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.columns)

    def ids(self, rows: np.ndarray) -> list[str]:
        ids: list[str] = self.in_order(self.columns.id, rows).to_pylist()
        return ids

    def in_order(self, column: pa.ChunkedArray, rows: np.ndarray | None = None) -> pa.Array:
        """A text or bytes column's values of these features (all if None), in their order."""
        at = self.order if rows is None else self.order[np.asarray(rows, dtype=np.int64)]
        return column.take(to_arrow(at, pa.int64())).combine_chunks()

    def head(self, index: int) -> bytes:
        return self._heads[index]

    def geometries(self, rows: np.ndarray) -> np.ndarray:
        """Shapely geometries of the features (None where the geometry is a point or none)."""
        wkb = np.empty(len(rows), dtype=object)
        wkb[:] = self._wkb.take(np.asarray(rows, dtype=np.int64))
        geoms: np.ndarray = shapely.from_wkb(wkb)
        return geoms

    def shapes(self, rows: np.ndarray) -> np.ndarray:
        """The served geometry of each feature as shapely (None where it has none): a point
        from its bounds (a point's box is the point), anything else from its WKB."""
        rows = np.asarray(rows, dtype=np.int64)
        out = self.geometries(rows)
        points = ~self._spliced[rows] & ~np.isnan(self._bounds_xy[rows, 0])
        out[points] = shapely.points(self._bounds_xy[rows[points], :2])
        return out

    def body(self, index: int, simplify_m: int | None = None) -> bytes:
        """The feature as GeoJSON; polygons simplified to within ``simplify_m`` metres if given."""
        return self.bodies([index], simplify_m)[0]

    def bodies(self, rows: Sequence[int] | np.ndarray, simplify_m: int | None = None) -> list[bytes]:
        """The features as GeoJSON: stored heads, polygons written in from WKB (``with_geometries``)."""
        rows = np.asarray(rows, dtype=np.int64)
        return with_geometries(self._heads.take(rows), self._wkb.take(rows), simplify_m)  # type: ignore[arg-type]

    def csv(self, rows: np.ndarray) -> bytes | None:
        """The features' CSV document joined from their stored lines; None if one has none (a
        polygon) or their columns differ (then ``app.api.formats.features_csv`` writes it)."""
        codes = self.columns.csv_head.codes[rows]
        if not len(codes) or (codes != codes[0]).any() or not self._csv.valid[rows].all():
            return None
        lines: list[bytes] = self._csv.take(rows)  # type: ignore[assignment]  # none is None (checked)
        header: str = self.columns.csv_head.names[codes[0]]
        return header.encode() + b"".join(lines)

    def get(self, feature_id: str) -> int | None:
        """The row of the feature with this id: a binary search of the ids in their sorted order
        (``id_order``), about 17 comparisons at 100,000 rows (a hash of the whole id column per
        lookup, as before, took milliseconds)."""
        wanted = feature_id.encode()
        ids = SortedIds(self._ids, self.id_order)
        at = bisect.bisect_left(ids, wanted)
        return int(self.id_order[at]) if at < len(ids) and ids[at] == wanted else None

    @functools.cached_property
    def id_order(self) -> np.ndarray:
        """The rows in the order of their ids' UTF-8 bytes (int64), sorted by Arrow
        once per store (a store is one dataset version), on the first lookup: 8 bytes a row."""
        order = pc.sort_indices(self.in_order(self.columns.id))  # uint64, read without pyarrow's conversion
        return np.frombuffer(order.buffers()[1], np.uint64, len(order)).astype(np.int64)

    def types(self, rows: np.ndarray) -> list[str]:
        return self.columns.event_type.of(np.asarray(rows, dtype=np.int64))

    def has_polygons(self, rows: np.ndarray) -> bool:
        """Whether any of the features has a polygon written per request (not a stored body)."""
        return bool(self._spliced[rows].any())

    def points(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Longitudes and latitudes (degrees) of the features' points; NaN where there is none."""
        return self.columns.lon[rows], self.columns.lat[rows]

    def days(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and last day (proleptic ordinals, NO_DAY if none) of the given features."""
        return self.columns.start[rows].astype(np.int64), self.columns.end[rows].astype(np.int64)

    def statuses(self, rows: np.ndarray) -> np.ndarray:
        codes: np.ndarray = self.columns.status[rows]
        return codes

    def located(self, rows: np.ndarray) -> np.ndarray:
        has_point: np.ndarray = ~np.isnan(self.columns.lon[rows])
        return has_point

    def regions_of(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows (sorted) of the regions these events rows own, and each one's owner."""
        drawn = np.flatnonzero(np.isin(self.owner_rows, owners) & (self.owner_rows >= 0))
        return drawn, self.owner_rows[drawn]

    def bounds(self) -> list[float] | None:
        """[minlon, minlat, maxlon, maxlat] of every geometry, or None if there is none."""
        return self._bounds

    def interval(self) -> tuple[str | None, str | None]:
        """First and last day (ISO) of the features' date intervals."""
        return self._interval

    def _extent(self) -> tuple[list[float] | None, tuple[str | None, str | None]]:
        b = self._bounds_xy[~np.isnan(self._bounds_xy[:, 0])]
        bounds = None
        if len(b):
            bounds = [float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())]
        c = self.columns
        dated = c.start != NO_DAY
        if not dated.any():
            return bounds, (None, None)
        first = dt.date.fromordinal(int(c.start[dated].min()))
        last = dt.date.fromordinal(int(c.end[dated].max()))
        return bounds, (first.isoformat(), last.isoformat())

    # -- querying -----------------------------------------------------------------------------

    def query(self, q: ItemQuery) -> np.ndarray:
        """Rows of the matching features, in collection order."""
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
            tests.append(lambda: (c.start != NO_DAY) & (c.start <= last) & (c.end >= first))
        if q.in_zone:
            tests.append(lambda: any_of(c.status, [STATUS_CODES[s] for s in q.in_zone]))
        if q.min_p_inside is not None:
            tests.append(lambda: np.nan_to_num(c.p_inside, nan=-1.0) >= q.min_p_inside)
        for category, wanted in (
            (c.event_type, None if q.event_type is None else {q.event_type}),
            (c.event_type, q.event_types),
            (c.sub_event_type, None if q.sub_event_type is None else {q.sub_event_type}),
        ):
            if wanted is not None:
                tests.append(partial(any_of, category.codes, category.matching({w.lower() for w in wanted})))
        kept: np.ndarray | None = None
        for test in tests:
            kept = test() if kept is None else kept & test()
        for narrow in (self._search if q.q is not None else None,
                       self._near if q.near is not None and q.within_m is not None else None,
                       self._filter if q.filter is not None else None):  # fmt: skip
            if narrow is not None:
                rows = np.arange(len(self)) if kept is None else np.flatnonzero(kept)
                kept = np.zeros(len(self), dtype=bool)
                kept[narrow(q, rows)] = True
        return kept

    def _search(self, q: ItemQuery, rows: np.ndarray) -> np.ndarray:
        """The rows whose text holds ``q`` (compared lower-case)."""
        assert q.q is not None
        hit = _mask(pc.match_substring(self.columns.text, q.q.lower()))[self.order]  # C++ over the column
        found: np.ndarray = rows[hit[rows]]
        return found

    def _filter(self, q: ItemQuery, rows: np.ndarray) -> np.ndarray:
        assert q.filter is not None
        kept: np.ndarray = q.filter.rows_test(self, rows)
        return kept

    def _candidates(self, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
        """Whether each row's bounds meet one of the boxes (bool; a comparison of the bounds
        columns: a millisecond at 100,000 rows, no index to build or hold)."""
        c, hit = self.columns, np.zeros(len(self), dtype=bool)
        for minx, miny, maxx, maxy in boxes:
            hit |= (c.minx <= maxx) & (c.maxx >= minx) & (c.miny <= maxy) & (c.maxy >= miny)
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
        c, open_rows = self.columns, np.zeros(len(self), dtype=bool)
        open_rows[rows] = True
        cand = np.flatnonzero(self._candidates(boxes) & open_rows & ~np.isnan(c.lon))
        hit: np.ndarray = cand[geo_near.within(lon, lat, c.lon[cand], c.lat[cand], within_m)]
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

    def _meeting(
        self, lon: float, lat: float, within_m: float, rows: np.ndarray, owner: np.ndarray,
        open_rows: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """Of these region rows, those that meet the geodesic disc: settled by their distances from
        their centre (``app.geo.near.settle``) or by a disc inside them that is clearly within,
        else intersected with the disc."""
        c = self.columns
        reach = np.column_stack([c.reach_min[rows], c.reach_max[rows], c.ring_min[rows], c.ring_max[rows]])
        meets, out = geo_near.settle(lon, lat, within_m, self._bounds_xy[rows], reach)
        open_ = np.flatnonzero(~meets & ~out)
        open_ = open_[~np.isnan(c.inner_m[rows[open_]])]
        inner = rows[open_]  # a disc inside the region within the distance settles it
        reach_m = within_m - POINT_SLACK_M + c.inner_m[inner]
        meets[open_] = geo_near.within(lon, lat, c.inner_lon[inner], c.inner_lat[inner], reach_m)
        sure: np.ndarray = rows[meets]
        open_rows = open_rows.copy()
        open_rows[owner[sure]] = False
        rest = rows[~meets & ~out & open_rows[owner[rows]]]
        if not len(rest):
            return sure
        disc = geo_near.disc(lon, lat, within_m)
        shapely.prepare(disc)
        return np.concatenate([sure, rest[shapely.intersects(disc, self.geometries(rest))]])


def _mask(column: pa.ChunkedArray) -> np.ndarray:
    """Where a boolean column (one chunk per part) is true, by stored row."""
    return mask([true(chunk) for chunk in column.chunks])


def _is_a_store(store: FeatureStore) -> Store:
    """Never called: mypy checks here that ``FeatureStore`` satisfies ``Store``."""
    return store
