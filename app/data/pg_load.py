"""``at-tanf-map load``: a data directory into PostGIS, incrementally, in one transaction.

Validated as ``validate`` does (``DataError`` names file, record and field, and nothing is
written), but only the incident records the database does not hold: a record's key
(``served_meta.record_keys``) is the hash of its bytes, of the reference files (zone, sites, sources, borders)
and of ``DERIVATION``; a record whose key is stored (table ``record``) is neither read nor derived
again, and a stored record whose key is no longer in the directory takes its incident with it.
What spans records is checked on every load: ids unique, every listed source cited, incidents at
all. Everything, with the new dataset version, is committed at once, so a reader sees the old
dataset or the new one, never a mix; loads queue on a lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from app.api.features import build_collections
from app.data import files
from app.data.catalog import build_catalog
from app.data.files import ChangedError, Chunk, Part, Scan
from app.data.loader import READ_ATTEMPTS, DataError, Dataset, Problem, load_dataset
from app.data.pg_schema import COLUMNS, DDL, DROP, SCHEMA_VERSION
from app.data.references import UNCITED, Records, uncited_sources
from app.data.schema import Row
from app.data.served_meta import meta as served_meta
from app.data.served_meta import record_keys, spanning
from app.data.store_api import NO_DAY, STATUS_CODES
from app.geo.geojson import to_geojson_fragment

LOAD_LOCK = 0x7A7A_F001  # pg_advisory_xact_lock key: one load at a time
DERIVATION = "2026-12-01"  # change when derived values change for the same data: all derived again


@dataclass(frozen=True)
class Loaded:
    version: str
    derived: int  # incidents read, validated, derived and written (their records' keys new)
    removed: int  # incidents deleted (their records gone)
    unchanged: int  # incidents whose records the database held


def load(data_dir: Path, url: str, full: bool = False) -> Loaded:
    """Validate what is new in ``data_dir`` and bring the database at ``url`` to it (``full``: read
    and derive everything). A file edited while it is read is read again (``READ_ATTEMPTS``)."""
    data_dir = data_dir.resolve()
    if not data_dir.is_dir():
        raise DataError([Problem(str(data_dir), None, None, "data directory does not exist")])
    for _attempt in range(READ_ATTEMPTS):
        try:
            with psycopg.connect(url) as conn:
                done = _load(conn, data_dir, files.scan(data_dir, 1), full)
            break
        except ChangedError:
            continue
    else:
        raise DataError([Problem(str(data_dir), None, None, "the data kept changing while it was read")])
    if done.derived + done.removed > 1000:  # fresh statistics; pages all-visible (index-only scans)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) feature")
    return done


def _load(conn: psycopg.Connection[Any], data_dir: Path, scan: Scan, full: bool) -> Loaded:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
        exists = conn.execute("SELECT to_regclass('dataset') IS NOT NULL").fetchone() == (True,)
        if full or not exists or conn.execute("SELECT schema FROM dataset").fetchone() != (SCHEMA_VERSION,):
            conn.execute(DROP)
        conn.execute(DDL)  # every statement IF NOT EXISTS: what a newer schema adds is made here
        chunks, keys = [chunk for part in scan.parts for chunk in part.chunks], record_keys(scan, DERIVATION)
        key_of = dict(zip(chunks, keys, strict=True))
        stored: dict[str, str | None] = dict(conn.execute("SELECT key, incident FROM record").fetchall())
        gone = list(stored.keys() - set(keys))
        held = conn.execute("SELECT DISTINCT unnest(cited) FROM record WHERE NOT key = ANY(%s)", (gone,))
        dataset, incident_of = _validated(data_dir, scan, key_of, stored, {source for (source,) in held})
        removed = {stored[key] for key in gone} - {None}
        conn.execute("DELETE FROM feature WHERE incident = ANY(%s) OR incident IS NULL", (list(removed),))
        conn.execute("DELETE FROM record WHERE key = ANY(%s)", (gone,))
        cited = {inc.id: sorted({c.source for c in inc.sources}) for inc in dataset.incidents}
        with conn.cursor().copy("COPY record (key, incident, cited) FROM STDIN") as copy:
            for key, chunk in dict(zip(keys, chunks, strict=True)).items():  # blank lines: one key
                if key not in stored:
                    copy.write_row((key, incident_of.get(chunk), cited.get(incident_of.get(chunk, ""), [])))
        collections = build_collections(build_catalog(dataset))
        with conn.cursor().copy(f"COPY feature ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for cid, c in collections.items():
                for feature in _features(cid, c.rows):
                    copy.write_row(feature)
        meta = served_meta(dataset.version, dataset.zone, dataset.sites, dataset.borders, collections)
        conn.execute("DELETE FROM dataset")
        conn.execute("INSERT INTO dataset (schema, version, meta) VALUES (%s, %s, %s)",
                     (SCHEMA_VERSION, dataset.version, orjson.dumps(meta).decode()))  # fmt: skip
    unchanged = sum(1 for key in set(keys) & stored.keys() if stored[key] is not None)
    return Loaded(dataset.version, len(dataset.incidents), len(removed - cited.keys()), unchanged)


def _validated(
    data_dir: Path, scan: Scan, keys: dict[Chunk, str], stored: dict[str, str | None], cited: set[str]
) -> tuple[Dataset, dict[Chunk, str]]:
    """The reference data and the incidents of the records not ``stored`` (``keys``: each record's
    key, ``served_meta.record_keys``), validated, and each one's record; what spans records checked
    with the stored ones' ids and the sources they cite (``cited``). Every problem found is in the
    ``DataError``; ``ChangedError`` if a file is not what ``scan`` read."""
    new = Part(tuple(chunk for chunk, key in keys.items() if key not in stored))
    refused = [Problem(f"{data_dir.name}/{r.file}", None, None, r.message) for r in scan.refused]
    try:
        dataset = load_dataset(data_dir, scan.only(new))
    except DataError as error:
        raise DataError(refused + error.problems) from None
    incident_of = {chunk: incident_id for incident_id, chunk in dataset.incident_chunks.items()}
    ids = [stored[key] if key in stored else incident_of.get(chunk) for chunk, key in keys.items()]
    problems = refused + spanning(data_dir, scan, list(keys), ids)
    if not problems:
        records = Records(dataset.sources, dataset.sites, dataset.zone, dataset.incidents, dataset.borders)
        sources = scan.reference[files.SOURCES]
        file = f"{data_dir.name}/{sources.file if sources else ''}"
        problems = [Problem(file, source, "id", UNCITED) for source in uncited_sources(records, cited)]
    if problems:
        raise DataError(problems)
    return dataset, incident_of


def _ewkb(geometry: BaseGeometry | None) -> str | None:
    """Hex EWKB, SRID 4326 (what COPY reads into a geometry column); None for none."""
    if geometry is None:
        return None
    return str(shapely.to_wkb(shapely.set_srid(geometry, 4326), hex=True, include_srid=True))


def _day(day: Any) -> int:
    return int(day.toordinal()) if day else NO_DAY


def _features(cid: str, rows: list[Row]) -> Iterator[tuple[Any, ...]]:
    """The rows of one collection as stored (``COLUMNS``), with their place in its order."""
    seq, last = 0, None
    for row in rows:
        geometry = row.geometry if row.geometry is not None and not row.geometry.is_empty else None
        head = {k: v for k, v in row.feature.items() if k != "geometry"}
        if geometry is None or geometry.geom_type == "Point":  # as the embedded store's bodies
            head["geometry"] = to_geojson_fragment(geometry)
        incident = row.owner if cid == "regions" else str(row.feature["id"]) if cid == "events" else None
        seq = 0 if cid == "events" else seq + 1 if incident == last or incident is None else 1
        last, start = incident, _day(row.start)
        point = None if row.point is None else shapely.Point(row.point)
        yield (
            cid, str(row.feature["id"]), incident, start if incident else NO_DAY, incident or "",
            seq, orjson.dumps(head).decode(), _ewkb(geometry), _ewkb(point), start, _day(row.end),
            STATUS_CODES.get(row.status or "", -1), row.p_inside, (row.event_type or "").lower(),
            (row.sub_event_type or "").lower(), row.text.lower(),
            orjson.dumps(row.feature.get("properties", {})).decode(),
        )  # fmt: skip
