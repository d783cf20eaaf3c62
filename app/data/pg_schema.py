"""The PostGIS store's tables, defined once (``DDL``): written by ``app.data.pg_load``, read by
``app.data.pg_store``.

- ``feature``: every collection's features, one row each (``COLUMNS``); ``fid`` is the row handle
  of ``app.data.store_api``. Collection order is ``sort_day, sort_id, sort_seq`` (ids in byte order,
  ``COLLATE "C"``, as the embedded store sorts them); its index carries ``fid``, and for events what
  their filters test, so a page walks it without reading a row; another carries what the events
  are counted by (``PostgisStore.tally`` and ``cells``: an index-only scan, not the table). GiST
  indexes on the events', the regions' and the other collections' geometry (apart: a bbox on events
  does not wade through the regions' boxes) and on the representative point.
- ``record``: each incident record loaded, by its key (``derive.record_keys``), with its incident
  and the sources it cites: a load reads only the records whose key is new.
- ``dataset``: one row, the version served and what every page draws (zone, sites, borders, the
  collections' descriptions); the service polls its ``version``.
- ``events`` and ``regions``: views with typed columns for other servers on the same tables
  (tipg, pygeoapi: ``tests/perf/peers.py``).
"""

from __future__ import annotations

# Bump on a change below that a statement IF NOT EXISTS cannot make (``load`` then rebuilds the
# tables); a new table or index needs no bump: every load runs ``DDL``.
SCHEMA_VERSION = 5

# ``feature``'s columns, in the order ``pg_load`` writes them; days are proleptic Gregorian ordinals
# (``store_api.NO_DAY``: none).
COLUMNS = {
    "collection": "text NOT NULL",
    "id": 'text COLLATE "C" NOT NULL',
    "incident": 'text COLLATE "C"',  # the incident it belongs to (events: itself; regions: their owner)
    "sort_day": "integer NOT NULL",  # the incident's first day, or NO_DAY (undated first)
    "sort_id": 'text COLLATE "C" NOT NULL',  # the incident's id, '' for reference data
    "sort_seq": "integer NOT NULL",  # 0 for an event, 1.. for its regions and reference rows in order
    "head": "text NOT NULL",  # the GeoJSON Feature, with its geometry only if that is a point (or none)
    "geom": "geometry(Geometry, 4326)",
    "point": "geography(Point, 4326)",  # the representative point (``near`` tests it)
    "day_start": "integer NOT NULL",
    "day_end": "integer NOT NULL",
    "status": "smallint NOT NULL",  # store_api.STATUS_CODES, -1 for none
    "p": "double precision",  # p_inside as derived (not rounded)
    "type_key": "text NOT NULL",  # event type, lower-cased by Python (compared case-insensitively)
    "sub_key": "text NOT NULL",  # sub-event type, likewise
    "text": "text NOT NULL",  # title and summary (and a claim's words), lower-case, for ``q``
    "props": "jsonb NOT NULL",  # the properties (CQL2 filters read them)
}
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
CREATE INDEX IF NOT EXISTS feature_event_tally ON feature (type_key, status)
    INCLUDE (fid, day_start, day_end, point, geom) WHERE collection = 'events';
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
CREATE TABLE IF NOT EXISTS record (key text PRIMARY KEY, incident text COLLATE "C", cited text[] NOT NULL);
CREATE TABLE IF NOT EXISTS dataset (one boolean PRIMARY KEY DEFAULT true CHECK (one), schema integer NOT NULL,
    version text NOT NULL, meta jsonb NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now());
"""
DROP = "DROP TABLE IF EXISTS feature, record, dataset, incident_hash, chunk CASCADE"  # the last two: v4
