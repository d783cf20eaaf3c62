"""Finished answers replayed (app.api.answer_cache): byte for byte what the app answers, keyed on
everything an answer depends on, never for conditional requests, bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.answer_cache import Answer, AnswerCache, AnswerStore
from app.data.store import FeatureStore
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings

ITEMS = "/api/collections/events/items?limit=100&in_zone=inside,uncertain"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
URLS = [
    ITEMS,
    "/api/collections/events/items?limit=5&f=csv",
    "/api/collections/regions/items?limit=3&simplify_m=50",
    "/api/collections/events/items/2017-06-08-strike-on-technical-vehicles",
    "/api",
    "/api/collections",
    "/api/conformance?f=html",
    "/api/locate?lon=38.2&lat=33.7",
]
HEADER_SETS: list[dict[str, str]] = [
    {},
    {"Accept-Encoding": "gzip"},
    {"Accept": BROWSER_ACCEPT, "Accept-Encoding": "gzip, deflate, br"},
    {"Accept": "application/geo+json"},
    {"Origin": "https://news.example"},
    {"Host": "localhost:8000"},
]


def answer_cache(client: TestClient) -> AnswerCache:
    """The AnswerCache layer of the client's app (walking its front layers)."""
    layer = client.app.front  # type: ignore[attr-defined]
    while not isinstance(layer, AnswerCache):
        layer = layer.app
    return layer


@pytest.fixture(scope="module")
def cached() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as c:
        yield c


@pytest.fixture(scope="module")
def uncached() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, answer_cache_mb=0))) as c:
        yield c


Raw = tuple[int, list[tuple[str, str]], bytes]


def raw(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Raw:
    """Status, every header in order, and the body (decoded; the wire bytes are compared below)."""
    response = client.request(method, url, headers=headers)
    return response.status_code, list(response.headers.multi_items()), response.content


@pytest.mark.parametrize("headers", HEADER_SETS, ids=lambda h: ",".join(h) or "plain")
@pytest.mark.parametrize("url", URLS)
def test_a_replayed_answer_equals_the_uncached_one(
    cached: TestClient, uncached: TestClient, url: str, headers: dict[str, str]
) -> None:
    expected = raw(uncached, "GET", url, headers)
    assert expected[0] == 200
    first = raw(cached, "GET", url, headers)
    hits = answer_cache(cached).store.hits
    again = raw(cached, "GET", url, headers)
    assert answer_cache(cached).store.hits == hits + 1  # the second one was replayed
    assert first == expected
    assert again == expected
    head_expected = raw(uncached, "HEAD", url, headers)
    head = raw(cached, "HEAD", url, headers)
    assert head == head_expected and head[2] == b""


def test_the_compressed_bytes_are_replayed_exactly(cached: TestClient, uncached: TestClient) -> None:
    def wire(client: TestClient) -> bytes:
        with client.stream("GET", ITEMS, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["content-encoding"] == "gzip"
            return b"".join(response.iter_raw())

    wire(cached)
    assert wire(cached) == wire(uncached)


def test_a_replay_runs_no_query(monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as client:
        first = client.get(ITEMS)

        def explode(self: FeatureStore, q: object) -> None:  # noqa: ARG001
            raise RuntimeError("the handler ran")

        monkeypatch.setattr(FeatureStore, "_select", explode)
        again = client.get(ITEMS)
        assert again.status_code == 200 and again.content == first.content
        # A different query is not replayed: it runs, and fails here (a 500 problem+json).
        assert client.get(ITEMS + "&offset=1").status_code == 500


@pytest.mark.parametrize(
    ("first", "second", "differs"),
    [
        ({"Host": "localhost"}, {"Host": "127.0.0.1"}, "links"),
        ({"Accept": "application/geo+json"}, {"Accept": BROWSER_ACCEPT}, "content-type"),
        ({"Accept-Encoding": "gzip"}, {"Accept-Encoding": "identity"}, "content-encoding"),
        ({"Origin": "https://news.example"}, {}, "access-control-allow-origin"),
        ({}, {"Origin": "https://news.example"}, "access-control-allow-origin"),
    ],
)
def test_what_an_answer_depends_on_is_in_the_key(
    first: dict[str, str], second: dict[str, str], differs: str
) -> None:
    """Each pair asks the same URL; the second answer must be its own, not the first's replayed."""
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as client:
        a = client.get(ITEMS, headers=first)
        b = client.get(ITEMS, headers=second)
    if differs == "links":
        assert "//localhost/" in a.json()["links"][0]["href"]
        assert "//127.0.0.1/" in b.json()["links"][0]["href"]
    else:
        assert a.headers.get(differs) != b.headers.get(differs)


def test_conditional_requests_are_left_to_the_app(cached: TestClient) -> None:
    etag = cached.get(ITEMS).headers["etag"]
    revalidated = cached.get(ITEMS, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.content == b""
    other = cached.get(ITEMS, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_errors_and_pages_outside_the_api_are_not_kept(cached: TestClient) -> None:
    store = answer_cache(cached).store
    held = len(store)
    for _ in range(2):
        assert cached.get("/api/collections/events/items?limit=x").status_code == 400
        assert cached.get("/healthz").status_code == 200
        assert cached.get("/").status_code == 200
    assert len(store) == held


def test_the_store_is_bounded_and_drops_the_least_recently_used() -> None:
    store = AnswerStore(max_bytes=100, max_entry_bytes=60)
    for n in range(5):
        store.put(("k", n), Answer(200, (), b"x" * 30))
        assert store.held_bytes <= 100
    assert len(store) == 3 and store.get(("k", 0)) is None and store.get(("k", 4)) is not None
    store.get(("k", 2))  # used: now the newest
    store.put(("k", 5), Answer(200, (), b"x" * 30))
    assert store.get(("k", 2)) is not None and store.get(("k", 3)) is None
    store.put(("big",), Answer(200, (), b"x" * 61))  # larger than one entry may be
    assert store.get(("big",)) is None and store.held_bytes <= 100
