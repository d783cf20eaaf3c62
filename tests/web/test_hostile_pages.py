"""Every text field carries HTML/JS payloads: the map and the embed show them as text, run nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from app.settings import BUNDLED_DATA
from tests.conftest import bundled
from tests.hostile import PAYLOAD, hostile_data
from tests.web.conftest import start


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = hostile_data(BUNDLED_DATA, tmp_path_factory.mktemp("hostile") / "geodata")
    with start(data_dir=data) as url:  # type: ignore[attr-defined]
        yield url


def assert_inert(page: Page) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src='x'], svg[onload], script:not([src])").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    assert all(h.startswith(("http://", "https://", "/", "?", "#")) for h in hrefs), hrefs


@pytest.mark.parametrize("path", ["/", "/embed?list=1&timeline=1"])
def test_every_card_shows_payloads_as_text(browser: Browser, hostile_url: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{hostile_url}{path}")
    page.wait_for_selector("body[data-ready='true']")
    buttons = page.locator("#incidents .incident-button")
    assert buttons.count() == len(bundled().incidents)
    for i in range(buttons.count()):
        buttons.nth(i).click()
        card = page.locator("#incidents article.card")
        assert PAYLOAD.strip()[:40] in card.inner_text()
        assert_inert(page)
    # The card once: in the list beside the map (no popup repeats it), in the embed under the
    # map; and the site labels.
    page.wait_for_timeout(400)
    if path == "/":
        assert page.locator(".leaflet-popup").count() == 0
    else:
        assert page.locator("#embed-card").count() == 1
        assert PAYLOAD.strip()[:40] in page.locator("#embed-card").inner_text()
    assert PAYLOAD.strip()[:40] in (page.locator(".site-label").first.text_content() or "")
    assert page.locator("#summary").inner_text().startswith("Map of the")
    assert dialogs == []
    assert_inert(page)
    context.close()


def test_the_svg_image_of_hostile_data_is_inert(browser: Browser, hostile_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{hostile_url}/embed/map.svg")
    assert page.evaluate("window.__xss") is None
    assert "window.__xss=1" in page.locator("svg").inner_html()  # drawn as text
    context.close()


def test_static_embed_of_hostile_data_is_inert(browser: Browser, hostile_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{hostile_url}/embed?static=1")
    page.wait_for_selector("img.static-map")
    assert_inert(page)
    context.close()
