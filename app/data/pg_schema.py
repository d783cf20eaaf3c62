"""The PostGIS store's schema, defined once: ``Feature`` is a row of the ``feature`` table (its
fields are the columns, in order, with their SQL types in ``COLUMNS``), and ``DDL`` the tables and
indexes. Written by ``app.data.pg_load``, read by ``app.data.pg_store``.

- ``feature``: every collection's features; ``fid`` is the row handle of ``app.data.store_api``;
  collection order is ``ORDER BY sort_day, sort_id, sort_seq`` (ids in byte order, ``COLLATE "C"``,
  as the embedded store sorts them; the index carries ``fid``, so a deep ``offset`` is read from the
  index alone). Events' order has a second index carrying what their filters test (zone status,
  days, geometry, point): a filtered page walks it in order without reading a row, to the page's
  last match. Geometry in WGS84 (SRID 4326) and representative points as geography, GiST-indexed,
  events' and regions' geometry each in an index of its own (a bbox on events does not wade
  through the regions' boxes).
- ``incident_hash``: each loaded incident's content hash, so a load re-derives only what changed.
- ``chunk``: each incident chunk loaded (a YAML file, or lines of a ``.jsonl`` file), by the hash
  of its bytes, file and reference data: its incidents' ids and the sources they cite, so a load
  reads and validates only the chunks whose bytes changed (``app.data.pg_load``).
- ``events`` and ``regions``: views with typed columns (dates, title, type, status, p_inside), for
  other servers reading the same tables;
- ``dataset``: one row, the version served and what every page draws (zone, sites, borders, the
  collections' descriptions); the service polls its ``version``.
"""

from __future__ import annotations

from typing import NamedTuple

# Bump on a change below that a statement IF NOT EXISTS cannot make (``load`` then rebuilds the
# tables); a new table or index needs no bump: every load runs ``DDL``.
SCHEMA_VERSION = 4


class Feature(NamedTuple):
    """One feature as stored (day ordinals: ``store_api.NO_DAY`` for none)."""

    collection: str
    id: str
    incident: str | None  # the incident it belongs to (events: itself; regions: their owner)
    sort_day: int  # the incident's first day, or NO_DAY (undated first)
    sort_id: str  # the incident's id (events, regions), '' for reference data
    sort_seq: int  # 0 for an event, 1.. for its regions and for reference rows in their order
    head: str  # the GeoJSON Feature, with its geometry only if that is a point (or null)
    geom: str | None  # hex EWKB of the geometry (SRID 4326)
    point: str | None  # hex EWKB of the representative point (``near`` tests it)
    day_start: int
    day_end: int
    status: int  # store_api.STATUS_CODES, -1 for none
    p: float | None  # p_inside as derived (not rounded)
    type_key: str  # event type lower-cased by Python (``event_type`` compares case-insensitively)
    sub_key: str
    text: str  # title and summary (and a claim's words), lower-case, for ``q``
    props: str  # the properties as JSON (read by CQL2 filters)


COLUMNS: dict[str, str] = {
    "collection": "text NOT NULL", "id": 'text COLLATE "C" NOT NULL', "incident": 'text COLLATE "C"',
    "sort_day": "integer NOT NULL", "sort_id": 'text COLLATE "C" NOT NULL', "sort_seq": "integer NOT NULL",
    "head": "text NOT NULL", "geom": "geometry(Geometry, 4326)", "point": "geography(Point, 4326)",
    "day_start": "integer NOT NULL", "day_end": "integer NOT NULL", "status": "smallint NOT NULL",
    "p": "double precision", "type_key": "text NOT NULL", "sub_key": "text NOT NULL",
    "text": "text NOT NULL", "props": "jsonb NOT NULL",
}  # fmt: skip
assert tuple(COLUMNS) == Feature._fields

# Typed columns for other servers on the same tables (tipg, pygeoapi; issue 19, part 3).
DATE_OF = "CASE WHEN {0} = -1 THEN NULL ELSE DATE '0001-01-01' + ({0} - 1) END AS {1}"
VIEW_COLUMNS = ", ".join([
    "id", DATE_OF.format("day_start", "date_start"), DATE_OF.format("day_end", "date_end"),
    "props->>'title' AS title", "props->>'event_type' AS event_type", "props->>'zone_status' AS zone_status",
    "(props->>'p_inside')::double precision AS p_inside", "props::text AS properties", "geom",
])  # fmt: skip

DDL = f"""
CREATE TABLE IF NOT EXISTS feature (fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    {", ".join(f"{name} {sql}" for name, sql in COLUMNS.items())});
CREATE UNIQUE INDEX IF NOT EXISTS feature_id ON feature (collection, id);
CREATE INDEX IF NOT EXISTS feature_order ON feature (collection, sort_day, sort_id, sort_seq) INCLUDE (fid);
CREATE INDEX IF NOT EXISTS feature_incident ON feature (incident);
CREATE INDEX IF NOT EXISTS feature_event_filters ON feature (sort_day, sort_id, sort_seq)
    INCLUDE (fid, id, status, day_start, day_end, geom, point) WHERE collection = 'events';
CREATE INDEX IF NOT EXISTS feature_days ON feature (collection, day_start, day_end);
CREATE INDEX IF NOT EXISTS feature_status ON feature (collection, status);
CREATE INDEX IF NOT EXISTS feature_geom ON feature USING gist (geom)
    WHERE collection NOT IN ('events', 'regions');
CREATE INDEX IF NOT EXISTS feature_event_geom ON feature USING gist (geom) WHERE collection = 'events';
CREATE INDEX IF NOT EXISTS feature_region_geom ON feature USING gist (geom) WHERE collection = 'regions';
CREATE INDEX IF NOT EXISTS feature_point ON feature USING gist (point);
CREATE OR REPLACE VIEW events AS SELECT {VIEW_COLUMNS} FROM feature WHERE collection = 'events';
CREATE OR REPLACE VIEW regions AS SELECT {VIEW_COLUMNS}, incident AS event_id FROM feature
    WHERE collection = 'regions';
CREATE TABLE IF NOT EXISTS incident_hash (id text COLLATE "C" PRIMARY KEY, hash text NOT NULL);
CREATE TABLE IF NOT EXISTS dataset (one boolean PRIMARY KEY DEFAULT true CHECK (one), schema integer NOT NULL,
    version text NOT NULL, meta jsonb NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS chunk (key text PRIMARY KEY, ids text[] NOT NULL, cited text[] NOT NULL);
"""
DROP = "DROP TABLE IF EXISTS feature, incident_hash, dataset, chunk CASCADE"
