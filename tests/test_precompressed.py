"""Static files compressed once (app.web.precompressed): the same bytes compressed or not (our
JavaScript and CSS without their comments), their own ETag, conditional requests answered, an
edited file compressed afresh."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.bundled import STATIC_DIR
from app.main import create_app
from app.web import precompressed
from app.web.pages import LEAFLET_DIR, leaflet_path
from app.web.precompressed import PrecompressedStaticFiles, lean

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
    source = (STATIC_DIR / "js" / "app.js").read_bytes()
    assert gzip.decompress(wire) == lean(APP_JS, source) == plain.content
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
    assert js.content == lean("leaflet.js", (LEAFLET_DIR / "leaflet.js").read_bytes())
    assert js.content.startswith(b"/* @preserve")  # its licence kept


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


def test_lean_css_loses_its_comments_and_keeps_licences_and_strings() -> None:
    css = b'/* a note */\n.a { color: red; } /*! licence */\n.b::before { content: "/* kept */"; }\n'
    out = lean("x.css", css)
    assert b"a note" not in out and b"/*! licence */" in out and b'content:"/* kept */"' in out
    assert lean("x.json", b'{"a": "// not code"}\n') == b'{"a": "// not code"}\n'


NODE = shutil.which("node")


@pytest.mark.skipif(
    NODE is None, reason="Node.js not installed (apt-get install nodejs): needed to parse the modules"
)
def test_every_lean_module_still_parses(tmp_path: Path) -> None:
    """Each of our modules, lean, is still a valid module (parsed by Node.js); the browser tests
    run the map on the lean modules."""
    for source in sorted((STATIC_DIR / "js").glob("*.js")):
        out = tmp_path / f"{source.stem}.mjs"
        out.write_bytes(lean(source.name, source.read_bytes()))
        done = subprocess.run([NODE, "--check", str(out)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (source.name, done.stderr)


# What a minifier that read JavaScript line by line, or by pattern, would break: comment signs in
# a template literal, a string and a regular expression, a division next to a regex-like slash, a
# line the automatic semicolon insertion ends.
TRICKY_JS = b"""// a comment for readers
const t = `one
  // not a comment: inside the template ${1 /* inside */ + 1}
`;
const s = 'two // not a comment either /* nor this */';
const r = /\\/\\//g; // a regex of two slashes
const a = 6
const half = a / 2 / 1
let n = a
++n
console.log(JSON.stringify([t, s, "x//y//".replace(r, "-"), half, n]));
"""


@pytest.mark.skipif(
    NODE is None, reason="Node.js not installed (apt-get install nodejs): needed to run the code"
)
def test_lean_javascript_runs_as_the_source_runs(tmp_path: Path) -> None:
    """Node.js runs the source and its lean form: the same output, and the comments are gone."""
    outputs = []
    for name, code in (("source.mjs", TRICKY_JS), ("lean.mjs", lean("x.js", TRICKY_JS))):
        (tmp_path / name).write_bytes(code)
        done = subprocess.run([NODE, str(tmp_path / name)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (name, done.stderr)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and "not a comment: inside the template" in outputs[0]
    assert b"a comment for readers" not in lean("x.js", TRICKY_JS)
