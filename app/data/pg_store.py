"""The PostGIS store: ``Store`` (``app.data.store_api``) answered with SQL on the tables of
``app.data.pg_schema`` (written by ``app.data.pg_load``); ``served_from`` builds what the service
serves from the ``dataset`` row, and ``version`` is what the service polls to follow a new load.

Every value is a query parameter. Semantics as the embedded store's: ``near`` takes a point within
the distance on the spheroid (``ST_DWithin`` on geography: GeographicLib's geodesic, as
``pyproj.Geod``) or a region meeting the geodesic disc; CQL2 is translated by ``app.api.cql_sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

import numpy as np
import shapely
from psycopg_pool import ConnectionPool

from app.api.cql_sql import filter_sql
from app.data.grid import MAX_LEVEL, MERCATOR_MAX_LAT, Cells, cell_of, gathered
from app.data.model import Incident
from app.data.pg_reach import CONNECT_TIMEOUT_S, POOL_WAIT_S, read
from app.data.served_meta import Served, served
from app.data.store_api import NO_DAY, STATUS_CODES, Attributes, ItemQuery, Tally, iso_day, with_geometries
from app.geo.shapes import circle

ORDER = "sort_day, sort_id, sort_seq"  # the collection's order (``app.data.pg_schema``)
ID = "collection = %s AND id = %s"
POLYGON = "CASE WHEN GeometryType(geom) <> 'POINT' THEN ST_AsBinary(geom) END"  # a point is in the head
COUNT_CAP = 500  # numberMatched is counted up to this many matches (``PostgisStore.page``)
AHEAD_MAX = 5000  # rows read ahead for ``ids`` and ``bodies`` kept at most (per store)
TYPE_NAMES = {name.lower(): name for name in get_args(Incident.model_fields["event_type"].annotation)}
# A point's cell in SQL (``cells``): grid.cell_of's formula (Mercator y as asinh(tan), which
# differs from numpy's log(tan + sec) by ~1e-15); a point within EDGE * 2^level of a cell's edge
# in SQL is grouped alone and placed by ``cell_of`` itself, so that every point is in its cell.
EDGE = 1e-12
BY_STATUS = ", ".join(f"count(*) FILTER (WHERE status = {code})" for code in STATUS_CODES.values())
CELL = f"""SELECT col, row, count(*), {BY_STATUS}, sum(x), sum(y), min(x), min(y), max(x), max(y),
    coalesce(min(day_start) FILTER (WHERE day_start <> {NO_DAY}), {NO_DAY}), max(day_end), min(fid)
    FROM (SELECT *, least(greatest(floor(cx), 0), n - 1) AS col, CASE WHEN abs(cx - round(cx)) < edge
    OR abs(cy - round(cy)) < edge THEN -1 - fid ELSE least(greatest(floor(cy), 0), n - 1) END AS row
    FROM (SELECT *, (x + 180.0) / 360.0 * n AS cx,
    (1.0 - asinh(tan(radians(least(greatest(y, -m), m)))) / pi()) / 2.0 * n AS cy
    FROM (SELECT fid, status, day_start, day_end, ST_X(point::geometry) AS x, ST_Y(point::geometry) AS y,
    %s::float8 AS n, %s::float8 AS m, %s::float8 AS edge FROM feature WHERE {{}} AND point IS NOT NULL
    OFFSET 0) AS a OFFSET 0) AS b) AS c GROUP BY col, row"""  # OFFSET 0: each value computed once a row
_pools: dict[str, ConnectionPool] = {}


def pool(url: str, budget_s: float = 10.0) -> ConnectionPool:
    """This process's connections to ``url`` (kept until ``close_pools``). A statement is cancelled
    a second after ``budget_s``, the request budget (the client has had its 503). No JIT (it
    compiled each large count afresh, 50-100 ms), no parallel workers (the cores are the workers')."""
    if url not in _pools:
        timeout_ms = int(budget_s * 1000) + 1000
        options = f"-c jit=off -c max_parallel_workers_per_gather=0 -c statement_timeout={timeout_ms}"
        _pools[url] = ConnectionPool(
            url, max_size=8, open=True, timeout=POOL_WAIT_S, reconnect_timeout=POOL_WAIT_S,
            kwargs={"autocommit": True, "options": options, "connect_timeout": CONNECT_TIMEOUT_S},
        )  # fmt: skip
    return _pools[url]


def close_pools(within: str = "") -> None:
    """Close every pool whose URL holds ``within`` (a test's, before its cluster stops)."""
    for url in [url for url in _pools if within in url]:
        _pools.pop(url).close()


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
        loaded = conn.execute("SELECT to_regclass('dataset')").fetchone() != (None,)
        row = conn.execute("SELECT version, meta FROM dataset").fetchone() if loaded else None
        if row is None:
            raise LookupError("the database holds no dataset: run at-tanf-map load first")
        dated = f"FILTER (WHERE day_start <> {NO_DAY})"
        stats = conn.execute(
            "SELECT collection, count(*), ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), "
            f"ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)), min(day_start) {dated}, "
            f"max(day_end) {dated}, max(day_end - day_start) {dated} FROM feature GROUP BY collection"
        ).fetchall()
    by_id = {s[0]: s[1:] for s in stats}
    cids = [c["id"] for c in row[1]["collections"]]
    stores = {cid: PostgisStore(connections, cid, by_id.get(cid, (0, *[None] * 7))) for cid in cids}
    return served(row[1] | {"version": row[0]}, stores)


class PostgisStore:
    """One collection's features in PostGIS; row handles are the table's ``fid``."""

    blocking = True  # every answer waits on the database

    def __init__(self, connections: ConnectionPool, collection: str, stats: Sequence[Any]) -> None:
        """``stats``: count, extent (4 numbers, None: no geometry), first and last day, longest span."""
        n, *box, first, last, span = stats
        self._pool, self._cid, self._len = connections, collection, int(n)
        self._bounds = None if box[0] is None else [float(v) for v in box]
        self._interval, self._span = (iso_day(first), iso_day(last)), int(span or 0)
        self._ahead: dict[int, list[Any]] = {}  # fid -> [id, head, polygon WKB] (``_keep``)

    def __len__(self) -> int:
        return self._len

    def bounds(self) -> list[float] | None:
        return self._bounds

    def interval(self) -> tuple[str | None, str | None]:
        return self._interval

    def _rows(self, text: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return read(self._pool, text, params)

    def answers(self) -> None:
        """Nothing if the database answers a ``SELECT 1`` (``/healthz``), else ``Unavailable``."""
        read(self._pool, "SELECT 1", ())

    def page(
        self, q: ItemQuery, offset: int, limit: int, after: str | None = None
    ) -> tuple[int | None, np.ndarray]:
        """One statement: a walk of the order's index, from ``after``'s key when given (keyset:
        nothing skipped) else skipping ``offset`` entries, and the page's rows read with it (kept
        for ``ids`` and ``bodies``: a statement is a round trip, a few ms each on a loaded machine).
        Where the page lies within the first ``COUNT_CAP`` matches the walk goes on to them,
        counting them; past that numberMatched is left out unless the page is the last (OGC API -
        Features allows it; clients follow ``next``): counting a million matches costs more than
        the page's budget. (A count of its own took a plan of its own: ``near`` at 100k walked a
        spatial index whose matches lay late in it, 35 ms of 40.)"""
        where, params = self._where(q)
        walk = f"{where} AND ({ORDER}) > (SELECT {ORDER} FROM feature WHERE {ID})" if after else where
        window = max(limit, COUNT_CAP - offset) + 1
        found = self._rows(
            f"WITH walk AS MATERIALIZED (SELECT fid, row_number() OVER () AS n FROM (SELECT fid FROM feature "
            f"WHERE {walk} ORDER BY {ORDER} LIMIT %s OFFSET %s) AS w) SELECT walk.fid, f.* FROM walk "
            f"LEFT JOIN LATERAL (SELECT id, head, {POLYGON} FROM feature WHERE fid = walk.fid AND n <= %s "
            "OFFSET 0) AS f ON true ORDER BY n",  # rows read for the page only (OFFSET 0: a gate per row)
            [*params, *((self._cid, after) if after else ()), window, 0 if after else offset, limit],
        )
        if after and not found:  # ``after`` not held (or the last match): the page of ``offset``
            return self.page(q, offset, limit)
        self._keep(found[:limit])
        matched: int | None = None
        if len(found) < window and (found or offset == 0 or after):
            matched = offset + len(found)
        elif len(params) == 1:  # no filter
            matched = self._len
        elif not found:  # past the last match
            capped = f"SELECT count(*) FROM (SELECT FROM feature WHERE {where} LIMIT {COUNT_CAP + 1}) AS c"
            matched = int(self._rows(capped, params)[0][0])
            matched = None if matched > COUNT_CAP else matched
        return matched, np.array([r[0] for r in found[:limit]], dtype=np.int64)

    def _keep(self, found: list[tuple[Any, ...]]) -> None:
        """Rows (fid, id, head, polygon) read with a page or an item, for the ``ids`` and ``bodies``
        that follow (``bodies`` takes them); bounded, for requests that end before asking."""
        if len(self._ahead) > AHEAD_MAX:
            self._ahead.clear()
        self._ahead.update((fid, rest) for fid, *rest in found)

    def query(self, q: ItemQuery) -> np.ndarray:
        where, params = self._where(q)
        found = self._rows(f"SELECT fid FROM feature WHERE {where} ORDER BY {ORDER}", params)
        return np.array([r[0] for r in found], dtype=np.int64)

    def get(self, feature_id: str) -> int | None:
        found = self._rows(
            f"SELECT fid, id, head, {POLYGON} FROM feature WHERE {ID}", [self._cid, feature_id]
        )
        self._keep(found)
        return int(found[0][0]) if found else None

    def _where(self, q: ItemQuery) -> tuple[str, list[Any]]:
        """The query's filters as one SQL condition (``collection = %s`` first) and its values."""
        parts, params = ["collection = %s"], [self._cid]

        def add(text: str, *values: Any) -> None:
            parts.append(text)
            params.extend(values)

        if q.bbox is not None:
            x0, y0, x1, y1 = q.bbox
            w, s, e, n = self._bounds or (0.0, 0.0, -1.0, -1.0)  # ST_Extent's: never inside a geometry
            boxes = [(x0, y0, x1, y1)] if x0 <= x1 else [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]
            test = "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
            if x0 <= w and y0 <= s and x1 >= e and y1 >= n:  # it holds every geometry (the map's first
                add("geom IS NOT NULL")  # view): each meets it, none tested (at 1M, a second)
            else:
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
        if q.ids is not None:
            add("id = ANY(%s)", sorted(q.ids))
        if q.filter is not None:
            text, values = filter_sql(q.filter)
            add(f"({text})", *values)
        return " AND ".join(parts), params

    def _by_fid(self, rows: Sequence[int] | np.ndarray, columns: str) -> list[tuple[Any, ...]]:
        """``columns`` of each row handle, in the order given (handles gone since are left out)."""
        wanted = [int(r) for r in rows]
        found = self._rows(f"SELECT fid, {columns} FROM feature WHERE fid = ANY(%s)", [wanted])
        at = {r[0]: r[1:] for r in found}
        return [at[fid] for fid in wanted if fid in at]

    def bodies(self, rows: Sequence[int] | np.ndarray, simplify_m: int | None = None) -> list[bytes]:
        found: list[Any] = [self._ahead.pop(int(fid), None) for fid in rows]
        if any(row is None for row in found):  # not all read ahead: all read now
            found = self._by_fid(rows, f"id, head, {POLYGON}")
        return with_geometries([r[1].encode() for r in found], [r[2] for r in found], simplify_m)

    def csv(self, rows: np.ndarray) -> bytes | None:  # noqa: ARG002
        return None  # written from the bodies (app.api.formats.features_csv)

    def has_polygons(self, rows: np.ndarray) -> bool:  # noqa: ARG002
        return True  # a database's answers are never written on the event loop

    def ids(self, rows: np.ndarray) -> list[str]:
        kept = [self._ahead.get(int(fid)) for fid in rows]
        return [r[0] for r in kept] if all(kept) else [r[0] for r in self._by_fid(rows, "id")]  # type: ignore[index]

    def attributes(self, rows: np.ndarray) -> Attributes:
        point = "ST_X(point::geometry), ST_Y(point::geometry)"
        found = self._by_fid(rows, f"{point}, status, props->>'event_type'")
        lon, lat, status, types = zip(*found, strict=True) if found else [()] * 4
        return Attributes(
            np.array(lon, dtype=np.float64),  # None (no point): NaN
            np.array(lat, dtype=np.float64),
            np.array(status, dtype=np.int8),
            np.array([t or "" for t in types], dtype=object),
        )

    def tally(self, q: ItemQuery) -> Tally:
        """One GROUP BY (an index-only scan of ``feature_event_tally`` when the filters allow)."""
        where, params = self._where(q)
        found = self._rows(f"SELECT status, type_key, point IS NOT NULL, day_start, day_end, count(*) "
                           f"FROM feature WHERE {where} GROUP BY 1, 2, 3, 4, 5", params)  # fmt: skip
        keys = sorted({r[1] for r in found})
        at = {key: k for k, key in enumerate(keys)}
        a = np.array([(r[0], at[r[1]], *r[2:]) for r in found], dtype=np.int64).reshape(-1, 6)
        names = tuple(TYPE_NAMES.get(k, k) for k in keys)
        return Tally(a[:, 0].astype(np.int8), a[:, 1], names, a[:, 2].astype(bool), a[:, 3], a[:, 4], a[:, 5])

    def cells(self, q: ItemQuery, level: int) -> Cells:
        """One GROUP BY of the cells (``CELL``), points by a cell's edge placed by ``cell_of``."""
        if not 0 <= level <= MAX_LEVEL:
            raise ValueError(f"level must be 0..{MAX_LEVEL}")
        where, params = self._where(q)
        n = 1 << level
        found = self._rows(CELL.format(where), [n, MERCATOR_MAX_LAT, EDGE * n, *params])
        a = np.array(found, dtype=np.float64).reshape(-1, 16)
        edge = a[:, 1] < 0  # a point alone, by an edge: its min x and y are the point
        a[edge, 0], a[edge, 1] = cell_of(a[edge, 9], a[edge, 10], level)
        i = a.astype(np.int64)
        return gathered(level, i[:, 0], i[:, 1], i[:, 2], i[:, 3:7], a[:, 7:9], a[:, 9:13], *i[:, 13:16].T)

    def geometries(self, rows: np.ndarray) -> np.ndarray:
        return shapely.from_wkb([polygon for (polygon,) in self._by_fid(rows, POLYGON)])  # type: ignore[no-any-return]

    def regions_of(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = [] if self._cid != "regions" else self._rows(
            "SELECT r.fid, e.fid FROM feature e JOIN feature r ON r.collection = 'regions' "
            "AND r.incident = e.id WHERE e.fid = ANY(%s) AND e.collection = 'events' "
            "ORDER BY r.sort_day, r.sort_id, r.sort_seq",
            [[int(o) for o in owners]])  # fmt: skip
        pairs = np.array(found, dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]
