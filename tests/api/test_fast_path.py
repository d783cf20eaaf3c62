"""The fast path (app.api.answer_cache, in front of every other layer) answers exactly as the
framework path does: the same status, every header in order, the same body, for the same
requests, conditional ones (304) included; ``/healthz`` too. A Host the rules refuse is never
answered from it nor kept in it, and what a trusted proxy forwards stays apart from what anyone
else sends. Each comparison is between two real answers: the first (made by the whole stack, or
by an app with no kept answers) and the replay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.answer_cache import MAX_HEALTH_ANSWERS, AnswerCache
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings

ITEMS = "/api/collections/events/items?limit=100&in_zone=inside,uncertain"
Raw = tuple[int, list[tuple[str, str]], bytes]


def fast_path(client: TestClient) -> AnswerCache:
    layer = client.app.front  # type: ignore[attr-defined]
    while not isinstance(layer, AnswerCache):
        layer = layer.app
    return layer


def raw(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Raw:
    response = client.request(method, url, headers=headers)
    return response.status_code, list(response.headers.multi_items()), response.content


@pytest.fixture(scope="module")
def kept() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as c:
        yield c


@pytest.fixture(scope="module")
def framework() -> Iterator[TestClient]:
    """No kept API answers: every /api request runs the framework."""
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, answer_cache_mb=0))) as c:
        yield c


def etags(client: TestClient) -> tuple[str, str]:
    plain = client.get(ITEMS, headers={"Accept-Encoding": "identity"}).headers["etag"]
    zipped = client.get(ITEMS, headers={"Accept-Encoding": "gzip"}).headers["etag"]
    assert zipped != plain and zipped.endswith('-gzip"')
    return plain, zipped


CONDITIONS = ["plain etag", "gzip etag", "gzip etag, no gzip", "weak", "star", "another", "two listed"]


def condition(name: str, plain: str, zipped: str) -> dict[str, str]:
    return {
        "plain etag": {"If-None-Match": plain, "Accept-Encoding": "identity"},
        "gzip etag": {"If-None-Match": zipped, "Accept-Encoding": "gzip"},
        "gzip etag, no gzip": {"If-None-Match": zipped, "Accept-Encoding": "identity"},
        "weak": {"If-None-Match": "W/" + plain, "Origin": "https://news.example"},
        "star": {"If-None-Match": "*", "Accept-Encoding": "gzip"},
        "another": {"If-None-Match": '"something-else"'},
        "two listed": {"If-None-Match": f'"x", {zipped}', "Accept-Encoding": "gzip, br"},
    }[name]


@pytest.mark.parametrize("name", CONDITIONS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_conditional_request_is_replayed_as_the_framework_answers_it(
    kept: TestClient, framework: TestClient, name: str, method: str
) -> None:
    headers = condition(name, *etags(framework))
    expected = raw(framework, method, ITEMS, headers)
    if method == "GET":
        assert raw(kept, "GET", ITEMS, headers) == expected  # made by the stack, and kept
    hits = fast_path(kept).store.hits
    assert raw(kept, method, ITEMS, headers) == expected
    assert fast_path(kept).store.hits == hits + 1  # answered by the fast path
    if name in ("plain etag", "gzip etag", "weak", "star", "two listed"):
        assert expected[0] == 304 and expected[2] == b""
    else:
        assert expected[0] == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "https://news.example"}, {"Accept-Encoding": "gzip"}, {"Host": "127.0.0.1:8000"}],
    ids=["plain", "origin", "gzip", "host"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_healthz_is_answered_in_front_as_the_framework_answers_it(
    headers: dict[str, str], method: str
) -> None:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, answer_cache_mb=0))) as client:
        layer = fast_path(client)
        assert layer.health == {}
        expected = raw(client, "GET", "/healthz", headers)  # the framework's answer, kept
        assert expected[0] == 200 and len(layer.health) == 1
        replayed = raw(client, method, "/healthz", headers)
        assert len(layer.health) == 1
        assert replayed[:2] == expected[:2]
        assert replayed[2] == (b"" if method == "HEAD" else expected[2])


def test_healthz_is_not_run_by_the_framework_again(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Settings(data_dir=BUNDLED_DATA))
    with TestClient(app) as client:
        first = raw(client, "GET", "/healthz", {})

        async def framework_ran(*_args: object) -> None:
            raise AssertionError("the framework ran")

        monkeypatch.setattr(app, "framework", framework_ran)
        layer = fast_path(client)
        while hasattr(layer, "app"):  # the whole stack behind the fast path, down to the framework
            last, layer = layer, layer.app
        last.app = framework_ran
        assert raw(client, "GET", "/healthz", {}) == first


@pytest.mark.parametrize("forged", ["evil.example", "localhost.evil.example", "localhost@evil", "[::2]"])
def test_a_forged_host_is_never_answered_from_the_fast_path_nor_kept(kept: TestClient, forged: str) -> None:
    good = kept.get(ITEMS, headers={"Host": "localhost"})
    assert good.status_code == 200
    store = fast_path(kept).store
    for _ in range(2):
        refused = kept.get(ITEMS, headers={"Host": forged})
        assert refused.status_code == 400 and forged not in refused.text
        assert refused.headers["cache-control"] == "no-store"
    hosts = {key[5] for key in store._entries}
    assert forged.encode() not in hosts and hosts <= {b"localhost", b"testserver", b"127.0.0.1:8000", None}


def test_a_public_url_answers_every_host_alike() -> None:
    settings = Settings(data_dir=BUNDLED_DATA, public_url="https://maps.example.org/tanf/", allowed_hosts=[])
    with TestClient(create_app(settings)) as client:
        a = raw(client, "GET", "/api", {"Host": "anything.example"})
        b = raw(client, "GET", "/api", {"Host": "other.example"})
        assert a == b and b"https://maps.example.org/tanf/api" in a[2]
        assert fast_path(client).store.hits == 1
        assert {key[5] for key in fast_path(client).store._entries} == {None}


def test_forwarded_headers_are_kept_apart_by_who_sent_them() -> None:
    """The same forwarded headers from a trusted proxy make the links; from anyone else they do
    not, and neither answer is replayed to the other."""
    settings = Settings(data_dir=BUNDLED_DATA, allowed_hosts=["maps.example.org"],
                        forwarded_allow_ips=["10.0.0.0/8"])  # fmt: skip
    app = create_app(settings)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/tanf"}
    proxy = TestClient(app, base_url="http://maps.example.org", client=("10.0.0.7", 4000))
    stranger = TestClient(app, base_url="http://maps.example.org", client=("192.0.2.1", 4000))
    with proxy, stranger:
        for _ in range(2):
            through_proxy = proxy.get("/api", headers=forwarded).json()["links"][0]["href"]
            from_stranger = stranger.get("/api", headers=forwarded).json()["links"][0]["href"]
            plain = proxy.get("/api").json()["links"][0]["href"]
            assert through_proxy == "https://maps.example.org/tanf/api"
            assert from_stranger == plain == "http://maps.example.org/api"
        assert fast_path(proxy).store.hits == 3  # the second round was replayed


def test_with_a_public_url_and_allowed_hosts_a_forged_host_is_still_refused() -> None:
    """There the Host is not part of an answer (every link names the public URL), so the key
    leaves it out: the Host rules must still be applied before a replay."""
    settings = Settings(data_dir=BUNDLED_DATA, public_url="https://maps.example.org/tanf/",
                        allowed_hosts=["maps.example.org"])  # fmt: skip
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            assert client.get("/api", headers={"Host": "maps.example.org"}).status_code == 200
        refused = client.get("/api", headers={"Host": "evil.example"})
        assert refused.status_code == 400 and refused.headers["cache-control"] == "no-store"
        assert fast_path(client).store.hits == 1


def test_healthz_answers_stay_few_and_a_new_one_is_still_kept() -> None:
    """Its table is bounded (a client may send any Accept-Encoding), and when full it starts
    again rather than keeping the first answers for ever (a new dataset version needs its own)."""
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as client:
        layer = fast_path(client)
        for n in range(MAX_HEALTH_ANSWERS + 5):
            assert client.get("/healthz", headers={"Accept-Encoding": f"x-{n}"}).status_code == 200
            assert len(layer.health) <= MAX_HEALTH_ANSWERS
        last = {"Accept-Encoding": f"x-{MAX_HEALTH_ANSWERS + 4}"}
        assert raw(client, "GET", "/healthz", last) == raw(client, "GET", "/healthz", last)
        assert any(key[7] == last["Accept-Encoding"].encode() for key in layer.health)
