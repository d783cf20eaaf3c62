"""Items: filters, paging, formats; every body re-validated as GeoJSON."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest
from fastapi.testclient import TestClient
from geojson_pydantic import Feature, FeatureCollection
from pyproj import Geod
from shapely import wkt
from shapely.geometry import shape

from app.api import ogc
from tests.api.conftest import assert_problem, features_of
from tests.conftest import bundled

ORACLE = Geod(ellps="WGS84")
GARRISON = (38.61778, 33.50583)
EVENTS = "/api/collections/events/items"


def all_events(client: TestClient) -> list[dict]:
    return features_of(client.get(EVENTS, params={"limit": "1000"}))


@pytest.mark.parametrize("collection", ["events", "regions", "sites", "zones", "borders"])
def test_every_collection_serves_valid_geojson(client: TestClient, collection: str) -> None:
    response = client.get(f"/api/collections/{collection}/items", params={"limit": "1000"})
    features_of(response)
    FeatureCollection.model_validate({k: v for k, v in response.json().items() if k != "links"})


@pytest.mark.parametrize(
    ("collection", "params", "decimals"),
    [(c, {}, 6) for c in ("events", "regions", "sites", "zones", "borders")]
    + [("regions", {"simplify_m": "1"}, 6), ("regions", {"simplify_m": "50"}, 5)],
)
def test_coordinates_are_written_to_the_decimals_served(
    client: TestClient, collection: str, params: dict[str, str], decimals: int
) -> None:
    """In the text itself: GEOS's GeoJSON writer gave some rounded coordinates 17 digits
    (33.472410000000004 in the regions)."""
    text = client.get(f"/api/collections/{collection}/items", params={"limit": "1000", **params}).text
    arrays = re.findall(r'"coordinates":(\[[^"{}]*\])', text)
    assert arrays
    numbers = [n for array in arrays for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", array)]
    assert max(len(n.partition(".")[2]) for n in numbers) <= decimals
    assert not [n for n in numbers if "e" in n]


def test_events_carry_status_sources_and_claims(client: TestClient) -> None:
    for feature in all_events(client):
        props = feature["properties"]
        assert props["zone_status"] in {"inside", "outside", "uncertain", "contested"}
        assert props["sources"], feature["id"]
        assert props["date_start"] <= props["date_end"]
        if feature["geometry"] is None:
            assert props["p_inside"] is None and props["located"] is False


def test_in_zone_inside_returns_exactly_the_inside_events(client: TestClient) -> None:
    everything = all_events(client)
    inside = features_of(client.get(EVENTS, params={"in_zone": "inside", "limit": "1000"}))
    assert {f["id"] for f in inside} == {
        f["id"] for f in everything if f["properties"]["zone_status"] == "inside"
    }
    # From a common region, "inside" is >= 0.999 of it; source by source, every source allows only
    # inside, so at least one lies wholly inside and none wholly outside (app.geo.evidence).
    for f in inside:
        props = f["properties"]
        if props["zone_rule"] == "common-region":
            assert props["p_inside"] >= 0.999
        else:
            allows = {a["allows"] for a in props["source_answers"]}
            assert "inside" in allows and "outside" not in allows


def test_in_zone_takes_a_comma_list(client: TestClient) -> None:
    both = features_of(client.get(EVENTS, params={"in_zone": "outside,uncertain", "limit": "1000"}))
    assert {f["properties"]["zone_status"] for f in both} == {"outside", "uncertain"}


def test_min_p_inside(client: TestClient) -> None:
    half = features_of(client.get(EVENTS, params={"min_p_inside": "0.5", "limit": "1000"}))
    expected = {f["id"] for f in all_events(client) if (f["properties"]["p_inside"] or -1) >= 0.5}
    assert {f["id"] for f in half} == expected


@pytest.mark.parametrize(
    ("value", "lo", "hi"),
    [
        ("2017-06-01/2017-06-30", "2017-06-01", "2017-06-30"),
        ("2017-06-08", "2017-06-08", "2017-06-08"),
        ("../2017-01-31", "0000-01-01", "2017-01-31"),
        ("2018-01-01/..", "2018-01-01", "9999-12-31"),
        # QGIS's open start (its OAPIF provider's translation of "date_end < '2017-06-01'")
        ("0000-01-01T00:00:00Z/2017-06-01", "0000-01-01", "2017-06-01"),
        ("0000-01-01/2017-01-31", "0000-01-01", "2017-01-31"),
        ("2017-06-08T10:00:00Z", "2017-06-08", "2017-06-08"),
    ],
)
def test_datetime_intersects_the_incident_interval(client: TestClient, value: str, lo: str, hi: str) -> None:
    got = {f["id"] for f in features_of(client.get(EVENTS, params={"datetime": value, "limit": "1000"}))}
    expected = {
        f["id"]
        for f in all_events(client)
        if f["properties"]["date_start"] <= hi and f["properties"]["date_end"] >= lo
    }
    assert got == expected and got


def test_bbox_intersects_the_event_point(client: TestClient) -> None:
    box = (38.0, 33.4, 38.5, 33.8)
    got = {f["id"] for f in features_of(client.get(EVENTS, params={"bbox": ",".join(map(str, box))}))}
    expected = {
        f["id"]
        for f in all_events(client)
        if f["geometry"]
        and box[0] <= f["geometry"]["coordinates"][0] <= box[2]
        and box[1] <= f["geometry"]["coordinates"][1] <= box[3]
    }
    assert got == expected and got


def test_bbox_with_six_numbers_ignores_heights(client: TestClient) -> None:
    four = features_of(client.get(EVENTS, params={"bbox": "38,33.4,38.5,33.8"}))
    six = features_of(client.get(EVENTS, params={"bbox": "38,33.4,0,38.5,33.8,100"}))
    assert four == six


def test_bbox_on_regions_uses_the_polygons(client: TestClient) -> None:
    """A box in the middle of an annulus' hole misses it; one across its ring hits it."""
    r = "/api/collections/regions/items"
    in_hole = {f["id"] for f in features_of(client.get(r, params={"bbox": "38.60,33.50,38.63,33.51"}))}
    assert "2017-06-08-strike-on-technical-vehicles--cnn-about-24-miles" not in in_hole
    across = {f["id"] for f in features_of(client.get(r, params={"bbox": "38.1,33.3,38.3,33.7"}))}
    assert "2017-06-08-strike-on-technical-vehicles--cnn-about-24-miles" in across


def test_near_uses_geodesic_distance_to_point_or_region(client: TestClient) -> None:
    """near=lon,lat&within_km=: oracle = Geod distance to the point, or to the region's vertices."""
    lon, lat, km = 38.2, 33.75, 30.0
    got = {
        f["id"]
        for f in features_of(
            client.get(EVENTS, params={"near": f"{lon},{lat}", "within_km": str(km), "limit": "1000"})
        )
    }
    regions = features_of(client.get("/api/collections/regions/items", params={"limit": "1000"}))
    expected = set()
    for f in all_events(client):
        if f["geometry"] is None:
            continue
        _, _, d = ORACLE.inv(lon, lat, *f["geometry"]["coordinates"])
        if d <= km * 1000:
            expected.add(f["id"])
    for r in regions:
        if r["geometry"] is None:
            continue
        geom = shape(r["geometry"])
        polys = getattr(geom, "geoms", [geom])
        ring = np.vstack([np.asarray(p.exterior.coords) for p in polys])
        n = len(ring)
        _, _, d = ORACLE.inv(np.full(n, lon), np.full(n, lat), ring[:, 0], ring[:, 1])
        from shapely import Point

        if d.min() <= km * 1000 - 500 or geom.contains(Point(lon, lat)):
            expected.add(r["properties"]["event_id"])
    assert expected <= got, expected - got
    assert got, "the query should find something"


def test_event_type_and_free_text(client: TestClient) -> None:
    battles = features_of(client.get(EVENTS, params={"event_type": "battles", "limit": "1000"}))
    assert {f["properties"]["event_type"] for f in battles} == {"Battles"}
    drones = features_of(client.get(EVENTS, params={"q": "DRONE", "limit": "1000"}))
    assert drones and all(
        "drone" in (f["properties"]["title"] + f["properties"]["summary"]).lower() for f in drones
    )
    sub = features_of(client.get(EVENTS, params={"sub_event_type": "Air/drone strike"}))
    assert sub and all(f["properties"]["sub_event_type"] == "Air/drone strike" for f in sub)


def test_paging_walks_every_feature_once(client: TestClient) -> None:
    seen: list[str] = []
    url: str | None = f"{EVENTS}?limit=5"
    matched = None
    while url:
        response = client.get(url)
        body = response.json()
        features_of(response)
        matched = body["numberMatched"]
        seen += [f["id"] for f in body["features"]]
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        assert all(link["type"] == "application/geo+json" for link in nxt)
        url = nxt[0]["href"] if nxt else None
    assert len(seen) == len(set(seen)) == matched == len(bundled().incidents)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "in_zone=inside&",
        "near=38.2,33.75&within_km=30&",
        "q=strike&",
        "filter=date_start >= DATE('2017-01-01')&",
        "datetime=2017-01-01/..&",
    ],
)
def test_next_links_page_by_key_as_offsets_do(client: TestClient, query: str) -> None:
    """A ``next`` link carries the page's last id (``after``: keyset paging) beside the offset;
    following the links gives what offsets give, page for page, every match once and in order,
    and a page asked after an id starts right after it whatever the offset says (the key, not the
    offset, chose it)."""
    everything = [f["id"] for f in features_of(client.get(f"{EVENTS}?{query}limit=1000"))]
    assert len(everything) > 7, query
    url: str | None = f"{EVENTS}?{query}limit=3"
    offset, followed = 0, []
    while url:
        body = client.get(url).json()
        page = [f["id"] for f in body["features"]]
        assert page == [f["id"] for f in features_of(client.get(f"{EVENTS}?{query}limit=3&offset={offset}"))]
        followed += page
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if nxt:
            assert f"offset={offset + 3}&" in nxt[0] and nxt[0].endswith("&" + urlencode({"after": page[-1]}))
        url, offset = (nxt[0] if nxt else None), offset + 3
    assert followed == everything, query

    def ids(url: str) -> list[str]:
        return [f["id"] for f in features_of(client.get(url))]

    assert ids(f"{EVENTS}?{query}limit=2&after={everything[4]}") == everything[5:7]
    assert ids(f"{EVENTS}?{query}limit=2&offset=3&after=no-such-id") == everything[3:5]


def test_a_limit_above_the_maximum_is_clamped_not_refused(client: TestClient) -> None:
    body = client.get("/api/collections/regions/items", params={"limit": "5000"}).json()
    assert body["numberReturned"] == body["numberMatched"]  # 38 < 1000: clamped, not refused
    assert client.get(EVENTS, params={"limit": "5000"}).status_code == 200


def test_csv_has_wkt_and_lon_lat(client: TestClient) -> None:
    response = client.get(EVENTS, params={"f": "csv", "in_zone": "inside"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    geo = features_of(client.get(EVENTS, params={"in_zone": "inside"}))
    assert [r["id"] for r in rows] == [f["id"] for f in geo]
    for row, feature in zip(rows, geo, strict=True):
        point = wkt.loads(row["wkt"])
        assert (point.x, point.y) == pytest.approx(feature["geometry"]["coordinates"], abs=1e-6)
        assert float(row["lon"]) == pytest.approx(point.x, abs=1e-6)
        assert row["zone_status"] == "inside"


def test_csv_keeps_formula_like_text_inert(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get(EVENTS, params={"f": "csv", "limit": "1000"}).text)))
    for row in rows:
        for key, value in row.items():
            if key not in ("lon", "lat", "p_inside", "uncertainty_km2", "point_distance_km"):
                assert not value.startswith(("=", "+", "@")), (key, value)


def test_html_items_page(client: TestClient) -> None:
    response = client.get(EVENTS, params={"f": "html", "limit": "3"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<table>" in response.text and "numberMatched" in response.text


def test_browser_accept_gets_html(client: TestClient) -> None:
    response = client.get("/api/collections", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.headers["content-type"].startswith("text/html")


def test_one_feature_by_id_is_stable(client: TestClient) -> None:
    fid = "2017-06-08-strike-on-technical-vehicles"
    response = client.get(f"{EVENTS}/{fid}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    Feature.model_validate({k: v for k, v in body.items() if k != "links"})
    assert body["id"] == fid
    claims = {c["claim_id"]: c for c in body["properties"]["location_claims"]}
    assert claims["cnn-about-24-miles"]["area_km2"] == pytest.approx(390.6, abs=0.05)
    quotes = [s["quote"] for s in body["properties"]["sources"]]
    assert any("about 24 miles from the At Tanf base" in q for q in quotes)


def test_an_item_is_one_turn_of_the_thread_pool_its_checks_in_order(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that waits on a server (PostGIS) reads an item's row and writes its body in one turn
    of the thread pool, not two (each turn wakes a thread, which on a loaded machine waits for a
    core); the embedded store in none. The checks keep their order: no such feature (404) before
    a format nothing can be answered in (406), before a bad ``simplify_m`` (400)."""
    turns: list[object] = []
    real = ogc.run_in_threadpool

    async def counted(func: Any, *args: Any) -> Any:
        turns.append(func)
        return await real(func, *args)

    monkeypatch.setattr(ogc, "run_in_threadpool", counted)
    fid, blocking = "2017-06-08-strike-on-technical-vehicles", client.app.state.stores["events"].blocking
    fresh = {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}  # not answered from the answer cache
    for query in ("", "?simplify_m=50", "?f=csv"):
        turns.clear()
        assert client.get(f"{EVENTS}/{fid}{query}", headers=fresh).status_code == 200
        assert len(turns) == (1 if blocking else 0), query
    nothing, bad = {"Accept": "image/png"}, "?simplify_m=3"
    assert_problem(client.get(f"{EVENTS}/no-such-incident{bad}", headers=nothing), 404)
    assert_problem(client.get(f"{EVENTS}/{fid}{bad}", headers=nothing), 406, "Accept")
    assert_problem(client.get(f"{EVENTS}/{fid}{bad}"), 400, "simplify_m")


def test_zone_feature_is_the_geodesic_circle(client: TestClient) -> None:
    body = client.get("/api/collections/zones/items/at-tanf-dcz").json()
    ring = np.asarray(body["geometry"]["coordinates"][0])
    n = len(ring)
    _, _, d = ORACLE.inv(np.full(n, GARRISON[0]), np.full(n, GARRISON[1]), ring[:, 0], ring[:, 1])
    assert np.abs(d - 55_000).max() < 1.0
    assert body["properties"]["area_km2"] == pytest.approx(9503, abs=1)


def _link(body: dict, rel: str) -> str | None:
    found = [link["href"] for link in body["links"] if link["rel"] == rel]
    return found[0] if found else None


def test_prev_links_walk_back_to_the_first_page(client: TestClient) -> None:
    """``prev`` goes back one page at a time, each page the one its offset gives."""
    matched = client.get(f"{EVENTS}?limit=1").json()["numberMatched"]
    last_start = (matched - 1) // 5 * 5
    url: str | None = f"{EVENTS}?in_zone=inside,outside,contested,uncertain&limit=5&offset={last_start}"
    starts = []
    while url:
        body = client.get(url).json()
        start = int(parse_qs(urlsplit(url).query)["offset"][0])
        starts.append(start)
        assert body["features"], url
        url = _link(body, "prev")
        if url:
            assert "in_zone=inside%2Coutside%2Ccontested%2Cuncertain&limit=5&offset=" in url
    assert starts == list(range(last_start, -1, -5))


def test_prev_from_past_the_end_is_the_last_page_with_features(client: TestClient) -> None:
    """It pointed one page back from wherever the client was: ``offset=95`` of 36 gave an empty
    ``offset=88`` (a fresh user's check of issue 16)."""
    matched = client.get(f"{EVENTS}?limit=1").json()["numberMatched"]
    body = client.get(f"{EVENTS}?limit=7&offset={matched + 59}").json()
    assert body["features"] == [] and _link(body, "next") is None
    prev = _link(body, "prev")
    assert prev is not None and prev.endswith(f"offset={(matched - 1) // 7 * 7}")
    assert client.get(prev).json()["features"]


def test_links_say_the_page_size_served_not_a_limit_past_the_maximum(client: TestClient) -> None:
    """OGC 17-069r4 7.15.4: a limit over the maximum is read as the maximum; the links said
    ``limit=5000`` while pages of 1,000 came back."""
    body = client.get(f"{EVENTS}?limit=5000&q=strike").json()
    assert body["numberReturned"] <= 1000
    assert "?limit=1000&q=strike&offset=0" in _link(body, "self")  # type: ignore[operator]
