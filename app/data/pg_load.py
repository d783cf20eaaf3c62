"""``at-tanf-map load``: a data directory into PostGIS, incrementally, in one transaction.

The directory is validated as ``validate`` does (``DataError`` names file, record and field, and
nothing is written), but only where its bytes changed: the incident files are cut into chunks (a
YAML file; ``CHUNK_RECORDS`` lines of a ``.jsonl`` file, ``app.data.files.scan``), and a chunk whose
bytes, file and reference data (zone, sites, sources, borders, ``DERIVATION``) are those of a chunk
the database already holds (table ``chunk``: its incidents' ids and the sources they cite) is
neither parsed nor validated again. What spans chunks is checked on every load: ids unique across
all chunks, every listed source cited, incidents present at all. Of the incidents read, each one's
content hash (its record as parsed, with the reference data it is derived against) is compared
with the one stored: only those whose hash changed are derived again and their event and regions
replaced; incidents no longer in the directory are removed. Everything, with the new dataset
version, is committed at once, so a reader sees the old dataset or the new one, never a mix; loads
queue on a lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from app.api.features import CollectionRows, build_collections
from app.data import files
from app.data.catalog import Catalog, build_zone, context_for, derive_incident
from app.data.files import ChangedError, Chunk, Part, Scan
from app.data.loader import READ_ATTEMPTS, DataError, Dataset, Problem, load_dataset
from app.data.pg_schema import DDL, DROP, SCHEMA_VERSION, Feature
from app.data.references import Records, check_every_source_cited
from app.data.schema import Row
from app.data.store_api import NO_DAY, STATUS_CODES
from app.geo.geojson import to_geojson_fragment

LOAD_LOCK = 0x7A7A_F001  # pg_advisory_xact_lock key: one load at a time
DERIVATION = "2026-11-30"  # change when derived values change for the same data: all re-derived
CHUNK_RECORDS = 1000  # lines of a .jsonl file validated together (about 0.2 s of work here)


@dataclass(frozen=True)
class Loaded:
    version: str
    derived: int  # incidents derived and written
    removed: int  # incidents deleted
    unchanged: int
    validated: int = 0  # incident records read and validated (those of the chunks that changed)


def load(data_dir: Path, url: str, full: bool = False, chunk_records: int = CHUNK_RECORDS) -> Loaded:
    """Validate what changed in ``data_dir`` and bring the database at ``url`` to it (``full``:
    read and derive all). A file edited while it is read is read again (``READ_ATTEMPTS``)."""
    data_dir = data_dir.resolve()
    if not data_dir.is_dir():
        raise DataError([Problem(str(data_dir), None, None, "data directory does not exist")])
    for _attempt in range(READ_ATTEMPTS):
        try:
            with psycopg.connect(url) as conn:
                done = _load(conn, data_dir, files.scan(data_dir, chunk_records), full)
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
        if _schema(conn) != SCHEMA_VERSION or full:
            conn.execute(DROP)
        conn.execute(DDL)  # every statement IF NOT EXISTS: what a newer schema adds is made here
        dataset, chunks = _validated(conn, data_dir, scan)
        reference = _reference_hash(dataset)
        hashes = {inc.id: _hash(reference, inc.model_dump(mode="json")) for inc in dataset.incidents}
        stored: dict[str, str] = dict(conn.execute("SELECT id, hash FROM incident_hash").fetchall())
        changed = [inc for inc in dataset.incidents if stored.get(inc.id) != hashes[inc.id]]
        present = dataset.incident_files.keys()
        gone = sorted(stored.keys() - present)
        zone = build_zone(dataset.zone, dataset.sites)
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
        conn.execute("DELETE FROM chunk WHERE NOT key = ANY(%s)", (list(chunks.kept),))
        with conn.cursor().copy("COPY chunk (key, ids, cited) FROM STDIN") as copy:
            for key, ids in chunks.ids.items():
                if key not in chunks.kept:
                    copy.write_row((key, ids, sorted(set(chunks.cited[key]))))
        meta = orjson.dumps(_meta(dataset, collections)).decode()
        conn.execute("DELETE FROM dataset")
        conn.execute(
            "INSERT INTO dataset (schema, version, meta) VALUES (%s, %s, %s)",
            (SCHEMA_VERSION, dataset.version, meta),
        )
    return Loaded(
        dataset.version, len(changed), len(gone), len(present) - len(changed), len(dataset.incidents)
    )


@dataclass
class _Chunks:
    """The incident chunks of a scan, by key, and what the load knows of each."""

    file: dict[str, str]  # key -> the file as problems name it
    ids: dict[str, list[str]]  # key -> its incidents' ids
    cited: dict[str, list[str]]  # key -> the sources its incidents cite
    kept: set[str]  # keys of the chunks the database held already (not read again)


def _validated(conn: psycopg.Connection[Any], data_dir: Path, scan: Scan) -> tuple[Dataset, _Chunks]:
    """The reference data and the incidents of the chunks the database does not hold, validated
    (``DataError`` naming every problem found), and every chunk's row. ``ChangedError`` if a file
    is not what ``scan`` read."""
    try:
        reference = load_dataset(data_dir, replace(scan, parts=(), refused=()))
    except DataError:
        load_dataset(data_dir, scan)  # the whole directory's problems, named together
        raise
    ref_hash = _reference_hash(reference)
    chunks: dict[str, Chunk] = {}
    for chunk in (chunk for part in scan.parts for chunk in part.chunks):
        key = _hash(ref_hash, chunk.file, chunk.digest)
        chunks[key if key not in chunks else _hash(key, chunk.start)] = chunk  # the same bytes twice
    stored = conn.execute("SELECT key, ids, cited FROM chunk WHERE key = ANY(%s)", (list(chunks),))
    known = _Chunks({k: f"{data_dir.name}/{c.file}" for k, c in chunks.items()}, {}, {}, set())
    for key, ids, cited in stored:
        known.ids[key], known.cited[key] = ids, cited
        known.kept.add(key)
    problems = [Problem(f"{data_dir.name}/{r.file}", None, None, r.message) for r in scan.refused]
    incidents = []
    for group in _groups([(k, c) for k, c in chunks.items() if k not in known.kept]):
        try:
            read = load_dataset(data_dir, replace(scan, parts=(Part(tuple(group.values())),), refused=()))
        except DataError as error:
            problems.extend(error.problems)
            continue
        key_of = {known.file[k]: k for k in group}  # one chunk of a file per group
        for key in group:
            known.ids[key], known.cited[key] = [], []
        for incident in read.incidents:
            key = key_of[read.incident_files[incident.id]]
            known.ids[key].append(incident.id)
            known.cited[key].extend(c.source for c in incident.sources)
        incidents.extend(read.incidents)
    files_of: dict[str, str] = {}
    for key, ids in known.ids.items():
        for incident_id in ids:
            if incident_id in files_of:
                also = files_of[incident_id]
                problems.append(Problem(known.file[key], incident_id, "id", f"duplicate id (also in {also})"))
            files_of.setdefault(incident_id, known.file[key])
    if not chunks:
        problems.append(Problem(f"{data_dir.name}/{files.INCIDENTS_DIR}", None, None,
                                "no incident files (*.yaml, *.yml or *.jsonl) found"))  # fmt: skip
    if not problems:
        found = _Report()
        sources = scan.reference[files.SOURCES]
        records = Records(reference.sources, reference.sites, reference.zone, [], reference.borders)
        cited = {s for sources_ in known.cited.values() for s in sources_}
        check_every_source_cited(found, f"{data_dir.name}/{sources.file if sources else ''}", records, cited)
        problems = found.problems
    if problems:
        raise DataError(problems)
    incidents.sort(key=lambda i: (i.date.start, i.id))
    return replace(reference, incidents=incidents, incident_files=files_of), known


def _groups(chunks: list[tuple[str, Chunk]]) -> list[dict[str, Chunk]]:
    """The chunks to read, in as few loads as hold at most one chunk of each file (an incident
    read is then known by its file to come from its chunk)."""
    groups: list[dict[str, Chunk]] = []
    for key, chunk in chunks:
        group = next((g for g in groups if all(c.file != chunk.file for c in g.values())), None)
        if group is None:
            groups.append(group := {})
        group[key] = chunk
    return groups


class _Report:
    """Where ``check_every_source_cited`` puts what it finds (``app.data.references.Report``)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.invalid_ids: set[str] = set()

    def add(self, file: str, record: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(file, record, field, message))


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
