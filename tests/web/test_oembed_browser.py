"""oEmbed frames in Chromium: the sizes oEmbed promises, and the messages WordPress listens for.

The messages are the ones wp-includes/js/wp-embed.js (WordPress 6.1) posts and accepts; the test
with a real WordPress is tests/web/test_wordpress.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser

from app.main import create_app
from app.settings import Settings
from tests.live_server import serve
from tests.web.conftest import wait_until
from tests.web.test_embed_browser import TECHNICALS, frame_of, host_site


@pytest.fixture(scope="module")
def map_server() -> Iterator[str]:
    with serve(create_app(Settings(tile_url=""))) as url:
        yield url


@pytest.mark.parametrize("maxwidth", [600, 400])
@pytest.mark.parametrize("flags", ["", "timeline=1", "list=1", "list=1&timeline=1"])
def test_the_oembed_frame_fits_what_the_embed_shows(
    browser: Browser, map_server: str, flags: str, maxwidth: int
) -> None:
    answer = httpx2.get(
        f"{map_server}/oembed", params={"url": f"{map_server}/embed?{flags}", "maxwidth": maxwidth}
    ).json()
    width, height = answer["width"], answer["height"]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{map_server}/embed?{flags}")
    # After the deferred regions arrive the list is not drawn again: measure the settled page.
    page.wait_for_selector("body[data-ready='true'][data-regions='true']", state="attached")
    box = page.locator("#map").bounding_box()
    assert box is not None and box["height"] >= 0.6 * width * 0.75, (box, width, height)
    if "timeline" in flags:  # the controls are whole inside the frame, not scrolled to
        controls = page.locator("#controls").bounding_box()
        assert controls is not None and controls["y"] + controls["height"] <= height
    if "list" in flags:  # and the list starts inside it
        first = page.locator("#incidents > li").first.bounding_box()
        assert first is not None and first["y"] + first["height"] <= height
    context.close()


HOST_SCRIPT = """
window.__messages = [];
window.addEventListener("message", function (e) {
  if (e.source === document.getElementById("map").contentWindow) window.__messages.push(e.data);
});
"""


def wordpress_host(directory: Path, src: str) -> str:
    """An article whose frame is sandboxed as WordPress sandboxes a discovered provider."""
    (directory / "host.js").write_text(HOST_SCRIPT, encoding="utf-8")
    (directory / "wp.html").write_text(
        '<!doctype html><html><head><script src="host.js"></script></head><body><h1>An article</h1>'
        f'<iframe id="map" sandbox="allow-scripts" src="{src}" width="500" height="400" '
        'title="map"></iframe></body></html>',
        encoding="utf-8",
    )
    return "wp.html"


def messages(page, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    found: list[dict] = page.evaluate(f"window.__messages.filter(m => m && m.message === {kind!r})")
    return found


def test_the_embed_asks_wordpress_to_open_the_full_map(
    browser: Browser, map_server: str, tmp_path: Path
) -> None:
    secret = "aB3dE5gH7j"
    with host_site(tmp_path) as port:
        name = wordpress_host(tmp_path, f"{map_server}/embed?sel={TECHNICALS}#?secret={secret}")
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://localhost:{port}/{name}")
        frame = frame_of(page)
        wait_until(page, "window.__messages.some(m => m && m.message === 'height')")
        assert all(m["secret"] == secret for m in messages(page, "height"))
        frame.locator("#full-map").click()
        wait_until(page, "window.__messages.some(m => m && m.message === 'link')")
        (link,) = messages(page, "link")
        # Absolute and on the frame's own host (wp-embed.js follows nothing else), with the state
        # (the view "v=" joins it once the map has settled).
        assert link["secret"] == secret and link["value"].startswith(f"{map_server}/?")
        assert f"sel={TECHNICALS}" in link["value"]
        assert len(context.pages) == 1  # no popup tried (the sandbox would block it anyway)
        context.close()


def test_the_embed_answers_wordpress_ready_with_a_secret_added_later(
    browser: Browser, map_server: str, tmp_path: Path
) -> None:
    """For a registered provider wp-embed.js appends "#?secret=…" to the loaded frame's src,
    then posts {message: "ready", secret}: the embed must answer with its height."""
    with host_site(tmp_path) as port:
        name = wordpress_host(tmp_path, f"{map_server}/embed")
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://localhost:{port}/{name}")
        frame_of(page)
        page.wait_for_timeout(300)
        assert messages(page, "height") == []  # no secret, no WordPress message
        page.evaluate(
            """() => { const f = document.getElementById("map");
            f.src += "#?secret=Zz9Yy8Xx7W";
            f.contentWindow.postMessage({message: "ready", secret: "Zz9Yy8Xx7W"}, "*"); }"""
        )
        wait_until(page, "window.__messages.some(m => m && m.message === 'height')")
        assert {m["secret"] for m in messages(page, "height")} == {"Zz9Yy8Xx7W"}
        # A "ready" with another secret (another frame's) is not answered.
        before = len(messages(page, "height"))
        page.evaluate(
            """() => document.getElementById("map").contentWindow.postMessage(
            {message: "ready", secret: "other00000"}, "*")"""
        )
        page.wait_for_timeout(300)
        assert len(messages(page, "height")) == before
        context.close()
