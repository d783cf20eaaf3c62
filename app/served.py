"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: the stores
hold everything as columns.

An *entry* is a directory: each collection's store as one Arrow IPC file, its rows in collection
order (``app.data.store_file``), and ``served.json`` (the dataset version and ``served_meta.meta``).
Every event and region names the incident record it was derived from by the record's key
(``served_meta.record_keys``: a hash of its bytes, the reference files and the deriving code), so
an entry is made from the one before it: its rows whose record is still in the data directory are
kept as they are, only the other records are derived (in parts of ``RECORDS_PER_PART``, on every
core), and the whole is written once, in collection order.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from app.api.features import build_collections
from app.data import files, served_meta, store, store_file
from app.data.cache import CacheFault, cached, code_fingerprint, fsync_dir, locked, verify
from app.data.catalog import build_catalog
from app.data.files import ChangedError, Part, Scan
from app.data.loader import READ_ATTEMPTS, DataError, Problem, load_dataset
from app.data.schema import numbers, to_arrow, true
from app.data.served_meta import Served as Served  # what the routes import from here
from app.data.served_meta import record_keys, spanning
from app.settings import Settings

cache_log = logging.getLogger("app.cache")
T = TypeVar("T")

# Incident records not derived before are derived in parts of this many, on every core when there
# are several parts: derivation is almost all of a cold start, and it is independent per record.
RECORDS_PER_PART = 2_000
CURRENT = "current"  # in a cache: the name of the entry last loaded, which servers follow
DERIVED = ("events", "regions")  # the collections made of incident records (the others: reference data)


def _derive(data_dir: Path, scan: Scan, keys: list[str], directory: Path) -> list[Problem]:
    """Load and derive the records ``scan`` holds (``keys``: theirs, in order) and write their
    stores in ``directory``, with ``part.json``: ``served_meta.meta`` and each record's key and
    incident id (a worker hands back a path, not gigabytes through a pipe). The data's problems
    are returned; a file that changed since the scan is a ``ChangedError``."""
    try:
        dataset = load_dataset(data_dir, scan)
    except DataError as error:
        return error.problems
    collections = build_collections(build_catalog(dataset))
    ids = {chunk: incident_id for incident_id, chunk in dataset.incident_chunks.items()}
    chunks = [chunk for part in scan.parts for chunk in part.chunks]
    records = [[key, ids.get(chunk)] for key, chunk in zip(keys, chunks, strict=True)]  # None: a blank line
    key_of = {incident_id: key for key, incident_id in records if incident_id}
    directory.mkdir()
    for cid, c in collections.items():
        for row in c.rows if cid in DERIVED else []:
            row.record = key_of[row.owner or str(row.feature["id"])]
        store_file.write(store_file.columns_of(c.rows).table(), directory / f"{cid}.arrow")
    meta = served_meta.meta("", dataset.zone, dataset.sites, dataset.borders, collections)
    (directory / "part.json").write_bytes(orjson.dumps(meta | {"records": records}))
    return []


def write_entry(
    settings: Settings, directory: Path, scan: Scan, previous: Path | None = None,
    records_per_part: int = RECORDS_PER_PART,
) -> int:  # fmt: skip
    """The entry of what ``scan`` read, written to ``directory`` (which must not exist): the rows
    of ``previous`` (an entry, checked) whose records are still there, and the other records
    derived. Returns how many records were derived. ``DataError`` (and nothing written) if the
    data is invalid; ``ChangedError`` if a file is not what ``scan`` read."""
    data_dir = settings.data_dir.resolve()
    chunks = [chunk for part in scan.parts for chunk in part.chunks]
    keys = record_keys(scan, code_fingerprint())
    held = _records(previous) if previous is not None else {}
    by_key = dict(zip(keys, chunks, strict=True))
    todo = [key for key in by_key if key not in held]
    batches = [todo[at : at + records_per_part] for at in range(0, len(todo), records_per_part)]
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=directory.parent, suffix=".tmp"))
    try:
        parts = [scratch / str(k) for k in range(len(batches))]
        shares = [scan.only(Part(tuple(by_key[key] for key in batch))) for batch in batches]
        args = (repeat(data_dir), shares, batches, parts)
        if len(batches) <= 1:
            built = list(map(_derive, *args))
        else:
            # "spawn": the caller may be a server with threads running, which fork does not go with.
            with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
                built = list(pool.map(_derive, *args))
        refused = [Problem(f"{data_dir.name}/{r.file}", None, None, r.message) for r in scan.refused]
        problems = list(dict.fromkeys([*refused, *(p for found in built for p in found)]))  # once each
        metas = [] if problems else [orjson.loads((part / "part.json").read_bytes()) for part in parts]
        ids = held | {key: incident_id for meta in metas for key, incident_id in meta["records"]}
        problems = problems or spanning(data_dir, scan, chunks, [ids[key] for key in keys])
        if problems:
            raise DataError(problems)
        kept = [previous] if previous is not None and held.keys() & by_key.keys() else []
        base = parts[0] if parts else previous  # reference data, the same in each (the keys hold it)
        assert base is not None  # neither: no incident at all, a problem reported above
        meta = metas[0] if metas else orjson.loads((base / "served.json").read_bytes())
        tables = {}
        for cid in (c["id"] for c in meta["collections"]):
            sources = [*kept, *parts] if cid in DERIVED else [base]
            tables[cid] = pa.concat_tables([store_file.read(source / f"{cid}.arrow") for source in sources])
        wanted = to_arrow([key.encode() for key in by_key], pa.large_string())  # a row of a record gone: out
        tables |= in_collection_order(*(t.filter(pc.is_in(t.column("record"), value_set=wanted))
                                         for t in (tables["events"], tables["regions"])))  # fmt: skip
        directory.mkdir()
        for cid, table in tables.items():
            store_file.write(table, directory / f"{cid}.arrow")
        meta = {k: v for k, v in meta.items() if k not in ("records", "version")} | {"version": scan.version}
        (directory / "served.json").write_bytes(orjson.dumps(meta))
        return len(todo)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _records(entry: Path) -> dict[str, str]:
    """The records an entry holds: each one's key and incident id (``CacheFault`` if damaged)."""
    verify(entry)
    events = store_file.read(entry / "events.arrow")
    return dict(zip(events.column("record").to_pylist(), events.column("id").to_pylist(), strict=True))


def in_collection_order(events: pa.Table, regions: pa.Table) -> dict[str, pa.Table]:
    """The events and the regions in collection order: events by first day (undated first), then
    id (bytes, as PostgreSQL's ``COLLATE "C"``); a region after its incident's, in the order it
    was derived in."""
    keys = pa.table([pc.list_element(events.column("days"), 0), events.column("id")], names=["start", "id"])
    events = events.take(pc.sort_indices(keys, sort_keys=[("start", "ascending"), ("id", "ascending")]))
    at = pc.index_in(regions.column("owner"), value_set=events.column("id")).combine_chunks()
    rank = np.where(true(at.is_valid()), numbers(at.fill_null(0)), -1)
    order = to_arrow(np.argsort(rank, kind="stable").astype(np.int64), pa.int64())
    return {"events": events, "regions": regions.take(order)}


def load_saved(entry: Path) -> Served:
    """The entry's stores, checked (``CacheFault``), then mapped (``opened``)."""
    verify(entry)
    return opened(entry)


def opened(entry: Path) -> Served:
    """The entry's stores, their files mapped as they are."""
    meta = orjson.loads((entry / "served.json").read_bytes())
    stores = {c["id"]: store.load(entry / f"{c['id']}.arrow") for c in meta["collections"]}
    stores["events"].link(stores["regions"])
    return served_meta.served(meta, stores)


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
        write_entry(settings, Path(scratch) / "entry", scan, None, records_per_part)
        return opened(Path(scratch) / "entry")


def _again_if_changed(serve: Callable[[Scan], T], settings: Settings) -> T:
    """``serve(scan)``, scanning again when a file changed between the scan and its parse: what
    is served is always what the scan's version names."""
    for _attempt in range(READ_ATTEMPTS):
        try:
            return serve(scan_data(settings))
        except ChangedError:
            continue
    raise DataError([Problem(str(settings.data_dir), None, None, "the data kept changing while it was read")])


def _through_cache(settings: Settings, scan: Scan, load: Callable[[Path], T]) -> tuple[T, int]:
    """``load`` of the cache's entry of what ``scan`` read (checked), written first from the
    newest entry if there is none, and how many records that derived; every older entry is then
    removed (a server mapping one keeps its files)."""
    cache_dir = settings.cache_dir
    assert cache_dir is not None
    derived = [0]

    def build(directory: Path) -> None:
        previous = _newest(cache_dir)
        try:
            derived[0] = write_entry(settings, directory, scan, previous)
        except CacheFault as fault:  # the newest entry is damaged: every record derived
            cache_log.warning("%s; deriving every record", fault)
            derived[0] = write_entry(settings, directory, scan)

    def loaded(entry: Path) -> T:
        for old in cache_dir.glob("*-*/served.json"):
            if old.parent != entry:
                shutil.rmtree(old.parent, ignore_errors=True)
        return load(entry)

    return cached(cache_dir, scan.version, build, loaded), derived[0]


def _newest(cache_dir: Path) -> Path | None:
    entries = [served.parent for served in cache_dir.glob("*-*/served.json")]
    return max(entries, key=lambda entry: entry.stat().st_mtime, default=None)


def load_served(settings: Settings) -> Served:
    """``build_served``, through the on-disk cache when one is configured (app.data.cache), or
    what the database holds when ``database_url`` is set (``LookupError`` if it holds nothing)."""
    if settings.database_url:
        from app.data import pg_store

        return pg_store.served_from(pg_store.pool(settings.database_url, settings.request_budget_s))
    if settings.cache_dir is None:
        return build_served(settings)
    # Resolved once: a data symlink switched meanwhile cannot give the key and the data apart.
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    def serve(scan: Scan) -> Served:
        try:
            return _through_cache(settings, scan, opened)[0]
        except CacheFault as fault:
            cache_log.warning("%s; serving without the cache", fault)
            return _build_mapped(settings, scan)

    return _again_if_changed(serve, settings)


def load_into_cache(settings: Settings) -> tuple[str, int]:
    """``at-tanf-map load --cache-dir``: the cache brought to the data directory (the records
    whose bytes changed derived, as in a start) and its entry made the one servers follow
    (``newer``); the dataset version and how many records were derived. ``DataError`` (the
    entry followed stays) if the data is invalid."""
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    def load(scan: Scan) -> tuple[str, int]:
        return scan.version, _through_cache(settings, scan, _current)[1]

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
        return load_saved(cache_dir / name)
