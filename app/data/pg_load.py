"""``at-tanf-map load``: a data directory into PostGIS, incrementally, in one transaction.

The records the database does not hold (table ``record``: each one's key, incident and the
sources it cites) are read, validated and derived as the embedded store derives them
(``app.data.derive``: ``DataError`` names file, record and field, and nothing is written); a
stored record whose key is no longer in the directory takes its incident with it. The rows are
written from the derived store columns (``app.data.schema``). Everything, with the new dataset
version, is committed at once, so a reader sees the old dataset or the new one, never a mix;
loads queue on a lock. The PostGIS extension is created in the same transaction when the database
lacks it (``PostgisMissing`` when the user may not create it).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg
import pyarrow as pa
import shapely

from app.data import files
from app.data.derive import Held, Loaded, derive
from app.data.files import ChangedError, Scan
from app.data.loader import READ_ATTEMPTS, DataError, Problem
from app.data.pg_schema import COLUMNS, DDL, DROP, SCHEMA_VERSION
from app.data.schema import Columns
from app.data.store import FeatureStore
from app.data.store_api import NO_DAY

LOAD_LOCK = 0x7A7A_F001  # pg_advisory_xact_lock key: one load at a time


class PostgisMissing(Exception):
    """The database lacks PostGIS and the loading user may not create it (one line: what an
    administrator must run)."""


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
        _with_postgis(conn)
        exists = conn.execute("SELECT to_regclass('dataset') IS NOT NULL").fetchone() == (True,)
        if full or not exists or conn.execute("SELECT schema FROM dataset").fetchone() != (SCHEMA_VERSION,):
            conn.execute(DROP)
        conn.execute(DDL)  # every statement IF NOT EXISTS: what a newer schema adds is made here
        held: Held = dict(conn.execute("SELECT key, incident FROM record").fetchall())

        def cited_but(gone: set[str]) -> set[str]:  # the citations, not read into Python one by one
            sql = "SELECT DISTINCT unnest(cited) FROM record WHERE NOT key = ANY(%s)"
            return {source for (source,) in conn.execute(sql, (list(gone),))}

        with tempfile.TemporaryDirectory() as scratch:
            new = derive(data_dir, scan, held, cited_but, Path(scratch), embedded=False)
            removed = {held[key] for key in new.gone} - {None}
            conn.execute("DELETE FROM feature WHERE incident = ANY(%s) OR incident IS NULL", (list(removed),))
            conn.execute("DELETE FROM record WHERE key = ANY(%s)", (list(new.gone),))
            with conn.cursor().copy("COPY record (key, incident, cited) FROM STDIN") as copy:
                for key, (incident, cited) in new.new.items():
                    copy.write_row((key, incident, cited))
            with conn.cursor().copy(f"COPY feature ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for cid, table in new.tables.items():
                    for row in _rows(cid, table):
                        copy.write_row(row)
        conn.execute("DELETE FROM dataset")
        conn.execute("INSERT INTO dataset (schema, version, meta) VALUES (%s, %s, %s)",
                     (SCHEMA_VERSION, new.meta["version"], orjson.dumps(new.meta).decode()))  # fmt: skip
    return new.loaded(held)


def _with_postgis(conn: psycopg.Connection[Any]) -> None:
    """Create the PostGIS extension if the database lacks it (a new database: ``createdb`` alone).
    Where it is there already this checks no right, so an ordinary user loads a prepared database."""
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.errors.InsufficientPrivilege:
        name, user = conn.info.dbname, conn.info.user
        raise PostgisMissing(
            f"the database {name} has no PostGIS and {user} may not create it: an administrator must run "
            f"CREATE EXTENSION postgis; in it (psql -d {name} -c 'CREATE EXTENSION postgis')"
        ) from None


def _ewkb(geometries: np.ndarray) -> list[str | None]:
    """Hex EWKB, SRID 4326 (what COPY reads into a geometry column); None for none."""
    return shapely.to_wkb(shapely.set_srid(geometries, 4326), hex=True, include_srid=True).tolist()  # type: ignore[no-any-return]


def _rows(cid: str, table: pa.Table) -> Iterator[tuple[Any, ...]]:
    """The rows of one collection's derived table as ``feature`` holds them (``COLUMNS``), with
    their place in its order (a region's and the reference data's: their order in the table)."""
    store = FeatureStore(Columns.of(table))
    c, every = store.columns, np.arange(len(store))
    located = ~np.isnan(c.point[:, 0])
    points = np.full(len(c), None, dtype=object)
    points[located] = shapely.points(c.point[located])
    ids = c.id.to_pylist()
    incidents = c.owner.to_pylist() if cid == "regions" else ids if cid == "events" else [None] * len(c)
    p_inside = [None if np.isnan(p) else p for p in c.p_inside.tolist()]
    columns = zip(
        ids, incidents, c.head.to_pylist(), _ewkb(store.shapes(every)), _ewkb(points), c.days.tolist(),
        c.status.tolist(), p_inside, c.event_type.of(every), c.sub_event_type.of(every), c.text.to_pylist(),
        strict=True,
    )  # fmt: skip
    seq, last = 0, None
    for fid, incident, head, geom, point, (start, end), status, p, kind, sub, text in columns:
        seq = 0 if cid == "events" else seq + 1 if incident == last or incident is None else 1
        last, properties = incident, orjson.dumps(orjson.loads(head)["properties"]).decode()
        yield (cid, fid, incident, start if incident else NO_DAY, incident or "", seq, head.decode(), geom,
               point, start, end, status, p, kind.lower(), sub.lower(), text, properties)  # fmt: skip
