"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: the stores
hold everything as columns.

An *entry* is a directory: each collection's store as one Arrow IPC file, its rows in collection
order (``app.data.store_file``); ``served.json`` (the dataset version and ``served_meta.meta``);
and ``records.json``, the incident records it holds (``app.data.derive.Held``). An entry is made
from the one before it: its rows of the records still in the data directory are kept as they
are, only the other records are derived (``app.data.derive``), and the whole is written once.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from app.data import files, served_meta, store, store_file
from app.data.cache import CacheFault, DamagedEntry, cached, entry_for, fsync_dir, locked, verify
from app.data.derive import DERIVED, RECORDS_PER_PART, Held, Loaded, Record, derive
from app.data.files import ChangedError, Scan
from app.data.loader import READ_ATTEMPTS, DataError, Problem
from app.data.schema import numbers, to_arrow, true
from app.data.served_meta import Served as Served  # what the routes import from here
from app.settings import Settings

cache_log = logging.getLogger("app.cache")
T = TypeVar("T")
CURRENT = "current"  # in a cache: the name of the entry last loaded, which servers follow


def write_entry(
    settings: Settings, directory: Path, scan: Scan, previous: Path | None = None,
    records_per_part: int = RECORDS_PER_PART,
) -> Loaded:  # fmt: skip
    """The entry of what ``scan`` read, written to ``directory`` (which must not exist): the rows
    of ``previous`` (an entry: ``CacheFault`` if damaged) whose records are still there, and the
    other records derived; what that did. ``DataError`` (and nothing written) if the data is
    invalid; ``ChangedError`` if a file is not what ``scan`` read."""
    records: dict[str, Record] = {}  # what the previous entry holds
    if previous is not None:
        verify(previous)
        records = {
            key: (fid, cited) for key, fid, cited in orjson.loads((previous / "records.json").read_bytes())
        }
    held: Held = {key: fid for key, (fid, _) in records.items()}

    def cited_but(gone: set[str]) -> set[str]:
        return {source for key, (_, sources) in records.items() if key not in gone for source in sources}

    directory.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory.parent, suffix=".tmp") as scratch:
        new = derive(settings.data_dir.resolve(), scan, held, cited_but, Path(scratch), records_per_part)
        tables = new.tables
        kept = {fid for key, fid in held.items() if fid and key not in new.gone}
        if kept and previous is not None:  # the rows of the records still there, then the new ones
            ids = to_arrow([fid.encode() for fid in sorted(kept)], pa.large_string())
            for cid, by in zip(DERIVED, ("id", "owner"), strict=True):
                old = store_file.read(previous / f"{cid}.arrow")
                rows = np.flatnonzero(true(pc.is_in(old.column(by), value_set=ids).combine_chunks()))
                tables[cid] = pa.concat_tables([taken(old, rows), tables[cid]])
        tables |= in_collection_order(tables["events"], tables["regions"])
        directory.mkdir()
        for cid, table in tables.items():
            store_file.write(table, directory / f"{cid}.arrow")
        (directory / "served.json").write_bytes(orjson.dumps(new.meta))
        records = {key: record for key, record in records.items() if key not in new.gone} | new.new
        (directory / "records.json").write_bytes(
            orjson.dumps([[key, *record] for key, record in records.items()])
        )
    return new.loaded(held)


def in_collection_order(events: pa.Table, regions: pa.Table) -> dict[str, pa.Table]:
    """The events and the regions in collection order: events by first day (undated first), then
    id (bytes, as PostgreSQL's ``COLLATE "C"``); a region after its incident's, in the order it
    was derived in."""
    keys = pa.table([pc.list_element(events.column("days"), 0), events.column("id")], names=["start", "id"])
    order = numbers(pc.sort_indices(keys, sort_keys=[("start", "ascending"), ("id", "ascending")]))
    events = taken(events, order.astype(np.int64))
    at = pc.index_in(regions.column("owner"), value_set=events.column("id")).combine_chunks()
    rank = np.where(true(at.is_valid()), numbers(at.fill_null(0)), -1)
    return {"events": events, "regions": taken(regions, np.argsort(rank, kind="stable"))}


def taken(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """These rows of the table, in this order: where they are a few runs of consecutive rows (an
    entry made from the one before it keeps its rows in order), slices of it, nothing copied;
    else pyarrow's ``take``."""
    cuts = np.flatnonzero(np.diff(rows) != 1) + 1
    if not len(rows) or len(cuts) > 1000:
        return table.take(to_arrow(rows.astype(np.int64), pa.int64()))
    ends = [*cuts.tolist(), len(rows)]
    return pa.concat_tables(
        [table.slice(int(rows[a]), b - a) for a, b in zip([0, *cuts.tolist()], ends, strict=True)]
    )


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
    """What the data directory holds now, one incident record a part (``files.scan``);
    ``DataError`` if there is no such directory."""
    if not settings.data_dir.is_dir():
        raise DataError([Problem(str(settings.data_dir), None, None, "data directory does not exist")])
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


def _through_cache(settings: Settings, scan: Scan, full: bool = False) -> tuple[Served, Loaded | None]:
    """The cache's entry of what ``scan`` read (checked), written first from the newest entry
    (``full``: from nothing) if there is none, and what writing it did (None: it was there). The
    entry is then named in ``CURRENT`` and every other entry removed (a server mapping one keeps
    its files). ``CacheFault`` if the cache cannot be used."""
    cache_dir = settings.cache_dir
    assert cache_dir is not None
    done: list[Loaded] = []

    def build(directory: Path) -> None:
        previous = None if full else _newest(cache_dir)
        try:
            done.append(write_entry(settings, directory, scan, previous))
        except DamagedEntry as fault:  # the newest entry is damaged: every record derived
            cache_log.warning("%s; deriving every record", fault)
            done.append(write_entry(settings, directory, scan))

    def loaded(entry: Path) -> Served:
        for old in cache_dir.glob("*-*/served.json"):
            if old.parent != entry:
                shutil.rmtree(old.parent, ignore_errors=True)
        return opened(_current(entry))

    if full:
        with locked(cache_dir):
            shutil.rmtree(entry_for(cache_dir, scan.version), ignore_errors=True)
    return cached(cache_dir, scan.version, build, loaded), done[0] if done else None


def _newest(cache_dir: Path) -> Path | None:
    entries = [served.parent for served in cache_dir.glob("*-*/served.json")]
    return max(entries, key=lambda entry: entry.stat().st_mtime, default=None)


def load_served(settings: Settings) -> Served:
    """``build_served``, through the on-disk cache when one is configured (app.data.cache), or
    what the database holds when ``database_url`` is set (``LookupError`` if it holds nothing or
    cannot be reached).
    A damaged entry is derived again once; a cache that cannot be used is served around."""
    if settings.database_url:
        from app.data import pg_store
        from app.data.pg_reach import reach

        reach(settings.database_url)  # in seconds, or one line naming where and why (LookupError)
        return pg_store.served_from(pg_store.pool(settings.database_url, settings.request_budget_s))
    if settings.cache_dir is None:
        return build_served(settings)
    # Resolved once: a data symlink switched meanwhile cannot give the key and the data apart.
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    def serve(scan: Scan) -> Served:
        try:
            try:
                return _through_cache(settings, scan)[0]
            except DamagedEntry as fault:  # removed when found: written again, once
                cache_log.warning("%s; deriving it again", fault)
                return _through_cache(settings, scan)[0]
        except CacheFault as fault:
            cache_log.warning("%s; serving without the cache", fault)
            return _build_mapped(settings, scan)

    return _again_if_changed(serve, settings)


def load_into_cache(settings: Settings, full: bool = False) -> Loaded:
    """``at-tanf-map load --cache-dir``: the cache brought to the data directory (the records
    whose bytes changed derived, as in a start; ``full``: every record) and its entry made the
    one servers follow (``newer``); what it did. ``DataError`` (the entry followed stays) if
    the data is invalid; ``CacheFault`` if the cache cannot be used."""
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    def load(scan: Scan) -> Loaded:
        served, done = _through_cache(settings, scan, full)
        return done or Loaded(scan.version, 0, 0, len(served.stores["events"]))  # there already

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
