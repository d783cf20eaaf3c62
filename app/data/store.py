"""A feature store of columns: filters through indexes (trees for bbox, datetime and near; runs
for the categories) and vectorised numpy tests, bodies as bytes.

The interface (``FeatureStore.query`` / ``page`` / ``get`` / ``body`` / ``feature`` /
``bounds`` / ``interval``) is what the API uses, so another store (PostGIS, say) can stand
beside this one. No Python loop over all features runs per request, except the free-text search
over what the other filters left. Every column and index is a numpy array or a byte string, so
a saved store is read back as memory maps (``app.data.store_build``): the pages are shared by
every worker and only those a request touches are read. Building, merging and saving stores is
``app.data.store_build``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import orjson
import shapely

from app.data.near_index import NearIndex
from app.data.store_api import NO_DAY, SIMPLIFY_LADDER_M, STATUS_CODES, STATUS_NAMES, ItemQuery, Store
from app.geo import box_tree
from app.geo.geodesy import WGS84
from app.geo.geojson import rounded
from app.geo.ragged import NO_GEOMETRY, Ragged, geometries
from app.geo.reach import distance_bounds, reach_box
from app.geo.shapes import circle, simplified


class Near:
    """What the ``near`` filter tests beyond the features' own points: regions (``regions``,
    their index ``index``), each owned by one feature of this store (``owner``: the owning row
    of each region, or None when the regions are this store's own features)."""

    def __init__(self, index: NearIndex, regions: Ragged, owner: np.ndarray | None) -> None:
        self.index = index
        self.regions = regions
        self.owner = owner


class Selection:
    """The rows a query keeps so far: sorted indices once a tree has narrowed them (``rows``),
    else a mask of every row (``mask``; None until a filter tests a column)."""

    PAGE_SCAN = 65_536  # rows looked at a time for a page's first matches

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: np.ndarray | None = None
        self.mask: np.ndarray | None = None
        self._first_test: Callable[[np.ndarray | slice], np.ndarray] | None = None

    def keep(self, test: Callable[[np.ndarray | slice], np.ndarray], run: np.ndarray | None = None) -> None:
        """Keep the rows that pass ``test``, which reads a column at the given rows. ``run``:
        those rows, sorted, when an index knows them: taken as they are if this is the first
        filter (and then no column is read unless another one follows)."""
        if self.rows is None and self.mask is None and run is not None:
            self.rows, self._first_test = run, test
            return
        if self._first_test is not None:  # a second filter: a column test beats gathering a run
            self.rows, self.mask, self._first_test = None, self._first_test(slice(None)), None
        if self.rows is not None:
            self.rows = self.rows[test(self.rows)]
        elif self.mask is None:
            self.mask = test(slice(None))
        else:
            self.mask &= test(slice(None))

    def only(self, rows: np.ndarray) -> None:
        """Keep just ``rows`` (sorted), which an index or a search found among the kept ones."""
        self.rows, self.mask, self._first_test = rows, None, None

    def member(self) -> np.ndarray | None:
        """Whether each row is kept (None: every row is)."""
        if self.rows is None:
            return self.mask
        member = np.zeros(self.n, dtype=bool)
        member[self.rows] = True
        return member

    def indices(self) -> np.ndarray:
        if self.rows is not None:
            return self.rows
        return np.arange(self.n) if self.mask is None else np.flatnonzero(self.mask)

    def count(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return self.n if self.mask is None else int(np.count_nonzero(self.mask))

    def first(self, k: int) -> np.ndarray:
        """The first ``k`` kept rows, reading the mask only as far as they go."""
        if self.rows is not None:
            return self.rows[:k]
        if self.mask is None:
            return np.arange(min(k, self.n))
        found: list[np.ndarray] = []
        total, at = 0, 0
        while total < k and at < self.n:
            chunk = np.flatnonzero(self.mask[at : at + self.PAGE_SCAN]) + at
            found.append(chunk)
            total += len(chunk)
            at += self.PAGE_SCAN
        return np.concatenate(found)[:k] if found else np.zeros(0, dtype=np.int64)


class FeatureStore:
    """One collection's features as columns: the filters read numpy arrays, bodies are bytes.

    A feature's body is its GeoJSON without the geometry ("head"); a point geometry is written
    into it once, any other geometry is kept as compact arrays (``app.geo.ragged``) and written
    on request (a region's text is four times the size of its coordinates, and few are ever
    asked for at once).
    """

    blocking = False  # everything is in memory (or mapped): no waiting on a server

    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = columns  # read-only; app.data.store_build merges and saves them
        self._ids: np.ndarray = columns["ids"]  # fixed-width UTF-8
        self._id_order: np.ndarray = columns["id_order"]  # the ids' sort order, for lookups
        self._heads: bytes = columns["heads"]
        self._head_offsets: np.ndarray = columns["head_offsets"]
        self.geometry: Ragged = columns["geometry"]  # NO_GEOMETRY where it is in the head
        self._bounds_xy: np.ndarray = columns["bounds"]  # NaN where there is no geometry
        self._start: np.ndarray = columns["start"]
        self._end: np.ndarray = columns["end"]
        self._status: np.ndarray = columns["status"]
        self._p: np.ndarray = columns["p"]
        self._type: np.ndarray = columns["type"]
        self._type_names: list[str] = columns["type_names"]
        self._text: bytes = columns["text"]  # lower-case UTF-8, for the free-text search
        self._text_offsets: np.ndarray = columns["text_offsets"]
        self._lon: np.ndarray = columns["lon"]
        self._lat: np.ndarray = columns["lat"]
        self._spliced = self.geometry.types != NO_GEOMETRY
        self._bbox_tree: dict[str, np.ndarray] = columns["bbox_tree"]
        self._point_tree: dict[str, np.ndarray] = columns.get("point_tree", self._bbox_tree)
        self._time_tree: dict[str, np.ndarray] = columns["time_tree"]
        self._runs: dict[str, dict[str, np.ndarray]] = {
            category: columns[f"{category}_runs"] for category in ("status", "type", "sub")
        }
        self.near: Near | None = None
        if "near_index" in columns:  # a collection of regions: near tests its own geometry
            self.near = Near(NearIndex(columns["near_index"], len(self)), self.geometry, None)
        # The features never change: their extent is worked out once, not per /collections call.
        self._bounds, self._interval = self._extent()

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def id(self, index: int) -> str:
        return bytes(self._ids[index]).decode()

    def head(self, index: int) -> bytes:
        return self._heads[self._head_offsets[index] : self._head_offsets[index + 1]]

    def geometries(self, indices: np.ndarray) -> np.ndarray:
        """Shapely geometries of the features (None where the geometry is a point or none)."""
        return geometries(self.geometry, np.asarray(indices, dtype=np.int64))

    def shapes(self, indices: np.ndarray) -> np.ndarray:
        """The served geometry of each feature as shapely (None where it has none): a point
        from its bounds (a point's box is the point), anything else from the arrays."""
        indices = np.asarray(indices, dtype=np.int64)
        out = self.geometries(indices)
        points = ~self._spliced[indices] & ~np.isnan(self._bounds_xy[indices, 0])
        out[points] = shapely.points(self._bounds_xy[indices[points], :2])
        return out

    def body(self, index: int, simplify_m: int | None = None) -> bytes:
        """The feature as GeoJSON; polygons simplified to within ``simplify_m`` metres if given."""
        head = self.head(index)
        if not self._spliced[index]:
            return head
        geom = self.geometries(np.array([index]))[0]
        decimals = 6
        if simplify_m is not None:
            if simplify_m not in SIMPLIFY_LADDER_M:
                raise ValueError(f"tolerance must be one of {SIMPLIFY_LADDER_M}")
            geom = simplified(geom, simplify_m)
            # Within 5 m or more, coordinates need only 5 decimals (about 1 m).
            decimals = 6 if simplify_m < 5 else 5
        fragment = str(shapely.to_geojson(rounded(geom, decimals))).encode()
        return bytes(head[:-1]) + b',"geometry":' + fragment + b"}"

    def bodies(self, rows: Sequence[int] | np.ndarray, simplify_m: int | None = None) -> list[bytes]:
        """``body`` of each row."""
        return [self.body(int(row), simplify_m) for row in rows]

    def ids(self, rows: np.ndarray) -> list[str]:
        return [bytes(raw).decode() for raw in self._ids[np.asarray(rows, dtype=np.int64)]]

    def types(self, rows: np.ndarray) -> list[str]:
        names = self._type_names
        return [names[code] for code in self._type[np.asarray(rows, dtype=np.int64)].tolist()]

    def regions_of(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The regions (rows, sorted) owned by these events rows, and each one's owner."""
        if "owner_rows" not in self.columns:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        owner: np.ndarray = self.columns["owner_rows"]
        drawn = np.flatnonzero(np.isin(owner, owners))
        return drawn, owner[drawn].astype(np.int64)

    def feature(self, index: int) -> dict[str, Any]:
        """One feature as Python objects (parsed from its body, for CSV and HTML)."""
        parsed: dict[str, Any] = orjson.loads(self.body(index))
        return parsed

    def get(self, feature_id: str) -> int | None:
        """The index of the feature with this id, by binary search over the sorted ids."""
        key = feature_id.encode()
        if len(key) > self._ids.dtype.itemsize or b"\0" in key:
            return None
        at = int(np.searchsorted(self._ids, key, sorter=self._id_order))
        if at == len(self._ids):
            return None
        index = int(self._id_order[at])
        return index if bytes(self._ids[index]) == key else None

    def rows_of(self, feature_ids: np.ndarray) -> np.ndarray:
        """The index of each id's feature (UTF-8 bytes; all must exist), by one vectorised
        binary search."""
        keys = np.asarray(feature_ids).astype(self._ids.dtype)
        at = np.searchsorted(self._ids, keys, sorter=self._id_order)
        rows: np.ndarray = self._id_order[np.minimum(at, len(self._ids) - 1)]
        if len(keys) and not (self._ids[rows] == keys).all():
            raise KeyError("an owner id is not in the store")
        return rows.astype(np.int64)

    def event_type(self, index: int) -> str:
        return self._type_names[int(self._type[index])]

    def status(self, index: int) -> str | None:
        code = int(self._status[index])
        return STATUS_NAMES.get(code)

    def point(self, index: int) -> tuple[float, float] | None:
        lon, lat = float(self._lon[index]), float(self._lat[index])
        return None if np.isnan(lon) else (lon, lat)

    def has_polygons(self, indices: np.ndarray) -> bool:
        """Whether any of the features has a polygon written per request (not a stored body)."""
        return bool(self._spliced[indices].any())

    def points(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Longitudes and latitudes (degrees) of the features' points; NaN where there is none."""
        lon: np.ndarray = self._lon[indices]
        lat: np.ndarray = self._lat[indices]
        return lon, lat

    def days(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and last day (proleptic ordinals) of the given features."""
        starts: np.ndarray = self._start[indices]
        ends: np.ndarray = self._end[indices]
        return starts, ends

    def statuses(self, indices: np.ndarray) -> np.ndarray:
        codes: np.ndarray = self._status[indices]
        return codes

    def located(self, indices: np.ndarray) -> np.ndarray:
        has_point: np.ndarray = ~np.isnan(self._lon[indices])
        return has_point

    def bounds(self) -> list[float] | None:
        """[minlon, minlat, maxlon, maxlat] of every geometry, or None if there is none."""
        return self._bounds

    def interval(self) -> tuple[str | None, str | None]:
        """First and last day (ISO) of the features' date intervals."""
        return self._interval

    def _extent(self) -> tuple[list[float] | None, tuple[str | None, str | None]]:
        b = self._bounds_xy
        bounds = None
        if len(b) and not np.isnan(b[:, 0]).all():
            bounds = [float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])),
                      float(np.nanmax(b[:, 2])), float(np.nanmax(b[:, 3]))]  # fmt: skip
        dated = self._start != NO_DAY
        if not dated.any():
            return bounds, (None, None)
        first = dt.date.fromordinal(int(self._start[dated].min()))
        last = dt.date.fromordinal(int(self._end[dated].max()))
        return bounds, (first.isoformat(), last.isoformat())

    # -- querying -----------------------------------------------------------------------------

    def query(self, q: ItemQuery) -> np.ndarray:
        """Indices of the matching features, in collection order."""
        return self._select(q).indices()

    def page(self, q: ItemQuery, offset: int, limit: int) -> tuple[int, np.ndarray]:
        """How many features match, and the indices of those from ``offset`` to ``offset +
        limit``: without listing every match when only plain column filters apply."""
        selection = self._select(q)
        return selection.count(), selection.first(offset + limit)[offset:]

    def _select(self, q: ItemQuery) -> Selection:
        """The matching rows. The spatial and time filters start from their trees, so they read
        about as many rows as they find; the other filters then test only those rows (or, with
        no tree used, a column each)."""
        kept = Selection(len(self))
        if q.bbox is not None:
            kept.only(self._in_bbox(q.bbox))
        if q.has_time_filter:
            kept.only(self._in_time(q.start, q.end, kept.rows))
        if q.in_zone:
            codes = [STATUS_CODES[s] for s in q.in_zone]
            kept.keep(_is_any(self._status, codes), self._run("status", codes))
        if q.min_p_inside is not None:
            floor = q.min_p_inside
            kept.keep(lambda at: np.nan_to_num(self._p[at], nan=-1.0) >= floor)
        for category, wanted in (
            ("type", None if q.event_type is None else {q.event_type}),
            ("type", q.event_types),
            ("sub", None if q.sub_event_type is None else {q.sub_event_type}),
        ):
            if wanted is not None:
                names, column = self.columns[f"{category}_names"], self.columns[category]
                codes = _matching(names, {name.lower() for name in wanted})
                kept.keep(_is_any(column, codes), self._run(category, codes))
        if q.q is not None:
            needle = q.q.lower().encode()
            t, o = self._text, self._text_offsets
            rows = kept.indices()  # substring search only over what is still in
            kept.only(rows[np.array([needle in t[o[i] : o[i + 1]] for i in rows], dtype=bool)])
        if q.near is not None and q.within_m is not None:
            kept.only(self._near(q.near, q.within_m, kept.member()))
        if q.filter is not None:
            kept.only(q.filter.rows_test(self, kept.indices()))
        return kept

    def _run(self, name: str, codes: list[int]) -> np.ndarray | None:
        """The rows (sorted) whose ``name`` column has this one code, from the column's runs;
        None for several codes (a column test is cheaper than merging runs)."""
        if len(codes) != 1:
            return None
        runs = self._runs[name]
        at = int(np.searchsorted(runs["codes"], codes[0]))
        if at == len(runs["codes"]) or runs["codes"][at] != codes[0]:
            return np.zeros(0, dtype=np.int64)
        run: np.ndarray = runs["order"][runs["first"][at] : runs["first"][at + 1]]
        return run

    def _in_bbox(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """Rows whose geometry meets the box (sorted): the tree's candidates by their bounds,
        then the exact test for the geometries that are not points."""
        minx, miny, maxx, maxy = bbox
        if minx <= maxx:
            boxes = [(minx, miny, maxx, maxy)]
        else:  # crosses the antimeridian
            boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
        found = _sorted([box_tree.search(self._bbox_tree, *box) for box in boxes], len(self))
        spliced = self._spliced[found]
        idx = found[spliced]
        if len(idx):
            hit = np.zeros(len(idx), dtype=bool)
            geoms = self.geometries(idx)
            for box in boxes:
                hit |= shapely.intersects(geoms, shapely.box(*box))
            spliced[spliced] = ~hit  # now: the non-points that miss
        result: np.ndarray = found[~spliced]
        return result

    def _in_time(self, start: dt.date | None, end: dt.date | None, rows: np.ndarray | None) -> np.ndarray:
        """Rows (of ``rows``) whose date interval meets [start, end]; undated ones never do."""
        first = -np.inf if start is None else start.toordinal()
        last = np.inf if end is None else end.toordinal()
        if rows is None:
            return _sorted([box_tree.search(self._time_tree, first, -1.0, last, 1.0)], len(self))
        s, e = self._start[rows], self._end[rows]
        kept: np.ndarray = rows[(s != NO_DAY) & (s <= last) & (e >= first)]
        return kept

    def _near(self, near: tuple[float, float], within_m: float, member: np.ndarray | None) -> np.ndarray:
        """Rows (sorted; of those ``member`` marks, or of all if None) whose representative
        point is within ``within_m`` (geodesic), or one of whose regions comes within.

        Points: the tree's candidates in the box of that reach (``app.geo.reach.reach_box``),
        bounds of their distance from degree differences, then ``Geod.inv`` for the few those
        leave. Regions: the index's bounds (``app.data.near_index``) settle almost all; the
        others are intersected with the geodesic disc of ``within_m``
        (``app.geo.shapes.circle``, edges within 0.25 m of the true circle).
        """
        out = np.zeros(len(self), dtype=bool)
        lon, lat = near
        reach = within_m + 1.0
        cand = box_tree.search(self._point_tree, *reach_box(lon, lat, reach)[0])
        if member is not None:
            cand = cand[member[cand]]
        low, high = distance_bounds(self._lon[cand], self._lat[cand], lon, lat, reach)
        out[cand[high <= within_m]] = True
        pidx = cand[(low <= within_m) & (high > within_m)]  # only these need measuring
        if len(pidx):
            m = len(pidx)
            _, _, dist = WGS84.inv(np.full(m, lon), np.full(m, lat), self._lon[pidx], self._lat[pidx])
            out[pidx] = np.asarray(dist) <= within_m
        if self.near is not None:
            self._near_regions(lon, lat, within_m, member, out)
        return np.flatnonzero(out if member is None else out & member)

    def _near_regions(
        self, lon: float, lat: float, within_m: float, member: np.ndarray | None, out: np.ndarray
    ) -> None:
        """Mark in ``out`` the rows of ``member`` one of whose regions comes within ``within_m``."""
        assert self.near is not None
        surely, perhaps = self.near.index.settle(lon, lat, within_m)
        owner = self.near.owner
        sure_rows = np.flatnonzero(surely)
        out[sure_rows if owner is None else owner[sure_rows]] = True
        open_rows = np.flatnonzero(perhaps)
        open_owner = open_rows if owner is None else owner[open_rows]
        keep = ~out[open_owner]  # regions of features still in, not yet matched
        if member is not None:
            keep &= member[open_owner]
        open_rows, open_owner = open_rows[keep], open_owner[keep]
        if len(open_rows):
            disc = circle(lon, lat, within_m)
            shapely.prepare(disc)
            hit = shapely.intersects(disc, geometries(self.near.regions, open_rows))
            out[open_owner[hit]] = True


def _sorted(found: list[np.ndarray], n: int) -> np.ndarray:
    """The distinct rows of ``found`` (a tree finds each item once) in order: sorted when they
    are a few, through a mask of every row when they are many (cheaper than sorting them)."""
    if len(found) == 1 and 4 * len(found[0]) < n:
        return np.sort(found[0])
    mask = np.zeros(n, dtype=bool)
    for rows in found:
        mask[rows] = True
    return np.flatnonzero(mask)


def _is_any(column: np.ndarray, codes: list[int]) -> Callable[[np.ndarray | slice], np.ndarray]:
    """A test for ``Selection.keep``: the column equals one of ``codes``."""
    return lambda at: _any_of(column[at], codes)


def _matching(names: list[str], wanted: set[str]) -> list[int]:
    """Codes of the names that equal one of ``wanted`` (compared lower-case)."""
    return [code for code, name in enumerate(names) if name.lower() in wanted]


def _any_of(column: np.ndarray, codes: list[int]) -> np.ndarray:
    """``column`` equals one of a few ``codes``: a comparison each (np.isin sorts: 10x slower)."""
    out = np.zeros(len(column), dtype=bool)
    for code in codes:
        out |= column == code
    return out


def _is_a_store(store: FeatureStore) -> Store:
    """Never called: mypy checks here that ``FeatureStore`` satisfies ``Store``."""
    return store


__all__ = ["NO_DAY", "SIMPLIFY_LADDER_M", "STATUS_CODES", "STATUS_NAMES", "FeatureStore", "ItemQuery"]
