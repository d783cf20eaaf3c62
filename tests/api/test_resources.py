"""Landing page, conformance, collections, OpenAPI, locate, caching and CORS."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator.validation import OpenAPIV30SpecValidator
from pyproj import Geod

from tests.api.conftest import assert_problem
from tests.conftest import bundled

ORACLE = Geod(ellps="WGS84")
GARRISON = (38.61778, 33.50583)


def test_landing_page_links(client: TestClient) -> None:
    response = client.get("/api")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rels = {link["rel"]: link for link in response.json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["data"]["type"] == "application/json"
    for rel in ("service-desc", "service-doc", "conformance", "data"):
        assert client.get(rels[rel]["href"]).status_code == 200


def test_conformance_claims_only_what_is_met(client: TestClient) -> None:
    classes = client.get("/api/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in classes)
    assert any(c.endswith("/conf/geojson") for c in classes)
    # oas30 is claimed because the service-desc is OpenAPI 3.0, a valid one.
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in classes
    links = client.get("/api").json()["links"]
    descs = [link for link in links if link["rel"] == "service-desc"]
    assert descs[0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    response = client.get(descs[0]["href"])
    assert response.headers["content-type"] == descs[0]["type"]
    doc = response.json()
    assert doc["openapi"] == "3.0.3"
    assert list(OpenAPIV30SpecValidator(doc).iter_errors()) == []
    # The 3.1 document FastAPI writes stays, as a second service-desc.
    assert client.get(descs[1]["href"]).json()["openapi"].startswith("3.1")
    assert descs[1]["type"] == "application/vnd.oai.openapi+json;version=3.1"


def test_openapi_30_declares_the_standard_parameters(client: TestClient) -> None:
    """OGC 17-069r4 7.15.3/7.15.4, in the form the OGC test suites compare."""
    doc = client.get("/api/openapi-3.0.json").json()
    params = doc["components"]["parameters"]
    assert params["bbox"]["schema"] == {
        "type": "array",
        "minItems": 4,
        "maxItems": 6,
        "items": {"type": "number"},
    }
    assert (params["bbox"]["style"], params["bbox"]["explode"]) == ("form", False)
    assert params["datetime"]["schema"] == {"type": "string"}
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    refs = {p.get("$ref") for p in items}
    assert {"#/components/parameters/bbox", "#/components/parameters/datetime",
            "#/components/parameters/limit"} <= refs  # fmt: skip
    # No JSON Schema 2020-12 construct is left for a 3.0 reader.
    text = json.dumps(doc)
    assert '"const"' not in text and '{"type": "null"}' not in text and '"type": [' not in text


def test_part2_crs_only_crs84(client: TestClient) -> None:
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    classes = client.get("/api/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    events = client.get("/api/collections/events").json()
    assert events["crs"] == [crs84] and events["storageCrs"] == crs84
    for url in ("/api/collections/events/items", "/api/collections/sites/items/garrison"):
        plain = client.get(url)
        assert plain.headers["content-crs"] == f"<{crs84}>"
        asked = client.get(url, params={"crs": crs84})
        assert asked.status_code == 200 and asked.json()["type"] == plain.json()["type"]
        assert_problem(
            client.get(url, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}), 400, "crs"
        )
    boxed = client.get("/api/collections/events/items",
                       params={"bbox": "38,33,39,34", "bbox-crs": crs84}).json()  # fmt: skip
    assert (
        boxed["numberMatched"]
        == client.get("/api/collections/events/items?bbox=38,33,39,34").json()["numberMatched"]
    )
    bad = client.get("/api/collections/events/items", params={"bbox": "38,33,39,34", "bbox-crs": "EPSG:4326"})
    assert_problem(bad, 400, "bbox-crs")


@pytest.mark.parametrize("url", ["/api", "/api/conformance", "/api/collections", "/api/collections/events",
                                 "/api/collections/events/items", "/api/collections/zones/items/at-tanf-dcz",
                                 "/api/locate?lon=38&lat=33"])  # fmt: skip
def test_every_resource_serves_html(client: TestClient, url: str) -> None:
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}f=html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_collections_describe_extent_crs_and_items(client: TestClient) -> None:
    body = client.get("/api/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["events", "regions", "sites", "zones", "borders"]
    for c in body["collections"]:
        assert c["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
        assert len(c["extent"]["spatial"]["bbox"][0]) == 4
        types = {link["type"] for link in c["links"] if link["rel"] == "items"}
        assert {"application/geo+json", "text/csv", "text/html"} <= types
    events = next(c for c in body["collections"] if c["id"] == "events")
    first = min(i.date.start for i in bundled().incidents)
    last = max(i.date.last for i in bundled().incidents)
    assert events["extent"]["temporal"]["interval"] == [[f"{first}T00:00:00Z", f"{last}T23:59:59Z"]]


def test_openapi_declares_limit_for_qgis_and_gdal(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    limit = doc["components"]["parameters"]["limit"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]
    assert {"$ref": "#/components/parameters/limit"} in items["parameters"]
    shared = doc["components"]["parameters"]
    names = {
        shared[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"] for p in items["parameters"]
    }
    assert {"bbox", "datetime", "in_zone", "min_p_inside", "near", "within_km", "q"} <= names
    in_zone = next(p for p in items["parameters"] if p.get("name") == "in_zone")
    assert "geodesic" in in_zone["description"] and "WGS84" in in_zone["description"]


def test_service_doc_is_local_html(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "cdn" not in response.text.lower()
    assert "in_zone" in response.text


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(38.2, 33.7), (38.83639, 33.43694), (37.68361, 33.77972), (38.61778, 33.0)],
)
def test_locate_matches_the_oracle(client: TestClient, lon: float, lat: float) -> None:
    response = client.get("/api/locate", params={"lon": lon, "lat": lat})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    az, _, d = ORACLE.inv(*GARRISON, lon, lat)
    assert body["distance_km"] == pytest.approx(d / 1000, abs=0.001)
    assert body["bearing_deg"] == pytest.approx(az % 360, abs=0.06)
    assert body["inside_zone"] is (d <= 55_000)


def test_etag_and_304(client: TestClient) -> None:
    url = "/api/collections/events/items?in_zone=inside"
    first = client.get(url)
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    assert first.headers["x-dataset-version"] == client.get("/healthz").json()["dataset_version"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(url + "&limit=3", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_errors_carry_the_version_and_are_not_cached(client: TestClient) -> None:
    response = client.get("/api/collections/events/items?limit=x")
    assert_problem(response, 400, "limit")
    assert "x-dataset-version" in response.headers
    assert response.headers["cache-control"] == "no-store"


def test_cors_is_open_for_reading_only(client: TestClient) -> None:
    response = client.get("/api/collections", headers={"Origin": "https://news.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    pre = client.options(
        "/api/collections/events/items",
        headers={"Origin": "https://news.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 200
    assert set(pre.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {
        "GET",
        "HEAD",
        "OPTIONS",
    }
    refused = client.options(
        "/api/collections/events/items",
        headers={"Origin": "https://news.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400
