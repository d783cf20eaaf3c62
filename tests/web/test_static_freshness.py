"""Static files after an upgrade, in real Chromium: the map's own files (paths with no version)
are used only once revalidated, so a reader who comes back after an upgrade runs the new code,
not a browser's guess of a freshness (RFC 9111 §4.2.2: a tenth of the file's age, days for a
file a month old); Leaflet's files (a versioned path) are kept a year without asking."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx2
from fastapi import FastAPI
from playwright.sync_api import Browser

from app.web.pages import LEAFLET_VERSION
from app.web.precompressed import PrecompressedStaticFiles
from tests.live_server import serve
from tests.web.conftest import wait_until

MONTH_S = 30 * 24 * 3600
PAGE = '<!doctype html><title>-</title><script type="module" src="code.js"></script>'


def _write(path: Path, text: str, age_s: float) -> None:
    path.write_text(text, encoding="utf-8")
    then = time.time() - age_s
    os.utime(path, (then, then))


def test_a_module_changed_by_an_upgrade_is_run_at_the_next_visit(browser: Browser, tmp_path: Path) -> None:
    app = FastAPI()
    app.mount("/static", PrecompressedStaticFiles(directory=tmp_path))
    code = tmp_path / "code.js"
    _write(code, 'import "./part.js"; document.title = "old";', MONTH_S)
    _write(tmp_path / "part.js", "export {};", MONTH_S)
    context = browser.new_context()
    page = context.new_page()
    try:
        with serve(app) as url:
            for n, expected in [(1, "old"), (2, "new")]:
                _write(tmp_path / f"page{n}.html", PAGE, MONTH_S)
                page.goto(f"{url}/static/page{n}.html")  # another page: its module from the cache
                wait_until(page, "document.title !== '-'")  # the module ran
                assert page.title() == expected
                _write(code, 'import "./part.js"; document.title = "new"; // upgraded', MONTH_S)
    finally:
        context.close()


def test_the_map_and_leaflet_say_how_long_they_may_be_kept(base_url: str) -> None:
    own = httpx2.get(f"{base_url}/static/js/main.js", headers={"Accept-Encoding": "gzip"})
    again = httpx2.get(f"{base_url}/static/js/main.js", headers={"If-None-Match": own.headers["etag"],
                                                                  "Accept-Encoding": "gzip"})  # fmt: skip
    leaflet = httpx2.get(f"{base_url}/static/vendor/leaflet-{LEAFLET_VERSION}/leaflet.js")
    assert (own.status_code, again.status_code, leaflet.status_code) == (200, 304, 200)
    assert own.headers["cache-control"] == again.headers["cache-control"] == "no-cache"
    assert leaflet.headers["cache-control"] == "public, max-age=31536000, immutable"
