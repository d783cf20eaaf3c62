"""Static files compressed once (app.web.precompressed): the same bytes as the file, their own
ETag, conditional requests answered, an edited file compressed afresh."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.bundled import STATIC_DIR
from app.main import create_app
from app.web import precompressed
from app.web.pages import LEAFLET_DIR, leaflet_path
from app.web.precompressed import PrecompressedStaticFiles

APP_JS = "/static/js/app.js"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def test_a_text_asset_is_sent_gzipped_with_its_own_etag(client: TestClient) -> None:
    plain = client.get(APP_JS, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    with client.stream("GET", APP_JS, headers={"Accept-Encoding": "gzip, deflate, br"}) as zipped:
        wire = b"".join(zipped.iter_raw())
        headers = zipped.headers
    assert headers["content-encoding"] == "gzip" and "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(wire) == (STATIC_DIR / "js" / "app.js").read_bytes() == plain.content
    assert int(headers["content-length"]) == len(wire) < len(plain.content)
    assert headers["etag"] != plain.headers["etag"]
    assert headers["content-type"] == plain.headers["content-type"]
    assert headers["x-content-type-options"] == "nosniff"  # the app's headers still apply


def test_conditional_requests_are_answered_per_representation(client: TestClient) -> None:
    zipped = client.get(APP_JS, headers={"Accept-Encoding": "gzip"})
    again = client.get(APP_JS, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    plain_etag = client.get(APP_JS, headers={"Accept-Encoding": "identity"}).headers["etag"]
    mismatched = client.get(APP_JS, headers={"Accept-Encoding": "gzip", "If-None-Match": plain_etag})
    assert mismatched.status_code == 200


def test_leaflet_from_its_package_too(client: TestClient) -> None:
    js = client.get(leaflet_path() + "/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and js.headers["content-encoding"] == "gzip"
    assert js.content == (LEAFLET_DIR / "leaflet.js").read_bytes()


def test_compressed_once_and_again_after_an_edit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asset = tmp_path / "a.js"
    asset.write_text("console.log('first');\n" * 100)
    calls: list[int] = []
    real = gzip.compress

    def counting(data: bytes, compresslevel: int = 9, *, mtime: float | None = None) -> bytes:
        calls.append(len(data))
        return real(data, compresslevel=compresslevel, mtime=mtime)

    monkeypatch.setattr(precompressed.gzip, "compress", counting)
    app = FastAPI()
    app.mount("/s", PrecompressedStaticFiles(directory=tmp_path))
    with TestClient(app) as c:
        for _ in range(3):
            first = c.get("/s/a.js", headers={"Accept-Encoding": "gzip"})
            assert first.text.startswith("console.log('first')")
        assert len(calls) == 1
        asset.write_text("console.log('second');\n" * 100)
        os.utime(asset, (1, 1))  # a different modification time, whatever the clock's resolution
        assert c.get("/s/a.js", headers={"Accept-Encoding": "gzip"}).text.startswith("console.log('second')")
        assert len(calls) == 2
