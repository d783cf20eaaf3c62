"""What a checkout derives from a data directory, dumped to compare two checkouts (run by hand):
the oracle of a change to the derivation that must not change any answer.

    cd OLD && PYTHONPATH=$PWD python -m tests.perf.derive_oracle DATA_DIR old.pickle
    cd NEW && PYTHONPATH=$PWD python -m tests.perf.derive_oracle DATA_DIR new.pickle
    python -m tests.perf.derive_oracle --compare old.pickle new.pickle

The dump holds every store column of every collection (``store_file.columns_of``, for the
embedded store and for PostGIS, each column as Arrow IPC bytes) and every feature as served
(its JSON with its geometry, and its geometry's WKB). The comparison names each column or
collection whose bytes differ, and the first differing features. Contents, not cache entries:
an entry's name and record keys hold the deriving code's fingerprint.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import shapely

from app.api.features import build_collections
from app.data import store_file
from app.data.catalog import build_catalog
from app.data.loader import load_dataset


def dump(data: Path) -> dict[Any, Any]:
    """Every column and feature of ``data`` as derived by this checkout, as bytes."""
    out: dict[Any, Any] = {}
    for cid, collection in build_collections(build_catalog(load_dataset(data))).items():
        for embedded in (True, False):
            table = store_file.columns_of(collection.rows, embedded).table()
            for name in table.column_names:
                column = table.column(name).combine_chunks()
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, pa.schema([pa.field(name, column.type)])) as writer:
                    writer.write_table(pa.table({name: column}))
                out[(cid, embedded, name)] = sink.getvalue().to_pybytes()
        out[(cid, "features")] = [
            (orjson.dumps(row.feature), None if row.geometry is None else shapely.to_wkb(row.geometry))
            for row in collection.rows
        ]
    return out


def compare(old: dict[Any, Any], new: dict[Any, Any]) -> int:
    """Print what differs; the number of columns and collections that do."""
    differing = sorted(map(str, old.keys() ^ new.keys()))
    for key in old.keys() & new.keys():
        if old[key] == new[key]:
            continue
        differing.append(str(key))
        if isinstance(old[key], list):
            rows = [k for k, (a, b) in enumerate(zip(old[key], new[key], strict=False)) if a != b]
            print(f"{key}: {len(rows)} features differ (of {len(old[key])}), first {rows[:5]}")
    print(f"{len(old)} columns and collections compared; differing: {differing or 'none'}")
    return len(differing)


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        a, b = (pickle.loads(Path(p).read_bytes()) for p in sys.argv[2:4])
        sys.exit(1 if compare(a, b) else 0)
    Path(sys.argv[2]).write_bytes(pickle.dumps(dump(Path(sys.argv[1]))))
