"""What both stores serve besides the features (``Served``), kept as JSON beside them (``meta``:
an embedded entry's ``served.json``, the PostGIS ``dataset`` row).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.api.features import CollectionRows
from app.data.catalog import ZoneGeometry, build_zone
from app.data.model import Site, Zone
from app.data.store_api import Store


@dataclass(frozen=True)
class Served:
    """Everything the routes read: the dataset version, reference data and the stores."""

    version: str
    zone: ZoneGeometry
    sites: dict[str, Site]
    borders: dict[str, Any]
    collections: dict[str, CollectionRows]  # descriptions only; the features are in the stores
    stores: Mapping[str, Store]


def meta(
    version: str, zone: Zone, sites: dict[str, Site], borders: dict[str, Any],
    collections: dict[str, CollectionRows],
) -> dict[str, Any]:  # fmt: skip
    """The dataset's version, zone, sites, borders and collections' descriptions, as JSON."""
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


def served(meta: dict[str, Any], stores: Mapping[str, Store]) -> Served:
    """What ``meta`` holds, served with ``stores`` (one per collection ``meta`` names)."""
    sites = {s["id"]: Site.model_validate(s) for s in meta["sites"]}
    collections = {
        c["id"]: CollectionRows(
            c["id"], c["title"], c["description"], [], c["temporal"], frozenset(c["filters"])
        )
        for c in meta["collections"]
    }
    zone = build_zone(Zone.model_validate(meta["zone"]), sites)
    return Served(meta["version"], zone, sites, meta["borders"], collections, stores)
