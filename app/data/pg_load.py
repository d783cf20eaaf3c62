"""``at-tanf-map load``: a data directory into PostGIS, incrementally, in one transaction.

The directory is validated as ``validate`` does (``DataError`` names file, record and field, and
nothing is written). Each incident's content hash (its record as parsed, with the reference data
it is derived against: zone, sites, sources, borders) is compared with the one stored: only the
incidents whose hash changed are derived again and their event and regions replaced; incidents no
longer in the directory are removed. Everything, with the new dataset version, is committed at
once, so a reader sees the old dataset or the new one, never a mix; loads queue on a lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from app.api.features import CollectionRows, build_collections
from app.data.catalog import Catalog, build_zone, context_for, derive_incident
from app.data.loader import Dataset, load_dataset
from app.data.pg_schema import DDL, DROP, SCHEMA_VERSION, Feature
from app.data.schema import Row
from app.data.store_api import NO_DAY, STATUS_CODES
from app.geo.geojson import to_geojson_fragment

LOAD_LOCK = 0x7A7A_F001  # pg_advisory_xact_lock key: one load at a time
DERIVATION = "2026-11-30"  # change when derived values change for the same data: all re-derived


@dataclass(frozen=True)
class Loaded:
    version: str
    derived: int  # incidents derived and written
    removed: int  # incidents deleted
    unchanged: int


def load(data_dir: Path, url: str, full: bool = False) -> Loaded:
    """Validate ``data_dir`` and bring the database at ``url`` to it (``full``: derive all)."""
    dataset = load_dataset(data_dir)
    zone = build_zone(dataset.zone, dataset.sites)
    reference = _reference_hash(dataset)
    hashes = {inc.id: _hash(reference, inc.model_dump(mode="json")) for inc in dataset.incidents}
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
        schema = _schema(conn)
        if schema != SCHEMA_VERSION or full:
            conn.execute(DROP)
            conn.execute(DDL)
        stored: dict[str, str] = dict(conn.execute("SELECT id, hash FROM incident_hash").fetchall())
        changed = [inc for inc in dataset.incidents if stored.get(inc.id) != hashes[inc.id]]
        gone = sorted(stored.keys() - hashes.keys())
        ctx = context_for(dataset, zone)
        catalog = Catalog(dataset, zone, [derive_incident(inc, ctx) for inc in changed], ctx.borders)
        collections = build_collections(catalog)
        replaced = [inc.id for inc in changed] + gone
        conn.execute("DELETE FROM feature WHERE incident = ANY(%s) OR incident IS NULL", (replaced,))
        with conn.cursor().copy(f"COPY feature ({', '.join(Feature._fields)}) FROM STDIN") as copy:
            for cid, c in collections.items():
                for feature in _features(cid, c.rows):
                    copy.write_row(feature)
        conn.execute("DELETE FROM incident_hash WHERE id = ANY(%s)", (replaced,))
        with conn.cursor().copy("COPY incident_hash (id, hash) FROM STDIN") as copy:
            for inc in changed:
                copy.write_row((inc.id, hashes[inc.id]))
        meta = orjson.dumps(_meta(dataset, collections)).decode()
        conn.execute("DELETE FROM dataset")
        conn.execute(
            "INSERT INTO dataset (schema, version, meta) VALUES (%s, %s, %s)",
            (SCHEMA_VERSION, dataset.version, meta),
        )
    if len(changed) + len(gone) > 1000:  # fresh statistics, and pages marked all-visible (index-only scans)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) feature")
    return Loaded(dataset.version, len(changed), len(gone), len(dataset.incidents) - len(changed))


def _schema(conn: psycopg.Connection[Any]) -> int | None:
    if conn.execute("SELECT to_regclass('dataset')").fetchone() == (None,):
        return None
    row = conn.execute("SELECT schema FROM dataset").fetchone()
    return None if row is None else int(row[0])


def _hash(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _reference_hash(dataset: Dataset) -> str:
    """What every incident is derived against: the code's derivation and the reference data."""
    return _hash(
        DERIVATION,
        dataset.zone.model_dump(mode="json"),
        {k: s.model_dump(mode="json") for k, s in dataset.sites.items()},
        {k: s.model_dump(mode="json") for k, s in dataset.sources.items()},
        dataset.borders,
    )


def _meta(dataset: Dataset, collections: dict[str, CollectionRows]) -> dict[str, Any]:
    """What the pages draw besides the features (``app.data.pg_store.served_from``)."""
    return {
        "zone": dataset.zone.model_dump(mode="json"),
        "sites": [site.model_dump(mode="json") for site in dataset.sites.values()],
        "borders": dataset.borders,
        "collections": [
            {"id": c.id, "title": c.title, "description": c.description, "temporal": c.temporal,
             "filters": sorted(c.filters)}
            for c in collections.values()
        ],
    }  # fmt: skip


def _ewkb(geometry: BaseGeometry | None) -> str | None:
    if geometry is None or geometry.is_empty:
        return None
    return str(shapely.to_wkb(shapely.set_srid(geometry, 4326), hex=True, include_srid=True))


def _day(day: Any) -> int:
    return int(day.toordinal()) if day else NO_DAY


def _features(cid: str, rows: list[Row]) -> list[Feature]:
    """The rows of one collection as stored, with their place in the collection's order."""
    out: list[Feature] = []
    seq = 0
    for row in rows:
        geometry = row.geometry if row.geometry is not None and not row.geometry.is_empty else None
        head = {k: v for k, v in row.feature.items() if k != "geometry"}
        if geometry is None or geometry.geom_type == "Point":  # as the embedded store's bodies
            head["geometry"] = to_geojson_fragment(geometry)
        incident = row.owner if cid == "regions" else str(row.feature["id"]) if cid == "events" else None
        same = bool(out) and out[-1].incident == incident
        seq = 0 if cid == "events" else seq + 1 if same or incident is None else 1
        point = None if row.point is None else shapely.Point(row.point)
        out.append(Feature(
            cid, str(row.feature["id"]), incident, _day(row.start) if incident else NO_DAY, incident or "",
            seq, orjson.dumps(head).decode(), _ewkb(geometry), _ewkb(point), _day(row.start), _day(row.end),
            STATUS_CODES.get(row.status or "", -1), row.p_inside, (row.event_type or "").lower(),
            (row.sub_event_type or "").lower(), row.text.lower(),
            orjson.dumps(row.feature.get("properties", {})).decode(),
        ))  # fmt: skip
    return out
