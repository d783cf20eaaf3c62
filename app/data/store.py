"""An in-memory feature store: filters as vectorised numpy masks, bodies pre-serialised.

The interface (``FeatureStore.query`` / ``get`` / ``bounds`` / ``interval``) is what the API
uses, so another store (PostGIS, say) can stand beside this one. No Python loop over all features
runs per request, except the free-text search over what the other filters left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from app.geo.geojson import to_geojson_fragment
from app.geo.shapes import circle, simplified

GEOD = Geod(ellps="WGS84")
STATUS_CODES = {"inside": 0, "outside": 1, "uncertain": 2}
NO_DAY = -1  # "no date": never matches a datetime filter
# Display simplification tolerances a client may ask for (metres); a fixed ladder keeps the
# cache of simplified bodies bounded whatever clients send.
SIMPLIFY_LADDER_M = (1, 5, 10, 50, 100, 500, 1000)


def _day(day: dt.date | None) -> int:
    return day.toordinal() if day else NO_DAY


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
    sub_event_type: str | None = None
    q: str | None = None


@dataclass
class Row:
    """One feature and the values the store filters it by.

    ``geometry`` is the feature's own geometry (bbox tests it); ``region`` is the area its
    location may be in (the ``near`` filter tests it), which for an incident is not its point.
    """

    feature: dict[str, Any]
    geometry: BaseGeometry | None
    region: BaseGeometry | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    status: str | None = None
    p_inside: float | None = None
    event_type: str | None = None
    sub_event_type: str | None = None
    text: str = ""
    point: tuple[float, float] | None = None


class FeatureStore:
    """One collection's features, pre-serialised, and the columns its filters read."""

    def __init__(self, rows: list[Row]) -> None:
        n = len(rows)
        # Only the serialised bodies are kept: a feature as Python objects is several times larger,
        # and each row lets go of its feature as soon as it is serialised.
        self.bodies = []
        self.index = {}
        for i, row in enumerate(rows):
            self.bodies.append(orjson.dumps(row.feature))
            self.index[str(row.feature["id"])] = i
            row.feature = {}
        empty = shapely.Point()
        self._geoms = np.array([r.geometry or empty for r in rows], dtype=object)
        self._regions = np.array([r.region or empty for r in rows], dtype=object)
        self._has_region = ~shapely.is_empty(self._regions) if n else np.zeros(0, dtype=bool)
        self._region_bounds: np.ndarray = shapely.bounds(self._regions) if n else np.empty((0, 4))
        bounds: np.ndarray = shapely.bounds(self._geoms) if n else np.empty((0, 4))  # NaN if empty
        self._minx: np.ndarray = bounds[:, 0]
        self._miny: np.ndarray = bounds[:, 1]
        self._maxx: np.ndarray = bounds[:, 2]
        self._maxy: np.ndarray = bounds[:, 3]
        self._start = np.array([_day(r.start) for r in rows], dtype=np.int64)
        self._end = np.array([_day(r.end) for r in rows], dtype=np.int64)
        self._status = np.array([STATUS_CODES.get(r.status or "", -1) for r in rows], dtype=np.int8)
        self._p = np.array([np.nan if r.p_inside is None else r.p_inside for r in rows])
        self._type = np.array([(r.event_type or "").lower() for r in rows], dtype=object)
        self._sub = np.array([(r.sub_event_type or "").lower() for r in rows], dtype=object)
        self._text = [r.text.lower() for r in rows]
        pts = np.array([r.point or (np.nan, np.nan) for r in rows], dtype=np.float64)
        self._lon, self._lat = pts.reshape(n, 2).T
        self._simplified: dict[int, list[bytes]] = {}
        # The features never change: their extent is worked out once, not per /collections call.
        self._bounds, self._interval = self._extent()

    def __len__(self) -> int:
        return len(self.bodies)

    def bounds(self) -> list[float] | None:
        """[minlon, minlat, maxlon, maxlat] of every geometry, or None if there is none."""
        return self._bounds

    def interval(self) -> tuple[str | None, str | None]:
        """First and last day (ISO) of the features' date intervals."""
        return self._interval

    def _extent(self) -> tuple[list[float] | None, tuple[str | None, str | None]]:
        bounds = None
        if len(self._minx) and not np.isnan(self._minx).all():
            bounds = [float(np.nanmin(self._minx)), float(np.nanmin(self._miny)),
                      float(np.nanmax(self._maxx)), float(np.nanmax(self._maxy))]  # fmt: skip
        dated = self._start != NO_DAY
        if not dated.any():
            return bounds, (None, None)
        first = dt.date.fromordinal(int(self._start[dated].min()))
        last = dt.date.fromordinal(int(self._end[dated].max()))
        return bounds, (first.isoformat(), last.isoformat())

    def simplified_bodies(self, tolerance_m: int) -> list[bytes]:
        """The bodies with polygons simplified to within ``tolerance_m`` metres, for display.

        Douglas-Peucker in lon/lat with the tolerance converted at the shortest degree, so the
        error on the ground never exceeds it; coordinates then need only 5 decimals (about 1 m).
        Built once per ladder value and kept.
        """
        if tolerance_m not in SIMPLIFY_LADDER_M:
            raise ValueError(f"tolerance must be one of {SIMPLIFY_LADDER_M}")
        cached = self._simplified.get(tolerance_m)
        if cached is None:
            decimals = 6 if tolerance_m < 5 else 5
            cached = []
            for geom, body in zip(self._geoms, self.bodies, strict=True):
                if geom.is_empty or geom.geom_type == "Point":
                    cached.append(body)
                    continue
                simple = simplified(geom, tolerance_m)
                feature = {**orjson.loads(body), "geometry": to_geojson_fragment(simple, decimals)}
                cached.append(orjson.dumps(feature))
            self._simplified[tolerance_m] = cached
        return cached

    def feature(self, index: int) -> dict[str, Any]:
        """One feature as Python objects (parsed from its body, for CSV and HTML)."""
        parsed: dict[str, Any] = orjson.loads(self.bodies[index])
        return parsed

    def get(self, feature_id: str) -> int | None:
        return self.index.get(feature_id)

    def query(self, q: ItemQuery) -> np.ndarray:
        """Indices of the matching features, in collection order."""
        mask = np.ones(len(self.bodies), dtype=bool)
        if q.bbox is not None:
            mask &= self._bbox_mask(q.bbox)
        if q.has_time_filter:
            mask &= self._start != NO_DAY
            if q.end is not None:
                mask &= self._start <= q.end.toordinal()
            if q.start is not None:
                mask &= self._end >= q.start.toordinal()
        if q.in_zone:
            mask &= np.isin(self._status, [STATUS_CODES[s] for s in q.in_zone])
        if q.min_p_inside is not None:
            mask &= np.nan_to_num(self._p, nan=-1.0) >= q.min_p_inside
        if q.event_type is not None:
            mask &= self._type == q.event_type.lower()
        if q.sub_event_type is not None:
            mask &= self._sub == q.sub_event_type.lower()
        if q.q is not None:
            needle = q.q.lower()
            idx = np.flatnonzero(mask)  # substring search only over what is still in
            mask[idx] = [needle in self._text[i] for i in idx]
        if q.near is not None and q.within_m is not None:
            mask &= self._near_mask(q.near, q.within_m, mask)
        return np.flatnonzero(mask)

    def _bbox_mask(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        minx, miny, maxx, maxy = bbox
        with np.errstate(invalid="ignore"):  # NaN bounds (no geometry) compare False
            if minx <= maxx:
                lon_ok = (self._maxx >= minx) & (self._minx <= maxx)
            else:  # crosses the antimeridian
                lon_ok = (self._maxx >= minx) | (self._minx <= maxx)
            candidates = lon_ok & (self._maxy >= miny) & (self._miny <= maxy)
        # The exact test runs only where the bounding boxes overlap.
        idx = np.flatnonzero(candidates)
        if len(idx):
            if minx <= maxx:
                boxes = [shapely.box(minx, miny, maxx, maxy)]
            else:
                boxes = [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]
            hit = np.zeros(len(idx), dtype=bool)
            for b in boxes:
                hit |= shapely.intersects(self._geoms[idx], b)
            candidates[idx] = hit
        result: np.ndarray = candidates
        return result

    def _near_mask(self, near: tuple[float, float], within_m: float, mask: np.ndarray) -> np.ndarray:
        """Geodesic: the representative point is within ``within_m``, or the region comes within.

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
        rest = idx[~out[idx] & self._has_region[idx]]
        if len(rest):
            b = self._region_bounds[rest]
            rest = rest[(b[:, 2] >= dminx) & (b[:, 0] <= dmaxx) & (b[:, 3] >= dminy) & (b[:, 1] <= dmaxy)]
            shapely.prepare(disc)
            out[rest] = shapely.intersects(disc, self._regions[rest])
        return out
