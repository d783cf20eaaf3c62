"""Which body a client gets is what its ``Accept-Encoding`` says (RFC 9110 §12.5.3), read as a
list of weighted codings, not searched for the letters "gzip": ``gzip;q=0`` rules gzip out,
codings are case-insensitive, ``x-gzip`` is gzip (§8.4.1.3), ``*`` stands for any coding not
named. Each body keeps its own ETag (§8.8.3)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.caching import accepts_gzip

API = "/api/collections/events/items"
STATIC = "/static/js/app.js"


@pytest.mark.parametrize(
    ("header", "gzip"),
    [
        ("gzip", True),
        ("gzip;q=0, identity", False),  # before: gzip (the substring test)
        ("gzip; q=0", False),
        ("identity, gzip;q=0.000", False),
        ("GZIP", True),  # before: identity
        ("x-gzip", True),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),  # the named coding wins over *
        ("br, gzip;q=0.5", True),
        ("identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
@pytest.mark.parametrize("path", [API, STATIC])
def test_the_body_is_coded_as_accept_encoding_allows(
    client: TestClient, path: str, header: str, gzip: bool
) -> None:
    assert accepts_gzip(header) is gzip
    response = client.get(path, headers={"Accept-Encoding": header})
    assert response.status_code == 200
    assert (response.headers.get("content-encoding") == "gzip") is gzip, response.headers
    plain = client.get(path, headers={"Accept-Encoding": "identity"}).headers["etag"]
    assert (response.headers["etag"] != plain) is gzip  # one ETag per body (§8.8.3)
    assert "accept-encoding" in response.headers["vary"].lower()


def test_a_client_refusing_gzip_revalidates_the_identity_body(client: TestClient) -> None:
    etag = client.get(API, headers={"Accept-Encoding": "identity"}).headers["etag"]
    again = client.get(API, headers={"Accept-Encoding": "gzip;q=0", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
