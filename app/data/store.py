"""An in-memory feature store: filters as vectorised numpy masks over columns, bodies as bytes.

The interface (``FeatureStore.query`` / ``get`` / ``body`` / ``feature`` / ``bounds`` /
``interval``) is what the API uses, so another store (PostGIS, say) can stand beside this one. No
Python loop over all features runs per request, except the free-text search over what the other
filters left. Building, merging and saving stores is ``app.data.store_build``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import Geod

from app.geo.geojson import rounded
from app.geo.shapes import circle, simplified

GEOD = Geod(ellps="WGS84")
STATUS_CODES = {"inside": 0, "outside": 1, "uncertain": 2}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
NO_DAY = -1  # "no date": never matches a datetime filter
# Display simplification tolerances a client may ask for (metres); a fixed ladder keeps the
# number of distinct URLs (and so of HTTP cache entries) small whatever clients send.
SIMPLIFY_LADDER_M = (1, 5, 10, 50, 100, 500, 1000)


@dataclass(frozen=True)
class ItemQuery:
    """The filters of one items request, already validated (see ``app.api.params``)."""

    bbox: tuple[float, float, float, float] | None = None
    start: dt.date | None = None  # inclusive; None = open
    end: dt.date | None = None  # inclusive; None = open
    has_time_filter: bool = False
    in_zone: frozenset[str] = frozenset()
    min_p_inside: float | None = None
    near: tuple[float, float] | None = None
    within_m: float | None = None
    event_type: str | None = None
    event_types: frozenset[str] | None = None  # any of these (the map's type filter)
    sub_event_type: str | None = None
    q: str | None = None


class Parts:
    """The regions the ``near`` filter tests, each owned by one feature of a store.

    A region belongs to one feature; a feature may own several (an incident owns its claims'
    regions, which the regions collection holds: the same objects, not copies).
    """

    def __init__(self, geoms: np.ndarray, owner: np.ndarray, rows: np.ndarray | None = None) -> None:
        self.geoms = geoms
        self.owner = owner.astype(np.int64)
        self.rows = owner if rows is None else rows  # where each region is a feature itself
        self.bounds: np.ndarray = shapely.bounds(geoms) if len(geoms) else np.empty((0, 4))


class FeatureStore:
    """One collection's features as columns: the filters read numpy arrays, bodies are bytes.

    A feature's body is its GeoJSON without the geometry ("head"); a point geometry is written
    into it once, any other geometry is written on request from the shapely object (a region's
    text is four times the size of its coordinates, and few are ever asked for at once).
    """

    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = columns  # read-only; app.data.store_build merges and saves them
        self.ids: list[str] = columns["ids"]
        self.index = {fid: i for i, fid in enumerate(self.ids)}
        self._heads: bytes = columns["heads"]
        self._head_offsets: np.ndarray = columns["head_offsets"]
        self._geoms: np.ndarray = columns["geoms"]  # None where the geometry is in the head
        self._bounds_xy: np.ndarray = columns["bounds"]  # NaN where there is no geometry
        self._start: np.ndarray = columns["start"]
        self._end: np.ndarray = columns["end"]
        self._status: np.ndarray = columns["status"]
        self._p: np.ndarray = columns["p"]
        self._type: np.ndarray = columns["type"]
        self._type_names: list[str] = columns["type_names"]
        self._sub: np.ndarray = columns["sub"]
        self._sub_names: list[str] = columns["sub_names"]
        self._text: list[str] = columns["text"]
        self._lon: np.ndarray = columns["lon"]
        self._lat: np.ndarray = columns["lat"]
        self._spliced = ~shapely.is_missing(self._geoms) if len(self._geoms) else np.zeros(0, dtype=bool)
        self.parts: Parts | None = None
        # The features never change: their extent is worked out once, not per /collections call.
        self._bounds, self._interval = self._extent()

    def own_parts(self) -> None:
        """Each feature's ``near`` region is its own geometry (the regions collection)."""
        has = np.flatnonzero(self._spliced)
        self.parts = Parts(self._geoms[has], has)

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    def head(self, index: int) -> bytes:
        return self._heads[self._head_offsets[index] : self._head_offsets[index + 1]]

    def body(self, index: int, simplify_m: int | None = None) -> bytes:
        """The feature as GeoJSON; polygons simplified to within ``simplify_m`` metres if given."""
        head = self.head(index)
        geom = self._geoms[index]
        if geom is None:
            return head
        decimals = 6
        if simplify_m is not None:
            if simplify_m not in SIMPLIFY_LADDER_M:
                raise ValueError(f"tolerance must be one of {SIMPLIFY_LADDER_M}")
            geom = simplified(geom, simplify_m)
            # Within 5 m or more, coordinates need only 5 decimals (about 1 m).
            decimals = 6 if simplify_m < 5 else 5
        fragment = str(shapely.to_geojson(rounded(geom, decimals))).encode()
        return bytes(head[:-1]) + b',"geometry":' + fragment + b"}"

    def feature(self, index: int) -> dict[str, Any]:
        """One feature as Python objects (parsed from its body, for CSV and HTML)."""
        parsed: dict[str, Any] = orjson.loads(self.body(index))
        return parsed

    def get(self, feature_id: str) -> int | None:
        return self.index.get(feature_id)

    def event_type(self, index: int) -> str:
        return self._type_names[int(self._type[index])]

    def status(self, index: int) -> str | None:
        code = int(self._status[index])
        return STATUS_NAMES.get(code)

    def point(self, index: int) -> tuple[float, float] | None:
        lon, lat = float(self._lon[index]), float(self._lat[index])
        return None if np.isnan(lon) else (lon, lat)

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
        mask = np.ones(len(self), dtype=bool)
        if q.bbox is not None:
            mask &= self._bbox_mask(q.bbox)
        if q.has_time_filter:
            mask &= self._start != NO_DAY
            if q.end is not None:
                mask &= self._start <= q.end.toordinal()
            if q.start is not None:
                mask &= self._end >= q.start.toordinal()
        if q.in_zone:
            mask &= _any_of(self._status, [STATUS_CODES[s] for s in q.in_zone])
        if q.min_p_inside is not None:
            mask &= np.nan_to_num(self._p, nan=-1.0) >= q.min_p_inside
        if q.event_type is not None:
            mask &= _any_of(self._type, _matching(self._type_names, {q.event_type.lower()}))
        if q.event_types is not None:
            mask &= _any_of(self._type, _matching(self._type_names, {t.lower() for t in q.event_types}))
        if q.sub_event_type is not None:
            mask &= _any_of(self._sub, _matching(self._sub_names, {q.sub_event_type.lower()}))
        if q.q is not None:
            needle = q.q.lower()
            idx = np.flatnonzero(mask)  # substring search only over what is still in
            mask[idx] = [needle in self._text[i] for i in idx]
        if q.near is not None and q.within_m is not None:
            mask &= self._near_mask(q.near, q.within_m, mask)
        return np.flatnonzero(mask)

    def _bbox_mask(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        minx, miny, maxx, maxy = bbox
        b = self._bounds_xy
        with np.errstate(invalid="ignore"):  # NaN bounds (no geometry) compare False
            if minx <= maxx:
                lon_ok = (b[:, 2] >= minx) & (b[:, 0] <= maxx)
            else:  # crosses the antimeridian
                lon_ok = (b[:, 2] >= minx) | (b[:, 0] <= maxx)
            candidates = lon_ok & (b[:, 3] >= miny) & (b[:, 1] <= maxy)
        # For a point the box test is exact; the other geometries get the exact test.
        idx = np.flatnonzero(candidates & self._spliced)
        if len(idx):
            if minx <= maxx:
                boxes = [shapely.box(minx, miny, maxx, maxy)]
            else:
                boxes = [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]
            hit = np.zeros(len(idx), dtype=bool)
            for box in boxes:
                hit |= shapely.intersects(self._geoms[idx], box)
            candidates[idx] = hit
        result: np.ndarray = candidates
        return result

    def _near_mask(self, near: tuple[float, float], within_m: float, mask: np.ndarray) -> np.ndarray:
        """Geodesic: the representative point is within ``within_m``, or one of the feature's
        regions comes within.

        The region test intersects the region with the geodesic disc of ``within_m`` around the
        query point (``app.geo.shapes.circle``, edges within 0.25 m of the true circle).
        """
        out = np.zeros(len(mask), dtype=bool)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return out
        lon, lat = near
        disc = circle(lon, lat, within_m)
        # Nothing outside the disc's bounding box can be within the distance: only points and
        # regions whose boxes meet it get the exact (geodesic) tests.
        dminx, dminy, dmaxx, dmaxy = disc.bounds
        with np.errstate(invalid="ignore"):  # NaN: no point
            boxed = (self._lon[idx] >= dminx) & (self._lon[idx] <= dmaxx)
            boxed &= (self._lat[idx] >= dminy) & (self._lat[idx] <= dmaxy)
        pidx = idx[boxed]
        if len(pidx):
            n = len(pidx)
            _, _, dist = GEOD.inv(np.full(n, lon), np.full(n, lat), self._lon[pidx], self._lat[pidx])
            out[pidx] = np.asarray(dist) <= within_m
        if self.parts is not None and len(self.parts.owner):
            owner, b = self.parts.owner, self.parts.bounds
            # Regions of features still in and not matched by their point, whose boxes meet the disc.
            open_ = mask[owner] & ~out[owner]
            open_ &= (b[:, 2] >= dminx) & (b[:, 0] <= dmaxx) & (b[:, 3] >= dminy) & (b[:, 1] <= dmaxy)
            sel = np.flatnonzero(open_)
            if len(sel):
                shapely.prepare(disc)
                hit = shapely.intersects(disc, self.parts.geoms[sel])
                out[owner[sel[hit]]] = True
        return out


def _matching(names: list[str], wanted: set[str]) -> list[int]:
    """Codes of the names that equal one of ``wanted`` (compared lower-case)."""
    return [code for code, name in enumerate(names) if name.lower() in wanted]


def _any_of(column: np.ndarray, codes: list[int]) -> np.ndarray:
    """``column`` equals one of a few ``codes``: a comparison each (np.isin sorts: 10x slower)."""
    out = np.zeros(len(column), dtype=bool)
    for code in codes:
        out |= column == code
    return out
