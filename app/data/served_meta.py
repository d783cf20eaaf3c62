"""What both stores serve besides the features (``Served``), kept as JSON beside them (``meta``:
an embedded entry's ``served.json``, the PostGIS ``dataset`` row), and what only the whole dataset
can check (``spanning``), and what names an incident record in both (``record_keys``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from app.api.features import CollectionRows
from app.data import files
from app.data.catalog import ZoneGeometry, build_zone
from app.data.files import Chunk, Scan
from app.data.loader import Problem
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


def spanning(data_dir: Path, scan: Scan, chunks: list[Chunk], ids: list[str | None]) -> list[Problem]:
    """What no part of a load can check alone: each incident id once (``ids``: each chunk's,
    None for a blank line), and incident files at all."""
    problems, first = [], dict[str, Chunk]()
    for chunk, fid in zip(chunks, ids, strict=True):
        if fid is not None and fid in first:
            also = f"duplicate id (also in {data_dir.name}/{first[fid].file})"
            problems.append(Problem(f"{data_dir.name}/{chunk.file}", fid, "id", also))
        elif fid is not None:
            first[fid] = chunk
    if not scan.incident_chunks:
        problems.append(Problem(f"{data_dir.name}/{files.INCIDENTS_DIR}", None, None,
                                "no incident files (*.yaml, *.yml or *.jsonl) found"))  # fmt: skip
    return problems


def record_keys(scan: Scan, code: str) -> list[str]:
    """Each incident record's key (``scan`` cut one record a part): the hash of its bytes (not its
    file or line: a record that moves keeps its key), of the reference files and of ``code`` (a
    version of what derives it)."""
    prefix = orjson.dumps([code, [c and [c.file, c.digest] for c in scan.reference.values()]])
    return [hashlib.sha256(prefix + c.digest.encode()).hexdigest()[:32] for p in scan.parts for c in p.chunks]
