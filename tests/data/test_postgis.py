"""The PostGIS store on a real PostgreSQL cluster: the loader (incremental, all or nothing, one
transaction), the service following a new load, ``near`` against ``pyproj.Geod`` at the boundary,
and both stores answering alike. The API suite itself runs on both stores (``served_by``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import orjson
import psycopg
import pytest
import shapely
import yaml
from fastapi.testclient import TestClient
from pyproj import Geod

from app.api import formats
from app.cli import main
from app.data import derive, pg_store
from app.data.loader import DataError
from app.data.pg_load import load
from app.data.pg_store import pool, served_from
from app.data.store_api import ItemQuery
from app.geo import near
from app.main import create_app
from app.served import build_served
from app.settings import BUNDLED_DATA, Settings
from tests.api.conftest import assert_problem
from tests.data.test_loader_errors import CNN_TECHNICALS, TECHNICALS_ID, edit
from tests.perf.synthetic import write_dataset
from tests.postgres import Cluster

GEOD = Geod(ellps="WGS84")
ITEMS = "/api/collections/events/items"
RUKBAN = "incidents/2016-10-16-rukban-checkpoint-attack.yaml"
# Incidents whose sources others cite too, so the data stays valid without them.
REMOVABLE = [RUKBAN, "incidents/2017-06-06-medevac-request.yaml",
             "incidents/2017-06-06-syrian-strike-approved-by-us.yaml"]  # fmt: skip


def _events(url: str) -> dict[str, dict[str, object]]:
    store = served_from(pool(url)).stores["events"]
    rows = store.query(ItemQuery())
    return {f["id"]: f for f in (orjson.loads(b) for b in store.bodies(rows))}


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
        assert row is not None
        return int(row[0])


def test_a_load_derives_only_what_changed_and_removes_what_went(postgres: Cluster, data_copy: Path) -> None:
    url = postgres.database()
    first = load(data_copy, url)
    assert (first.derived, first.removed, first.unchanged) == (36, 0, 0)
    assert (load(data_copy, url).derived, load(data_copy, url).unchanged) == (0, 36)  # nothing read again
    edit(data_copy, CNN_TECHNICALS, "title: Coalition strike on pro-regime technical vehicles",
         "title: Coalition strike on technical vehicles (edited)")  # fmt: skip
    (data_copy / RUKBAN).unlink()
    again = load(data_copy, url)
    assert (again.derived, again.removed, again.unchanged) == (1, 1, 34)  # the edited file read, alone
    events = _events(url)
    assert events[TECHNICALS_ID]["properties"]["title"] == "Coalition strike on technical vehicles (edited)"  # type: ignore[index]
    assert "2016-10-16-rukban-checkpoint-attack" not in events
    gone = _count(url, "SELECT count(*) FROM feature WHERE incident = '2016-10-16-rukban-checkpoint-attack'")
    assert gone == 0  # its regions too
    # The incremental result is what a load from scratch gives.
    fresh = postgres.database()
    load(data_copy, fresh)
    assert _events(fresh) == events
    for sql in (
        "SELECT count(*) FROM feature",
        "SELECT count(DISTINCT (id, sort_day, sort_seq)) FROM feature",
    ):
        assert _count(url, sql) == _count(fresh, sql)
    assert served_from(pool(url)).version == build_served(Settings(data_dir=data_copy)).version


def test_a_load_derives_nothing_only_the_embedded_store_reads(
    postgres: Cluster, data_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """near's bounds and discs and the CSV lines are the embedded store's (they were 6 of the 17 s
    of CPU of a load of 2,000 synthetic incidents): a PostGIS load never computes them."""

    def never(*_: object) -> None:
        raise AssertionError("derived for PostGIS")

    for module, name in ((near, "reaches"), (near, "inner_discs"), (formats, "csv_cells")):
        monkeypatch.setattr(module, name, never)
    assert load(data_copy, postgres.database()).derived == 36


def _lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _write(path: Path, records: list[dict[str, object]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def test_a_load_reads_only_the_records_whose_bytes_changed(postgres: Cluster, tmp_path: Path) -> None:
    """30 incidents in one .jsonl file: an edit reads its line only (one a record moved by it
    is not read again), and what spans records (ids unique, every source cited) is still checked
    on every load, with the ids and citations of the records not read."""
    data = write_dataset(tmp_path / "data", 30)
    jsonl = data / "incidents" / "synthetic-000.jsonl"
    listed = yaml.safe_load((data / "sources.yaml").read_text(encoding="utf-8"))
    listed["sources"].append({"id": "extra", "outlet": "Another synthetic outlet"})  # cited by one record
    (data / "sources.yaml").write_text(yaml.safe_dump(listed), encoding="utf-8")
    records = _lines(jsonl)
    records[25]["sources"] = [*records[25]["sources"], {"source": "extra", "quote": "synthetic"}]  # type: ignore[list-item]
    _write(jsonl, records)
    url = postgres.database()
    assert (load(data, url).derived, load(data, url).derived) == (30, 0)

    records[5]["title"] = "Synthetic incident 5 (edited)"
    _write(jsonl, records)
    edited = load(data, url)  # "extra" is cited by a record not read: still cited
    assert (edited.derived, edited.unchanged) == (1, 29)

    _write(jsonl, [*records, {**records[3], "title": "the same id again"}])  # a record not read has the id
    with pytest.raises(DataError) as raised:
        load(data, url)
    assert [(p.file, p.record, p.field) for p in raised.value.problems] == [
        ("data/incidents/synthetic-000.jsonl", "syn-0000003", "id")
    ]
    assert "duplicate id" in raised.value.problems[0].message

    _write(jsonl, records[:25] + records[26:])  # the only record citing "extra" removed
    with pytest.raises(DataError) as raised:
        load(data, url)
    assert [(p.file, p.record, p.message) for p in raised.value.problems] == [
        ("data/sources.yaml", "extra", "source is not cited by any incident, site or the zone")
    ]

    _write(jsonl, records[:24] + records[25:])  # one record removed: those after it move up a line
    removed = load(data, url)
    assert (removed.derived, removed.removed, removed.unchanged) == (0, 1, 29)
    assert _events(url).keys() == {str(r["id"]) for r in records[:24] + records[25:]}
    assert _events(url)["syn-0000005"]["properties"]["title"] == "Synthetic incident 5 (edited)"  # type: ignore[index]
    fresh = postgres.database()  # the incremental result is what a load from scratch gives
    load(data, fresh)
    assert _events(fresh) == _events(url)


def test_a_new_derivation_derives_every_record_again(
    postgres: Cluster, data_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records' keys name the deriving code (``cache.code_fingerprint``), as the embedded
    store's do: changed code derives everything again, with no version for anyone to bump (a
    hand-kept ``DERIVATION`` date did this before: PostGIS served stale derived values if it was
    not bumped)."""
    url = postgres.database()
    load(data_copy, url)
    monkeypatch.setattr(derive, "code_fingerprint", lambda: "code changed")
    again = load(data_copy, url)
    assert (again.derived, again.removed, again.unchanged) == (36, 0, 0)
    assert len(_events(url)) == 36


def test_a_bad_file_loads_nothing_and_is_named(
    postgres: Cluster, data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.database()
    assert main(["load", str(data_copy), "--database-url", url]) == 0
    assert "36 derived, 0 removed, 0 unchanged incidents" in capsys.readouterr().out
    before = served_from(pool(url)).version
    edit(data_copy, RUKBAN, "title:", "title: Rukban (edited)")  # a valid change...
    edit(data_copy, CNN_TECHNICALS, "start: 2017-06-08", "start: 2017-06-31")  # ...and a bad date
    with pytest.raises(DataError) as raised:
        load(data_copy, url)
    problem = raised.value.problems[0]
    assert (problem.file, problem.record, problem.field) == (
        f"geodata/{CNN_TECHNICALS}",
        TECHNICALS_ID,
        "date.start",
    )
    assert served_from(pool(url)).version == before
    assert "Rukban (edited)" not in str(_events(url))
    assert main(["load", str(data_copy), "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "nothing loaded" in err and CNN_TECHNICALS in err and "date.start" in err


def test_readers_see_the_old_load_or_the_new_never_a_mix(postgres: Cluster, data_copy: Path) -> None:
    url = postgres.database()
    old = load(data_copy, url)
    for removed in REMOVABLE:
        (data_copy / removed).unlink()
    seen: set[tuple[str, int, int]] = set()
    done = threading.Event()

    def read() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not done.is_set():
                row = conn.execute(
                    "SELECT (SELECT version FROM dataset), (SELECT count(*) FROM feature WHERE collection = "
                    "'events'), (SELECT count(*) FROM record)"
                ).fetchone()
                assert row is not None
                seen.add((str(row[0]), int(row[1]), int(row[2])))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        new = load(data_copy, url)
    finally:
        done.set()
        reader.join()
    assert seen <= {(old.version, 36, 36), (new.version, 33, 33)}, seen


def test_the_service_serves_a_new_load_within_ten_seconds(postgres: Cluster, data_copy: Path) -> None:
    url = postgres.database()
    load(data_copy, url)
    with TestClient(create_app(Settings(database_url=url))) as client:
        before = client.get("/api/collections/events/items")
        edit(data_copy, CNN_TECHNICALS, "title: Coalition strike on pro-regime technical vehicles",
             "title: Edited while serving")  # fmt: skip
        loaded_at = time.monotonic()
        load(data_copy, url)
        while client.get("/healthz").json()["dataset_version"] == before.headers["x-dataset-version"]:
            assert time.monotonic() - loaded_at < 10, "the new load was not served within 10 s"
            time.sleep(0.2)
        after = client.get("/api/collections/events/items")
        assert after.headers["etag"] != before.headers["etag"]
        assert "Edited while serving" in after.text and "Edited while serving" not in before.text


def test_both_stores_answer_alike(postgres: Cluster) -> None:
    """Same matches, same order, same numberMatched and properties; coordinates within one unit
    of their 6th decimal (0.1 m: each store rounds the coordinates it holds)."""
    embedded = TestClient(create_app(Settings(data_dir=BUNDLED_DATA)))
    pg = TestClient(create_app(Settings(database_url=postgres.loaded(BUNDLED_DATA))))
    queries = ["", "limit=5&offset=3", "bbox=38,33,39,34", "bbox=35,30,42,37", "bbox=170,-10,-170,10",
               "datetime=2017-06-01/..", "datetime=../2016-12-31", "in_zone=inside,contested",
               "near=38.2,33.75&within_km=30", "q=STRIKE", "event_type=battles", "min_p_inside=0.5",
               "simplify_m=500&limit=3",
               "filter=T_DURING(INTERVAL(date_start,date_end),INTERVAL('2017-01-01','2017-12-31'))",
               "filter=ACCENTI(CASEI(event_type)) LIKE '%explosion%' OR NOT (p_inside < 0.2)",
               # date_start against a date or an instant: the order's range taken from it (cql_sql)
               "filter=date_start >= DATE('2017-06-08') AND zone_status = 'inside'",
               "filter=date_start > TIMESTAMP('2017-06-08T12:00:00Z')",
               "filter=DATE('2017-06-08') >= date_start", "filter=date_start = DATE('2017-06-08')",
               "filter=date_start < TIMESTAMP('2017-06-08T00:00:00Z')",
               "filter=date_start <= TIMESTAMP('2017-06-07T23:59:59Z') AND date_start > DATE('2016-10-16')",
               "filter=NOT (date_start >= DATE('2017-06-08')) AND zone_status <> 'outside'",
               "filter=zone_status IN ('inside', 'uncertain') OR zone_status IS NULL",
               "filter=zone_status > 'o'"]  # fmt: skip
    with embedded, pg:
        for collection in ("events", "regions", "sites", "zones", "borders"):
            a = embedded.get(f"/api/collections/{collection}").json()
            b = pg.get(f"/api/collections/{collection}").json()
            assert a["itemCount"] == b["itemCount"]
            assert a["extent"].get("temporal") == b["extent"].get("temporal")
            assert np.allclose(a["extent"]["spatial"]["bbox"], b["extent"]["spatial"]["bbox"], atol=1e-6)
            for query in queries if collection in ("events", "regions") else queries[:6]:
                url = f"/api/collections/{collection}/items?{query}"
                ja, jb = embedded.get(url).json(), pg.get(url).json()
                assert "numberMatched" in ja and "numberMatched" in jb, (url, ja, jb)
                assert (ja["numberMatched"], [f["id"] for f in ja["features"]]) == (
                    jb["numberMatched"], [f["id"] for f in jb["features"]]), url  # fmt: skip
                for fa, fb in zip(ja["features"], jb["features"], strict=True):
                    assert fa["properties"] == fb["properties"]
                    ga, gb = (
                        shapely.from_geojson(orjson.dumps(f["geometry"])) if f["geometry"] else None
                        for f in (fa, fb)
                    )
                    assert ga is gb is None or shapely.equals_exact(ga, gb, 1.5e-6), url


def test_both_stores_give_the_same_attributes(postgres: Cluster) -> None:
    """``attributes`` of every feature (one statement in PostGIS), in the collection's order, of
    the same types in both stores."""
    embedded = build_served(Settings(data_dir=BUNDLED_DATA)).stores
    pg = served_from(pool(postgres.loaded(BUNDLED_DATA))).stores
    every = []
    for cid in embedded:
        a, b = (stores[cid].attributes(stores[cid].query(ItemQuery())) for stores in (embedded, pg))
        for mine, theirs in ((a.lon, b.lon), (a.lat, b.lat)):
            assert mine.dtype == theirs.dtype == np.float64
            np.testing.assert_allclose(mine, theirs, atol=1e-6)  # NaN where the other has NaN
        assert a.status.dtype == b.status.dtype == np.int8
        assert a.status.tolist() == b.status.tolist(), cid
        assert a.event_type.tolist() == b.event_type.tolist(), cid
        every.append(a)
    # Each "none" met: no point, no status, no type.
    assert np.isnan(np.concatenate([a.lon for a in every])).any()
    assert (np.concatenate([a.status for a in every]) == -1).any()
    assert "" in np.concatenate([a.event_type for a in every]).tolist()


def _region_distance_m(lon: float, lat: float, region: shapely.Geometry) -> float:
    """Geodesic distance (pyproj.Geod) from a point to a region as served: 0 inside, else the
    nearest of its boundary sampled every 1e-5° (about 1 m)."""
    if shapely.contains_xy(region, lon, lat):
        return 0.0
    xy = shapely.get_coordinates(shapely.segmentize(region.boundary, 1e-5))
    _, _, dist = GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])
    return float(np.min(dist))


@pytest.mark.parametrize("centre", [(38.2, 33.75), (38.61778, 33.50583)])
def test_near_meets_pyproj_geod_at_the_boundary(postgres: Cluster, centre: tuple[float, float]) -> None:
    """Each event just inside and just outside its geodesic distance (to its point: 5 cm; to its
    regions, sampled every metre: 2 m) is in and out of ``near``."""
    served = served_from(pool(postgres.loaded(BUNDLED_DATA)))
    events, regions = served.stores["events"], served.stores["regions"]
    rows = events.query(ItemQuery())
    attrs = events.attributes(rows)
    lon, lat = attrs.lon, attrs.lat
    region_rows, owners = regions.regions_of(rows)
    shapes = regions.geometries(region_rows)
    checked = 0
    for k, row in enumerate(rows.tolist()):
        to_point = np.inf if np.isnan(lon[k]) else GEOD.inv(*centre, lon[k], lat[k])[2]
        mine = [s for s, o in zip(shapes, owners, strict=True) if o == row and s is not None]
        to_region = min((_region_distance_m(*centre, s) for s in mine), default=np.inf)
        for distance, margin in ((to_point, 0.05), (to_region, 2.0)):
            if not np.isfinite(distance) or distance < margin:
                continue
            for radius in (distance - margin, distance + margin):
                if abs(radius - to_point) < 0.04 or abs(radius - to_region) < 1.9:
                    continue  # within the other measure's margin: no firm answer
                found = row in events.query(ItemQuery(near=centre, within_m=radius))
                assert found == (radius >= min(to_point, to_region)), (events.ids(np.array([row])), radius)
                checked += 1
    assert checked > 40


def test_past_its_counting_cap_numbermatched_is_left_out_and_next_links_page(
    postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over ``COUNT_CAP`` matches (5 here; 500 in service) a filtered page has no
    numberMatched and a ``next`` link; following the links gives every match, in the embedded
    store's order. Up to the cap, and without a filter, numberMatched is exact."""
    monkeypatch.setattr(pg_store, "COUNT_CAP", 5)
    embedded = TestClient(create_app(Settings(data_dir=BUNDLED_DATA)))
    pg = TestClient(create_app(Settings(database_url=postgres.loaded(BUNDLED_DATA))))
    with embedded, pg:
        for query in ("datetime=2017-01-01/..", "bbox=38,33,39,34", "near=38.2,33.75&within_km=30",
                      "filter=date_start >= DATE('2017-01-01')"):  # fmt: skip
            everything = embedded.get(f"{ITEMS}?{query}&limit=1000").json()
            assert everything["numberMatched"] > 5, query
            first = pg.get(f"{ITEMS}?{query}&limit=3").json()
            assert "numberMatched" not in first and first["numberReturned"] == 3, query
            ids, page = [], first
            while True:
                ids += [f["id"] for f in page["features"]]
                after = [link["href"] for link in page["links"] if link["rel"] == "next"]
                if not after:
                    break
                page = pg.get(after[0].removeprefix("http://testserver")).json()
            assert ids == [f["id"] for f in everything["features"]], query
            assert page["numberMatched"] == everything["numberMatched"]  # the last page knows
        few = embedded.get(f"{ITEMS}?event_type=battles&limit=1000").json()["numberMatched"]
        assert 2 < few <= 5
        assert pg.get(f"{ITEMS}?event_type=battles&limit=2").json()["numberMatched"] == few
        assert pg.get(f"{ITEMS}?limit=2").json()["numberMatched"] == 36  # no filter: the collection's size


def test_a_page_and_its_count_are_one_walk_of_the_order(
    postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to ``COUNT_CAP`` matches, numberMatched comes from the page's own walk of the order's
    index: one statement, not a count of its own, which PostgreSQL planned on its own (at 100k,
    ``near``'s count walked the events' spatial index, whose first entries lay far from the disc:
    35 of the page's 40 ms; ``tests/perf/pg_scale.py``); its rows are read with it (``ids`` and
    ``bodies`` need no statement of their own), and a next page by key is one statement too."""
    url = postgres.loaded(BUNDLED_DATA)
    events = served_from(pool(url)).stores["events"]
    embedded = build_served(Settings(data_dir=BUNDLED_DATA)).stores["events"]
    statements: list[str] = []
    run = events._rows
    monkeypatch.setattr(events, "_rows", lambda text, params: statements.append(text) or run(text, params))
    for query in (ItemQuery(near=(38.2, 33.75), within_m=30_000), ItemQuery(in_zone=frozenset({"inside"}))):
        statements.clear()
        matched, rows = events.page(query, 0, 3)
        last = events.ids(rows[-1:])[0]
        assert len(statements) == 1 and matched == embedded.page(query, 0, 3)[0] > 3
        statements.clear()
        _, after = events.page(query, 3, 3, after=last)
        assert events.ids(after) == embedded.ids(embedded.page(query, 3, 3)[1])
        assert events.bodies(after) == embedded.bodies(embedded.page(query, 3, 3)[1])
        assert len(statements) == 1  # the key of ``after`` found in the walk; ids, bodies read with it


def test_a_statement_cancelled_past_the_budget_answers_the_budgets_503(postgres: Cluster) -> None:
    """The pool's statement timeout is the request budget and a second; a statement it cancels
    (here: waiting on a table another connection holds locked) is the budget's 503 problem, not
    a 500 (psycopg's QueryCanceled)."""
    url = postgres.database()
    load(BUNDLED_DATA, url)
    settings = Settings(database_url=url, request_budget_s=1e-9, answer_cache_mb=0)
    with TestClient(create_app(settings)) as client, psycopg.connect(url) as locker:
        locker.execute("LOCK TABLE feature IN ACCESS EXCLUSIVE MODE")  # held until the rollback
        started = time.monotonic()
        response = client.get(f"{ITEMS}/{TECHNICALS_ID}")
        waited = time.monotonic() - started
        locker.rollback()
    assert waited >= 1.0  # it waited on the database for the statement timeout (0 s + 1 s)
    body = assert_problem(response, 503)
    assert "more than its 1e-09 s of work" in body["detail"]
