"""What the service serves, built once per process: the collections' stores and the reference
data the pages draw (zone, sites, borders). No per-incident Python objects are kept: at a
million incidents those would not fit; the stores hold everything as columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.api.features import CollectionRows, build_collections
from app.data.cache import cached
from app.data.catalog import Catalog, ZoneGeometry, build_catalog
from app.data.loader import dataset_version, load_dataset
from app.data.model import Site
from app.data.store import FeatureStore, link_regions
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
    return cached(cache_dir, version, lambda: build_served(settings, version))
