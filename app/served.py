"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: at a
million incidents those would not fit; the stores hold everything as columns.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from app.api.features import CollectionRows, build_collections
from app.data import store_build
from app.data.cache import cached
from app.data.catalog import ZoneGeometry, build_catalog, build_zone
from app.data.loader import DataError, Part, Problem, dataset_version, load_dataset, split_incidents
from app.data.model import Site, Zone
from app.data.store import FeatureStore
from app.settings import Settings


@dataclass(frozen=True)
class Served:
    """Everything the routes read: the dataset version, reference data and the stores."""

    version: str
    zone: ZoneGeometry
    sites: dict[str, Site]
    borders: dict[str, Any]
    collections: dict[str, CollectionRows]  # descriptions only; the features are in the stores
    stores: dict[str, FeatureStore]


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


def _build_part(
    data_dir: Path, version: str, part: Part | None, directory: Path
) -> tuple[list[Problem], _PartResult | None]:
    """Load and derive one part of the incidents (all of them if ``part`` is None), and save
    its stores in ``directory`` (a worker hands back a path, not gigabytes through a pipe)."""
    try:
        dataset = load_dataset(data_dir, version, part)
    except DataError as error:
        return error.problems, None
    collections = build_collections(build_catalog(dataset))
    directory.mkdir(parents=True)
    for cid, c in collections.items():
        store, owners = store_build.from_rows(c.rows)
        store_build.save(store, directory / cid)
        if cid == "regions":
            owner_ids = np.array([(owner or "").encode() for owner in owners], dtype=bytes)
            np.save(directory / "region_owners.npy", owner_ids, allow_pickle=False)
    described = {cid: replace(c, rows=[]) for cid, c in collections.items()}  # the stores hold them
    return [], _PartResult(
        directory, described, dataset.incident_files, dataset.zone, dataset.sites, dataset.borders
    )


def build_served(
    settings: Settings, version: str | None = None, records_per_part: int = RECORDS_PER_PART
) -> Served:
    """Load, validate and derive the data directory, all or nothing (``DataError`` names every
    problem found in any part). The stores are written to a temporary directory and mapped
    back; the directory goes at once (a mapped file outlives its name)."""
    with tempfile.TemporaryDirectory() as scratch:
        write_served(settings, Path(scratch) / "entry", version, records_per_part)
        return load_saved(Path(scratch) / "entry")


def write_served(
    settings: Settings, directory: Path, version: str | None = None, records_per_part: int = RECORDS_PER_PART
) -> None:
    """``build_served``, written to ``directory`` (what ``load_saved`` reads): the parts are
    derived on every core and saved, then merged file by file."""
    data_dir = settings.data_dir.resolve()
    version = version or dataset_version(data_dir)
    parts = split_incidents(data_dir, records_per_part)
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=directory.parent, suffix=".parts"))  # same disk as the entry
    try:
        if len(parts) <= 1:
            results = [_build_part(data_dir, version, None, scratch / "0")]
        else:
            # "spawn": the caller may be a server with threads running, which fork does not go with.
            with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
                dirs = [scratch / str(k) for k in range(len(parts))]
                results = list(pool.map(_build_part, repeat(data_dir), repeat(version), parts, dirs))
        problems = list(dict.fromkeys(p for found, _ in results for p in found))  # reference data: once
        done = [result for _, result in results if result is not None]
        files: dict[str, str] = {}
        for result in done:
            for incident_id, file in result.incident_files.items():
                if incident_id in files:
                    problems.append(
                        Problem(file, incident_id, "id", f"duplicate id (also in {files[incident_id]})")
                    )
                files.setdefault(incident_id, file)
        if problems:
            raise DataError(problems)
        _merge(version, done, directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _merge(version: str, done: list[_PartResult], directory: Path) -> None:
    """One set of stores from the parts' saved stores, in collection order (date, then id),
    written to ``directory``."""
    first = done[0]
    directory.mkdir()
    _write_meta(directory, version, build_zone(first.zone, first.sites), first.sites, first.borders,
                first.collections)  # fmt: skip
    for cid in first.collections:
        if cid not in ("events", "regions"):  # reference data: the same in every part
            shutil.copytree(first.directory / cid, directory / cid)
    parts = [store_build.load(r.directory / "events") for r in done]
    ids = np.concatenate([part.columns["ids"] for part in parts])
    starts = np.concatenate([part.columns["start"] for part in parts])
    events = store_build.concat_into(parts, np.lexsort((ids, starts)), directory / "events")
    del parts, ids, starts
    parts = [store_build.load(r.directory / "regions") for r in done]
    # A region follows its incident; an incident's regions keep their order (a stable sort).
    owner_rows = events.rows_of(np.concatenate([np.load(r.directory / "region_owners.npy") for r in done]))
    order = np.argsort(owner_rows, kind="stable")
    store_build.concat_into(parts, order, directory / "regions", {"owner_rows": owner_rows[order]})


def load_served(settings: Settings) -> Served:
    """``build_served``, through the on-disk cache when one is configured (app.data.cache)."""
    cache_dir = settings.cache_dir
    if cache_dir is None:
        return build_served(settings)
    # Resolved once: a data symlink switched meanwhile cannot give the key and the data apart.
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    version = dataset_version(settings.data_dir)  # hashed once, for the key and the data alike
    return cached(cache_dir, version, lambda entry: write_served(settings, entry, version), load_saved)


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
    stores = {cid: store_build.load(directory / cid) for cid in collections}
    store_build.relink(stores["events"], stores["regions"])
    return Served(meta["version"], zone, sites, meta["borders"], collections, stores)
