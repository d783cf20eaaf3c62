"""HTTP semantics (RFC 9110/9112) and error answers that keep their headers, on every route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.api.conftest import assert_problem

EVENTS = "/api/collections/events/items"
ORIGIN = {"Origin": "https://news.example"}


@pytest.fixture(scope="module")
def failing_client() -> Iterator[TestClient]:
    """The service with one route that fails the way an unexpected bug would."""
    app: FastAPI = create_app(Settings(data_dir=BUNDLED_DATA))

    def boom() -> None:
        raise OverflowError("an unexpected bug")

    app.add_api_route("/api/boom", boom)
    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def assert_error_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["cache-control"] == "no-store"
    assert headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("url", ["/api/boom", "/boom"])
def test_a_500_is_problem_json_with_the_security_headers_cors_and_no_store(
    failing_client: TestClient, url: str
) -> None:
    response = failing_client.get(url, headers=ORIGIN)
    body = assert_problem(response, 500)
    assert "unexpected bug" not in response.text and body["detail"] == "internal error"
    assert_error_headers(response)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("POST", EVENTS, 405),
        ("DELETE", "/", 405),
        ("PUT", "/embed/map.svg", 405),
        ("GET", "/nowhere", 404),
        ("GET", "/api/collections/nowhere", 404),
        ("GET", f"{EVENTS}?limit=0", 400),
        ("GET", "/embed/map.svg?width=1", 400),
        ("GET", "/oembed?url=http://elsewhere.example/", 404),
        ("GET", "/static/nothing.js", 404),
    ],
)
def test_every_error_keeps_the_security_headers_cors_and_no_store(
    client: TestClient, method: str, url: str, status: int
) -> None:
    response = client.request(method, url, headers=ORIGIN)
    assert response.status_code == status
    assert_error_headers(response)


@pytest.mark.parametrize("url", [f"{EVENTS}?limit=0", "/api/collections/nowhere", f"{EVENTS}/nothing-here"])
def test_if_none_match_star_is_never_a_304_for_an_error(client: TestClient, url: str) -> None:
    response = client.get(url, headers={"If-None-Match": "*"})
    assert response.status_code in (400, 404)


def test_if_none_match_star_is_a_304_when_there_is_a_representation(client: TestClient) -> None:
    response = client.get(EVENTS, headers={"If-None-Match": "*"})
    assert response.status_code == 304 and response.content == b""


def test_gzip_and_identity_bodies_have_different_etags(client: TestClient) -> None:
    zipped = client.get(EVENTS, headers={"Accept-Encoding": "gzip"})
    plain = client.get(EVENTS, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.json() == plain.json()
    # Each validator revalidates its own representation, and only that one.
    again = client.get(EVENTS, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == zipped.headers["etag"]
    again = client.get(
        EVENTS, headers={"Accept-Encoding": "identity", "If-None-Match": plain.headers["etag"]}
    )
    assert again.status_code == 304 and again.headers["etag"] == plain.headers["etag"]
    other = client.get(
        EVENTS, headers={"Accept-Encoding": "identity", "If-None-Match": zipped.headers["etag"]}
    )
    assert other.status_code == 200 and other.headers["etag"] == plain.headers["etag"]


def test_static_files_have_an_etag_per_coding_too(client: TestClient) -> None:
    url = "/static/js/app.js"
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] != plain.headers["etag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == zipped.headers["etag"]


def test_a_304_varies_like_its_200(client: TestClient) -> None:
    first = client.get(EVENTS)
    again = client.get(EVENTS, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    vary = {v.strip().lower() for v in again.headers["vary"].split(",")}
    assert vary == {v.strip().lower() for v in first.headers["vary"].split(",")}
    assert {"accept", "accept-encoding"} <= vary
    assert again.headers["cache-control"] == first.headers["cache-control"]


@pytest.mark.parametrize(
    "headers",
    [
        [("host", "testserver"), ("host", "elsewhere.example")],
        [("host", "testserver"), ("host", "testserver")],
        [],
    ],
    ids=["two-hosts", "the-same-host-twice", "no-host"],
)
@pytest.mark.parametrize("url", ["/", EVENTS, "/oembed?url=http://testserver/"])
def test_two_host_headers_or_none_are_a_400(url: str, headers: list[tuple[str, str]]) -> None:
    """RFC 9112 §3.2; through the ASGI app directly, as the test client always sends one Host."""
    import asyncio
    import threading

    app = create_app(Settings(data_dir=BUNDLED_DATA))
    path, _, query = url.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": [(k.encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "app": app,
    }  # fmt: skip
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    # In a thread of its own: a browser test's event loop may be running in this one.
    worker = threading.Thread(target=lambda: asyncio.run(run()))
    worker.start()
    worker.join()
    assert sent[0]["status"] == 400
    body = b"".join(m.get("body", b"") for m in sent[1:])  # type: ignore[misc]
    assert b"Host" in body


def test_an_http_1_0_request_may_omit_host() -> None:
    """RFC 9112 §3.2 asks Host of HTTP/1.1 requests only."""
    import socket

    from tests.live_server import serve

    with serve(create_app(Settings(data_dir=BUNDLED_DATA))) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    ("value", "kept"),
    [("\t=1+2", "'\t=1+2"), ("\r=cmd", "'\r=cmd"), ("\t5", "'\t5"), ("=A1", "'=A1"), ("-5", "-5")],
)
def test_the_csv_guard_covers_tab_and_carriage_return(value: str, kept: str) -> None:
    """OWASP CSV injection: a cell starting with = + - @ TAB or CR is kept text (a number stays)."""
    from app.api.formats import _csv_cell

    assert _csv_cell(value) == kept
