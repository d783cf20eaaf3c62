"""/api/collections/events/grid (counts per WebMercatorQuad cell) and items' ``properties``.

The counts are checked against the items endpoint (every located incident the same filters
return falls in exactly one returned cell polygon, and the cells' counts are those points'),
and the cell polygons against the tile formula written out here (OGC 17-083r4 Annex D).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from tests.api.conftest import assert_problem, features_of

GRID = "/api/collections/events/grid"
ITEMS = "/api/collections/events/items"
LIGHT = "title,date_start,date_end,date_precision,event_type,zone_status,located"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The slippy-map tile of a point (the OpenStreetMap wiki's formula)."""
    n = 2**z
    rad = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)


def grid_of(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get(f"{GRID}?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == "FeatureCollection" and body["grid"] == "WebMercatorQuad"
    assert body["numberReturned"] == len(body["features"])
    return body


@pytest.mark.parametrize(
    "filters",
    ["", "in_zone=inside", "datetime=2017-05-01/2017-06-30", "bbox=38.3,33.3,38.9,33.8",
     "filter=event_type IN ('Battles','Strategic developments')"],
)  # fmt: skip
@pytest.mark.parametrize("level", [0, 6, 9, 12])
def test_counts_are_the_located_items_of_the_same_filters(
    client: TestClient, level: int, filters: str
) -> None:
    body = grid_of(client, f"level={level}&{filters}")
    items = features_of(client.get(f"{ITEMS}?limit=1000&{filters}"))
    located = [f for f in items if f["geometry"]]
    assert body["numberMatched"] == len(items)
    assert body["numberLocated"] == len(located) == sum(c["properties"]["count"] for c in body["features"])
    cells = {c["id"]: c for c in body["features"]}
    seen: Counter[str] = Counter()
    for feature in located:
        lon, lat = feature["geometry"]["coordinates"]
        col, row = tile_of(lon, lat, level)
        cell = cells[f"{level}/{col}/{row}"]
        assert shape(cell["geometry"]).buffer(1e-9).contains(Point(lon, lat))
        west, south, east, north = cell["properties"]["points_bbox"]
        assert west - 1e-5 <= lon <= east + 1e-5 and south - 1e-5 <= lat <= north + 1e-5
        seen[cell["id"]] += 1
    for cell_id, cell in cells.items():
        p = cell["properties"]
        assert (
            p["count"] == seen[cell_id] == sum(p[s] for s in ("inside", "outside", "uncertain", "contested"))
        )
    assert body["totals"]["zone_status"] == {
        s: sum(f["properties"]["zone_status"] == s for f in items)
        for s in ("inside", "outside", "uncertain", "contested")
    }
    assert body["totals"]["event_type"] == dict(Counter(f["properties"]["event_type"] for f in items))


def test_cell_polygons_are_the_tiles(client: TestClient) -> None:
    body = grid_of(client, "level=10")
    for cell in body["features"]:
        z, x, y = (int(v) for v in cell["id"].split("/"))
        n = 2**z
        west, east = x / n * 360 - 180, (x + 1) / n * 360 - 180
        north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
        south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / n))))
        assert shape(cell["geometry"]).bounds == pytest.approx((west, south, east, north), abs=1e-6)


def test_the_totals_count_each_year_and_month_as_its_datetime_filter_does(client: TestClient) -> None:
    """The map's period menu lists the periods that hold incidents, with their counts."""
    import calendar

    totals = grid_of(client, "level=0")["totals"]
    assert totals["months"] and totals["years"]
    for year in range(2016, 2025):
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            span = f"{year}-{month:02d}-01/{year}-{month:02d}-{last}"
            matched = client.get(f"/api/collections/events/items?limit=1&datetime={span}").json()[
                "numberMatched"
            ]
            assert totals["months"].get(f"{year}-{month:02d}", 0) == matched, (year, month)
        matched = client.get(
            f"/api/collections/events/items?limit=1&datetime={year}-01-01/{year}-12-31"
        ).json()
        assert totals["years"].get(str(year), 0) == matched["numberMatched"], year
    assert "2019" not in totals["years"]  # a year without incidents is not listed
    # Only level 0 (the dataset in a few numbers) carries them: a view's grid stays light.
    assert "months" not in grid_of(client, "level=4")["totals"]


def test_the_unlocated_incident_is_matched_but_in_no_cell(client: TestClient) -> None:
    body = grid_of(client, "level=0")
    assert body["numberMatched"] == 36 and body["numberLocated"] == 35
    assert body["totals"]["interval"] == ["2016-06-16", "2024-12-07"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "level"),
        ("level=25", "level"),
        ("level=-1", "level"),
        ("level=1.5", "level"),
        ("level=٣", "level"),
        ("level=3&level=4", "level"),
        ("level=3&bbox=1,2,3", "bbox"),
        ("level=3&bbox=10,60,20,50", "bbox"),
        ("level=3&datetime=yesterday", "datetime"),
        ("level=3&in_zone=maybe", "in_zone"),
        ("level=3&filter=title >", "filter"),
        ("level=3&limit=10", "limit"),
        ("level=3&bbox-crs=EPSG:3857", "bbox-crs"),
        ("level=3&f=csv", "f"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client: TestClient, query: str, parameter: str) -> None:
    assert_problem(client.get(f"{GRID}?{query}"), 400, parameter)


def test_other_collections_have_no_grid(client: TestClient) -> None:
    assert_problem(client.get("/api/collections/regions/grid?level=3"), 404)


def test_too_many_cells_is_a_400_naming_level(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api import grid

    monkeypatch.setattr(grid, "MAX_CELLS", 5)
    assert_problem(client.get(f"{GRID}?level=16"), 400, "level")


def test_grid_answers_are_cached_on_the_dataset_version(client: TestClient) -> None:
    first = client.get(f"{GRID}?level=8&in_zone=inside")
    etag = first.headers["etag"]
    assert first.headers["x-dataset-version"] in etag
    assert "max-age" in first.headers["cache-control"]
    again = client.get(f"{GRID}?level=8&in_zone=inside", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_properties_keeps_only_the_named_ones(client: TestClient) -> None:
    whole = features_of(client.get(f"{ITEMS}?limit=1000"))
    light = features_of(client.get(f"{ITEMS}?limit=1000&properties={LIGHT}"))
    assert [f["id"] for f in light] == [f["id"] for f in whole]
    for a, b in zip(light, whole, strict=True):
        assert list(a["properties"]) == LIGHT.split(",")
        assert a["geometry"] == b["geometry"]
        assert all(a["properties"][k] == b["properties"][k] for k in a["properties"])
    # The point of it: a listing for markers and a list, a small part of the whole.
    small = len(client.get(f"{ITEMS}?limit=1000&properties={LIGHT}").content)
    assert small < len(client.get(f"{ITEMS}?limit=1000").content) / 5


def test_properties_in_csv_and_on_regions(client: TestClient) -> None:
    csv = client.get(f"{ITEMS}?limit=3&properties=title,zone_status&f=csv").text
    assert csv.splitlines()[0].split(",")[-2:] != ["sources", "location_claims"]
    assert "title" in csv.splitlines()[0] and "summary" not in csv.splitlines()[0]
    regions = features_of(client.get("/api/collections/regions/items?limit=5&properties=event_id,role"))
    assert all(set(f["properties"]) <= {"event_id", "role"} for f in regions)


@pytest.mark.parametrize("value", ["", "title,", "nope", "title,no such", "a" * 70])
def test_bad_properties_are_a_400(client: TestClient, value: str) -> None:
    assert_problem(client.get(f"{ITEMS}?properties={value}"), 400, "properties")
