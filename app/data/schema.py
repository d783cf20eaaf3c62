"""What a store holds, defined once: ``Columns`` names and types every column of a collection, and
the Arrow schema a store is written in (``SCHEMA``) is made from it.

A store is one row per feature, in collection order (events: first day, then id; regions follow
their incident). On disk it is an Arrow IPC file (``app.data.store_file``), read back as a memory
map; its ``geometry`` column is GeoArrow WKB (``geoarrow.wkb``, CRS84), so pyarrow and any
GeoArrow reader take it as it is. ``Row`` is what the collections give a store to build from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pyarrow as pa
from shapely.geometry.base import BaseGeometry

GEOARROW_WKB = {b"ARROW:extension:name": b"geoarrow.wkb", b"ARROW:extension:metadata": b'{"crs":"OGC:CRS84"}'}
CATEGORY = pa.dictionary(pa.int32(), pa.string())


def _column(arrow: pa.DataType, metadata: dict[bytes, bytes] | None = None) -> dict[str, Any]:
    """A column's Arrow type and its Arrow field metadata."""
    return {"arrow": arrow, "field": metadata}


# pyarrow imports pandas (where installed: a second or more, and 60 MB) the first time it converts
# to or from numpy or Python values (``pa.array``, ``to_numpy``). A store needs neither: its
# arrays are made from numpy buffers and read as numpy views of Arrow's buffers.


def to_arrow(values: np.ndarray | Sequence[bytes | None], arrow: pa.DataType) -> pa.Array:
    """An Arrow array of ``arrow`` type over numpy numbers, or of byte strings (None: null)."""
    if isinstance(values, np.ndarray):
        return pa.Array.from_buffers(arrow, len(values), [None, pa.py_buffer(np.ascontiguousarray(values))])
    valid = np.array([v is not None for v in values], dtype=bool)
    sizes = np.array([0 if v is None else len(v) for v in values], dtype=np.int64)
    offsets = np.zeros(len(values) + 1, dtype=np.int64 if arrow == pa.large_binary() else np.int32)
    np.cumsum(sizes, out=offsets[1:])
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    data = pa.py_buffer(b"".join(v for v in values if v is not None))
    return pa.Array.from_buffers(arrow, len(values), [bitmap, pa.py_buffer(offsets), data])


NUMPY = {pa.int8(): np.int8, pa.int32(): np.int32, pa.int64(): np.int64, pa.uint64(): np.uint64,
         pa.float64(): np.float64}  # fmt: skip


def numbers(array: pa.Array) -> np.ndarray:
    """A read-only numpy view of the values of a numeric Arrow array (no copy)."""
    dtype = np.dtype(NUMPY[array.type])
    view: np.ndarray = np.frombuffer(array.buffers()[1], dtype, len(array), array.offset * dtype.itemsize)
    return view


def valid(array: pa.Array) -> np.ndarray:
    """Whether each value of an Arrow array is not null (bool)."""
    bitmap = array.buffers()[0]
    return np.ones(len(array), dtype=bool) if bitmap is None else _bits(bitmap, array)


def true(array: pa.BooleanArray) -> np.ndarray:
    """Where a boolean Arrow array is true (and not null)."""
    mask: np.ndarray = _bits(array.buffers()[1], array) & valid(array)
    return mask


def _bits(bitmap: pa.Buffer, array: pa.Array) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(bitmap, np.uint8), bitorder="little")
    mask: np.ndarray = bits[array.offset : array.offset + len(array)].astype(bool)
    return mask


class Blob:
    """A binary or string column (one Arrow chunk per part) read as bytes through numpy views of
    its buffers; row ``i`` is the column's row ``order[i]``."""

    def __init__(self, column: pa.ChunkedArray, order: np.ndarray) -> None:
        starts, ends, self.data = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], []
        for chunk in column.chunks:
            _, offsets, data = chunk.buffers()
            width = np.dtype(np.int64 if chunk.type in (pa.large_binary(), pa.large_string()) else np.int32)
            at = np.frombuffer(offsets, width, len(chunk) + 1, chunk.offset * width.itemsize)
            starts.append(at[:-1])
            ends.append(at[1:])
            self.data.append(memoryview(data) if data is not None else memoryview(b""))
        self.chunk = np.repeat(np.arange(len(self.data)), [len(c) for c in column.chunks])[order]
        self.start, self.end = np.concatenate(starts)[order], np.concatenate(ends)[order]
        self.valid = mask([valid(c) for c in column.chunks])[order]

    def __getitem__(self, row: int) -> bytes:
        value: bytes = self.data[self.chunk[row]][self.start[row] : self.end[row]].tobytes()
        return value

    def take(self, rows: np.ndarray) -> list[bytes | None]:
        d, v, k = self.data, self.valid[rows], self.chunk[rows].tolist()
        s, e = self.start[rows].tolist(), self.end[rows].tolist()
        return [d[i][a:b].tobytes() if ok else None for i, a, b, ok in zip(k, s, e, v, strict=True)]


def mask(parts: list[np.ndarray]) -> np.ndarray:
    """Per-chunk booleans as one array (empty if there are none)."""
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


@dataclass(frozen=True)
class Category:
    """A categorical column: each row's code (int32) into ``names``."""

    codes: np.ndarray
    names: list[str]

    def of(self, rows: np.ndarray) -> list[str]:
        return [self.names[code] for code in self.codes[rows].tolist()]

    def matching(self, wanted: set[str]) -> list[int]:
        """Codes of the names equal to one of ``wanted`` (lower-case), compared lower-case."""
        return [code for code, name in enumerate(self.names) if name.lower() in wanted]


@dataclass(frozen=True)
class Columns:
    """A store's columns. Numbers and categories (``Category``) are numpy arrays, one value per
    feature in collection order; text and bytes are the Arrow columns as stored (one chunk per
    part, rows that are no longer served included), read through the store's row order."""

    id: pa.ChunkedArray = field(metadata=_column(pa.string()))
    # The GeoJSON Feature (UTF-8 JSON), with its geometry when that is a point or none.
    head: pa.ChunkedArray = field(metadata=_column(pa.large_binary()))
    # WKB of any other geometry (null: the geometry is in the head).
    geometry: pa.ChunkedArray = field(metadata=_column(pa.large_binary(), GEOARROW_WKB))
    # The feature's CSV line (app.api.formats.features_csv; null: a polygon's is written on
    # request) and its header line, whose columns are the feature's own properties.
    csv: pa.ChunkedArray = field(metadata=_column(pa.large_binary()))
    csv_head: Category = field(metadata=_column(CATEGORY))
    # Bounds of the geometry, degrees (NaN: no geometry).
    minx: np.ndarray = field(metadata=_column(pa.float64()))
    miny: np.ndarray = field(metadata=_column(pa.float64()))
    maxx: np.ndarray = field(metadata=_column(pa.float64()))
    maxy: np.ndarray = field(metadata=_column(pa.float64()))
    # Metres from the centre of the bounds: the region lies between reach_min and reach_max, and
    # holds every point between ring_min and ring_max (app.geo.near.reaches; NaN: none).
    reach_min: np.ndarray = field(metadata=_column(pa.float64()))
    reach_max: np.ndarray = field(metadata=_column(pa.float64()))
    ring_min: np.ndarray = field(metadata=_column(pa.float64()))
    ring_max: np.ndarray = field(metadata=_column(pa.float64()))
    # A geodesic disc inside the region: centre (degrees) and radius (metres) (app.geo.near.inner_discs).
    inner_lon: np.ndarray = field(metadata=_column(pa.float64()))
    inner_lat: np.ndarray = field(metadata=_column(pa.float64()))
    inner_m: np.ndarray = field(metadata=_column(pa.float64()))
    # The representative point, degrees (NaN: none): an incident's marker, a point inside a region.
    lon: np.ndarray = field(metadata=_column(pa.float64()))
    lat: np.ndarray = field(metadata=_column(pa.float64()))
    # First and last day, proleptic Gregorian ordinals (NO_DAY, app.data.store_api: undated).
    start: np.ndarray = field(metadata=_column(pa.int32()))
    end: np.ndarray = field(metadata=_column(pa.int32()))
    # Zone status code (app.data.store_api.STATUS_CODES; -1: none), share inside the zone (NaN: none).
    status: np.ndarray = field(metadata=_column(pa.int8()))
    p_inside: np.ndarray = field(metadata=_column(pa.float64()))
    # Event type and sub-event type ("" where none).
    event_type: Category = field(metadata=_column(CATEGORY))
    sub_event_type: Category = field(metadata=_column(CATEGORY))
    # Lower-case title and summary (and a claim's text): what ``q`` searches.
    text: pa.ChunkedArray = field(metadata=_column(pa.string()))
    # A region's incident, by id (null: none).
    owner: pa.ChunkedArray = field(metadata=_column(pa.string()))

    def __len__(self) -> int:
        return len(self.start)

    def table(self) -> pa.Table:
        """The columns as one Arrow table of ``SCHEMA``."""
        arrays = []
        for f in fields(self):
            value, arrow = getattr(self, f.name), f.metadata["arrow"]
            if isinstance(value, Category):
                codes = to_arrow(value.codes.astype(np.int32), pa.int32())
                names = to_arrow([name.encode() for name in value.names], pa.string())
                value = pa.DictionaryArray.from_arrays(codes, names)
            arrays.append(to_arrow(value, arrow) if isinstance(value, np.ndarray) else value)
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    @staticmethod
    def of(table: pa.Table, order: np.ndarray | None = None) -> Columns:
        """Typed columns of a table of ``SCHEMA`` (one chunk per part), row ``i`` of the numbers
        being the table's row ``order[i]`` (None: all rows in order; then one chunk's numbers
        are views of its buffers, no copy)."""
        if not table.schema.equals(SCHEMA):
            raise ValueError("the table is not a store of this schema")
        table = table.unify_dictionaries() if table.num_rows else table.combine_chunks()
        values: dict[str, Any] = {}
        for f in fields(Columns):
            column = table.column(f.name)
            if pa.types.is_dictionary(column.type):
                names = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
                values[f.name] = Category(_numbers([c.indices for c in column.chunks], order), names)
            elif pa.types.is_primitive(column.type):
                values[f.name] = _numbers(column.chunks, order)
            else:
                values[f.name] = column
        return Columns(**values)


def _numbers(chunks: list[pa.Array], order: np.ndarray | None) -> np.ndarray:
    if order is None and len(chunks) == 1:
        return numbers(chunks[0])
    every: np.ndarray = np.concatenate([numbers(c) for c in chunks])
    every = every if order is None else every[order]
    every.flags.writeable = False  # a store is read-only
    return every


NULLABLE = ("geometry", "csv", "owner")
SCHEMA = pa.schema(
    [
        pa.field(f.name, f.metadata["arrow"], nullable=f.name in NULLABLE, metadata=f.metadata["field"])
        for f in fields(Columns)
    ]
)


@dataclass
class Row:
    """One feature and the values the store filters it by (what a collection gives a store).

    ``geometry`` is the feature's own geometry (bbox tests it; a region's polygon near tests too).
    ``owner`` is the id of the feature of another collection this one belongs to (a region's
    incident): the incident's ``near`` filter tests the regions it owns. ``point`` lies inside a
    region's geometry (``app.geo.measure``). The store writes the geometry into the feature.
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
