"""Counting in the store (``Store.tally`` and ``Store.cells``): PostGIS groups in SQL, and what it
answers is the embedded store's answer on the same data; a point's cell is ``grid.cell_of``'s at
the cells' edges, the poles' clip and the antimeridian, checked against Web Mercator written out
here (pyproj's EPSG:3857), not against the code under test; and a grid request reads groups, not
the matches one by one."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from app.data import pg_store
from app.data.grid import MERCATOR_MAX_LAT, Cells, cell_of
from app.data.pg_load import load
from app.data.pg_store import pool, served_from
from app.data.store_api import ItemQuery, Store
from app.main import create_app
from app.served import build_served
from app.settings import BUNDLED_DATA, Settings
from tests.postgres import Cluster

COPIES = 50  # the bundled events repeated in the database: 1,800
QUERIES = [
    ItemQuery(),
    ItemQuery(bbox=(38.3, 33.3, 38.9, 33.8)),
    ItemQuery(bbox=(170.0, -10.0, -170.0, 10.0)),
    ItemQuery(bbox=(35.15625, 30.751278, 42.1875, 36.597889)),  # the map's first view: every point
    ItemQuery(in_zone=frozenset({"inside", "contested"})),
    ItemQuery(event_types=frozenset({"battles", "Strategic developments"})),
    ItemQuery(near=(38.2, 33.75), within_m=30_000),
    ItemQuery(q="strike"),
]
LEVELS = [0, 3, 8, 10, 13, 17, 20, 24]
TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
HALF_WORLD_M = math.pi * 6378137.0  # EPSG:3857's x and y run from -HALF_WORLD_M to +HALF_WORLD_M


def _tally_words(store: Store, q: ItemQuery) -> tuple[object, ...]:
    t = store.tally(q)
    days: Counter[tuple[int, int]] = Counter()
    for start, end, n in zip(t.start.tolist(), t.end.tolist(), t.count.tolist(), strict=True):
        days[start, end] += n
    return t.matched, t.located_count, t.by_status(), t.by_type(), t.by_type(located=True), days


def _same_cells(a: Cells, b: Cells) -> None:
    for name in ("col", "row", "count", "by_status", "first_day", "last_day"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    for name in ("mean_lon", "mean_lat", "extent"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-9, err_msg=name)


def test_both_stores_count_alike(postgres: Cluster) -> None:
    """The same tally and the same cells (counts, statuses, days, and each cell's incidents: a
    member's id; means and extents to 1e-9 degrees) on the bundled data, for every filter."""
    embedded = build_served(Settings(data_dir=BUNDLED_DATA)).stores["events"]
    pg = served_from(pool(postgres.loaded(BUNDLED_DATA))).stores["events"]
    rows = embedded.query(ItemQuery())
    points = [pg.attributes(pg.query(ItemQuery())), embedded.attributes(rows)]
    np.testing.assert_array_equal(points[0].lon, points[1].lon)  # the stores hold the same doubles
    w, s, e, n = pg.bounds() or []  # a box of the extent holds every point; 1e-7 less, not all
    edges = [ItemQuery(bbox=box) for box in ((w, s, e, n), (w + 1e-7, s, e, n), (w, s, e, n - 1e-7))]
    for q in QUERIES + edges:
        assert _tally_words(pg, q) == _tally_words(embedded, q), q
        for level in LEVELS:
            a, b = pg.cells(q, level), embedded.cells(q, level)
            _same_cells(a, b)
            lone = a.count == 1  # a cell of one: its member is that incident, in both stores
            assert pg.ids(a.member[lone]) == embedded.ids(b.member[lone]), (q, level)
    assert embedded.tally(QUERIES[0]).matched == 36 and pg.cells(QUERIES[0], 24).count.sum() == 35
    assert pg.tally(edges[0]).matched == 35 > max(pg.tally(q).matched for q in edges[1:])


def _expected_cell(lon: float, lat: float, level: int) -> tuple[int, int]:
    """The WebMercatorQuad cell from pyproj's Web Mercator (EPSG:3857), the rule's clip applied:
    latitudes beyond the square's edge in its first or last row, 180° in the last column."""
    n = 1 << level
    if lat >= MERCATOR_MAX_LAT or lat <= -MERCATOR_MAX_LAT:
        row = 0 if lat > 0 else n - 1
    else:
        _, y = TO_MERCATOR.transform(0.0, lat)
        row = math.floor((HALF_WORLD_M - y) / (2 * HALF_WORLD_M) * n)
    x, _ = TO_MERCATOR.transform(lon, 0.0)
    col = math.floor((x + HALF_WORLD_M) / (2 * HALF_WORLD_M) * n)
    return min(max(col, 0), n - 1), min(max(row, 0), n - 1)


def _edge_points(level: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Points on the edges of cells of ``level`` (as the formula gives them), and points 1e-9°
    (0.1 mm) either side of them, whose cell no rounding can change; with the poles, the
    clipped band beyond ±85.0511°, and both sides of the antimeridian."""
    n, on, near = 1 << level, [], []
    for k in sorted({0, 1, n // 2, int(n * 0.6072), n - 1, n}):  # 0.6072: the zone's longitude
        on.append((k / n * 360.0 - 180.0, 33.5))
    for r in sorted({0, 1, n // 2, int(n * 0.4), n - 1, n}):  # 0.4: the zone's latitude
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * r / n))))
        on.append((38.6, lat))
        near += [(38.6, lat + d) for d in (1e-9, -1e-9) if abs(lat) < 85.05]
    for lon, _ in on[:6]:
        near += [(lon + d, 33.5) for d in (1e-9, -1e-9) if -180 < lon + d < 180]
    near += [(180.0, 33.5), (-180.0, 33.5), (179.999999999, 0.0), (-179.999999999, 0.0), (0.0, 90.0),
             (0.0, -90.0), (12.5, 89.99999), (12.5, -89.99999), (1.0, MERCATOR_MAX_LAT),
             (1.0, -MERCATOR_MAX_LAT), (1.0, 85.0511288), (1.0, -85.0511288), (1.0, 85.0511287),
             (1.0, -85.0511287), (180.0, 90.0), (-180.0, -90.0)]  # fmt: skip
    return on, near


def _columns(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """``feature``'s columns but ``fid`` (the database numbers the rows)."""
    return [str(r[0]) for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'feature'::regclass AND attnum > 0 "
        "AND NOT attisdropped AND attname <> 'fid' ORDER BY attnum").fetchall()]  # fmt: skip


@pytest.fixture(scope="module")
def copies(postgres: Cluster) -> Iterator[str]:
    """A database of the bundled data whose events are repeated ``COPIES`` times (ids renamed)."""
    url = postgres.database()
    load(BUNDLED_DATA, url)
    with psycopg.connect(url, autocommit=True) as conn:
        columns = _columns(conn)
        renamed = ", ".join(f"{c} || '-' || k" if c in ("id", "sort_id") else c for c in columns)
        conn.execute(f"INSERT INTO feature ({', '.join(columns)}) SELECT {renamed} FROM feature, "  # type: ignore[arg-type]
                     f"generate_series(1, {COPIES - 1}) AS k WHERE collection = 'events'")  # fmt: skip
        conn.execute("VACUUM ANALYZE feature")
    yield url
    pg_store.close_pools(url)


def _points_in_database(url: str, points: list[tuple[float, float]], prefix: str) -> list[str]:
    """Copies of one event at these points (lon, lat), with ids ``prefix`` 1, 2, ...; their ids."""
    with psycopg.connect(url, autocommit=True) as conn:
        columns = [c for c in _columns(conn) if c not in ("id", "point", "geom")]
        conn.execute(
            f"INSERT INTO feature (id, point, geom, {', '.join(columns)}) SELECT %s || p.k, "  # type: ignore[arg-type]
            "ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)::geography, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326), "
            f"{', '.join(columns)} FROM (SELECT * FROM feature WHERE collection = 'events' LIMIT 1) AS f, "
            "unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(x, y, k)",
            [prefix, [p[0] for p in points], [p[1] for p in points]],
        )
    return [f"{prefix}{k}" for k in range(1, len(points) + 1)]


@pytest.mark.parametrize("level", [1, 5, 10, 17, 24])
def test_a_point_is_in_the_cell_cell_of_gives(copies: str, level: int) -> None:
    """PostGIS's cells hold each point where ``cell_of`` puts it, exactly on a cell's edge too
    (there its Mercator y is computed with another formula, and rounds differently); a point off
    an edge, at the poles or the antimeridian, where Web Mercator (pyproj) puts it."""
    on, near = _edge_points(level)
    ids = _points_in_database(copies, on + near, f"edge{level}-")
    try:
        events = served_from(pool(copies)).stores["events"]
        attrs = events.attributes(np.array([events.get(i) for i in ids]))
        rule = cell_of(attrs.lon, attrs.lat, level)
        want = Counter(zip(rule[0].tolist(), rule[1].tolist(), strict=True))
        for k, (lon, lat) in enumerate(near, start=len(on)):
            assert (rule[0][k], rule[1][k]) == _expected_cell(lon, lat, level), (lon, lat)
        cells = events.cells(ItemQuery(ids=frozenset(ids)), level)
        found = zip(cells.col.tolist(), cells.row.tolist(), strict=True)
        assert dict(zip(found, cells.count.tolist(), strict=True)) == want
        assert events.tally(ItemQuery(ids=frozenset(ids))).matched == len(ids)
    finally:
        with psycopg.connect(copies, autocommit=True) as conn:
            conn.execute("DELETE FROM feature WHERE id LIKE 'edge%'")


def test_a_grid_request_reads_groups_not_the_matches(copies: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1,800 events the grid's answer (its cells, totals and counts) comes from rows of groups
    (a few per cell, status, type and pair of days), not from a row per match: at 1M, reading
    every match into Python took 12 s, past the request's budget."""
    fetched: list[int] = []
    real = pg_store.read
    monkeypatch.setattr(pg_store, "read", lambda *a: fetched.append(len(rows := real(*a))) or rows)
    with TestClient(create_app(Settings(database_url=copies, answer_cache_mb=0))) as client:
        for query in ("level=0", "level=10", "level=12&bbox=38,33,39,34", "level=8&in_zone=inside"):
            fetched.clear()
            body = client.get(f"/api/collections/events/grid?{query}").json()
            assert body["numberMatched"] >= 20 * COPIES, query
            assert sum(fetched) <= 2 * 36 + body["numberReturned"], (query, fetched)


@pytest.mark.parametrize(
    "path",
    ["/", "/embed", "/embed/map.svg", "/embed/map.svg?status=inside,outside&from=2017-01-01&sel={sel}",
     "/oembed?url=http://testserver/embed%3Flist%3D1"],
)  # fmt: skip
def test_the_pages_and_drawings_read_groups_not_the_matches(
    copies: str, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The map's summary sentence, the embed's caption and the server's SVG of 1,800 events read
    counts of groups, a page of names, the frame's markers (a page of MAX_MARKERS + 1) and its
    cells, never a row per match (at 1M, seconds each). (A page's walk reads up to ``COUNT_CAP``
    handles to count its matches: 5 here, so that what is counted is what grows with the data.)"""
    monkeypatch.setattr(pg_store, "COUNT_CAP", 5)
    fetched: list[int] = []
    real = pg_store.read
    monkeypatch.setattr(pg_store, "read", lambda *a: fetched.append(len(rows := real(*a))) or rows)
    with TestClient(create_app(Settings(database_url=copies, answer_cache_mb=0))) as client:
        fetched.clear()
        response = client.get(path.replace("{sel}", "2017-06-08-strike-on-technical-vehicles"))
        assert response.status_code == 200, response.text
        assert sum(fetched) < 36 * COPIES / 3, (path, fetched)


@pytest.mark.parametrize(
    "state",
    [{}, {"status": "inside", "from": "2017-01-01", "to": "2017-12-31"}, {"v": "33.5,38.6,9"},
     {"sel": "2017-06-08-strike-on-technical-vehicles"}, {"status": "nope"}, {"types": "Battles"}],
)  # fmt: skip
@pytest.mark.parametrize("max_markers", [300, 10])
def test_both_stores_draw_the_same_svg(
    postgres: Cluster, monkeypatch: pytest.MonkeyPatch, state: dict[str, str], max_markers: int
) -> None:
    """The server's SVG (summary, key, names, markers, and with ``MAX_MARKERS`` 10 the frame's
    cells) is the same drawn from either store."""
    from app.export import svg
    from app.web.state import caption_text, parse_state

    monkeypatch.setattr(svg, "MAX_MARKERS", max_markers)
    embedded = build_served(Settings(data_dir=BUNDLED_DATA))
    pg = served_from(pool(postgres.loaded(BUNDLED_DATA)))
    parsed = parse_state(state)
    assert svg.render_svg(pg, parsed) == svg.render_svg(embedded, parsed)
    assert caption_text(pg, parsed) == caption_text(embedded, parsed)
