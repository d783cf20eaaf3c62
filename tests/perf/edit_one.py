"""Editing one incident of a large dataset on the embedded store: what a restart from the cache
does, step by step (run by hand; not part of the test run).

    python -m tests.perf.edit_one DATA_DIR ENTRY

``DATA_DIR`` is a synthetic data directory (``tests/perf/synthetic.py``), ``ENTRY`` a saved entry
of the same size (``tests/perf/replicate.py``): it stands for the parts' stores, which at 100,000
incidents take hours to derive on the shared build machine. One incident's title is edited in a
copy of the data, then each step a start from the cache takes is timed in this process:

1. scan: every data file read and hashed, cut into parts (``served.scan_data``); the parts whose
   key changed are counted (one is expected);
2. derive: that part (``served.RECORDS_PER_PART`` records) loaded, validated and derived;
3. merge: the parts' stores (the entry cut into as many parts) concatenated, sorted and written by
   pyarrow (``served._merge``), then sealed (CRC-32 of every file, fsync);
4. map: the entry checked and mapped (``cache.verify`` + ``served.load_saved``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import orjson

from app.data import cache, store_file
from app.served import (
    RECORDS_PER_PART,
    _build_part,
    _from_meta,
    _merge,
    _part_key,
    _PartResult,
    load_saved,
    scan_data,
)
from app.settings import Settings


def edit_one(data: Path) -> None:
    """The title of the middle incident of the (only) JSONL file, changed in place."""
    path = sorted((data / "incidents").glob("*.jsonl"))[0]
    lines = path.read_bytes().splitlines(keepends=True)
    record = orjson.loads(lines[len(lines) // 2])
    record["title"] = record["title"] + " (edited)"
    lines[len(lines) // 2] = orjson.dumps(record) + b"\n"
    path.write_bytes(b"".join(lines))


def main(data_dir: Path, entry: Path) -> None:
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=entry.parent) as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(data_dir, data)
        settings = Settings(data_dir=data, tile_url="")
        before = [_part_key(scan_data(settings).only(part)) for part in scan_data(settings).parts]
        edit_one(data)
        started = time.perf_counter()
        scan = scan_data(settings)
        keys = [_part_key(scan.only(part)) for part in scan.parts]
        timings["scan"] = time.perf_counter() - started
        changed = [k for k, key in enumerate(keys) if key != before[k]]
        print(f"{len(keys)} parts of {RECORDS_PER_PART} records; changed: {changed}")
        started = time.perf_counter()
        problems, part = _build_part(data.resolve(), scan.only(scan.parts[changed[0]]), Path(tmp) / "derived")
        timings["derive one part"] = time.perf_counter() - started
        assert not problems and part is not None, problems
        # The other parts' stores: the entry cut into as many parts, each with the reference data.
        meta = orjson.loads((entry / "served.json").read_bytes())
        zone, sites, borders, collections = _from_meta(meta)
        events, regions = store_file.read(entry / "events.arrow"), store_file.read(entry / "regions.arrow")
        parts = []
        for k in range(len(keys)):
            directory = Path(tmp) / "parts" / str(k)
            directory.mkdir(parents=True)
            for name, table in (("events", events), ("regions", regions)):
                size = -(-len(table) // len(keys))
                store_file.write(table.slice(k * size, size), directory / f"{name}.arrow")
            for cid in ("sites", "zones", "borders"):
                shutil.copy(entry / f"{cid}.arrow", directory / f"{cid}.arrow")
            parts.append(_PartResult(directory, collections, {}, zone, sites, borders))
        started = time.perf_counter()
        _merge(meta["version"], parts, Path(tmp) / "entry")
        cache.seal(Path(tmp) / "entry")
        timings["merge and seal"] = time.perf_counter() - started
        started = time.perf_counter()
        cache.verify(Path(tmp) / "entry")
        served = load_saved(Path(tmp) / "entry")
        timings["verify and map"] = time.perf_counter() - started
        print(f"{len(served.stores['events']):,} incidents served")
    for step, seconds in timings.items():
        print(f"{step:>16}: {seconds:6.1f} s")
    print(f"{'total':>16}: {sum(timings.values()):6.1f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
