"""Answers under way are shared (app.api.flights): identical requests that arrive while the first
is being made wait for its answer; the page is made once, errors reach every waiter, the first
client leaving does not take the others' answer with it, and waiting is bounded.

The app is driven through ASGI directly (no socket), so that clients can be made to leave at a
chosen moment; the CSV writer (``app.api.ogc._csv``, run in the thread pool) is wrapped to count
how many times the page is made, and to take a while, as a large page does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app import budget
from app.api import ogc
from app.api.answer_cache import AnswerCache
from app.main import Service, create_app
from app.settings import BUNDLED_DATA, Settings

CSV = "/api/collections/events/items?f=csv&limit=7"
N = 8
MAKING_S = 0.4  # how long the wrapped CSV writer takes: long enough for every request to arrive


@pytest.fixture(params=[64, 0], ids=["cache", "no-cache"])
def app(request: pytest.FixtureRequest) -> Iterator[Service]:
    """The app, started (data loaded); heavy pages in the thread pool."""
    settings = Settings(data_dir=BUNDLED_DATA, heavy_workers=0, answer_cache_mb=request.param)
    service = create_app(settings)
    with TestClient(service):
        yield service


def answer_cache(app: Service) -> AnswerCache:
    layer = app.front
    while not isinstance(layer, AnswerCache):
        layer = layer.app  # type: ignore[union-attr]
    return layer


class Made:
    """Wraps ``ogc._csv``: counts the pages made, and each takes ``MAKING_S`` (budget checked
    as the rows do) before it fails with ``error`` or writes the page."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.stopped = threading.Event()  # set when a making stopped because its client left
        self.error = error
        self.real = ogc._csv

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        for _ in range(int(MAKING_S / 0.02)):
            time.sleep(0.02)
            try:
                budget.check()
            except budget.ClientGone:
                self.stopped.set()
                raise
        if self.error is not None:
            raise self.error
        return self.real(*args)


def scope_for(url: str, method: str = "GET", origin: bool = False) -> dict[str, Any]:
    path, _, query = url.partition("?")
    headers = [(b"host", b"localhost"), (b"accept", b"*/*")]
    if origin:
        headers.append((b"origin", b"https://news.example"))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": query.encode(), "headers": headers, "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000)}  # fmt: skip


Raw = tuple[int, list[tuple[bytes, bytes]], bytes]


async def ask(app: Service, url: str, leave_after_s: float | None = None, **scope: Any) -> Raw:
    """One request through ASGI; its client leaves after ``leave_after_s`` (then what is sent
    after that is dropped, as uvicorn drops it)."""
    status, headers, chunks = 0, [], []
    delivered, started = False, time.monotonic()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if leave_after_s is None:
            await asyncio.Event().wait()  # never, until cancelled
        await asyncio.sleep(max(0.0, started + leave_after_s - time.monotonic()))  # type: ignore[operator]
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if leave_after_s is not None and time.monotonic() >= started + leave_after_s:
            return
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope_for(url, **scope), receive, send)
    return status, headers, b"".join(chunks)


def together(*asks: Callable[[], Any]) -> list[Raw]:
    """Run the requests at once (the first a little before the others, as it happens)."""

    async def run() -> list[Raw]:
        first = asyncio.ensure_future(asks[0]())
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(a()) for a in asks[1:]]
        return [await first, *[await r for r in rest]]

    return asyncio.run(run())


def test_identical_requests_under_way_make_the_page_once(
    app: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = Made()
    monkeypatch.setattr(ogc, "_csv", made)
    answers = together(*[lambda: ask(app, CSV)] * N)
    assert made.calls == 1
    assert answer_cache(app).shared == N - 1
    status, headers, body = answers[0]
    assert status == 200 and body.startswith(b"id,") and len(body.splitlines()) == 8
    assert all(answer == (status, headers, body) for answer in answers)
    assert not answer_cache(app).flights  # nothing left under way


def test_a_head_waits_for_the_get_under_way(app: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Made()
    monkeypatch.setattr(ogc, "_csv", made)
    (status, headers, body), head = together(lambda: ask(app, CSV), lambda: ask(app, CSV, method="HEAD"))
    assert made.calls == 1
    assert head == (status, headers, b"") and body


def test_different_requests_are_not_shared(app: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Made()
    monkeypatch.setattr(ogc, "_csv", made)
    one, other = together(lambda: ask(app, CSV), lambda: ask(app, CSV.replace("limit=7", "limit=6")))
    assert made.calls == 2
    assert len(one[2].splitlines()) == 8 and len(other[2].splitlines()) == 7


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [(RuntimeError("the disk is on fire"), 500, "internal error"),
     (budget.OverBudget("this request needed more than its 10 s of work"), 503, "more than its 10 s")],
)  # fmt: skip
def test_a_failing_page_is_every_waiters_error(
    app: Service, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int, detail: str
) -> None:
    made = Made(error)
    monkeypatch.setattr(ogc, "_csv", made)
    answers = together(*[lambda: ask(app, CSV)] * N)
    assert made.calls == 1
    for got, headers, body in answers:
        assert got == status
        assert (b"content-type", b"application/problem+json") in headers
        problem = orjson.loads(body)
        assert problem["status"] == status and detail in problem["detail"]
        assert "fire" not in problem["detail"]  # the exception's text never reaches a client
    assert len({body for _, _, body in answers}) == 1


def test_an_error_raised_in_front_of_the_framework_reaches_every_waiter(
    app: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception that escapes the whole stack (here from the layers behind the answer cache)
    is raised again for each waiter: each gets the front error layer's 500 problem+json."""
    cache = answer_cache(app)
    behind = cache.app
    calls = []

    async def failing(*_asgi: Any) -> None:
        calls.append(1)
        await asyncio.sleep(MAKING_S)
        raise RuntimeError("a fault in a front layer")

    monkeypatch.setattr(cache, "app", failing)
    answers = together(*[lambda: ask(app, CSV)] * 4)
    cache.app = behind
    assert len(calls) == 1
    for status, headers, body in answers:
        assert status == 500 and orjson.loads(body)["detail"] == "internal error"
        assert (b"cache-control", b"no-store") in headers


def test_the_first_client_leaving_does_not_cancel_the_others_answer(
    app: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = Made()
    monkeypatch.setattr(ogc, "_csv", made)
    first, *others = together(lambda: ask(app, CSV, leave_after_s=0.15), *[lambda: ask(app, CSV)] * 3)
    assert first[0] == 0  # it left before anything was sent
    assert made.calls == 1 and not made.stopped.is_set()
    for status, _, body in others:
        assert status == 200 and len(body.splitlines()) == 8


def test_when_every_client_has_left_the_work_stops(app: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Made()
    monkeypatch.setattr(ogc, "_csv", made)
    together(lambda: ask(app, CSV, leave_after_s=0.1), lambda: ask(app, CSV, leave_after_s=0.2))
    assert made.calls == 1
    assert made.stopped.is_set()  # the making saw its client gone once the waiter had gone too
    assert not answer_cache(app).flights


def test_waiting_is_bounded(app: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Made()
    monkeypatch.setattr(ogc, "_csv", made)
    monkeypatch.setattr(answer_cache(app), "wait_s", 0.1)
    first, late = together(lambda: ask(app, CSV, origin=True), lambda: ask(app, CSV, origin=True))
    assert first[0] == 200 and made.calls == 1
    status, headers, body = late
    assert status == 503 and "was not answered within 0.1 s" in orjson.loads(body)["detail"]
    assert (b"access-control-allow-origin", b"*") in headers and (b"cache-control", b"no-store") in headers
