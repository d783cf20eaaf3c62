"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: at a
million incidents those would not fit; the stores hold everything as columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from app.api.features import CollectionRows, build_collections
from app.data.cache import cached
from app.data.catalog import Catalog, ZoneGeometry, build_catalog, build_zone
from app.data.loader import dataset_version, load_dataset
from app.data.model import Site, Zone
from app.data.store import FeatureStore, Parts, link_regions
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


def load_catalog(settings: Settings, version: str | None = None) -> Catalog:
    """Load and derive the data directory; raises ``DataError`` naming every problem."""
    return build_catalog(load_dataset(settings.data_dir, version))


def build_served(settings: Settings, version: str | None = None) -> Served:
    catalog = load_catalog(settings, version)
    collections = build_collections(catalog)
    stores = {cid: FeatureStore.from_rows(c.rows) for cid, c in collections.items()}
    link_regions(stores["events"], stores["regions"])
    # The stores hold the features now; the rows they were built from can go.
    described = {cid: replace(c, rows=[]) for cid, c in collections.items()}
    data = catalog.dataset
    return Served(data.version, catalog.zone, data.sites, data.borders, described, stores)


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
        store.save(directory / cid)


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
    stores, parts = {}, {}
    for cid in collections:
        stores[cid], parts[cid] = FeatureStore.load(directory / cid)
    regions, events = stores["regions"], stores["events"]
    regions.own_parts()
    if parts["events"] is not None and regions.parts is not None:
        owner, rows = parts["events"]
        events.parts = Parts(regions.parts.geoms, owner, rows)
    return Served(meta["version"], zone, sites, meta["borders"], collections, stores)
