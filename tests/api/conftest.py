from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import BUNDLED_DATA
from tests.conftest import ServedBy

PROBLEM = "application/problem+json"


@pytest.fixture(scope="session")
def client(served_by: ServedBy) -> Iterator[TestClient]:
    """The bundled data served by each store in turn (``served_by``)."""
    with TestClient(create_app(served_by(BUNDLED_DATA))) as c:
        yield c


def assert_problem(response: httpx2.Response, status: int, parameter: str | None = None) -> dict[str, Any]:
    """The one error shape: RFC 9457 problem+json with the OGC code/description members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "instance", "code", "description"}
    assert body["status"] == status
    assert "Traceback" not in response.text and 'File "' not in response.text
    if parameter is not None:
        assert body.get("parameter") == parameter
        assert parameter in body["detail"]
    return body


def features_of(response: httpx2.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"])
    features: list[dict[str, Any]] = body["features"]
    return features
