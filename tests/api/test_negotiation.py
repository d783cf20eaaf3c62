"""Content negotiation by ``Accept`` with q-values (RFC 9110 §12.5.1); ``f=`` still wins."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_problem

EVENTS = "/api/collections/events/items"
ITEM = f"{EVENTS}/2017-06-08-strike-on-technical-vehicles"
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
CSV = "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    ("path", "accept", "expected"),
    [
        # the cases: a lower q for HTML, and q=0 (not acceptable at all)
        (EVENTS, "application/geo+json;q=1, text/html;q=0.5", GEOJSON),
        (EVENTS, "text/html;q=0, */*", GEOJSON),
        ("/api/collections", "text/html;q=0.1, application/json;q=0.9", JSON),
        ("/api/collections", "text/html;q=0, */*;q=0.5", JSON),
        # a browser's header still gets HTML (its */* has a lower q)
        (EVENTS, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML),
        ("/api", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML),
        # the most specific range gives a type its quality
        (EVENTS, "text/*;q=0.9, text/html;q=0.1, application/geo+json;q=0.5", CSV),
        (EVENTS, "text/csv;q=0.2, application/*;q=0.3", GEOJSON),
        (EVENTS, "application/json", GEOJSON),
        # GeoJSON ruled out by name or range (q=0) while JSON is acceptable: the same body as JSON
        (EVENTS, "application/geo+json;q=0, application/json", JSON),
        (EVENTS, "application/geo+json;q=0, */*", JSON),
        (EVENTS, "application/*;q=0.5, application/geo+json;q=0", JSON),
        (ITEM, "*/*;q=0, application/json", JSON),
        (ITEM, "application/geo+json, application/json", GEOJSON),
        # no Accept, or anything: JSON
        (EVENTS, "", GEOJSON),
        ("/api/conformance", "*/*", JSON),
    ],
)
def test_accept_with_q_values(client: TestClient, path: str, accept: str, expected: str) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == expected


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        (EVENTS, "text/html;q=0"),
        ("/api/collections", "text/html;q=0"),
        (EVENTS, "image/png"),
        ("/api/collections", "text/csv"),  # only items have CSV
        (f"{EVENTS}/2017-06-08-strike-on-technical-vehicles", "application/geo+json;q=0, text/html;q=0"),
        (EVENTS, "garbage"),
    ],
)
def test_nothing_acceptable_is_406(client: TestClient, path: str, accept: str) -> None:
    body = assert_problem(client.get(path, headers={"Accept": accept}), 406, "Accept")
    assert "'f'" in body["detail"]  # says how to ask for a format anyway


def test_f_wins_over_accept(client: TestClient) -> None:
    response = client.get(EVENTS, params={"f": "html"}, headers={"Accept": "text/html;q=0"})
    assert response.headers["content-type"] == HTML
    response = client.get(EVENTS, params={"f": "csv"}, headers={"Accept": "application/geo+json"})
    assert response.headers["content-type"] == CSV
