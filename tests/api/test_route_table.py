"""The lean route table (app.routing) answers every route exactly as FastAPI's router did: the
same status, every header, the same body, errors included; what it does not take (a static file,
a route with other parameters, a method no route takes, a trailing slash) goes on to the router.
Each comparison is between two real answers: the app as served (the table's routes not even
passing the framework's entry), and the same app whose table is taken out (FastAPI's entry and
router answering everything, as before issue 16)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.routing import RouteTable
from app.settings import BUNDLED_DATA, Settings

ITEMS = "/api/collections/events/items?limit=100&in_zone=inside,uncertain"
FEATURE = "/api/collections/events/items/2016-06-16-russian-strikes-new-syrian-army"
URLS = [
    "/healthz",
    "/api",
    "/api/",
    "/api/conformance",
    "/api/collections",
    "/api/collections/events",
    "/api/collections/events?f=html",
    "/api/collections/events/queryables",
    "/api/collections/zone/queryables",  # a 404 of the endpoint's own
    ITEMS,
    ITEMS + "&f=csv",
    ITEMS + "&f=html",
    FEATURE,
    FEATURE + "?f=html",
    "/api/collections/events/items/no-such-incident",
    "/api/collections/nowhere/items",
    "/api/collections/events/items?limit=zero",  # 400 naming the parameter
    "/api/collections/events/items?colour=red",
    "/api/collections/%C3%A9v%C3%A9nements/items",
    "/api/collections/events/grid?zoom=6",
    "/api/locate?lon=38.5&lat=33.4",
    "/api/openapi.json",
    "/api/docs",
    "/",
    "/embed?lang=en",
    "/embed/host.js",  # takes no Request: FastAPI's router
    "/oembed?url=http%3A%2F%2Ftestserver%2Fembed",
    "/api/collections/",  # no route: the router's redirect of the trailing slash
    "/api/nothing-here",
    "/static/map.js",
]


def table_of(client: TestClient) -> RouteTable:
    table = client.app.router.middleware_stack  # type: ignore[attr-defined]
    assert isinstance(table, RouteTable)
    return table


@pytest.fixture(scope="module")
def lean() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, answer_cache_mb=0))) as c:
        yield c


@pytest.fixture(scope="module")
def router() -> Iterator[TestClient]:
    """The same app with FastAPI's entry and router answering every request."""
    app = create_app(Settings(data_dir=BUNDLED_DATA, answer_cache_mb=0))
    app.router.middleware_stack = table_of(TestClient(app)).fallback
    app.table = None
    with TestClient(app) as c:
        yield c


def answer(client: TestClient, method: str, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    response = client.request(method, url, headers={"Origin": "https://news.example"}, follow_redirects=False)
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "date"]
    return response.status_code, headers, response.content


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("url", URLS)
def test_every_route_answers_as_fastapis_router_does(
    lean: TestClient, router: TestClient, url: str, method: str
) -> None:
    assert answer(lean, method, url) == answer(router, method, url)


def test_the_api_and_pages_are_served_by_the_table(lean: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests for the API's and the pages' routes never reach FastAPI's router; the others do."""
    table = table_of(lean)
    reached: list[str] = []
    fallback = table.fallback

    async def counting(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            reached.append(scope["path"])
        await fallback(scope, receive, send)

    monkeypatch.setattr(table, "fallback", counting)
    for url in (ITEMS, FEATURE, "/api/collections/nowhere/items", "/api?f=html", "/", "/healthz"):
        assert lean.get(url).status_code in (200, 404)
    assert reached == []
    for url in ("/embed/host.js", "/static/map.js", "/api/collections/"):
        lean.get(url, follow_redirects=False)
    assert reached == ["/embed/host.js", "/static/map.js", "/api/collections/"]


def test_the_tables_routes_do_not_pass_the_frameworks_entry(
    lean: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their requests go through the app's middleware straight into the table; FastAPI's entry
    (and the framework's layers behind it) see only what the table does not take."""
    entered: list[str] = []
    entry = FastAPI.__call__

    async def counting(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            entered.append(f"{scope['method']} {scope['path']}")
        await entry(self, scope, receive, send)

    monkeypatch.setattr(FastAPI, "__call__", counting)
    for url in (ITEMS, FEATURE, "/api/collections/nowhere/items", "/api?f=html", "/"):
        assert lean.get(url).status_code in (200, 404)
        assert lean.head(url).status_code in (200, 404)
    assert lean.get("/api/collections/events/items?limit=zero").status_code == 400
    assert entered == []
    lean.get("/static/map.js")
    lean.post("/api/collections")
    lean.options("/api/collections")
    assert entered == ["GET /static/map.js", "POST /api/collections", "OPTIONS /api/collections"]


def test_a_method_no_route_takes_is_the_routers_405(lean: TestClient) -> None:
    response = lean.post("/api/collections")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
