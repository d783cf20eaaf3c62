"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: the stores
hold everything as columns.

Derived data is kept in *parts* (``PARTS``): each a directory of stores (an Arrow IPC file per
collection) derived from some incident records, with ``part.json`` naming each record it holds by
its key (``served_meta.record_keys``: a hash of the record's bytes, the reference files and the code) and the
incident's id. An *entry* (``served.json``) names the parts a dataset version is served from and,
in each, the incidents it no longer serves (edited or deleted since); its stores are the parts'
files mapped as they are. So an edit derives only the records whose bytes changed, writes them
as one small part and a new entry, and leaves every other file as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from functools import partial
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from app.api.features import build_collections
from app.data import files, served_meta, store_file
from app.data.cache import CacheFault, cached, code_fingerprint, fsync_dir, locked, seal, verify
from app.data.catalog import build_catalog
from app.data.files import ChangedError, Part, Scan
from app.data.loader import READ_ATTEMPTS, DataError, Problem, load_dataset
from app.data.schema import Columns, numbers, to_arrow, true
from app.data.served_meta import Served as Served  # what the routes import from here
from app.data.served_meta import record_keys, spanning
from app.data.store import FeatureStore
from app.settings import Settings

cache_log = logging.getLogger("app.cache")
T = TypeVar("T")

# Incident records not derived before are derived in parts of this many, on every core when there
# are several parts: derivation is almost all of a cold start, and it is independent per record.
RECORDS_PER_PART = 2_000
PARTS = "parts"  # where an entry's parts are: beside it
CURRENT = "current"  # in a cache: the name of the entry last loaded, which servers follow
# ``load --cache-dir`` merges an entry's parts, all but the largest into one, when it has more
# than this many (each edit adds a part; a start checks and maps every part).
MERGE_ABOVE = 8


def _build_part(data_dir: Path, scan: Scan, keys: list[str], directory: Path) -> list[Problem]:
    """Load and derive the records ``scan`` holds (their keys, ``served_meta.record_keys``, in order), and
    write their stores in ``directory`` with ``part.json`` (a worker hands back a path, not
    gigabytes through a pipe). A file that changed since the scan is a ``ChangedError``."""
    try:
        dataset = load_dataset(data_dir, scan)
    except DataError as error:
        return error.problems
    collections = build_collections(build_catalog(dataset))
    directory.mkdir(parents=True)
    for cid, c in collections.items():
        store_file.write(store_file.columns_of(c.rows).table(), directory / f"{cid}.arrow")
    ids = {chunk: incident_id for incident_id, chunk in dataset.incident_chunks.items()}
    chunks = [chunk for part in scan.parts for chunk in part.chunks]
    meta = served_meta.meta("", dataset.zone, dataset.sites, dataset.borders, collections)
    records = [[key, ids.get(chunk)] for key, chunk in zip(keys, chunks, strict=True)]  # None: a blank line
    (directory / "part.json").write_bytes(orjson.dumps(meta | {"records": records}))
    return []


def _held(parts: Path) -> dict[str, dict[str, Any]]:
    """The parts derived before (``part.json`` of each), checked like a cache entry (a damaged
    one is removed, its records derived again)."""
    held = {}
    for directory in sorted(p for p in parts.iterdir() if not p.name.endswith(".tmp")):
        try:
            verify(directory)
            held[directory.name] = orjson.loads((directory / "part.json").read_bytes())
        except (CacheFault, OSError, orjson.JSONDecodeError) as fault:
            cache_log.warning("%s; deriving its records again", fault)
            shutil.rmtree(directory, ignore_errors=True)
    return held


def scan_data(settings: Settings) -> Scan:
    """What the data directory holds now, one incident record a part (``files.scan``)."""
    return files.scan(settings.data_dir.resolve(), 1)


def build_served(settings: Settings, records_per_part: int = RECORDS_PER_PART) -> Served:
    """Load, validate and derive the data directory, all or nothing (``DataError`` names every
    problem found in any part). The stores are written to a temporary directory and mapped
    back; the directory goes at once (a mapped file outlives its name)."""
    return _again_if_changed(lambda scan: _build_mapped(settings, scan, records_per_part), settings)


def _build_mapped(settings: Settings, scan: Scan, records_per_part: int = RECORDS_PER_PART) -> Served:
    with tempfile.TemporaryDirectory() as scratch:
        write_served(settings, Path(scratch) / "entry", scan, records_per_part)
        return load_saved(Path(scratch) / "entry")


def _again_if_changed(serve: Callable[[Scan], T], settings: Settings) -> T:
    """``serve(scan)``, scanning again when a file changed between the scan and its parse: what
    is served is always what the scan's version names."""
    for _attempt in range(READ_ATTEMPTS):
        try:
            return serve(scan_data(settings))
        except ChangedError:
            continue
    raise DataError([Problem(str(settings.data_dir), None, None, "the data kept changing while it was read")])


def write_served(
    settings: Settings, directory: Path, scan: Scan | None = None, records_per_part: int = RECORDS_PER_PART,
    parts: Path | None = None, merge_above: int | None = None,
) -> int:  # fmt: skip
    """``build_served``, written to ``directory`` (what ``load_saved`` reads), its parts in
    ``parts`` (default: ``PARTS`` beside it, where ``load_saved`` looks): the records no part
    holds are derived (in parts, on every core) and kept as new parts; with more than
    ``merge_above`` parts, all but the largest are merged into one (``_merge``); parts no record
    uses any more are removed. Returns how many records were derived. ``ChangedError`` if a file
    is not what ``scan`` read; ``DataError`` (and nothing kept) if the data is invalid."""
    data_dir = settings.data_dir.resolve()
    scan = scan or scan_data(settings)
    parts = parts or directory.parent / PARTS
    parts.mkdir(mode=0o700, parents=True, exist_ok=True)
    chunks = [chunk for part in scan.parts for chunk in part.chunks]
    keys = record_keys(scan, code_fingerprint())
    held = _held(parts)
    where = {key: (name, fid) for name, meta in held.items() for key, fid in meta["records"]}
    by_key = dict(zip(keys, chunks, strict=True))
    todo = [key for key in by_key if key not in where]
    batches = [todo[at : at + records_per_part] for at in range(0, len(todo), records_per_part)]
    names = [hashlib.sha256("".join(batch).encode()).hexdigest()[:32] for batch in batches]
    scratch = Path(tempfile.mkdtemp(dir=parts, suffix=".tmp"))
    try:
        shares = [scan.only(Part(tuple(by_key[key] for key in batch))) for batch in batches]
        args = (repeat(data_dir), shares, batches, [scratch / name for name in names])
        if len(batches) <= 1:
            built = list(map(_build_part, *args))
        else:
            # "spawn": the caller may be a server with threads running, which fork does not go with.
            with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
                built = list(pool.map(_build_part, *args))
        refused = [Problem(f"{data_dir.name}/{r.file}", None, None, r.message) for r in scan.refused]
        problems = list(dict.fromkeys([*refused, *(p for found in built for p in found)]))  # once each
        if not problems:
            for name in names:
                held[name] = orjson.loads((scratch / name / "part.json").read_bytes())
                where.update({key: (name, fid) for key, fid in held[name]["records"]})
            problems = spanning(data_dir, scan, chunks, [where[key][1] for key in keys])
        if problems:
            raise DataError(problems)
        for name in names:
            seal(scratch / name)
            with suppress(OSError):  # another build kept the same part first
                os.rename(scratch / name, parts / name)
        fsync_dir(parts)
        used = sorted({where[key][0] for key in keys})
        live = {name: set[str]() for name in used}
        for key in keys:
            name, fid = where[key]
            if fid is not None:
                live[name].add(fid)
        entry = [{"name": name, "dead": sorted({fid for _, fid in held[name]["records"] if fid} - live[name])}
                 for name in used]  # fmt: skip
        if merge_above is not None and len(used) > merge_above:
            largest = max(used, key=lambda name: len(held[name]["records"]))
            small = [part for part in entry if part["name"] != largest]
            records = [[key, where[key][1]] for key in keys if where[key][0] != largest]
            merged, held[merged] = _merge(parts, small, records, scratch)
            entry = [part for part in entry if part["name"] == largest] + [{"name": merged, "dead": []}]
            used = [largest, merged]
        for old in [*parts.iterdir(), *parts.parent.glob("*/served.json")]:  # parts no record uses,
            if old.parent == parts and old.name not in used and not old.name.endswith(".tmp"):
                shutil.rmtree(old, ignore_errors=True)
            elif old.name == "served.json":  # and other entries (whose parts may be gone)
                shutil.rmtree(old.parent, ignore_errors=True)
        meta = {k: v for k, v in held[used[0]].items() if k != "records"} | {"version": scan.version}
        directory.mkdir()
        (directory / "served.json").write_bytes(orjson.dumps(meta | {"parts": entry}))
        return len(todo)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _merge(
    parts: Path, entry: list[dict[str, Any]], records: list[list[str | None]], scratch: Path
) -> tuple[str, Any]:
    """The parts of ``entry`` as one part, sealed into ``parts``: their rows served (``entry``'s
    dead left out) in collection order, and their ``records`` (key, incident id); its name and
    ``part.json``. Nothing is derived: the stores' rows are copied."""
    name = hashlib.sha256("".join(str(key) for key, _ in records).encode()).hexdigest()[:32]
    (scratch / name).mkdir()
    dirs = [parts / part["name"] for part in entry]
    for cid, (table, order) in _in_collection_order(dirs, entry).items():
        store_file.write(table.take(to_arrow(order, pa.int64())), scratch / name / f"{cid}.arrow")
    for reference in ("sites", "zones", "borders"):  # the same in every part
        shutil.copy(dirs[0] / f"{reference}.arrow", scratch / name)
    meta = orjson.loads((dirs[0] / "part.json").read_bytes()) | {"records": records}
    (scratch / name / "part.json").write_bytes(orjson.dumps(meta))
    seal(scratch / name)
    with suppress(OSError):  # the same part, merged before
        os.rename(scratch / name, parts / name)
    return name, meta


def load_served(settings: Settings) -> Served:
    """``build_served``, through the on-disk cache when one is configured (app.data.cache), or
    what the database holds when ``database_url`` is set (``LookupError`` if it holds nothing)."""
    if settings.database_url:
        from app.data import pg_store

        return pg_store.served_from(pg_store.pool(settings.database_url, settings.request_budget_s))
    cache_dir = settings.cache_dir
    if cache_dir is None:
        return build_served(settings)
    # Resolved once: a data symlink switched meanwhile cannot give the key and the data apart.
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    def through_cache(scan: Scan) -> Served:
        """The cache's entry of what ``scan`` read, written first if there is none (the key is
        the version of the bytes the build parses; a change meanwhile: ``ChangedError``)."""
        build = partial(write_served, settings, scan=scan, parts=cache_dir / PARTS)
        try:
            return cached(cache_dir, scan.version, build, lambda entry: load_saved(_current(entry)))
        except CacheFault as fault:
            cache_log.warning("%s; serving without the cache", fault)
            return _build_mapped(settings, scan)

    return _again_if_changed(through_cache, settings)


def load_into_cache(settings: Settings) -> tuple[str, int]:
    """``at-tanf-map load --cache-dir``: the cache brought to the data directory (the records
    whose bytes changed derived, as in a start) and its entry made the one servers follow
    (``newer``); the dataset version and how many records were derived. ``DataError`` (the
    entry followed stays) if the data is invalid."""
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    cache_dir, derived = settings.cache_dir, [0]
    assert cache_dir is not None

    def load(scan: Scan) -> tuple[str, int]:
        def build(directory: Path) -> None:
            derived[0] = write_served(
                settings, directory, scan, parts=cache_dir / PARTS, merge_above=MERGE_ABOVE
            )

        cached(cache_dir, scan.version, build, _current)
        return scan.version, derived[0]

    return _again_if_changed(load, settings)


def _current(entry: Path) -> Path:
    """Name ``entry`` in its cache's ``CURRENT`` file (written aside, renamed into place)."""
    aside = entry.parent / f"{CURRENT}.tmp"
    aside.write_text(entry.name, encoding="utf-8")
    os.rename(aside, entry.parent / CURRENT)
    fsync_dir(entry.parent)
    return entry


def newer(cache_dir: Path, version: str) -> Served | None:
    """What the cache's current entry serves, when it is of another dataset version than
    ``version`` (None: the same, or none yet). ``CacheFault`` or ``OSError`` if it cannot be read."""
    with locked(cache_dir):
        try:
            name = (cache_dir / CURRENT).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        if name.startswith(f"{version}-"):
            return None
        verify(cache_dir / name)
        return load_saved(cache_dir / name)


def load_saved(directory: Path) -> Served:
    """The entry's stores: its parts' files mapped as they are (each part checked first:
    ``CacheFault``), the incidents it no longer serves left out, read in collection order (a
    part in that order, as a merged one is, is read without a copy of its numbers)."""
    meta = orjson.loads((directory / "served.json").read_bytes())
    parts = [directory.parent / PARTS / part["name"] for part in meta["parts"]]
    verify(*parts)
    reference = [c["id"] for c in meta["collections"] if c["id"] not in ("events", "regions")]  # each part's
    stores = {cid: store_file.load(parts[0] / f"{cid}.arrow") for cid in reference}
    for cid, (table, order) in _in_collection_order(parts, meta["parts"]).items():
        same = len(order) == table.num_rows and bool((order == np.arange(len(order))).all())
        stores[cid] = FeatureStore(Columns.of(table, None if same else order), None if same else order)
    stores["events"].link(stores["regions"])
    return served_meta.served(meta, stores)


def _in_collection_order(
    parts: list[Path], entry: list[dict[str, Any]]
) -> dict[str, tuple[pa.Table, np.ndarray]]:
    """The events and the regions of these parts (``entry``: each one's dead), each as one table
    (a chunk per part, nothing copied) and its rows served in collection order: events by first
    day, then id; a region after its incident's, in its part's order."""
    dead = [to_arrow([fid.encode() for fid in part["dead"]], pa.large_string()) for part in entry]
    events, served = _served_rows(parts, "events", "id", dead)
    keys = pa.table([pc.list_element(events.column("days"), 0), events.column("id")], names=["start", "id"])
    keys = keys.take(to_arrow(served, pa.int64()))
    order = served[numbers(pc.sort_indices(keys, sort_keys=[("start", "ascending"), ("id", "ascending")]))]
    regions, held = _served_rows(parts, "regions", "owner", dead)
    owners = regions.column("owner").take(to_arrow(held, pa.int64())).combine_chunks()
    at = pc.index_in(owners, value_set=events.column("id").take(to_arrow(order, pa.int64())).combine_chunks())
    order_of_regions = held[np.argsort(np.where(true(pc.is_valid(at)), numbers(at), -1), kind="stable")]
    return {"events": (events, order), "regions": (regions, order_of_regions)}


def _served_rows(parts: list[Path], cid: str, by: str, dead: list[pa.Array]) -> tuple[pa.Table, np.ndarray]:
    """The parts' stores of a collection as one table (a chunk each, nothing copied), and the
    rows served: those whose ``by`` (an id, an owner) the entry does not list as dead."""
    tables = [store_file.read(part / f"{cid}.arrow") for part in parts]
    gone = [pc.is_in(table.column(by), value_set=ids) for table, ids in zip(tables, dead, strict=True)]
    served = np.flatnonzero(~np.concatenate([true(column) for column in gone]))
    return pa.concat_tables(tables), served
