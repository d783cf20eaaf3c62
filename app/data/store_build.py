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
from typing import Any, BinaryIO

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from app.data import near_index
from app.data.mapped import MappedBytes, mapped_array
from app.data.store import NO_DAY, STATUS_CODES, FeatureStore, Near
from app.geo import box_tree, ragged
from app.geo.geojson import to_geojson_fragment
from app.geo.reach import Piece

# Saved as .npy files (read back as memory maps), as byte blobs, and as JSON.
ARRAY_COLUMNS = ("ids", "id_order", "head_offsets", "text_offsets", "bounds", "start", "end", "status", "p",
                 "type", "sub", "lon", "lat")  # fmt: skip
BLOB_COLUMNS = ("heads", "text")
OFFSETS_OF = {"heads": "head_offsets", "text": "text_offsets"}  # each blob's n+1 offsets
NAME_COLUMNS = ("type_names", "sub_names")
# Indexes: columns that are themselves a few named arrays (saved as "<index>.<array>.npy").
INDEX_COLUMNS = ("bbox_tree", "point_tree", "time_tree", "near_index", "status_runs", "type_runs", "sub_runs")


@dataclass
class Row:
    """One feature and the values the store filters it by.

    ``geometry`` is the feature's own geometry (bbox tests it). ``owner`` is the id of the
    feature of another collection this one belongs to (a region's incident): the incident's
    ``near`` filter tests the regions it owns. ``pieces`` (regions only): the pieces the region
    lies in and whether it is their union (``app.geo.reach``), for the ``near`` index. The store
    writes the geometry into the feature.
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
    pieces: tuple[tuple[Piece, ...], bool] | None = None


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


def _gathered(blobs: list[tuple[Any, np.ndarray]], order: np.ndarray, out: BinaryIO) -> np.ndarray:
    """Several blobs' entries written to ``out`` as one blob, picked in ``order`` (positions in
    their concatenation), copied straight from the blobs: no Python object per entry and no
    second copy of the whole. Returns the new blob's offsets."""
    sizes = np.concatenate([np.diff(offsets) for _, offsets in blobs])
    starts = np.concatenate([offsets[:-1] for _, offsets in blobs])
    source = np.concatenate([np.full(len(offsets) - 1, k) for k, (_, offsets) in enumerate(blobs)])
    new_offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(sizes[order], out=new_offsets[1:])
    views = [blob.view if isinstance(blob, MappedBytes) else memoryview(blob) for blob, _ in blobs]
    sizes_, starts_, source_ = sizes.tolist(), starts.tolist(), source.tolist()
    for i in order.tolist():
        a = starts_[i]
        out.write(views[source_[i]][a : a + sizes_[i]])
    return new_offsets


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Categorical encoding: small integer codes and the distinct values (first-seen order)."""
    names: dict[str, int] = {}
    codes = np.fromiter((names.setdefault(v, len(names)) for v in values), dtype=np.int32, count=len(values))
    return codes, list(names)


def _ids(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The ids as fixed-width UTF-8 and their sort order (``FeatureStore.get`` searches it)."""
    encoded = np.array([fid.encode() for fid in ids], dtype=bytes) if ids else np.zeros(0, dtype="S1")
    return encoded, np.argsort(encoded, kind="stable")


def from_rows(rows: list[Row]) -> tuple[FeatureStore, list[str | None]]:
    """A store of ``rows``, and each row's owner (a region's incident, for ``relink``)."""
    n = len(rows)
    geoms = _objects([r.geometry for r in rows])
    points = shapely.get_type_id(geoms) == 0 if n else np.zeros(0, dtype=bool)
    heads = []
    for i, row in enumerate(rows):
        feature = {k: v for k, v in row.feature.items() if k != "geometry"}
        if points[i] or row.geometry is None:
            feature["geometry"] = to_geojson_fragment(row.geometry)
        heads.append(orjson.dumps(feature))
    ids, id_order = _ids([str(r.feature["id"]) for r in rows])
    for row in rows:
        row.feature = {}  # let go of the dicts as soon as they are serialised
    point_bounds = shapely.bounds(
        _objects([g if is_point else None for g, is_point in zip(geoms, points, strict=True)])
    )
    geoms[points] = None  # a point lives in its head
    geometry = ragged.encode(geoms)
    bounds = np.where(points[:, None], point_bounds, ragged.bounds(geometry))
    head_blob, head_offsets = _blob(heads)
    text_blob, text_offsets = _blob([r.text.lower().encode() for r in rows])
    types, type_names = _codes([r.event_type or "" for r in rows])
    subs, sub_names = _codes([r.sub_event_type or "" for r in rows])
    pts = np.array([r.point or (np.nan, np.nan) for r in rows], dtype=np.float64).reshape(n, 2)
    columns = {
        "ids": ids, "id_order": id_order, "heads": head_blob, "head_offsets": head_offsets,
        "geometry": geometry, "bounds": bounds,
        "start": np.array([_day(r.start) for r in rows], dtype=np.int64),
        "end": np.array([_day(r.end) for r in rows], dtype=np.int64),
        "status": np.array([STATUS_CODES.get(r.status or "", -1) for r in rows], dtype=np.int8),
        "p": np.array([np.nan if r.p_inside is None else r.p_inside for r in rows], dtype=np.float64),
        "type": types, "type_names": type_names, "sub": subs, "sub_names": sub_names,
        "text": text_blob, "text_offsets": text_offsets,
        "lon": pts[:, 0].copy(), "lat": pts[:, 1].copy(),
    }  # fmt: skip
    if any(r.pieces is not None for r in rows):
        columns["near_index"] = near_index.grouped(near_index.ungrouped([r.pieces for r in rows]))
    return FeatureStore(columns | indexes(columns)), [r.owner for r in rows]


def indexes(columns: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """The box trees (``app.geo.box_tree``) of the features' bounds (bbox), of their points
    (near; only when they differ from the bounds, as a polygon's point does) and of their
    date intervals (datetime; undated features are left out, as the filter leaves them); and
    the runs of each category column (``FeatureStore._run``)."""
    bounds, lon, lat = columns["bounds"], columns["lon"], columns["lat"]
    out = {"bbox_tree": box_tree.build(bounds)}
    points = np.column_stack([lon, lat, lon, lat])
    if not np.array_equal(points, bounds, equal_nan=True):
        out["point_tree"] = box_tree.build(points)
    start, end = columns["start"], columns["end"]
    days = np.column_stack([start, np.zeros(len(start)), end, np.zeros(len(start))]).astype(np.float64)
    days[start == NO_DAY] = np.nan
    out["time_tree"] = box_tree.build(days, key=start)
    for name in ("status", "type", "sub"):
        out[f"{name}_runs"] = _runs(columns[name])
    return out


def _runs(column: np.ndarray) -> dict[str, np.ndarray]:
    """The rows of a category column sorted by code (stably: each code's rows stay in
    collection order), the distinct codes and where each one's run starts (and the end)."""
    order = np.argsort(column, kind="stable")
    codes, first = np.unique(column[order], return_index=True)
    small = np.int32 if len(column) < 2**31 else np.int64
    return {
        "order": order.astype(small),
        "codes": codes,
        "first": np.append(first, len(column)).astype(np.int64),
    }


def concat_into(
    stores: list[FeatureStore], order: np.ndarray, directory: Path, extra: dict[str, np.ndarray] | None = None
) -> FeatureStore:
    """The features of ``stores`` one after another, picked in ``order``, saved in ``directory``
    (with the ``extra`` arrays) and mapped back.

    The big columns (the two byte blobs, the region coordinates) go straight from the parts to
    their files, so merging a million features never holds them in memory; the rest (a few
    numbers per feature) is built in memory and saved as ``save`` does.
    """
    directory.mkdir(parents=True)

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

    columns: dict[str, Any] = {}
    for name in BLOB_COLUMNS:
        with (directory / f"{name}.bin").open("wb") as out:
            blobs = [(s.columns[name], s.columns[OFFSETS_OF[name]]) for s in stores]
            columns[OFFSETS_OF[name]] = _gathered(blobs, order, out)

    def coords_file(n: int) -> np.ndarray:
        mapped: np.ndarray = np.lib.format.open_memmap(directory / "geom_coords.npy", "w+", np.int32, (n, 2))
        return mapped

    geometry = ragged.concat([s.geometry for s in stores], order, coords_file)
    geometry.coords.flush()  # type: ignore[attr-defined]
    ids = column("ids")
    types, type_names = recode("type")
    subs, sub_names = recode("sub")
    columns |= {
        "ids": ids, "id_order": np.argsort(ids, kind="stable"),
        "geometry": geometry, "bounds": column("bounds"),
        "start": column("start"), "end": column("end"), "status": column("status"), "p": column("p"),
        "type": types, "type_names": type_names, "sub": subs, "sub_names": sub_names,
        "lon": column("lon"), "lat": column("lat"),
    }  # fmt: skip
    if "near_index" in stores[0].columns:
        new_row = np.empty(len(order), dtype=np.int64)
        new_row[order] = np.arange(len(order))  # merged row of each row of the concatenation
        firsts = np.cumsum([0] + [len(s) for s in stores])
        parts = [_ungroup(s.columns["near_index"]) for s in stores]
        rows = [new_row[a:b] for a, b in itertools.pairwise(firsts)]
        columns["near_index"] = near_index.grouped(near_index.concat_ungrouped(parts, rows))
    columns |= indexes(columns)
    columns |= extra or {}
    _write_arrays(columns, directory, written=frozenset({"geom_coords"}))
    del geometry, columns
    return load(directory)


def _ungroup(index: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A grouped index's pieces, each with its centre again (the input of ``grouped``)."""
    counts = np.diff(index["centre_first"])
    pieces = {name: index[name] for name in near_index.PIECE_COLUMNS}
    return pieces | {
        "lon": np.repeat(index["centre_lon"], counts),
        "lat": np.repeat(index["centre_lat"], counts),
    }


def relink(events: FeatureStore, regions: FeatureStore) -> None:
    """The events' ``near`` filter tests the regions' polygons (each region's incident's row
    is the regions' ``owner_rows`` column)."""
    assert regions.near is not None
    events.near = Near(regions.near.index, regions.geometry, regions.columns["owner_rows"])


def save(store: FeatureStore, directory: Path) -> None:
    """Write ``store`` as .npy arrays, byte blobs and JSON (``load`` maps them back)."""
    directory.mkdir(parents=True)
    for name in BLOB_COLUMNS:
        (directory / f"{name}.bin").write_bytes(store.columns[name])
    _write_arrays(store.columns, directory)


def _write_arrays(c: dict[str, Any], directory: Path, written: frozenset[str] = frozenset()) -> None:
    """Every column but the blobs, as .npy files (but those already ``written``), and the JSON
    that says what there is."""
    arrays = {name: c[name] for name in ARRAY_COLUMNS}
    g: ragged.Ragged = c["geometry"]
    arrays |= {"geom_coords": g.coords, "geom_types": g.types}
    arrays |= {f"geom_offsets{level}": offsets for level, offsets in enumerate(g.offsets)}
    for index in INDEX_COLUMNS:
        arrays |= {f"{index}.{name}": values for name, values in c.get(index, {}).items()}
    if "owner_rows" in c:
        arrays["owner_rows"] = c["owner_rows"]
    for name, values in arrays.items():
        if name not in written:
            np.save(directory / f"{name}.npy", np.asarray(values), allow_pickle=False)
    meta = {name: c[name] for name in NAME_COLUMNS} | {"geom_kind": g.kind, "geom_levels": len(g.offsets),
                                                       "arrays": sorted(arrays)}  # fmt: skip
    (directory / "meta.json").write_bytes(orjson.dumps(meta))


def _mapped_array(path: Path) -> np.ndarray:
    # A plain ndarray over the map (numpy's memmap subclass adds Python work to every indexing),
    # holding no file descriptor (app.data.mapped).
    return mapped_array(path)


def _mapped_blob(path: Path) -> Any:
    """The file's bytes as a read-only memory map (slices of it are bytes)."""
    return MappedBytes(path)


def load(directory: Path) -> FeatureStore:
    """A saved store, its columns mapped from the files (read as requests touch them)."""
    meta = orjson.loads((directory / "meta.json").read_bytes())
    arrays = {name: _mapped_array(directory / f"{name}.npy") for name in meta["arrays"]}
    offsets = tuple(arrays.pop(f"geom_offsets{level}") for level in range(meta["geom_levels"]))
    geometry = ragged.Ragged(meta["geom_kind"], arrays.pop("geom_coords"), offsets, arrays.pop("geom_types"))
    columns: dict[str, Any] = {name: meta[name] for name in NAME_COLUMNS} | {"geometry": geometry}
    columns |= {name: _mapped_blob(directory / f"{name}.bin") for name in BLOB_COLUMNS}
    for name in list(arrays):
        if "." in name:
            index, part = name.split(".", 1)
            columns.setdefault(index, {})[part] = arrays.pop(name)
    return FeatureStore(columns | arrays)
