"""Bad input: one problem+json shape, a 400 naming the parameter, 404 for unknown things."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.api.conftest import assert_problem

EVENTS = "/api/collections/events/items"

BAD_PARAMETERS = [
    ("bbox=1,2,3", "bbox"),
    ("bbox=0,0,200,10", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=0,10,1,5", "bbox"),
    ("bbox=nan,0,1,1", "bbox"),
    ("datetime=yesterday", "datetime"),
    ("datetime=2017-06-30/2017-06-01", "datetime"),
    ("datetime=../..", "datetime"),
    ("datetime=2017-13-01", "datetime"),
    ("datetime=0000-13-01T00:00:00Z/2017-06-01", "datetime"),  # a year-0000 start is still checked
    ("datetime=0000-01-01", "datetime"),  # and is only an interval's start
    ("limit=unlimited", "limit"),
    ("limit=0", "limit"),
    ("limit=-5", "limit"),
    ("offset=-1", "offset"),
    ("near=abc", "near"),
    ("near=38.6,33.5", "within_km"),
    ("within_km=30", "near"),
    ("near=38.6,133.5&within_km=3", "near"),
    ("near=38.6,33.5&within_km=-3", "within_km"),
    ("near=38.6,33.5&within_km=inf", "within_km"),
    ("min_p_inside=2", "min_p_inside"),
    ("min_p_inside=abc", "min_p_inside"),
    ("in_zone=maybe", "in_zone"),
    ("in_zone=inside,maybe", "in_zone"),
    ("q=" + "x" * 500, "q"),
    ("f=xml", "f"),
    ("colour=red", "colour"),
    ("limit=5&limit=6", "limit"),
]


@pytest.mark.parametrize(("query", "parameter"), BAD_PARAMETERS)
def test_bad_item_parameters_are_400_naming_the_parameter(
    client: TestClient, query: str, parameter: str
) -> None:
    assert_problem(client.get(f"{EVENTS}?{query}"), 400, parameter)


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/collections/sites/items?in_zone=inside", "in_zone"),  # not a filter of sites
        ("/api/collections?limit=3", "limit"),
        ("/api?foo=1", "foo"),
        ("/api/conformance?f=csv", "f"),
        ("/api/locate?lon=38", "lat"),
        ("/api/locate?lon=abc&lat=33", "lon"),
        ("/api/locate?lon=38&lat=95", "lat"),
        ("/api/locate?lon=38&lat=33&zoom=3", "zoom"),
        (f"{EVENTS}/2017-06-08-drone-shot-down?limit=3", "limit"),
    ],
)
def test_other_bad_parameters_are_400(client: TestClient, url: str, parameter: str) -> None:
    assert_problem(client.get(url), 400, parameter)


@pytest.mark.parametrize(
    "url",
    [
        "/api/collections/nope",
        "/api/collections/nope/items",
        f"{EVENTS}/no-such-incident",
        f"{EVENTS}/..%2f..%2fetc%2fpasswd",
        "/api/nothing-here",
    ],
)
def test_unknown_things_are_404(client: TestClient, url: str) -> None:
    assert_problem(client.get(url), 404)


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    assert_problem(client.post(EVENTS), 405)


def test_internal_errors_do_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception becomes a generic 500; its text stays in the log."""
    from app.data.store import FeatureStore

    def explode(self: FeatureStore, q: object) -> None:  # noqa: ARG001 - the signature of _select
        raise RuntimeError("secret internal detail /etc/at-tanf")

    monkeypatch.setattr(FeatureStore, "_select", explode)  # what every query and page goes through
    # A fresh app: the shared one may already keep a finished answer for this URL (app.api.answer_cache).
    client_no_raise = TestClient(create_app(), raise_server_exceptions=False)
    with client_no_raise:
        response = client_no_raise.get(EVENTS)
    body = assert_problem(response, 500)
    assert "secret" not in response.text and body["detail"] == "internal error"
