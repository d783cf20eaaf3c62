"""Headers per route family, reading methods only, targeted bad input, hostile text, request logs."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.data.loader import DataError, load_dataset
from app.main import create_app
from app.settings import BUNDLED_DATA
from tests.api.conftest import assert_problem
from tests.conftest import ServedBy, bundled, located_count
from tests.hostile import PAYLOAD, hostile_data

EVENTS = "/api/collections/events/items"


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory, served_by: ServedBy) -> Iterator[TestClient]:
    data = hostile_data(BUNDLED_DATA, tmp_path_factory.mktemp("hostile") / "geodata")
    with TestClient(create_app(served_by(data))) as c:
        yield c


# Route families and what their answers must carry.
HTML_PAGES = ["/", "/embed", "/api?f=html", "/api/docs", f"{EVENTS}?f=html"]


@pytest.mark.parametrize("url", HTML_PAGES)
def test_html_pages_have_a_strict_csp(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert csp["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == ("*" if url.startswith("/embed") else "'self'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "geolocation=()" in response.headers["permissions-policy"]
    assert "<script>" not in response.text  # no inline script on any page


@pytest.mark.parametrize(
    "url",
    [EVENTS, "/api", "/healthz", "/static/js/app.js", "/embed/map.svg", "/oembed?url=http://testserver/"],
)
def test_every_answer_is_nosniff(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


def test_svg_cannot_run_anything_on_its_own(client: TestClient) -> None:
    assert client.get("/embed/map.svg").headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE"])
@pytest.mark.parametrize("url", ["/", EVENTS, "/static/js/app.js", "/embed", "/nowhere"])
def test_only_reading_methods_exist(client: TestClient, method: str, url: str) -> None:
    response = client.request(method, url)
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_options_lists_the_methods(client: TestClient) -> None:
    response = client.options(EVENTS)
    assert response.status_code == 204 and response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_head_works(client: TestClient) -> None:
    response = client.head(EVENTS)
    assert response.status_code == 200 and response.content == b""


TARGETED = [
    ("limit=-1", "limit"),
    ("limit=1e3", "limit"),
    ("offset=99999999999999999999", "offset"),
    ("bbox=1e308,0,1e309,1", "bbox"),
    ("bbox=-inf,0,1,1", "bbox"),
    ("bbox=NaN,NaN,NaN,NaN", "bbox"),
    ("min_p_inside=NaN", "min_p_inside"),
    ("min_p_inside=-0.5", "min_p_inside"),
    ("near=1e400,0&within_km=1", "near"),
    ("near=38,33&within_km=1e9", "within_km"),
    ("near=38,33&within_km=0", "within_km"),
    ("q=" + "ا" * 300, "q"),
    ("event_type=" + "x" * 10_000, "event_type"),
    ("bbox=٣٣,١,٢,٣", "bbox"),
    ("datetime=2018-01-01/2017-01-01", "datetime"),
    ("datetime=2017-06-01/2017-06-30/2017-07-01", "datetime"),
    ("datetime=" + "9" * 500, "datetime"),
    ("in_zone=inside&in_zone=outside", "in_zone"),
    ("bbox=0,0,1,1&bbox=0,0,2,2", "bbox"),
    ("x" * 5000 + "=1", None),
]


@pytest.mark.parametrize(("query", "parameter"), TARGETED)
def test_targeted_bad_input_is_a_named_400(client: TestClient, query: str, parameter: str | None) -> None:
    body = assert_problem(client.get(f"{EVENTS}?{query}"), 400, parameter)
    assert len(body["detail"]) < 300  # oversized input is not echoed back


def test_a_huge_limit_is_clamped_not_refused(client: TestClient) -> None:
    response = client.get(f"{EVENTS}?limit=99999999999999999999")
    assert response.status_code == 200 and response.json()["numberReturned"] == len(bundled().incidents)


def test_a_bbox_across_the_antimeridian_is_valid(client: TestClient) -> None:
    """OGC API: minlon > maxlon is a box across the antimeridian; nothing of ours is there."""
    response = client.get(f"{EVENTS}?bbox=170,-10,-170,10")
    assert response.status_code == 200 and response.json()["numberMatched"] == 0
    wide = client.get(f"{EVENTS}?bbox=30,30,-170,40")  # from 30°E eastwards to 170°W
    assert wide.json()["numberMatched"] == located_count()


@pytest.mark.parametrize(
    "url",
    [
        "/static/..%2f..%2fpyproject.toml",
        "/static/../pyproject.toml",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        f"{EVENTS}/..%2f..%2fetc%2fpasswd",
        "/api/collections/..%2fevents/items",
        "/embed/..%2f..%2fapp/main.py",
    ],
)
def test_path_traversal_finds_nothing(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "[project]" not in response.text and "root:" not in response.text


def test_unicode_text_search_works(client: TestClient) -> None:
    assert client.get(f"{EVENTS}?q=" + "Ṭanf").status_code == 200


def test_the_api_returns_hostile_text_as_data(hostile_client: TestClient) -> None:
    features = hostile_client.get(f"{EVENTS}?limit=1000").json()["features"]
    assert all(f["properties"]["title"].startswith(PAYLOAD) for f in features)
    quotes = [s["quote"] for f in features for s in f["properties"]["sources"] if s["quote"]]
    assert quotes and all(q.startswith(PAYLOAD) for q in quotes)


def test_html_views_escape_hostile_text(hostile_client: TestClient) -> None:
    for url in ["/", "/embed", f"{EVENTS}?f=html", "/api/collections/sites/items?f=html"]:
        text = hostile_client.get(url).text
        assert "<img src=x" not in text and "<script>window" not in text and "<svg onload" not in text, url


def test_svg_escapes_hostile_text(hostile_client: TestClient) -> None:
    svg = hostile_client.get("/embed/map.svg").text
    root = ET.fromstring(svg)  # still well-formed
    assert root.find("{http://www.w3.org/2000/svg}script") is None
    assert "<img src=x" not in svg and "<script>" not in svg and "&lt;img src=x" in svg


def test_oembed_escapes_hostile_text(hostile_client: TestClient) -> None:
    html = hostile_client.get("/oembed", params={"url": "http://testserver/"}).json()["html"]
    # <blockquote><a>…</a></blockquote><iframe ...></iframe> and nothing else
    assert html.count("<") == 6 and "<img" not in html


def test_javascript_urls_are_refused_at_load(tmp_path: Path) -> None:
    data = hostile_data(BUNDLED_DATA, tmp_path / "geodata")
    sources = data / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8").replace(
        "url: https://www.cnn.com/2017/06/06/", "url: javascript:alert(1)//"), encoding="utf-8")  # fmt: skip
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    assert any(p.file.endswith("sources.yaml") and p.field == "url" for p in caught.value.problems)


def test_one_json_log_line_per_request_without_oversized_input(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get(f"{EVENTS}?q=" + "z" * 5000)
        client.get("/healthz")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.access"]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", EVENTS, 400),
        ("GET", "/healthz", 200),
    ]
    assert all(isinstance(line["ms"], float) for line in lines)
    assert len(lines[0]["query"]) <= 201 and "z" * 300 not in caplog.text
