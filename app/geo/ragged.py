"""Many geometries as a few flat arrays: coordinates in 1e-7 degree integers, and offsets.

A shapely object costs about 24 bytes per vertex in GEOS plus a Python object; a million claim
regions of some 220 vertices each would not fit in memory that way. Here a vertex is two int32
(1e-7 degree is about 1 cm, far inside the 0.1 m the GeoJSON output is rounded to), the layout
is shapely's ragged arrays (GeoArrow's), always in the multi-part form of the family, and a
geometry becomes a shapely object again only when a request needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import GeometryType

SCALE = 1e7  # units per degree
NO_GEOMETRY = -1  # type code of a missing (or empty) geometry
_MULTI = {
    GeometryType.POINT: GeometryType.MULTIPOINT,
    GeometryType.LINESTRING: GeometryType.MULTILINESTRING,
    GeometryType.POLYGON: GeometryType.MULTIPOLYGON,
}
_FAMILY_OF = {int(t): int(m) for t, m in _MULTI.items()} | {int(m): int(m) for m in _MULTI.values()}
_EMPTY_MULTI = {int(m): shapely.from_wkt(f"{m.name} EMPTY") for m in _MULTI.values()}
_AS_MULTI = {
    int(GeometryType.MULTIPOINT): shapely.multipoints,
    int(GeometryType.MULTILINESTRING): shapely.multilinestrings,
    int(GeometryType.MULTIPOLYGON): shapely.multipolygons,
}


@dataclass(frozen=True)
class Ragged:
    """``types[i]``: geometry i's shapely type id (``NO_GEOMETRY`` if none); ``kind``: the
    multi-part type all of them are stored as; ``offsets``: innermost level first (shapely's)."""

    kind: int
    coords: np.ndarray  # int32 (m, 2)
    offsets: tuple[np.ndarray, ...]  # int64
    types: np.ndarray  # int8 (n,)

    def __len__(self) -> int:
        return len(self.types)


def _levels(kind: int) -> int:
    return {int(GeometryType.MULTIPOINT): 1, int(GeometryType.MULTILINESTRING): 2}.get(kind, 3)


def empty(n: int, kind: int = int(GeometryType.MULTIPOLYGON)) -> Ragged:
    """``n`` missing geometries."""
    inner = tuple(np.zeros(1, dtype=np.int64) for _ in range(_levels(kind) - 1))
    outer = np.zeros(n + 1, dtype=np.int64)
    return Ragged(kind, np.zeros((0, 2), dtype=np.int32), (*inner, outer), np.full(n, NO_GEOMETRY, np.int8))


def encode(geoms: np.ndarray) -> Ragged:
    """Geometries of one family (points, lines or polygons, single or multi; None allowed).

    Raises ``ValueError`` for a mix of families or a geometry collection.
    """
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)
    types = np.where(present, shapely.get_type_id(geoms), NO_GEOMETRY).astype(np.int8)
    families = {_FAMILY_OF.get(int(t), -1) for t in np.unique(types[present])}
    if -1 in families or len(families) > 1:
        raise ValueError(f"cannot store geometry types {sorted(set(types[present].tolist()))} together")
    if not families:
        return empty(len(geoms))
    kind = families.pop()
    filled = np.where(present, geoms, _EMPTY_MULTI[kind])
    # Single parts as one-part multis, so every geometry has the same levels of offsets.
    single = present & (types != kind)
    filled[single] = _AS_MULTI[kind](filled[single], indices=np.arange(int(single.sum())))
    _, coords, offsets = shapely.to_ragged_array(filled)
    fixed = np.round(coords * SCALE).astype(np.int32)
    return Ragged(kind, fixed, tuple(o.astype(np.int64) for o in offsets), types)


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices start, start+1, ..., start+count-1 of every (start, count), concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    out: np.ndarray = shift + np.arange(total, dtype=np.int64)
    return out


def take(ragged: Ragged, indices: np.ndarray) -> Ragged:
    """The geometries at ``indices``, in that order, as a new (smaller) ``Ragged``."""
    sel = np.asarray(indices, dtype=np.int64)
    new_offsets = []
    for level in reversed(ragged.offsets):  # outermost first
        starts, counts = level[sel], level[sel + 1] - level[sel]
        new_offsets.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        sel = ranges(starts, counts)
    return Ragged(ragged.kind, ragged.coords[sel], tuple(reversed(new_offsets)), ragged.types[indices])


def concat(
    parts: list[Ragged],
    order: np.ndarray | None = None,
    coords_out: Callable[[int], np.ndarray] | None = None,
) -> Ragged:
    """The geometries of ``parts`` one after another, picked in ``order`` if given.

    The coordinates are copied once, a geometry's run at a time, straight from the parts into
    ``coords_out(n)`` (an (n, 2) int32 array, such as a file's memory map; a new array if not
    given): a million regions' coordinates are gigabytes, and never held twice.
    """
    kinds = {p.kind for p in parts if (p.types != NO_GEOMETRY).any()}
    if len(kinds) > 1:
        raise ValueError(f"cannot store geometry kinds {sorted(kinds)} together")
    kind = kinds.pop() if kinds else parts[0].kind
    parts = [p if p.kind == kind else empty(len(p), kind) for p in parts]
    joined = []  # the offsets of the parts one after another (their coordinates stay apart)
    for level in range(len(parts[0].offsets)):
        shift, pieces = 0, []
        for p, inner in zip(parts, _inner_sizes(parts), strict=True):
            pieces.append(p.offsets[level][:-1] + shift)
            shift += inner[level]
        joined.append(np.concatenate([*pieces, [shift]]).astype(np.int64))
    types = np.concatenate([p.types for p in parts])
    picked = np.arange(len(types), dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64)
    new_offsets = []
    sel = picked
    for depth in reversed(range(len(joined))):  # outermost first, down to the coordinates
        offsets = joined[depth]
        starts, counts = offsets[sel], offsets[sel + 1] - offsets[sel]
        new_offsets.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        if depth:
            sel = ranges(starts, counts)
    # ``starts``/``counts`` now say where each innermost item's coordinates are in the joined
    # coordinates; the picked geometries' coordinates are those runs, one after another.
    total = int(counts.sum())
    coords = np.empty((total, 2), dtype=np.int32) if coords_out is None else coords_out(total)
    bases = np.cumsum([0] + [len(p.coords) for p in parts])
    part_of = np.searchsorted(bases, starts, side="right") - 1
    at = 0
    for part, start, count in zip(part_of.tolist(), (starts - bases[part_of]).tolist(), counts.tolist(),
                                  strict=True):  # fmt: skip
        coords[at : at + count] = parts[part].coords[start : start + count]
        at += count
    return Ragged(kind, coords, tuple(reversed(new_offsets)), types[picked])


def _inner_sizes(parts: list[Ragged]) -> list[list[int]]:
    """For each part, the number of items each offsets level points into."""
    return [[len(p.coords), *(len(o) - 1 for o in p.offsets[:-1])] for p in parts]


def geometries(ragged: Ragged, indices: np.ndarray) -> np.ndarray:
    """Shapely geometries (an object array; None where there is none) of ``indices``."""
    picked = take(ragged, indices)
    out = np.full(len(picked), None, dtype=object)
    present = picked.types != NO_GEOMETRY
    if not present.any():
        return out
    multi = shapely.from_ragged_array(GeometryType(picked.kind), picked.coords / SCALE, picked.offsets)
    single = present & (picked.types != picked.kind)
    out[present] = multi[present]
    out[single] = shapely.get_geometry(multi[single], 0)
    return out


def bounds(ragged: Ragged) -> np.ndarray:
    """[minx, miny, maxx, maxy] of every geometry (NaN where there is none), in degrees."""
    n = len(ragged)
    out = np.full((n, 4), np.nan)
    starts = np.arange(n, dtype=np.int64)
    ends = starts + 1
    for level in reversed(ragged.offsets):
        starts, ends = level[starts], level[ends]
    present = (ragged.types != NO_GEOMETRY) & (ends > starts)
    if not present.any():
        return out
    first = starts[present]
    for axis in (0, 1):  # on the integers: no float copy of every coordinate
        column = ragged.coords[:, axis]
        out[present, axis] = np.minimum.reduceat(column, first) / SCALE
        out[present, axis + 2] = np.maximum.reduceat(column, first) / SCALE
    return out
