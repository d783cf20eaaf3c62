"""PostgreSQL stopped while the service serves from it, then started again, on a cluster of this
module's own (the session's stays up): requests answer 503 in the one error shape with
Retry-After, ``/healthz`` says 503 so a load balancer stops sending traffic, and once the server
is back no request fails on a pooled connection that died with it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.data.pg_load import load
from app.data.pg_store import pool
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.api.conftest import assert_problem
from tests.postgres import Cluster, cluster

ITEMS = "/api/collections/events/items"


@pytest.fixture(scope="module")
def own() -> Iterator[Cluster]:
    with cluster() as running:
        yield running


def _unavailable(client: TestClient, path: str, **params: object) -> None:
    started = time.monotonic()
    answer = client.get(path, params=params)
    assert_problem(answer, 503)
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["cache-control"] == "no-store"
    assert time.monotonic() - started < 10  # the pool's wait, not its 30 s


@pytest.fixture
def client(own: Cluster) -> Iterator[TestClient]:
    """The service on a database of ``own``'s, its pool full: every connection dies with the server."""
    url = own.database()
    load(BUNDLED_DATA, url)
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, database_url=url))) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get(ITEMS, params={"limit": 1}).status_code == 200
        pool(url).wait()
        yield client


def test_the_database_away_answers_503_with_retry_after(own: Cluster, client: TestClient) -> None:
    own.stop()
    try:
        _unavailable(client, "/healthz")  # a load balancer sends the traffic elsewhere
        _unavailable(client, ITEMS, limit=2)
        _unavailable(client, f"{ITEMS}/2016-10-16-rukban-checkpoint-attack")
    finally:
        own.start()
    health = client.get("/healthz")
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok"


def test_after_a_restart_no_request_fails_on_a_dead_pooled_connection(
    own: Cluster, client: TestClient
) -> None:
    own.stop()
    own.start()
    for limit in range(2, 14):  # more requests than the pool holds connections, each a new answer
        answer = client.get(ITEMS, params={"limit": limit})
        assert answer.status_code == 200, answer.text
    assert client.get("/healthz").status_code == 200
