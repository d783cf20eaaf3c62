"""Building stores: from the collections' rows, merged from parts, saved to and loaded from disk.

The reading side (filters, bodies) is ``app.data.store``; this module only makes the columns a
``FeatureStore`` reads. On disk a store is numpy arrays, bytes and JSON, never a pickle, so
loading one cannot run code.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from app.data.store import NO_DAY, STATUS_CODES, FeatureStore, Parts
from app.geo.geojson import to_geojson_fragment

# The columns saved as numpy arrays; the rest are text (ids, search text, category names).
ARRAY_COLUMNS = ("head_offsets", "bounds", "start", "end", "status", "p", "type", "sub", "lon", "lat")
TEXT_COLUMNS = ("ids", "text", "type_names", "sub_names")


@dataclass
class Row:
    """One feature and the values the store filters it by.

    ``geometry`` is the feature's own geometry (bbox tests it). ``owner`` is the id of the
    feature of another collection this one belongs to (a region's incident): the incident's
    ``near`` filter tests the regions it owns. The store writes the geometry into the feature.
    """

    feature: dict[str, Any]
    geometry: BaseGeometry | None
    start: dt.date | None = None
    end: dt.date | None = None
    status: str | None = None
    p_inside: float | None = None
    event_type: str | None = None
    sub_event_type: str | None = None
    text: str = ""
    point: tuple[float, float] | None = None
    owner: str | None = None


def _day(day: dt.date | None) -> int:
    return day.toordinal() if day else NO_DAY


def _objects(items: list[Any]) -> np.ndarray:
    """A 1-d object array (numpy would make a list of equal-length tuples two-dimensional)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


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


def from_rows(rows: list[Row]) -> tuple[FeatureStore, list[str | None]]:
    """A store of ``rows``, and each row's owner (for ``link_regions``)."""
    n = len(rows)
    geoms = _objects([r.geometry for r in rows])
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
    geoms[points] = None  # a point lives in its head
    head_blob, head_offsets = _blob(heads)
    types, type_names = _codes([r.event_type or "" for r in rows])
    subs, sub_names = _codes([r.sub_event_type or "" for r in rows])
    pts = np.array([r.point or (np.nan, np.nan) for r in rows], dtype=np.float64).reshape(n, 2)
    store = FeatureStore({
        "ids": ids, "heads": head_blob, "head_offsets": head_offsets, "geoms": geoms, "bounds": bounds,
        "start": np.array([_day(r.start) for r in rows], dtype=np.int64),
        "end": np.array([_day(r.end) for r in rows], dtype=np.int64),
        "status": np.array([STATUS_CODES.get(r.status or "", -1) for r in rows], dtype=np.int8),
        "p": np.array([np.nan if r.p_inside is None else r.p_inside for r in rows], dtype=np.float64),
        "type": types, "type_names": type_names, "sub": subs, "sub_names": sub_names,
        "text": [r.text.lower() for r in rows],
        "lon": pts[:, 0].copy(), "lat": pts[:, 1].copy(),
    })  # fmt: skip
    return store, [r.owner for r in rows]


def concat(stores: list[FeatureStore], order: np.ndarray) -> FeatureStore:
    """The features of ``stores`` one after another, picked in ``order``."""

    def column(name: str) -> np.ndarray:
        picked: np.ndarray = np.concatenate([s.columns[name] for s in stores])[order]
        return picked

    def recode(name: str) -> tuple[np.ndarray, list[str]]:
        """One set of category names for all parts, and every part's codes mapped onto it."""
        names = sorted({t for s in stores for t in s.columns[f"{name}_names"]})
        where = {t: k for k, t in enumerate(names)}
        remap = [np.array([where[t] for t in s.columns[f"{name}_names"]], dtype=np.int32) for s in stores]
        codes = [mapping[s.columns[name]] for mapping, s in zip(remap, stores, strict=True)]
        recoded: np.ndarray = np.concatenate(codes)[order]
        return recoded, names

    heads = [s.head(i) for s in stores for i in range(len(s))]
    head_blob, head_offsets = _blob([heads[i] for i in order])
    ids = [fid for s in stores for fid in s.ids]
    texts = [t for s in stores for t in s.columns["text"]]
    types, type_names = recode("type")
    subs, sub_names = recode("sub")
    return FeatureStore({
        "ids": [ids[i] for i in order], "heads": head_blob, "head_offsets": head_offsets,
        "geoms": column("geoms"), "bounds": column("bounds"),
        "start": column("start"), "end": column("end"), "status": column("status"), "p": column("p"),
        "type": types, "type_names": type_names, "sub": subs, "sub_names": sub_names,
        "text": [texts[i] for i in order], "lon": column("lon"), "lat": column("lat"),
    })  # fmt: skip


def link_regions(events: FeatureStore, regions: FeatureStore, owners: list[str | None]) -> None:
    """Let the events' ``near`` filter test their claims' regions (held once, by ``regions``);
    ``owners``: each region's incident id."""
    regions.own_parts()
    assert regions.parts is not None
    owner = np.array([events.index[owners[i] or ""] for i in regions.parts.owner], dtype=np.int64)
    events.parts = Parts(regions.parts.geoms, owner, rows=regions.parts.owner)


def save(store: FeatureStore, directory: Path) -> None:
    directory.mkdir(parents=True)
    c = store.columns
    (directory / "heads.bin").write_bytes(c["heads"])
    wkb = [b"" if g is None else bytes(g) for g in shapely.to_wkb(c["geoms"])]
    geom_blob, geom_offsets = _blob(wkb)
    (directory / "geoms.bin").write_bytes(geom_blob)
    arrays = {name: c[name] for name in ARRAY_COLUMNS} | {"geom_offsets": geom_offsets}
    if store.parts is not None:
        arrays["parts_owner"], arrays["parts_rows"] = store.parts.owner, store.parts.rows
    np.savez(directory / "arrays.npz", allow_pickle=False, **arrays)
    (directory / "strings.json").write_bytes(orjson.dumps({name: c[name] for name in TEXT_COLUMNS}))


def load(directory: Path) -> tuple[FeatureStore, tuple[np.ndarray, np.ndarray] | None]:
    """A saved store, and the owners and rows of its parts if it had any."""
    with np.load(directory / "arrays.npz", allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    blob = (directory / "geoms.bin").read_bytes()
    wkb = _objects([blob[a:b] or None for a, b in itertools.pairwise(arrays.pop("geom_offsets"))])
    parts = None
    if "parts_owner" in arrays:
        parts = (arrays.pop("parts_owner"), arrays.pop("parts_rows"))
    strings = orjson.loads((directory / "strings.json").read_bytes())
    heads = (directory / "heads.bin").read_bytes()
    return FeatureStore({**arrays, **strings, "heads": heads, "geoms": shapely.from_wkb(wkb)}), parts
