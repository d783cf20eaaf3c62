"""A collection's rows as a store's columns, and to and from their file: one Arrow IPC file per
collection (``SCHEMA``, ``app.data.schema``), read back as a memory map, so a store's pages are
shared by every worker and read as requests touch them. Arrow IPC holds no code: reading a file
cannot run any.
"""

from __future__ import annotations

import ctypes
import mmap
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import shapely

from app.api import formats
from app.data.schema import SCHEMA, Category, Columns, Row, to_arrow
from app.data.store_api import NO_DAY, STATUS_CODES
from app.geo import near
from app.geo.geojson import to_geojson_fragment

LIBC = ctypes.CDLL(None, use_errno=True)


def _category(values: list[str]) -> Category:
    """Small integer codes and the distinct values (first-seen order)."""
    names: dict[str, int] = {}
    codes = np.fromiter((names.setdefault(v, len(names)) for v in values), dtype=np.int32, count=len(values))
    return Category(codes, list(names))


def columns_of(rows: list[Row], embedded: bool = True) -> Columns:
    """The columns of ``rows``, in their order. A point (or no geometry; an empty one is none) is
    written into the feature's head, with its CSV line; any other geometry is kept as WKB. Not
    ``embedded`` (for PostGIS): what the embedded store alone reads is left empty (``near`` NaN,
    ``csv`` null, ``csv_head`` ""), not derived (its near bounds and discs are most of the cost)."""
    geoms = np.empty(len(rows), dtype=object)
    geoms[:] = [None if r.geometry is None or r.geometry.is_empty else r.geometry for r in rows]
    in_head = (shapely.get_type_id(geoms) == 0) | shapely.is_missing(geoms)
    heads, lines, headers = [], list[bytes | None](), []
    for row, geom, point, line in zip(rows, geoms, in_head, in_head & embedded, strict=True):
        feature = {k: v for k, v in row.feature.items() if k != "geometry"}
        heads.append(orjson.dumps(feature | {"geometry": to_geojson_fragment(geom)} if point else feature))
        served = orjson.loads(heads[-1]) if line else {"properties": {}}  # as served, as a CSV line
        keys = list(served["properties"])
        lines.append(formats.csv_line(formats.csv_cells(served, keys)).encode() if line else None)
        headers.append(formats.csv_line(["id", "lon", "lat", "wkt", *keys]) if line else "")
    reach = near.settlers(geoms) if embedded else np.full((len(rows), 7), np.nan)
    bounds = shapely.bounds(geoms)
    geoms[in_head] = None
    days = [[d.toordinal() if d else NO_DAY for d in (r.start, r.end)] for r in rows]
    return Columns(
        id=to_arrow([str(r.feature["id"]).encode() for r in rows], pa.large_string()),
        head=to_arrow(heads, pa.large_binary()),
        geometry=to_arrow(list(shapely.to_wkb(geoms)), pa.large_binary()),
        csv=to_arrow(lines, pa.large_binary()),
        csv_head=_category(headers),
        bounds=bounds,
        near=reach,
        point=np.array([r.point or (np.nan, np.nan) for r in rows], dtype=np.float64).reshape(len(rows), 2),
        days=np.array(days, dtype=np.int32).reshape(len(rows), 2),
        status=np.array([STATUS_CODES.get(r.status or "", -1) for r in rows], dtype=np.int8),
        p_inside=np.array([np.nan if r.p_inside is None else r.p_inside for r in rows], dtype=np.float64),
        event_type=_category([r.event_type or "" for r in rows]),
        sub_event_type=_category([r.sub_event_type or "" for r in rows]),
        text=to_arrow([r.text.lower().encode() for r in rows], pa.large_string()),
        owner=to_arrow([None if r.owner is None else r.owner.encode() for r in rows], pa.large_string()),
    )


def write(table: pa.Table, path: Path) -> None:
    """The table as an Arrow IPC file of one record batch (what ``read`` maps), written 64 KB at
    a time: Linux (6.18) caches what one write call writes in folios of up to 2 MB, and a process
    that maps the file maps a whole folio when a query touches one byte of it (reading a 3 KB
    polygon in each of 64 places of a 256 MB file written by pyarrow made 144 MB resident; written
    in 64 KB writes, 4 MB)."""
    with path.open("wb", buffering=0) as raw:
        sink = pa.PythonFile(InPieces(raw), mode="w")
        with pa.ipc.new_file(sink, SCHEMA) as writer:
            writer.write_table(table.combine_chunks(), max_chunksize=max(1, len(table)))


class InPieces:
    """A file that takes each write in pieces of 64 KB (``write``)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.closed = raw, False

    def write(self, data: bytes) -> int:
        view = memoryview(data).cast("B")
        for at in range(0, len(view), 1 << 16):
            self.raw.write(view[at : at + (1 << 16)])
        return len(view)

    def flush(self) -> None:
        self.raw.flush()

    def close(self) -> None:
        self.closed = True


def read(path: Path) -> pa.Table:
    """The table of an Arrow IPC file, its buffers over a read-only memory map (nothing is copied;
    the file's descriptor is closed, the map lives as long as the table's buffers). ``MADV_RANDOM``:
    a page fault reads that page alone, not those around it (a query touches a few rows of the
    large columns; ``write`` says why it matters)."""
    source = pa.memory_map(str(path), "r")
    try:
        whole = source.read_buffer()  # the map itself
        LIBC.madvise(ctypes.c_void_p(whole.address), ctypes.c_size_t(whole.size), mmap.MADV_RANDOM)
        return pa.ipc.open_file(whole).read_all()
    finally:
        source.close()
