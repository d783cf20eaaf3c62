"""Bounded work (app.budget): a request past its time budget ends in a 503 problem+json; a
request whose client has gone stops drawing and answers nobody (logged as 499)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import budget
from app.export import svg
from app.export.kept import Kept
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.api.conftest import assert_problem

HEAVY = [
    "/api/collections/events/items?f=csv&limit=50",
    "/api/collections/events/items?f=html&limit=50",
    "/api/collections/regions/items?limit=50",
    "/embed/map.svg?width=640",
]


@pytest.fixture(scope="module")
def no_time() -> Iterator[TestClient]:
    """Every request is over its budget from its first check on."""
    settings = Settings(data_dir=BUNDLED_DATA, request_budget_s=1e-9, answer_cache_mb=0)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize("url", HEAVY)
def test_work_past_its_budget_is_a_503_problem(
    no_time: TestClient, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No drawing kept by an earlier test: a kept one is answered without work, so within budget.
    monkeypatch.setattr(svg, "_drawings", Kept(svg.KEPT_DRAWINGS))
    body = assert_problem(no_time.get(url), 503)
    assert "more than its 1e-09 s of work" in body["detail"]


def test_cheap_requests_never_check_and_pass(no_time: TestClient) -> None:
    assert no_time.get("/healthz").status_code == 200
    assert no_time.get("/api/collections").status_code == 200


def test_within_budget_the_same_urls_answer(client: TestClient) -> None:
    for url in HEAVY:
        assert client.get(url).status_code == 200, url


def test_a_drawing_stops_when_its_client_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client disconnects while the SVG is being drawn (in the thread pool): the drawing stops
    at its next check, never reaching the markers, and the request is answered 499 to nobody."""
    started, markers_drawn = threading.Event(), []
    real_regions = svg._shown_regions

    def regions_then_wait(*args: Any) -> Any:
        started.set()
        for _ in range(500):  # until the guard has seen the disconnect (at most 5 s)
            found = budget.current.get()
            if found is not None and found.gone:
                break
            threading.Event().wait(0.01)
        return real_regions(*args)

    monkeypatch.setattr(svg, "_shown_regions", regions_then_wait)
    monkeypatch.setattr(svg, "_markers", lambda *_a: markers_drawn.append(1) or [])
    app = create_app(Settings(data_dir=BUNDLED_DATA))
    sent: list[dict[str, Any]] = []

    async def scenario() -> None:
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive() -> dict[str, Any]:
            message = next(messages, None)
            if message is not None:
                return message
            while not started.is_set():
                await asyncio.sleep(0.005)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": "/embed/map.svg", "raw_path": b"/embed/map.svg",
                 "root_path": "", "query_string": b"sel=x", "server": ("127.0.0.1", 8000),
                 "client": ("127.0.0.1", 5000), "headers": [(b"host", b"127.0.0.1")]}  # fmt: skip
        await app(scope, receive, send)

    with TestClient(app):  # start-up: the data loaded
        # In a thread of its own: the browser tests' driver may have left an event loop running here.
        runner = threading.Thread(target=asyncio.run, args=(scenario(),))
        runner.start()
        runner.join(timeout=60)
    assert started.is_set() and not markers_drawn
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [budget.CLIENT_CLOSED_REQUEST]
