"""Real Chromium (Debian's, driven by Playwright) against the app served on localhost."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from app.settings import Settings
from tests.live_server import serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).exists():
    if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
        raise RuntimeError("Debian's Chromium is required here: apt-get install chromium")
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def start(data_dir: Path | None = None, tile_url: str = "") -> object:
    settings = (
        Settings(tile_url=tile_url) if data_dir is None else Settings(data_dir=data_dir, tile_url=tile_url)
    )
    return serve(create_app(settings))


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The bundled data, no tile layer (so nothing at all leaves localhost)."""
    with start() as url:  # type: ignore[attr-defined]
        yield url


class Watched:
    """A page with its console errors, page errors, dialogs and requests recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("request", lambda r: self.requests.append(r.url))

    def open(self, url: str) -> Page:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready]", timeout=20_000)
        assert self.page.evaluate("document.body.dataset.ready") == "true", self.errors
        return self.page


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield Watched(context.new_page())
    context.close()


def wait_until(page: Page, expression: str, timeout_s: float = 15.0) -> None:
    """Poll a JavaScript expression until it is truthy.

    Playwright's wait_for_function polls by eval() inside the page, which the page's own CSP
    (no 'unsafe-eval') rightly forbids; page.evaluate goes through the debugger instead.
    """
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)
