"""A fault inside the layers that run before the framework (request log, Host and proxy rules,
kept answers) is still a 500 problem+json with the headers every error carries, never a
traceback or a dropped connection; a fault after the answer went out leaves the answer whole.
Faults are injected by replacing one step of one layer with a function that raises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import middleware
from app.api.answer_cache import AnswerStore
from app.data.store import FeatureStore
from app.errors import PROBLEM_JSON
from app.main import create_app
from app.proxy import AllowedHosts
from app.settings import BUNDLED_DATA, Settings

ITEMS = "/api/collections/events/items?limit=3"
USUAL = ("content-type", "cache-control", "x-content-type-options", "referrer-policy",
         "access-control-allow-origin", "access-control-expose-headers")  # fmt: skip


def fault(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("injected fault")


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as c:
        yield c


def usual_headers(response: Any) -> dict[str, str]:
    return {name: response.headers.get(name) for name in USUAL}


def inner_500(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A 500 made inside the framework (a handler's fault): what every error looks like."""
    with monkeypatch.context() as m:
        m.setattr(FeatureStore, "_select", fault)
        response = client.get(ITEMS + "&offset=2", headers={"Origin": "https://news.example"})
    assert response.status_code == 500
    return response


class BrokenClock:
    def perf_counter(self) -> float:
        raise RuntimeError("injected fault")


@pytest.mark.parametrize(
    ("layer", "target", "name"),
    [
        ("request log", middleware, "time"),
        ("Host rules", AllowedHosts, "allowed"),
        ("kept answers", AnswerStore, "get"),
    ],
)
def test_a_fault_before_the_framework_is_a_problem_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    layer: str, target: Any, name: str,
) -> None:  # fmt: skip
    expected = inner_500(client, monkeypatch)
    monkeypatch.setattr(target, name, BrokenClock() if name == "time" else fault)
    response = client.get(ITEMS, headers={"Origin": "https://news.example"})
    assert response.status_code == 500, layer
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["detail"] == "internal error" and "injected" not in response.text
    assert body.keys() == expected.json().keys()
    assert usual_headers(response) == usual_headers(expected)
    assert "injected fault" in caplog.text  # logged, with its traceback, for the operator


def test_a_fault_after_the_answer_leaves_it_whole(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request log's line is written after the answer: a fault there cannot spoil it."""
    expected = client.get(ITEMS)
    monkeypatch.setattr(middleware.access_log, "makeRecord", fault)
    response = client.get(ITEMS)
    assert response.status_code == 200 and response.content == expected.content
    monkeypatch.undo()
    assert client.get("/healthz").status_code == 200  # and the service goes on
