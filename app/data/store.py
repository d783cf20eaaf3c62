"""An in-memory feature store: filters as vectorised numpy masks, bodies pre-serialised.

The interface (``FeatureStore.query`` / ``get`` / ``bounds`` / ``interval``) is what the API
uses, so another store (PostGIS, say) can stand beside this one. No Python loop over all features
runs per request, except the free-text search over what the other filters left.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import orjson
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from app.geo.geojson import rounded, to_geojson_fragment
from app.geo.shapes import circle, simplified

GEOD = Geod(ellps="WGS84")
STATUS_CODES = {"inside": 0, "outside": 1, "uncertain": 2}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
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
    event_types: frozenset[str] | None = None  # any of these (the map's type filter)
    sub_event_type: str | None = None
    q: str | None = None


@dataclass
class Row:
    """One feature and the values the store filters it by.

    ``geometry`` is the feature's own geometry (bbox tests it); ``region`` is the area its
    location may be in (the ``near`` filter tests it), which for an incident is not its point.
    ``owner`` is the id of the feature of another collection this one belongs to (a region's
    incident). The feature dict carries no geometry: the store writes it.
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
    owner: str | None = None


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


def _blob(chunks: list[bytes]) -> tuple[bytes, np.ndarray]:
    """Byte strings as one blob and its n+1 offsets: a few objects instead of one per feature."""
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in chunks], out=offsets[1:])
    return b"".join(chunks), offsets


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Categorical encoding: small integer codes and the distinct values (first-seen order)."""
    names: dict[str, int] = {}
    codes = np.fromiter((names.setdefault(v, len(names)) for v in values), dtype=np.int32, count=len(values))
    return codes, list(names)


class FeatureStore:
    """One collection's features as columns: the filters read numpy arrays, bodies are bytes.

    A feature's body is its GeoJSON without the geometry ("head"); a point geometry is written
    into it once, any other geometry is written on request from the shapely object (a region's
    text is four times the size of its coordinates, and few are ever asked for at once).
    """

    def __init__(self, columns: dict[str, Any]) -> None:
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
        self.owners: list[str | None] = columns.get("owners", [])  # only while building
        self._spliced = np.array([g is not None for g in self._geoms], dtype=bool)
        self.parts: Parts | None = None
        # The features never change: their extent is worked out once, not per /collections call.
        self._bounds, self._interval = self._extent()

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def from_rows(cls, rows: list[Row]) -> FeatureStore:
        n = len(rows)
        geoms = np.array([r.geometry for r in rows] + [None], dtype=object)[:n]
        bounds = shapely.bounds(geoms) if n else np.empty((0, 4))  # NaN rows: no geometry
        points = shapely.get_type_id(geoms) == 0 if n else np.zeros(0, dtype=bool)
        ids, heads = [], []
        for i, row in enumerate(rows):
            ids.append(str(row.feature["id"]))
            feature = {k: v for k, v in row.feature.items() if k != "geometry"}
            if points[i] or row.geometry is None:
                feature["geometry"] = to_geojson_fragment(row.geometry)
            heads.append(orjson.dumps(feature))
            row.feature = {}  # let go of the dict as soon as it is serialised
        geoms[points] = None
        head_blob, head_offsets = _blob(heads)
        types, type_names = _codes([r.event_type or "" for r in rows])
        subs, sub_names = _codes([r.sub_event_type or "" for r in rows])
        pts = np.array([r.point or (np.nan, np.nan) for r in rows], dtype=np.float64).reshape(n, 2)
        store = cls({
            "ids": ids,
            "heads": head_blob, "head_offsets": head_offsets, "geoms": geoms, "bounds": bounds,
            "start": np.array([_day(r.start) for r in rows], dtype=np.int64),
            "end": np.array([_day(r.end) for r in rows], dtype=np.int64),
            "status": np.array([STATUS_CODES.get(r.status or "", -1) for r in rows], dtype=np.int8),
            "p": np.array([np.nan if r.p_inside is None else r.p_inside for r in rows], dtype=np.float64),
            "type": types, "type_names": type_names, "sub": subs, "sub_names": sub_names,
            "text": [r.text.lower() for r in rows],
            "lon": pts[:, 0].copy(), "lat": pts[:, 1].copy(),
            "owners": [r.owner for r in rows],
        })  # fmt: skip
        regions = [(r.region, i) for i, r in enumerate(rows) if r.region is not None]
        if regions:
            geom_list, owner = zip(*regions, strict=True)
            store.parts = Parts(np.array([*geom_list, None], dtype=object)[:-1], np.array(owner))
        return store

    @classmethod
    def concat(cls, stores: list[FeatureStore], order: np.ndarray | None = None) -> FeatureStore:
        """The features of ``stores`` one after another, or picked in ``order`` if given."""
        heads = [s.head(i) for s in stores for i in range(len(s))]
        n = len(heads)
        order = np.arange(n) if order is None else order

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(s, name) for s in stores])[order] if n else np.zeros(0)

        type_names = sorted({t for s in stores for t in s._type_names})
        sub_names = sorted({t for s in stores for t in s._sub_names})

        def recode(attr: str, names_attr: str, names: list[str]) -> np.ndarray:
            pos = {name: k for k, name in enumerate(names)}
            parts = [np.array([pos[x] for x in getattr(s, names_attr)], dtype=np.int32)[getattr(s, attr)]
                     if len(s) else np.zeros(0, dtype=np.int32) for s in stores]  # fmt: skip
            return np.concatenate(parts)[order] if n else np.zeros(0, dtype=np.int32)

        ids = [fid for s in stores for fid in s.ids]
        texts = [t for s in stores for t in s._text]
        owners = [o for s in stores for o in s.owners]
        head_blob, head_offsets = _blob([heads[i] for i in order])
        geoms = np.concatenate([s._geoms for s in stores])[order] if n else np.zeros(0, dtype=object)
        store = cls({
            "ids": [ids[i] for i in order], "heads": head_blob, "head_offsets": head_offsets,
            "geoms": geoms, "bounds": np.concatenate([s._bounds_xy for s in stores])[order],
            "start": cat("_start"), "end": cat("_end"), "status": cat("_status"), "p": cat("_p"),
            "type": recode("_type", "_type_names", type_names), "type_names": type_names,
            "sub": recode("_sub", "_sub_names", sub_names), "sub_names": sub_names,
            "text": [texts[i] for i in order], "lon": cat("_lon"), "lat": cat("_lat"),
            "owners": [owners[i] for i in order] if owners else [],
        })  # fmt: skip
        return store

    # -- on disk (no pickle: arrays, bytes and JSON; loading cannot run code) ---------------

    ARRAYS = ("head_offsets", "bounds", "start", "end", "status", "p", "type", "sub", "lon", "lat")

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        (directory / "heads.bin").write_bytes(self._heads)
        wkb = [b"" if g is None else bytes(g) for g in shapely.to_wkb(self._geoms)] if len(self) else []
        geom_blob, geom_offsets = _blob(wkb)
        (directory / "geoms.bin").write_bytes(geom_blob)
        arrays = {
            "head_offsets": self._head_offsets, "bounds": self._bounds_xy, "start": self._start,
            "end": self._end, "status": self._status, "p": self._p, "type": self._type,
            "sub": self._sub, "lon": self._lon, "lat": self._lat, "geom_offsets": geom_offsets,
        }  # fmt: skip
        if self.parts is not None:
            arrays["parts_owner"], arrays["parts_rows"] = self.parts.owner, self.parts.rows
        np.savez(directory / "arrays.npz", allow_pickle=False, **arrays)
        strings = {"ids": self.ids, "text": self._text, "type_names": self._type_names,
                   "sub_names": self._sub_names}  # fmt: skip
        (directory / "strings.json").write_bytes(orjson.dumps(strings))

    @classmethod
    def load(cls, directory: Path) -> tuple[FeatureStore, tuple[np.ndarray, np.ndarray] | None]:
        """A saved store, and the owners and rows of its parts if it had any."""
        with np.load(directory / "arrays.npz", allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        blob = (directory / "geoms.bin").read_bytes()
        ends = arrays.pop("geom_offsets")
        wkb = np.array([*(blob[a:b] or None for a, b in itertools.pairwise(ends)), None], dtype=object)
        geoms = shapely.from_wkb(wkb[:-1]) if len(wkb) > 1 else np.zeros(0, dtype=object)
        strings = orjson.loads((directory / "strings.json").read_bytes())
        parts = None
        if "parts_owner" in arrays:
            parts = (arrays.pop("parts_owner"), arrays.pop("parts_rows"))
        store = cls({**arrays, **strings, "heads": (directory / "heads.bin").read_bytes(), "geoms": geoms})
        return store, parts

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

    def geometry(self, index: int) -> BaseGeometry | None:
        """The feature's geometry (parsed from the body for points)."""
        geom = self._geoms[index]
        if geom is None and not np.isnan(self._bounds_xy[index, 0]):
            minx, miny = self._bounds_xy[index, :2]
            return shapely.Point(minx, miny)
        return cast("BaseGeometry | None", geom)

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


def link_regions(events: FeatureStore, regions: FeatureStore) -> None:
    """Let the events' ``near`` filter test their claims' regions (held once, by ``regions``)."""
    regions.own_parts()
    assert regions.parts is not None
    owner = np.array([events.index[regions.owners[i]] for i in regions.parts.owner], dtype=np.int64)
    events.parts = Parts(regions.parts.geoms, owner, rows=regions.parts.owner)
    regions.owners = []


def _any_of(column: np.ndarray, codes: list[int]) -> np.ndarray:
    """``column`` equals one of a few ``codes``: a comparison each (np.isin sorts: 10x slower)."""
    out = np.zeros(len(column), dtype=bool)
    for code in codes:
        out |= column == code
    return out
