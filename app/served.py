"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: at a
million incidents those would not fit; the stores hold everything as columns.
"""

from __future__ import annotations

import os
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
    stores: dict[str, FeatureStore]
    region_owners: list[str | None]  # each region's incident id
    collections: dict[str, CollectionRows]
    incident_files: dict[str, str]
    zone: Zone
    sites: dict[str, Site]
    borders: dict[str, Any]


def _build_part(data_dir: Path, version: str, part: Part | None) -> tuple[list[Problem], _PartResult | None]:
    """Load and derive one part of the incidents (all of them if ``part`` is None)."""
    try:
        dataset = load_dataset(data_dir, version, part)
    except DataError as error:
        return error.problems, None
    collections = build_collections(build_catalog(dataset))
    built = {cid: store_build.from_rows(c.rows) for cid, c in collections.items()}
    stores = {cid: store for cid, (store, _) in built.items()}
    described = {cid: replace(c, rows=[]) for cid, c in collections.items()}  # the stores hold them
    data = dataset
    result = _PartResult(
        stores, built["regions"][1], described, data.incident_files, data.zone, data.sites, data.borders
    )
    return [], result


def build_served(
    settings: Settings, version: str | None = None, records_per_part: int = RECORDS_PER_PART
) -> Served:
    """Load, validate and derive the data directory, all or nothing (``DataError`` names every
    problem found in any part)."""
    data_dir = settings.data_dir.resolve()
    version = version or dataset_version(data_dir)
    parts = split_incidents(data_dir, records_per_part)
    if len(parts) <= 1:
        results = [_build_part(data_dir, version, None)]
    else:
        # "spawn": the caller may be a server with threads running, which fork does not go with.
        with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_build_part, repeat(data_dir), repeat(version), parts))
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
    return _merge(version, done)


def _merge(version: str, done: list[_PartResult]) -> Served:
    """One set of stores from the parts' stores, in collection order (date, then id)."""
    first = done[0]
    stores = dict(first.stores)
    # Each store is copied once, straight into its final order (the parts' copies then go).
    parts = [r.stores["events"] for r in done]
    ids = np.concatenate([part.columns["ids"] for part in parts])
    starts = np.concatenate([part.columns["start"] for part in parts])
    stores["events"] = events = store_build.concat(parts, np.lexsort((ids, starts)))
    del parts, ids, starts
    for r in done:
        del r.stores["events"]  # the parts' copies can go before the regions are merged
    parts = [r.stores["regions"] for r in done]
    # A region follows its incident; an incident's regions keep their order (a stable sort).
    owners = [owner for r in done for owner in r.region_owners]
    order = np.argsort(events.rows_of(owners), kind="stable")
    stores["regions"] = regions = store_build.concat(parts, order)
    store_build.link_regions(events, regions, [owners[i] for i in order])
    zone = build_zone(first.zone, first.sites)
    return Served(version, zone, first.sites, first.borders, first.collections, stores)


def load_served(settings: Settings) -> Served:
    """``build_served``, through the on-disk cache when one is configured (app.data.cache)."""
    cache_dir = settings.cache_dir
    if cache_dir is None:
        return build_served(settings)
    # Resolved once: a data symlink switched meanwhile cannot give the key and the data apart.
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    version = dataset_version(settings.data_dir)  # hashed once, for the key and the data alike
    return cached(cache_dir, version, lambda: build_served(settings, version), save_served, load_saved)


def save_served(served: Served, directory: Path) -> None:
    """Write ``served`` as a directory of arrays, bytes and JSON (see ``app.data.cache``)."""
    directory.mkdir()
    meta = {
        "version": served.version,
        "zone": served.zone.zone.model_dump(mode="json"),
        "sites": [site.model_dump(mode="json") for site in served.sites.values()],
        "borders": served.borders,
        "collections": [
            {"id": c.id, "title": c.title, "description": c.description, "temporal": c.temporal,
             "filters": sorted(c.filters)}
            for c in served.collections.values()
        ],
    }  # fmt: skip
    (directory / "served.json").write_bytes(orjson.dumps(meta))
    for cid, store in served.stores.items():
        store_build.save(store, directory / cid)


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
