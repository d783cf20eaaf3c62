"""What a store holds, defined once: ``Columns`` names and types every column of a collection, the
Arrow schema a store is written in (``SCHEMA``) is made from it, and ``Row`` is what a collection
gives a store to build from.

On disk a store is an Arrow IPC file (``app.data.store_file``), mapped; its ``geometry`` column is
GeoArrow WKB (``geoarrow.wkb``, CRS84), so pyarrow and any GeoArrow reader take it as it is.
Numbers are read as numpy views of Arrow's buffers and written from numpy buffers: pyarrow's own
conversions (``pa.array``, ``to_numpy``) import pandas where it is installed (a second, 60 MB).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pyarrow as pa
from shapely.geometry.base import BaseGeometry

GEOARROW_WKB = {b"ARROW:extension:name": b"geoarrow.wkb", b"ARROW:extension:metadata": b'{"crs":"OGC:CRS84"}'}
CATEGORY = pa.dictionary(pa.int32(), pa.large_string())
NUMPY = {pa.int8(): "i1", pa.int32(): "i4", pa.int64(): "i8", pa.uint64(): "u8", pa.float64(): "f8"}


def _column(arrow: pa.DataType, metadata: dict[bytes, bytes] | None = None) -> dict[str, Any]:
    """A column's Arrow type and its Arrow field metadata."""
    return {"arrow": arrow, "field": metadata}


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
    """A store's columns, one row per feature in collection order: numbers (an ``(n, k)`` array
    for k to a row) and categories as numpy, text and bytes as the Arrow arrays stored."""

    id: pa.Array = field(metadata=_column(pa.large_string()))
    # The GeoJSON Feature (UTF-8 JSON), with its geometry when that is a point or none.
    head: pa.Array = field(metadata=_column(pa.large_binary()))
    # WKB of any other geometry (null: the geometry is in the head).
    geometry: pa.Array = field(metadata=_column(pa.large_binary(), GEOARROW_WKB))
    # The feature's CSV line (app.api.formats.features_csv; null: a polygon's, written on request)
    # and its header line, whose columns are the feature's own properties.
    csv: pa.Array = field(metadata=_column(pa.large_binary()))
    csv_head: Category = field(metadata=_column(CATEGORY))
    # minx, miny, maxx, maxy of the geometry, degrees (NaN: no geometry).
    bounds: np.ndarray = field(metadata=_column(pa.list_(pa.float64(), 4)))
    # What near settles a region by (app.geo.near; NaN: none): metres from the centre of its bounds
    # between which it lies (reach_min, reach_max) and within which it holds every point (ring_min,
    # ring_max), and where there is no ring a geodesic disc inside it (lon, lat degrees, radius m).
    near: np.ndarray = field(metadata=_column(pa.list_(pa.float64(), 7)))
    # The representative point, lon and lat (NaN: none): an incident's marker, a point in a region.
    point: np.ndarray = field(metadata=_column(pa.list_(pa.float64(), 2)))
    # First and last day, proleptic Gregorian ordinals (NO_DAY, app.data.store_api: undated).
    days: np.ndarray = field(metadata=_column(pa.list_(pa.int32(), 2)))
    # Zone status code (app.data.store_api.STATUS_CODES; -1: none), share inside the zone (NaN: none).
    status: np.ndarray = field(metadata=_column(pa.int8()))
    p_inside: np.ndarray = field(metadata=_column(pa.float64()))
    # Event type and sub-event type ("" where none).
    event_type: Category = field(metadata=_column(CATEGORY))
    sub_event_type: Category = field(metadata=_column(CATEGORY))
    # Lower-case title and summary (and a claim's text): what ``q`` searches.
    text: pa.Array = field(metadata=_column(pa.large_string()))
    # A region's incident, by id (null: none).
    owner: pa.Array = field(metadata=_column(pa.large_string()))

    def __len__(self) -> int:
        return len(self.status)

    def table(self) -> pa.Table:
        """The columns as one Arrow table of ``SCHEMA``."""
        arrays = [to_arrow(getattr(self, f.name), f.metadata["arrow"]) for f in fields(self)]
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    @staticmethod
    def of(table: pa.Table) -> Columns:
        """Typed columns of a table of ``SCHEMA``; its numbers are views of its buffers (no copy)
        when each column is one chunk, as a file ``app.data.store_file`` writes is."""
        if not table.schema.equals(SCHEMA):
            raise ValueError("the table is not a store of this schema")
        values: dict[str, Any] = {}
        for f in fields(Columns):
            column = table.column(f.name)
            array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            if f.metadata["arrow"] == CATEGORY:
                values[f.name] = Category(numbers(array.indices), array.dictionary.to_pylist())
            elif pa.types.is_primitive(array.type) or pa.types.is_fixed_size_list(array.type):
                values[f.name] = numbers(array)
            else:
                values[f.name] = array
        return Columns(**values)


NULLABLE = ("geometry", "csv", "owner")
SCHEMA = pa.schema(
    [pa.field(f.name, f.metadata["arrow"], f.name in NULLABLE, f.metadata["field"]) for f in fields(Columns)]
)


def to_arrow(values: Any, arrow: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """An Arrow array of ``arrow`` type: of numpy numbers (``(n, k)`` for a list of k), of a
    ``Category``, or of byte strings (None: null); an Arrow array as it is."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, Category):
        names = to_arrow([name.encode() for name in values.names], pa.large_string())
        return pa.DictionaryArray.from_arrays(to_arrow(values.codes.astype(np.int32), pa.int32()), names)
    if pa.types.is_fixed_size_list(arrow):
        return pa.FixedSizeListArray.from_arrays(to_arrow(values.ravel(), arrow.value_type), arrow.list_size)
    if isinstance(values, np.ndarray):
        return pa.Array.from_buffers(arrow, len(values), [None, pa.py_buffer(np.ascontiguousarray(values))])
    valid = np.array([v is not None for v in values], dtype=bool)
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum([0 if v is None else len(v) for v in values], out=offsets[1:])
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    data = pa.py_buffer(b"".join(v for v in values if v is not None))
    return pa.Array.from_buffers(arrow, len(values), [bitmap, pa.py_buffer(offsets), data])


def numbers(array: pa.Array) -> np.ndarray:
    """A read-only numpy view of a numeric Arrow array's values (no copy); ``(n, k)`` for a
    fixed-size list of k."""
    if pa.types.is_fixed_size_list(array.type):
        return numbers(array.flatten()).reshape(len(array), array.type.list_size)
    dtype = np.dtype(NUMPY[array.type])
    view: np.ndarray = np.frombuffer(array.buffers()[1], dtype, len(array), array.offset * dtype.itemsize)
    return view


def true(array: pa.Array) -> np.ndarray:
    """Where a boolean Arrow array is true (a null is not)."""
    out = np.ones(len(array), dtype=bool)
    for bitmap in array.buffers()[:2]:  # where it is valid (None: everywhere), its values
        if bitmap is not None:
            bits = np.unpackbits(np.frombuffer(bitmap, np.uint8), bitorder="little")
            out &= bits[array.offset : array.offset + len(array)].astype(bool)
    return out


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
