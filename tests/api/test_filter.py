"""OGC API Features Part 3: queryables and CQL2 filters, checked against plain-Python oracles.

Each filter's answer is compared with a predicate written here, independently of the evaluator,
over every served feature (a comparison with a null is not true, as in CQL2 and SQL).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema
import orjson
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, shape

from tests.api.conftest import assert_problem

Feature = dict[str, Any]


@pytest.fixture(scope="module")
def events(client: TestClient) -> list[Feature]:
    page = client.get("/api/collections/events/items?limit=1000").json()
    features: list[Feature] = page["features"]
    assert len(features) == page["numberMatched"] >= 20
    return features


def matched(client: TestClient, text: str, collection: str = "events", **extra: str) -> list[str]:
    response = client.get(
        f"/api/collections/{collection}/items", params={"filter": text, "limit": "1000", **extra}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberMatched"] == len(body["features"])
    return sorted(f["id"] for f in body["features"])


def p(name: str) -> Callable[[Feature], Any]:
    return lambda f: f["properties"].get(name)


def known(value: Any) -> bool:
    return value is not None


BOX = box(38.0, 33.0, 39.0, 33.6)
CASES: list[tuple[str, Callable[[Feature], bool]]] = [
    ("date_start >= DATE('2017-06-01')", lambda f: p("date_start")(f) >= "2017-06-01"),
    ("date_start >= '2017-06-01'", lambda f: p("date_start")(f) >= "2017-06-01"),
    ("date_start < '2017-06-08T'", lambda f: p("date_start")(f) < "2017-06-08"),  # how GDAL writes a date
    ("date_end = DATE('2017-06-08')", lambda f: p("date_end")(f) == "2017-06-08"),
    ("date_start >= DATE('2017-01-01') AND date_start <= DATE('2017-12-31')",
     lambda f: "2017-01-01" <= p("date_start")(f) <= "2017-12-31"),
    ("date_end > date_start", lambda f: p("date_end")(f) > p("date_start")(f)),
    ("zone_status = 'inside'", lambda f: p("zone_status")(f) == "inside"),
    ("zone_status <> 'inside'", lambda f: known(p("zone_status")(f)) and p("zone_status")(f) != "inside"),
    ("zone_status IN ('outside', 'uncertain')", lambda f: p("zone_status")(f) in ("outside", "uncertain")),
    ("zone_status NOT IN ('outside', 'uncertain')",
     lambda f: known(p("zone_status")(f)) and p("zone_status")(f) not in ("outside", "uncertain")),
    ("p_inside > 0.5", lambda f: known(p("p_inside")(f)) and p("p_inside")(f) > 0.5),
    ("NOT (p_inside > 0.5)", lambda f: known(p("p_inside")(f)) and not p("p_inside")(f) > 0.5),
    ("p_inside BETWEEN 0.2 AND 0.99", lambda f: known(p("p_inside")(f)) and 0.2 <= p("p_inside")(f) <= 0.99),
    ("p_inside IS NULL", lambda f: p("p_inside")(f) is None),
    ("p_inside IS NOT NULL", lambda f: p("p_inside")(f) is not None),
    ("located = false", lambda f: p("located")(f) is False),
    ("title LIKE '%strike%'", lambda f: "strike" in p("title")(f)),
    ("title NOT LIKE '%strike%'", lambda f: "strike" not in p("title")(f)),
    ("title LIKE 'US_%'", lambda f: re.fullmatch(r"US..*", p("title")(f), re.DOTALL) is not None),
    ("CASEI(title) LIKE CASEI('%STRIKE%')", lambda f: "strike" in p("title")(f).lower()),
    ("event_type = 'Battles' OR uncertainty_km2 > 1000",
     lambda f: p("event_type")(f) == "Battles"
     or (known(p("uncertainty_km2")(f)) and p("uncertainty_km2")(f) > 1000)),
    ("T_INTERSECTS(date_start, INTERVAL('2017-06-01', '2017-06-30'))",
     lambda f: "2017-06-01" <= p("date_start")(f) <= "2017-06-30"),
    ("T_INTERSECTS(INTERVAL(date_start, date_end), INTERVAL('2017-06-01', '..'))",
     lambda f: p("date_end")(f) >= "2017-06-01"),
    ("T_BEFORE(date_end, DATE('2017-06-08'))", lambda f: p("date_end")(f) < "2017-06-08"),
    ("T_AFTER(date_start, TIMESTAMP('2017-06-08T12:00:00Z'))", lambda f: p("date_start")(f) > "2017-06-08"),
    ("T_DURING(INTERVAL(date_start, date_end), INTERVAL('2017-01-01', '2017-12-31'))",
     lambda f: "2017-01-01" < p("date_start")(f) and p("date_end")(f) < "2017-12-31"),
    ("T_EQUALS(date_start, DATE('2017-06-08'))", lambda f: p("date_start")(f) == "2017-06-08"),
    ("S_INTERSECTS(geometry, BBOX(38.0, 33.0, 39.0, 33.6))",
     lambda f: f["geometry"] is not None and shape(f["geometry"]).intersects(BOX)),
    ("S_WITHIN(geometry, POLYGON((38 33, 39 33, 39 33.6, 38 33.6, 38 33)))",
     lambda f: f["geometry"] is not None and shape(f["geometry"]).within(BOX)),
    ("S_DISJOINT(geometry, BBOX(38.0, 33.0, 39.0, 33.6))",
     lambda f: f["geometry"] is not None and shape(f["geometry"]).disjoint(BOX)),
    ("S_INTERSECTS(geometry, BBOX(38.0, 33.0, 39.0, 33.6)) AND NOT zone_status = 'inside'",
     lambda f: f["geometry"] is not None and shape(f["geometry"]).intersects(BOX)
     and known(p("zone_status")(f)) and p("zone_status")(f) != "inside"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "oracle"), CASES, ids=[c[0] for c in CASES])
def test_filter_matches_the_oracle(
    client: TestClient, events: list[Feature], text: str, oracle: Callable
) -> None:
    expected = sorted(f["id"] for f in events if oracle(f))
    assert matched(client, text) == expected


def test_the_cases_are_not_trivial(events: list[Feature]) -> None:
    """Each oracle keeps some features and drops others, so a wrong evaluator shows."""
    for text, oracle in CASES:
        kept = sum(bool(oracle(f)) for f in events)
        assert 0 < kept < len(events), text


def test_cql2_json_means_the_same(client: TestClient, events: list[Feature]) -> None:
    text = matched(client, "date_start >= DATE('2017-06-01') AND zone_status IN ('inside', 'uncertain')")
    as_json = orjson.dumps({"op": "and", "args": [
        {"op": ">=", "args": [{"property": "date_start"}, {"date": "2017-06-01"}]},
        {"op": "in", "args": [{"property": "zone_status"}, ["inside", "uncertain"]]}]}).decode()  # fmt: skip
    assert matched(client, as_json, **{"filter-lang": "cql2-json"}) == text
    assert 0 < len(text) < len(events)


def test_between_on_dates_and_numbers(client: TestClient, events: list[Feature]) -> None:
    dates = matched(client, "date_start BETWEEN DATE('2017-01-01') AND DATE('2017-12-31')")
    assert dates == sorted(
        f["id"] for f in events if "2017-01-01" <= f["properties"]["date_start"] <= "2017-12-31"
    )
    counts = matched(client, "sources_inside BETWEEN 1 AND 2")
    assert counts == sorted(f["id"] for f in events if 1 <= f["properties"]["sources_inside"] <= 2)


def test_filter_combines_with_the_other_parameters_and_pages(client: TestClient) -> None:
    both = matched(client, "date_start >= DATE('2017-01-01')", in_zone="inside")
    inside = set(matched(client, "zone_status = 'inside'"))
    recent = set(matched(client, "date_start >= DATE('2017-01-01')"))
    assert both == sorted(inside & recent) and len(both) >= 2
    page = client.get("/api/collections/events/items",
                      params={"filter": "date_start >= DATE('2017-01-01')", "limit": "2"}).json()  # fmt: skip
    assert page["numberMatched"] == len(recent) and page["numberReturned"] == 2
    assert any(link["rel"] == "next" and "filter=" in link["href"] for link in page["links"])


def test_regions_filter_on_their_own_queryables(client: TestClient) -> None:
    regions = client.get("/api/collections/regions/items?limit=1000").json()["features"]
    expected = sorted(f["id"] for f in regions if f["properties"]["outlet"] == "CNN")
    assert matched(client, "outlet = 'CNN'", "regions") == expected and expected


@pytest.mark.parametrize(
    ("params", "parameter", "words"),
    [
        ({"filter": "date_start >= "}, "filter", "column 15"),
        ({"filter": "nosuch = 3"}, "filter", "'nosuch' is not a queryable"),
        ({"filter": "title > 3"}, "filter", "title > 3"),
        ({"filter": "zone_status = 'inside' AND p_inside + 1 > 2"}, "filter", "not supported"),
        ({"filter": "date_start >= 'June'"}, "filter", "'June' is not a date"),
        ({"filter": "S_INTERSECTS(geometry, p_inside)"}, "filter", "S_INTERSECTS needs two geometries"),
        ({"filter": '{"op": "="'}, "filter", "cql2-json"),
        ({"filter": "a = 1", "filter-lang": "sql"}, "filter-lang", "filter-lang"),
        ({"filter": "p_inside > 0.5", "filter-crs": "EPSG:4326"}, "filter-crs", "CRS84"),
    ],
)
def test_bad_filters_are_400_naming_the_part(
    client: TestClient, params: dict[str, str], parameter: str, words: str
) -> None:
    if parameter == "filter" and params["filter"].startswith("{"):
        params = {**params, "filter-lang": "cql2-json"}
    body = assert_problem(client.get("/api/collections/events/items", params=params), 400, parameter)
    assert words in body["detail"]


def test_collections_without_queryables_refuse_a_filter(client: TestClient) -> None:
    assert_problem(client.get("/api/collections/sites/items", params={"filter": "name = 'x'"}), 400, "filter")
    assert client.get("/api/collections/sites/queryables").status_code == 404


@pytest.mark.parametrize("collection", ["events", "regions"])
def test_queryables_are_a_json_schema_of_what_is_served(client: TestClient, collection: str) -> None:
    features = client.get(f"/api/collections/{collection}/items?limit=1000").json()["features"]
    described = client.get(f"/api/collections/{collection}").json()
    link = next(
        x for x in described["links"] if x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"
    )
    response = client.get(link["href"])
    assert response.headers["content-type"] == "application/schema+json"
    doc = response.json()
    assert doc["$id"] == link["href"] and doc["type"] == "object"
    jsonschema.Draft202012Validator.check_schema(doc)
    props = doc["properties"]
    assert props["geometry"]["format"].startswith("geometry-")
    assert props["date_start"] == {"type": "string", "format": "date", "title": props["date_start"]["title"]}
    # Every served scalar property is a queryable of the right type, and every queryable is served:
    # a property added to the features without its line in app/api/queryables.py fails here.
    scalars = {"type": "object", "properties": {k: v for k, v in props.items() if k != "geometry"}}
    served: set[str] = set()
    nested = {k for f in features for k, v in f["properties"].items() if isinstance(v, list | dict)}
    for feature in features:
        values = {k: v for k, v in feature["properties"].items() if k not in nested}
        assert set(values) <= set(props), f"not in app/api/queryables.py: {set(values) - set(props)}"
        jsonschema.validate(values, scalars, format_checker=jsonschema.FormatChecker())
        served |= set(values)
    assert served == set(props) - {"geometry"}
    # GDAL asks for JSON and reads the drafts' list of names.
    as_json = client.get(link["href"], headers={"Accept": "application/geo+json, application/json"})
    assert as_json.headers["content-type"] == "application/json"
    assert {q["id"] for q in as_json.json()["queryables"]} == served


def test_region_columns_read_as_served(client: TestClient) -> None:
    """zone_status and p_inside come from the store's columns: they must equal the served values."""
    regions = client.get("/api/collections/regions/items?limit=1000").json()["features"]
    for text, oracle in [
        ("zone_status = 'uncertain'", lambda f: f["properties"]["zone_status"] == "uncertain"),
        ("p_inside >= 0.5", lambda f: (f["properties"]["p_inside"] or -1) >= 0.5),
        ("role = 'common' AND zone_status IS NOT NULL",
         lambda f: f["properties"]["role"] == "common" and f["properties"]["zone_status"] is not None),
    ]:  # fmt: skip
        expected = sorted(f["id"] for f in regions if oracle(f))
        assert matched(client, text, "regions") == expected and 0 < len(expected) < len(regions), text
    for feature in regions:  # each served p_inside is found by equality
        value = feature["properties"]["p_inside"]
        if value is not None:
            assert feature["id"] in matched(client, f"p_inside = {value!r}", "regions")
            break


def test_conformance_and_openapi_declare_filtering(client: TestClient) -> None:
    classes = client.get("/api/conformance").json()["conformsTo"]
    for name in ("ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/features-filter",
                 "ogcapi-features-3/1.0/conf/queryables", "cql2/1.0/conf/cql2-text",
                 "cql2/1.0/conf/cql2-json",
                 "cql2/1.0/conf/basic-cql2", "cql2/1.0/conf/advanced-comparison-operators",
                 "cql2/1.0/conf/temporal-functions", "cql2/1.0/conf/spatial-functions"):  # fmt: skip
        assert f"http://www.opengis.net/spec/{name}" in classes
    doc = client.get("/api/openapi-3.0.json").json()
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    names = {q.get("name"): q for q in items}
    assert {"filter", "filter-lang", "filter-crs"} <= set(names)
    assert "cql2-text" in names["filter-lang"]["schema"]["enum"]
    assert "/collections/{collectionId}/queryables" in doc["paths"]


def test_regions_filter_on_the_country_a_source_states(client: TestClient) -> None:
    """Tower 22's two distance claims each rest on words putting it in Jordan; CQL2 finds them."""
    features = client.get(
        "/api/collections/regions/items", params={"filter": "stated_country = 'Jordan'"}
    ).json()["features"]
    assert {f["id"] for f in features} == {
        "2024-01-28-tower-22-drone-attack--twz-about-12-miles-south",
        "2024-01-28-tower-22-drone-attack--ap-garrison-20-km-north",
    }
    assert all("Jordan" in f["properties"]["stated_country_quote"] for f in features)
