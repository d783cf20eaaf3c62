"""The PostGIS store: ``Store`` (``app.data.store_api``) answered with SQL on the tables of
``app.data.pg_schema``, written by ``at-tanf-map load`` (``app.data.pg_load``).

Every value reaches the database as a query parameter; only fixed column names and operators are
written into the SQL text. Semantics as the embedded store's: ``near`` takes a point within the
distance on the spheroid (``ST_DWithin`` on geography: GeographicLib's geodesic, as
``pyproj.Geod``), or a region that meets the geodesic disc; a CQL2 filter is translated by
``app.api.cql_sql``. ``served_from`` builds what the service serves from the ``dataset`` row, and
``version`` is the cheap question the service asks every few seconds to pick up a new load.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg_pool import ConnectionPool

from app import budget
from app.api.cql_sql import filter_sql
from app.api.features import CollectionRows
from app.data.catalog import build_zone
from app.data.model import Site, Zone
from app.data.store_api import NO_DAY, SIMPLIFY_LADDER_M, STATUS_CODES, ItemQuery
from app.geo.geojson import rounded
from app.geo.shapes import circle, simplified
from app.served import Served

ORDER = "ORDER BY sort_day, sort_id, sort_seq"
POLYGON = "CASE WHEN GeometryType(geom) <> 'POINT' THEN ST_AsBinary(geom) END"  # a point is in the head
COUNT_CAP = 500  # numberMatched is counted up to this many matches (``PostgisStore._matched``)
AHEAD_MAX = 5000  # rows read ahead for ``bodies`` kept at most (per store)
Sql = tuple[str, list[Any]]  # SQL text with %s placeholders, and the values for them


_pools: dict[str, ConnectionPool] = {}


def pool(url: str, budget_s: float = 10.0) -> ConnectionPool:
    """This process's connections to ``url`` (opened on first use, kept until ``close_pools``);
    a statement is cancelled a second after ``budget_s``, the request budget (the client has its 503)."""
    if url not in _pools:
        # No JIT (it compiles each large count afresh, 50-100 ms) and no parallel workers (starting
        # them costs more than a page's query saves, and the cores are the workers' to share).
        timeout_ms = int(budget_s * 1000) + 1000
        options = f"-c jit=off -c max_parallel_workers_per_gather=0 -c statement_timeout={timeout_ms}"
        _pools[url] = ConnectionPool(
            url, min_size=1, max_size=8, open=True, kwargs={"autocommit": True, "options": options}
        )
    return _pools[url]


def close_pools() -> None:
    while _pools:
        _pools.popitem()[1].close()


def version(connections: ConnectionPool) -> str | None:
    """The dataset version loaded (None before the first load)."""
    with connections.connection() as conn:
        if conn.execute("SELECT to_regclass('dataset')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT version FROM dataset").fetchone()
    return None if row is None else str(row[0])


def served_from(connections: ConnectionPool) -> Served:
    """What the service serves, from the database (LookupError if nothing is loaded)."""
    with connections.connection() as conn, conn.transaction():
        conn.execute("SET LOCAL statement_timeout = 0")  # a start, not a request: no budget
        row = conn.execute("SELECT version, meta FROM dataset").fetchone()
        if row is None:
            raise LookupError("the database holds no dataset: run at-tanf-map load first")
        stats = conn.execute(
            "SELECT collection, count(*), ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), "
            "ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)), "
            "min(day_start) FILTER (WHERE day_start <> %s), max(day_end) FILTER (WHERE day_start <> %s), "
            "max(day_end - day_start) FILTER (WHERE day_start <> %s) FROM feature GROUP BY collection",
            (NO_DAY, NO_DAY, NO_DAY),
        ).fetchall()
    version_, meta = row
    sites = {s["id"]: Site.model_validate(s) for s in meta["sites"]}
    zone = build_zone(Zone.model_validate(meta["zone"]), sites)
    collections = {
        c["id"]: CollectionRows(
            c["id"], c["title"], c["description"], [], c["temporal"], frozenset(c["filters"])
        )
        for c in meta["collections"]
    }
    by_id = {s[0]: s for s in stats}
    stores = {cid: PostgisStore(connections, cid, by_id.get(cid)) for cid in collections}
    return Served(version_, zone, sites, meta["borders"], collections, stores)


def _body(head: str, wkb: bytes | None, simplify_m: int | None) -> bytes:
    """The GeoJSON Feature: the stored head, with its polygon written in (6 decimals; within
    ``simplify_m`` metres, 5 decimals from 5 m, if given), as the embedded store writes it."""
    if wkb is None:
        return head.encode()
    geom, decimals = shapely.from_wkb(wkb), 6
    if simplify_m is not None:
        geom, decimals = simplified(geom, simplify_m), 6 if simplify_m < 5 else 5
    fragment = shapely.to_geojson(rounded(geom, decimals))
    return f'{head[:-1]},"geometry":{fragment}}}'.encode()


def _iso(day: int | None) -> str | None:
    return None if day is None else dt.date.fromordinal(day).isoformat()


class PostgisStore:
    """One collection's features in PostGIS; row handles are the table's ``fid``."""

    blocking = True  # every answer waits on the database

    def __init__(self, connections: ConnectionPool, collection: str, stats: tuple[Any, ...] | None) -> None:
        self._pool, self._cid = connections, collection
        _, n, *box, first, last, span = stats or (collection, 0, None, None, None, None, None, None, None)
        self._len = int(n)
        self._bounds = None if box[0] is None else [float(v) for v in box]
        self._interval = (_iso(first), _iso(last))
        self._span = int(span or 0)  # the longest feature's days (end - start)
        self._ahead: dict[int, tuple[str, bytes | None]] = {}  # fid -> (head, polygon WKB): ``_keep``

    def __len__(self) -> int:
        return self._len

    def bounds(self) -> list[float] | None:
        return self._bounds

    def interval(self) -> tuple[str | None, str | None]:
        return self._interval

    def _rows(self, text: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(text, params).fetchall()
        except psycopg.errors.QueryCanceled:  # the statement timeout, past the request's budget
            budget.check()  # the request's 503
            raise

    def page(self, q: ItemQuery, offset: int, limit: int) -> tuple[int | None, np.ndarray]:
        """One statement: the page's handles from an index (a deep ``offset`` skips index entries,
        not rows), one more to know whether more follow, and the page's rows read with them (kept
        for ``bodies``). ``numberMatched`` as ``_matched`` says."""
        where, params = self._where(q)
        found = self._rows(
            f"WITH page AS (SELECT fid, sort_day, sort_id, sort_seq FROM feature WHERE {where} {ORDER} "
            f"LIMIT %s OFFSET %s) SELECT f.fid, f.head, {POLYGON} FROM page JOIN feature f USING (fid) "
            "ORDER BY page.sort_day, page.sort_id, page.sort_seq",
            [*params, limit + 1, offset],
        )
        rows, more = found[:limit], len(found) > limit
        self._keep(rows)
        matched = self._matched(where, params, offset, len(rows), more)
        return matched, np.array([r[0] for r in rows], dtype=np.int64)

    def _matched(self, where: str, params: list[Any], offset: int, returned: int, more: bool) -> int | None:
        """Exact where it is known without counting (the last page, or no filter), else counted
        up to ``COUNT_CAP``; beyond, None: OGC API - Features lets a server leave ``numberMatched``
        out, and clients (GDAL, QGIS, the map's list) page by the ``next`` link, which a full page
        then has. Counting a million matches takes longer than the page's budget."""
        if not more and (returned or offset == 0):
            return offset + returned
        if where == "collection = %s":
            return self._len
        capped = f"SELECT count(*) FROM (SELECT 1 FROM feature WHERE {where} LIMIT %s) AS capped"
        counted = int(self._rows(capped, [*params, COUNT_CAP + 1])[0][0])
        return None if counted > COUNT_CAP else counted

    def query(self, q: ItemQuery) -> np.ndarray:
        where, params = self._where(q)
        found = self._rows(f"SELECT fid FROM feature WHERE {where} {ORDER}", params)
        return np.array([r[0] for r in found], dtype=np.int64)

    def get(self, feature_id: str) -> int | None:
        found = self._rows(
            f"SELECT fid, head, {POLYGON} FROM feature WHERE collection = %s AND id = %s",
            [self._cid, feature_id],
        )
        self._keep(found)
        return int(found[0][0]) if found else None

    def _keep(self, found: list[tuple[Any, ...]]) -> None:
        """Rows read with a page or an item, for the ``bodies`` call that follows (which takes
        them: no second statement); bounded, for requests that end before asking."""
        if len(self._ahead) > AHEAD_MAX:
            self._ahead.clear()
        for fid, head, wkb in found:
            self._ahead[fid] = (head, wkb)

    def _where(self, q: ItemQuery) -> Sql:
        """The query's filters as one SQL condition (``collection = %s`` first)."""
        parts, params = ["collection = %s"], [self._cid]

        def add(text: str, *values: Any) -> None:
            parts.append(text)
            params.extend(values)

        if q.bbox is not None:
            x0, y0, x1, y1 = q.bbox
            boxes = [(x0, y0, x1, y1)] if x0 <= x1 else [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]
            test = "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
            add(f"({' OR '.join([test] * len(boxes))})", *[v for box in boxes for v in box])
        if q.has_time_filter:
            first = q.start.toordinal() if q.start else -(2**31)
            last = q.end.toordinal() if q.end else 2**31 - 1
            add("day_start <> %s AND day_start <= %s AND day_end >= %s", NO_DAY, last, first)
            if self._cid in ("events", "regions"):  # sort_day is day_start: the order index's range
                add("sort_day BETWEEN %s AND %s", first - self._span if q.start else -(2**31), last)
        if q.in_zone:
            add("status = ANY(%s)", [STATUS_CODES[s] for s in sorted(q.in_zone)])
        if q.min_p_inside is not None:
            add("p >= %s", q.min_p_inside)
        for column, wanted in (("type_key", q.event_type and {q.event_type}), ("type_key", q.event_types),
                               ("sub_key", q.sub_event_type and {q.sub_event_type})):  # fmt: skip
            if wanted is not None:
                add(f"{column} = ANY(%s)", sorted({w.lower() for w in wanted}))
        if q.q is not None:
            add("strpos(text, %s) > 0", q.q.lower())
        if q.near is not None and q.within_m is not None:
            # A point: GeographicLib's geodesic distance on the spheroid (pyproj.Geod's). A region:
            # meets the geodesic disc (app.geo.shapes.circle, edges within 0.25 m of the circle), as
            # the embedded store tests it; PostGIS's spheroid distance to a polygon is off by metres.
            point = "ST_DWithin(point, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, true)"
            region = "ST_Intersects(geom, ST_GeomFromWKB(%s, 4326))"
            near, disc = (*q.near, q.within_m), shapely.to_wkb(circle(*q.near, q.within_m))
            if self._cid == "events":  # its point, or one of its regions, tested event by event:
                # OFFSET 0 keeps PostgreSQL from turning EXISTS into a hashed set of every region
                # that meets the disc (exact tests of all of them: seconds at 100k and more).
                regions = ("SELECT FROM feature r WHERE r.collection = 'regions' AND r.incident = feature.id "
                           f"AND {region} OFFSET 0")  # fmt: skip
                add(f"({point} OR EXISTS ({regions}))", *near, disc)
            else:
                add(f"({point} OR {region})", *near, disc)
        if q.filter is not None:
            text, values = filter_sql(q.filter)
            add(f"({text})", *values)
        return " AND ".join(parts), params

    # -- reading ------------------------------------------------------------------------------

    def _by_fid(self, rows: Sequence[int] | np.ndarray, columns: str) -> list[tuple[Any, ...]]:
        """``columns`` of each row handle, in the order given (handles gone since are left out)."""
        wanted = [int(r) for r in rows]
        found = self._rows(f"SELECT fid, {columns} FROM feature WHERE fid = ANY(%s)", [wanted])
        at = {r[0]: r[1:] for r in found}
        return [at[fid] for fid in wanted if fid in at]

    def bodies(self, rows: Sequence[int] | np.ndarray, simplify_m: int | None = None) -> list[bytes]:
        if simplify_m is not None and simplify_m not in SIMPLIFY_LADDER_M:
            raise ValueError(f"tolerance must be one of {SIMPLIFY_LADDER_M}")
        got: dict[int, tuple[str, bytes | None] | None] = {}
        for fid in (int(r) for r in rows):
            if fid not in got:
                got[fid] = self._ahead.pop(fid, None)
        missing = [fid for fid, row in got.items() if row is None]
        if missing:
            for fid, head, wkb in self._rows(f"SELECT fid, head, {POLYGON} FROM feature WHERE fid = ANY(%s)",
                                             [missing]):  # fmt: skip
                got[fid] = (head, wkb)
        return [_body(*row, simplify_m) for row in (got[int(r)] for r in rows) if row is not None]

    def csv(self, rows: np.ndarray) -> bytes | None:  # noqa: ARG002
        return None  # written from the bodies (app.api.formats.features_csv)

    def has_polygons(self, rows: np.ndarray) -> bool:  # noqa: ARG002
        return True  # a database's answers are never written on the event loop

    def ids(self, rows: np.ndarray) -> list[str]:
        return [r[0] for r in self._by_fid(rows, "id")]

    def points(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = np.array(self._by_fid(rows, "ST_X(point::geometry), ST_Y(point::geometry)"), dtype=np.float64)
        xy = xy.reshape(-1, 2)
        return xy[:, 0], xy[:, 1]

    def located(self, rows: np.ndarray) -> np.ndarray:
        return np.array([r[0] for r in self._by_fid(rows, "point IS NOT NULL")], dtype=bool)

    def days(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        days = np.array(self._by_fid(rows, "day_start, day_end"), dtype=np.int64).reshape(-1, 2)
        return days[:, 0], days[:, 1]

    def statuses(self, rows: np.ndarray) -> np.ndarray:
        return np.array([r[0] for r in self._by_fid(rows, "status")], dtype=np.int8)

    def types(self, rows: np.ndarray) -> list[str]:
        return [r[0] or "" for r in self._by_fid(rows, "props->>'event_type'")]

    def geometries(self, rows: np.ndarray) -> np.ndarray:
        out = np.full(len(rows), None, dtype=object)
        for k, (wkb,) in enumerate(self._by_fid(rows, POLYGON)):
            out[k] = None if wkb is None else shapely.from_wkb(wkb)
        return out

    def regions_of(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._cid != "regions":
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        found = self._rows(
            "SELECT r.fid, e.fid FROM feature e "
            "JOIN feature r ON r.collection = 'regions' AND r.incident = e.id "
            "WHERE e.fid = ANY(%s) AND e.collection = 'events' ORDER BY r.sort_day, r.sort_id, r.sort_seq",
            [[int(o) for o in owners]],
        )
        pairs = np.array(found, dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]
