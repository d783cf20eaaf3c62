"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: at a
million incidents those would not fit; the stores hold everything as columns.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from app.api.features import CollectionRows, build_collections
from app.data import files, store_file
from app.data.cache import CacheFault, cached, code_fingerprint, seal, verify
from app.data.catalog import ZoneGeometry, build_catalog, build_zone
from app.data.files import ChangedError, Scan
from app.data.loader import READ_ATTEMPTS, DataError, Problem, load_dataset
from app.data.model import Site, Zone
from app.data.store_api import Store
from app.settings import Settings


@dataclass(frozen=True)
class Served:
    """Everything the routes read: the dataset version, reference data and the stores."""

    version: str
    zone: ZoneGeometry
    sites: dict[str, Site]
    borders: dict[str, Any]
    collections: dict[str, CollectionRows]  # descriptions only; the features are in the stores
    stores: Mapping[str, Store]


cache_log = logging.getLogger("app.cache")

# Incident records are derived in parts of this many, on every core when there are several parts:
# derivation is almost all of a cold start, and it is independent per incident. With a cache
# directory each part is kept (``PARTS``), so a change re-derives only the parts it touches.
RECORDS_PER_PART = 2_000
PARTS = "parts"


@dataclass(frozen=True)
class _PartResult:
    directory: Path  # where the part's stores are written (<collection>.arrow) with part.json
    collections: dict[str, CollectionRows]
    incident_files: dict[str, str]
    zone: Zone
    sites: dict[str, Site]
    borders: dict[str, Any]


def _build_part(data_dir: Path, scan: Scan, directory: Path) -> tuple[list[Problem], _PartResult | None]:
    """Load and derive the part of the incidents ``scan`` holds, and write its stores in
    ``directory`` (a worker hands back a path, not gigabytes through a pipe). A file that changed
    since the scan is a ``ChangedError``."""
    try:
        dataset = load_dataset(data_dir, scan)
    except DataError as error:
        return error.problems, None
    collections = build_collections(build_catalog(dataset))
    directory.mkdir(parents=True)
    for cid, c in collections.items():
        store_file.write(store_file.columns_of(c.rows).table(), directory / f"{cid}.arrow")
    described = {cid: replace(c, rows=[]) for cid, c in collections.items()}  # the stores hold them
    result = _PartResult(
        directory, described, dataset.incident_files, dataset.zone, dataset.sites, dataset.borders
    )
    meta = _meta("", result.zone, result.sites, result.borders, described)
    (directory / "part.json").write_bytes(orjson.dumps(meta | {"incident_files": result.incident_files}))
    return [], result


def _part_key(scan: Scan) -> str:
    """What a part's derivation reads: the reference files, its chunks (file, first line and
    bytes; not their byte offsets, which an edit earlier in the file shifts) and the code."""
    digest = hashlib.sha256(code_fingerprint().encode())
    chunks = [*scan.reference.values(), *(chunk for part in scan.parts for chunk in part.chunks)]
    for chunk in chunks:
        digest.update(orjson.dumps(None if chunk is None else [chunk.file, chunk.first_line, chunk.digest]))
    return digest.hexdigest()[:32]


def _kept_part(parts: Path, key: str) -> _PartResult | None:
    """A part derived before, checked like a cache entry (a damaged one is removed)."""
    directory = parts / key
    if not directory.is_dir():
        return None
    try:
        verify(directory)
        meta = orjson.loads((directory / "part.json").read_bytes())
    except (CacheFault, OSError, orjson.JSONDecodeError) as fault:
        cache_log.warning("%s; deriving the part again", fault)
        shutil.rmtree(directory, ignore_errors=True)
        return None
    zone, sites, borders, collections = _from_meta(meta)
    return _PartResult(directory, collections, meta["incident_files"], zone, sites, borders)


def _keep_part(parts: Path, key: str, result: _PartResult) -> None:
    """Seal a derived part and move it into ``parts`` (renamed into place, as entries are)."""
    try:
        seal(result.directory)
        os.rename(result.directory, parts / key)
    except OSError:
        pass  # another build kept the same part first, or the cache is read-only: not ours to fail on


def scan_data(settings: Settings, records_per_part: int = RECORDS_PER_PART) -> Scan:
    """What the data directory holds now, cut into parts (``files.scan``)."""
    return files.scan(settings.data_dir.resolve(), records_per_part)


def build_served(settings: Settings, records_per_part: int = RECORDS_PER_PART) -> Served:
    """Load, validate and derive the data directory, all or nothing (``DataError`` names every
    problem found in any part). The stores are written to a temporary directory and mapped
    back; the directory goes at once (a mapped file outlives its name)."""
    return _again_if_changed(lambda scan: _build_mapped(settings, scan), settings, records_per_part)


def _build_mapped(settings: Settings, scan: Scan) -> Served:
    with tempfile.TemporaryDirectory() as scratch:
        write_served(settings, Path(scratch) / "entry", scan)
        return load_saved(Path(scratch) / "entry")


def _again_if_changed(
    serve: Callable[[Scan], Served], settings: Settings, records_per_part: int = RECORDS_PER_PART
) -> Served:
    """``serve(scan)``, scanning again when a file changed between the scan and its parse: what
    is served is always what the scan's version names."""
    for _attempt in range(READ_ATTEMPTS):
        try:
            return serve(scan_data(settings, records_per_part))
        except ChangedError:
            continue
    raise DataError([Problem(str(settings.data_dir), None, None, "the data kept changing while it was read")])


def write_served(
    settings: Settings, directory: Path, scan: Scan | None = None, parts: Path | None = None
) -> None:
    """``build_served``, written to ``directory`` (what ``load_saved`` reads): the parts are
    derived on every core, then merged. With ``parts`` (a directory of the cache), a part derived
    before from the same bytes is taken from it, and each part derived now is kept there.
    ``ChangedError`` if a file is not what ``scan`` read."""
    data_dir = settings.data_dir.resolve()
    scan = scan or scan_data(settings)
    directory.parent.mkdir(parents=True, exist_ok=True)
    if parts is not None:
        parts.mkdir(mode=0o700, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=parts or directory.parent, suffix=".tmp"))  # the disk it goes to
    try:
        shares = [scan.only(part) for part in scan.parts] or [scan]
        keys = [_part_key(share) for share in shares]
        kept = [None if parts is None else _kept_part(parts, key) for key in keys]
        todo = [k for k, found in enumerate(kept) if found is None]
        dirs = [scratch / str(k) for k in todo]
        if len(todo) <= 1:
            built = [_build_part(data_dir, shares[k], d) for k, d in zip(todo, dirs, strict=True)]
        else:
            # "spawn": the caller may be a server with threads running, which fork does not go with.
            with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
                built = list(pool.map(_build_part, repeat(data_dir), [shares[k] for k in todo], dirs))
        results = [(list[Problem](), found) for found in kept]
        for k, outcome in zip(todo, built, strict=True):
            results[k] = outcome
        refused = [Problem(f"{data_dir.name}/{r.file}", None, None, r.message) for r in scan.refused]
        problems = list(dict.fromkeys([*refused, *(p for found, _ in results for p in found)]))  # once each
        done = [result for _, result in results if result is not None]
        files_of: dict[str, str] = {}
        for result in done:
            for incident_id, file in result.incident_files.items():
                if incident_id in files_of:
                    problems.append(
                        Problem(file, incident_id, "id", f"duplicate id (also in {files_of[incident_id]})")
                    )
                files_of.setdefault(incident_id, file)
        if not scan.incident_chunks:
            problems.append(Problem(f"{data_dir.name}/{files.INCIDENTS_DIR}", None, None,
                                    "no incident files (*.yaml, *.yml or *.jsonl) found"))  # fmt: skip
        if problems:
            raise DataError(problems)
        _merge(scan.version, done, directory)
        if parts is not None:
            for k, (_, made) in zip(todo, built, strict=True):
                assert made is not None
                _keep_part(parts, keys[k], made)
            for old in set(os.listdir(parts)) - set(keys):  # parts of data no longer served
                if not old.endswith(".tmp"):
                    shutil.rmtree(parts / old, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _merge(version: str, done: list[_PartResult], directory: Path) -> None:
    """One set of stores from the parts' (pyarrow concatenates and sorts them), in collection
    order: events by first day, then id; a region after its incident's, in the part's order."""
    first = done[0]
    directory.mkdir()
    meta = _meta(version, first.zone, first.sites, first.borders, first.collections)
    (directory / "served.json").write_bytes(orjson.dumps(meta))
    for cid in first.collections:
        if cid not in ("events", "regions"):  # reference data: the same in every part
            shutil.copy(first.directory / f"{cid}.arrow", directory / f"{cid}.arrow")
    events = pa.concat_tables([store_file.read(r.directory / "events.arrow") for r in done])
    events = events.sort_by([("start", "ascending"), ("id", "ascending")])
    store_file.write(events, directory / "events.arrow")
    regions = pa.concat_tables([store_file.read(r.directory / "regions.arrow") for r in done])
    owner_rows = pc.index_in(regions.column("owner"), value_set=events.column("id"))
    store_file.write(regions.take(pc.sort_indices(owner_rows)), directory / "regions.arrow")  # stable


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
        # The key is the version of the bytes the build parses (a change meanwhile: ChangedError).
        try:
            build = partial(write_served, settings, scan=scan, parts=cache_dir / PARTS)
            return cached(cache_dir, scan.version, build, load_saved)
        except CacheFault as fault:
            cache_log.warning("%s; serving without the cache", fault)
            return _build_mapped(settings, scan)

    return _again_if_changed(through_cache, settings)


def _meta(
    version: str, zone: Zone, sites: dict[str, Site], borders: dict[str, Any],
    collections: dict[str, CollectionRows],
) -> dict[str, Any]:  # fmt: skip
    """What an entry (or a part) holds besides its stores, as JSON (``_from_meta`` reads it)."""
    return {
        "version": version,
        "zone": zone.model_dump(mode="json"),
        "sites": [site.model_dump(mode="json") for site in sites.values()],
        "borders": borders,
        "collections": [
            {"id": c.id, "title": c.title, "description": c.description, "temporal": c.temporal,
             "filters": sorted(c.filters)}
            for c in collections.values()
        ],
    }  # fmt: skip


def _from_meta(
    meta: dict[str, Any],
) -> tuple[Zone, dict[str, Site], dict[str, Any], dict[str, CollectionRows]]:
    sites = {s["id"]: Site.model_validate(s) for s in meta["sites"]}
    collections = {
        c["id"]: CollectionRows(
            c["id"], c["title"], c["description"], [], c["temporal"], frozenset(c["filters"])
        )
        for c in meta["collections"]
    }
    return Zone.model_validate(meta["zone"]), sites, meta["borders"], collections


def load_saved(directory: Path) -> Served:
    meta = orjson.loads((directory / "served.json").read_bytes())
    zone_model, sites, borders, collections = _from_meta(meta)
    zone = build_zone(zone_model, sites)
    stores = {cid: store_file.load(directory / f"{cid}.arrow") for cid in collections}
    stores["events"].link(stores["regions"])
    return Served(meta["version"], zone, sites, borders, collections, stores)
