"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: at a
million incidents those would not fit; the stores hold everything as columns.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from app.api.features import CollectionRows, build_collections
from app.data import files, store_file
from app.data.cache import CacheFault, cached
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
# derivation is almost all of a cold start, and it is independent per incident.
RECORDS_PER_PART = 5_000


@dataclass(frozen=True)
class _PartResult:
    directory: Path  # where the part's stores are saved, with its regions' owners
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
    return [], _PartResult(
        directory, described, dataset.incident_files, dataset.zone, dataset.sites, dataset.borders
    )


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


def write_served(settings: Settings, directory: Path, scan: Scan | None = None) -> None:
    """``build_served``, written to ``directory`` (what ``load_saved`` reads): the parts are
    derived on every core and saved, then merged file by file. ``ChangedError`` if a file is
    not what ``scan`` read."""
    data_dir = settings.data_dir.resolve()
    scan = scan or scan_data(settings)
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=directory.parent, suffix=".parts"))  # same disk as the entry
    try:
        if len(scan.parts) <= 1:
            results = [_build_part(data_dir, scan, scratch / "0")]
        else:
            # "spawn": the caller may be a server with threads running, which fork does not go with.
            with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
                dirs = [scratch / str(k) for k in range(len(scan.parts))]
                shares = [scan.only(part) for part in scan.parts]
                results = list(pool.map(_build_part, repeat(data_dir), shares, dirs))
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
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _merge(version: str, done: list[_PartResult], directory: Path) -> None:
    """One set of stores from the parts' (pyarrow concatenates and sorts them), in collection
    order: events by first day, then id; a region after its incident's, in the part's order."""
    first = done[0]
    directory.mkdir()
    _write_meta(directory, version, build_zone(first.zone, first.sites), first.sites, first.borders,
                first.collections)  # fmt: skip
    for cid in first.collections:
        if cid not in ("events", "regions"):  # reference data: the same in every part
            shutil.copy(first.directory / f"{cid}.arrow", directory / f"{cid}.arrow")
    events = pa.concat_tables([store_file.read(r.directory / "events.arrow") for r in done])
    events = events.sort_by([("start", "ascending"), ("id", "ascending")])
    store_file.write(events, directory / "events.arrow")
    regions = pa.concat_tables([store_file.read(r.directory / "regions.arrow") for r in done])
    owner_rows = pc.index_in(regions.column("owner"), value_set=events.column("id"))
    order = np.argsort(owner_rows.to_numpy(zero_copy_only=False), kind="stable")
    store_file.write(regions.take(order), directory / "regions.arrow")


def load_served(settings: Settings) -> Served:
    """``build_served``, through the on-disk cache when one is configured (app.data.cache)."""
    cache_dir = settings.cache_dir
    if cache_dir is None:
        return build_served(settings)
    # Resolved once: a data symlink switched meanwhile cannot give the key and the data apart.
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    def through_cache(scan: Scan) -> Served:
        # The key is the version of the bytes the build parses (a change meanwhile: ChangedError).
        try:
            return cached(
                cache_dir, scan.version, lambda entry: write_served(settings, entry, scan), load_saved
            )
        except CacheFault as fault:
            cache_log.warning("%s; serving without the cache", fault)
            return _build_mapped(settings, scan)

    return _again_if_changed(through_cache, settings)


def _write_meta(
    directory: Path, version: str, zone: ZoneGeometry, sites: dict[str, Site], borders: dict[str, Any],
    collections: dict[str, CollectionRows],
) -> None:  # fmt: skip
    meta = {
        "version": version,
        "zone": zone.zone.model_dump(mode="json"),
        "sites": [site.model_dump(mode="json") for site in sites.values()],
        "borders": borders,
        "collections": [
            {"id": c.id, "title": c.title, "description": c.description, "temporal": c.temporal,
             "filters": sorted(c.filters)}
            for c in collections.values()
        ],
    }  # fmt: skip
    (directory / "served.json").write_bytes(orjson.dumps(meta))


def load_saved(directory: Path) -> Served:
    meta = orjson.loads((directory / "served.json").read_bytes())
    sites = {s["id"]: Site.model_validate(s) for s in meta["sites"]}
    zone = build_zone(Zone.model_validate(meta["zone"]), sites)
    collections = {
        c["id"]: CollectionRows(
            c["id"], c["title"], c["description"], [], c["temporal"], frozenset(c["filters"])
        )
        for c in meta["collections"]
    }
    stores = {cid: store_file.load(directory / f"{cid}.arrow") for cid in collections}
    stores["events"].link(stores["regions"])
    return Served(meta["version"], zone, sites, meta["borders"], collections, stores)
