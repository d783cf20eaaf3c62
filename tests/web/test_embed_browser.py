"""The embed in real host pages (another origin, a sandbox, an allow-list) and the exported file."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Frame, Page

from app.main import create_app
from app.settings import Settings
from tests.conftest import located_count
from tests.live_server import free_port, serve
from tests.web.conftest import ARTIFACTS, Watched, wait_until

TECHNICALS = "2017-06-08-strike-on-technical-vehicles"


@contextmanager
def host_site(directory: Path) -> Iterator[int]:
    """A plain static web server for host pages: another origin than the map's."""
    port = free_port()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


def host_page(
    directory: Path, name: str, map_url: str, iframe_attrs: str = "", query: str = f"sel={TECHNICALS}"
) -> str:
    (directory / name).write_text(
        "<!doctype html><html><body><h1>An article</h1><p>Text before.</p>"
        f'<iframe id="map" src="{map_url}/embed?{query}" width="500" height="300" {iframe_attrs} '
        'title="map"></iframe>'
        f'<script src="{map_url}/embed/host.js"></script><p>Text after.</p></body></html>',
        encoding="utf-8",
    )
    return name


def frame_of(page: Page) -> Frame:
    frame = page.frame_locator("#map")
    frame.locator("body[data-ready='true']").wait_for(timeout=20_000)
    found = next(f for f in page.frames if "/embed" in f.url)
    return found


@pytest.fixture(scope="module")
def map_server() -> Iterator[str]:
    with serve(create_app(Settings(tile_url=""))) as url:
        yield url


def test_embed_in_another_origin_renders_and_resizes(
    browser: Browser, map_server: str, tmp_path: Path
) -> None:
    # The host is "localhost", the map "127.0.0.1": two origins.
    with host_site(tmp_path) as port:
        # With its list the embed is taller than the 300 px the article gives it.
        name = host_page(tmp_path, "article.html", map_server, query=f"list=1&sel={TECHNICALS}")
        context = browser.new_context()
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.goto(f"http://localhost:{port}/{name}")
        frame = frame_of(page)
        assert frame.locator(".leaflet-marker-icon.incident-icon").count() > 0
        assert not [m for m in console if "Content Security Policy" in m], console
        wait_until(page, "document.getElementById('map').style.height !== ''")
        # The embed may report again as it settles (legend, late layers): the host must follow
        # to the frame's final height, whatever the intermediate reports were.
        # The host caps a frame at 4000 px (static/embed/host.js), as tall as the longest list.
        deadline = time.monotonic() + 10
        while True:
            reported = page.evaluate("parseInt(document.getElementById('map').style.height)")
            wanted = min(4000, frame.evaluate("document.documentElement.scrollHeight"))
            if reported == wanted or time.monotonic() > deadline:
                break
            page.wait_for_timeout(100)
        assert reported == wanted
        assert reported > 300  # grown past the iframe's own height attribute by the host script
        # No wheel zoom: the article keeps scrolling.
        assert frame.evaluate("window.__atTanfMap.map.scrollWheelZoom.enabled()") is False
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "embed-in-article.png"))
        context.close()


def test_embed_in_a_sandboxed_iframe_still_loads_its_data(
    browser: Browser, map_server: str, tmp_path: Path
) -> None:
    with host_site(tmp_path) as port:
        name = host_page(tmp_path, "sandboxed.html", map_server, 'sandbox="allow-scripts"')
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://localhost:{port}/{name}")
        frame = frame_of(page)
        assert frame.evaluate("window.origin") == "null"
        events = httpx2.get(f"{map_server}/api/collections/events/items?limit=1000").json()["features"]
        located = sum(1 for f in events if f["geometry"])
        assert frame.locator(".leaflet-marker-icon.incident-icon").count() == located
        frame.locator("body[data-regions='true']").wait_for()
        assert errors == []
        context.close()


def test_a_host_outside_the_allow_list_is_refused(browser: Browser, tmp_path: Path) -> None:
    with host_site(tmp_path) as port:
        allowed = f"http://localhost:{port}"
        with serve(create_app(Settings(tile_url="", embed_frame_ancestors=allowed))) as map_url:
            name = host_page(tmp_path, "article.html", map_url)
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{allowed}/{name}")
            frame_of(page)  # allowed: it renders
            page.goto(f"http://127.0.0.1:{port}/{name}")  # the same page from another origin
            page.wait_for_timeout(1500)
            frames = [f.url for f in page.frames if f != page.main_frame]
            assert frames and all(not url.startswith(map_url) for url in frames), frames
            assert not any(
                f.evaluate("document.body && document.body.dataset.ready") == "true"
                for f in page.frames if f != page.main_frame and f.url.startswith("http")
            )  # fmt: skip
            context.close()


def test_static_mode_makes_no_interactive_map(browser: Browser, map_server: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 480})
    page = context.new_page()
    page.goto(f"{map_server}/embed?static=1&status=inside")
    image = page.locator("img.static-map")
    image.wait_for()
    wait_until(page, "document.querySelector('img.static-map').naturalWidth > 0")
    assert page.locator(".leaflet-container").count() == 0
    assert page.evaluate("typeof window.L") == "undefined"
    assert "inside" in (image.get_attribute("alt") or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


def test_embed_fits_320_px_and_its_budget(browser: Browser, map_server: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 420})
    page = context.new_page()
    finished: list = []
    page.on("requestfinished", lambda r: finished.append(r))
    page.goto(f"{map_server}/embed")
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_selector("body[data-regions='true']")
    page.wait_for_load_state("networkidle")
    # Everything the first view loads counts (the regions too: the embed loads only those of
    # the incident selected or pointed at, tests/web/test_embed_figure.py).
    first_view = sum(r.sizes()["responseBodySize"] for r in finished)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-320.png"))
    (ARTIFACTS / "embed-first-view-bytes.txt").write_text(f"{first_view}\n")
    context.close()
    # DESIGN.md: under 100 KB compressed before tiles (a light listing; a card's details when
    # it opens).
    assert first_view < 100_000, f"embed first view is {first_view} bytes compressed"


def test_the_full_map_offers_the_embed_code(watched: Watched, map_server: str) -> None:
    page = watched.open(f"{map_server}/?from=2017-06-01&sel={TECHNICALS}")
    page.locator("#embed-button").click()
    wait_until(page, "document.querySelector('#embed-code').value.includes('<iframe')")
    code = page.locator("#embed-code").input_value()
    assert code.count("<iframe") == 1 and f"{map_server}/embed?" in code
    assert "from=2017-06-01" in code and f"sel={TECHNICALS}" in code
    page.locator("#embed-width").fill("400")
    page.locator("#embed-width").dispatch_event("change")
    assert 'width="400"' in page.locator("#embed-code").input_value()
    page.locator("#embed-preview iframe").wait_for()
    page.locator("#embed-copy").click()
    # The copy goes through the clipboard API (a promise): its status appears a moment later.
    wait_until(page, "document.querySelector('#embed-status').textContent.trim() !== ''")


def test_exported_file_works_offline(browser: Browser, tmp_path: Path) -> None:
    from app.cli import main

    target = tmp_path / "at-tanf.html"
    assert main(["export", str(target), "--tile-url", ""]) == 0
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []

    def only_files(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_files)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(target.as_uri())
    page.wait_for_selector(".incident", state="attached")
    from app.data.catalog import build_catalog
    from app.data.loader import load_dataset
    from app.settings import BUNDLED_DATA

    catalog = build_catalog(load_dataset(BUNDLED_DATA))
    located = sum(1 for d in catalog.incidents if d.point is not None)
    assert page.locator(".leaflet-marker-icon.incident").count() == located
    assert page.locator("path[stroke='#7b3294'][stroke-width='2.5']").count() == 1
    assert errors == [] and outside == []
    page.locator(".leaflet-marker-icon.incident").first.dispatch_event("click")
    assert "Sources" in page.locator(".leaflet-popup-content").inner_text()
    context.close()


def test_exported_file_renders_hostile_text_as_text(browser: Browser, tmp_path: Path) -> None:
    """Every text field carries payloads (tests/hostile.py): each popup shows them as text."""
    from app.cli import main
    from app.settings import BUNDLED_DATA
    from tests.hostile import PAYLOAD, hostile_data

    data = hostile_data(BUNDLED_DATA, tmp_path / "geodata")
    target = tmp_path / "hostile.html"
    assert main(["export", str(target), "--data-dir", str(data), "--tile-url", ""]) == 0
    context = browser.new_context()
    page = context.new_page()
    page.goto(target.as_uri())
    page.wait_for_selector(".incident", state="attached")
    markers = page.locator(".leaflet-marker-icon.incident").all()
    assert len(markers) == located_count()
    for marker in markers:
        marker.dispatch_event("click")
        # The popup just opened is the last one (a closed one may still be fading out).
        assert PAYLOAD.strip()[:40] in page.locator(".leaflet-popup-content").last.inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator(".leaflet-popup-content img, .leaflet-popup-content script").count() == 0
    context.close()


@pytest.mark.parametrize(("width", "height"), [(600, 450), (320, 450)])
def test_the_timeline_embed_fits_an_undersized_frame(
    browser: Browser, map_server: str, width: int, height: int
) -> None:
    """timeline=1 in a frame shorter than the map and the time controls (the dialog adds 460 px
    for them): the filters and the sources line ran out of the frame, out of reach where the host
    does not resize it. Now the map keeps its 200 px, the controls scroll under it, every one
    reachable, and the sources line is in the frame."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{map_server}/embed?timeline=1")
    page.wait_for_selector("body[data-ready='true']")
    assert page.evaluate("document.documentElement.scrollHeight") <= height, "the page runs out of the frame"
    foot = page.locator(".embed-foot").bounding_box()
    assert foot is not None and foot["y"] + foot["height"] <= height + 0.5, foot
    assert page.locator("#map").bounding_box()["height"] >= 199  # type: ignore[index]
    # The last control, scrolled to within the controls, is in the frame and takes a click.
    last = page.locator("#controls input[type=checkbox]").last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, box
    was = last.is_checked()
    last.click()
    assert last.is_checked() != was
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"embed-timeline-{width}x{height}.png"))
    context.close()


def test_a_host_grows_a_short_timeline_embed_to_fit(
    browser: Browser, map_server: str, tmp_path: Path
) -> None:
    """The embed reports the height it takes unscrolled, so host.js grows a 300 px frame until the
    map and the whole timeline show (the controls scroll only where the frame stays short)."""
    with host_site(tmp_path) as port:
        name = host_page(tmp_path, "timeline.html", map_server, query="timeline=1")
        context = browser.new_context(viewport={"width": 900, "height": 1400})
        page = context.new_page()
        page.goto(f"http://localhost:{port}/{name}")
        frame = frame_of(page)
        wait_until(page, "parseInt(document.getElementById('map').style.height || 0) > 600")
        page.wait_for_timeout(500)
        controls = "document.getElementById('controls')"
        assert frame.evaluate(f"{controls}.scrollHeight <= {controls}.clientHeight + 1"), (
            "grown, the frame still scrolls the controls"
        )
        context.close()
