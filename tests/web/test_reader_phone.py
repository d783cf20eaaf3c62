"""The map and the embed on phones and tablets (issue 18): legend, tap, layout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import start
from tests.web.test_reader_markers import reveal

TECHNICALS = "2017-06-08-strike-on-technical-vehicles"
TECHNICALS_TITLE = "Coalition strike on pro-regime technical vehicles"


@pytest.fixture(scope="module")
def tiled_url() -> Iterator[str]:
    """A tile layer (on localhost, answering 404) so the attribution is as long as in production."""
    with start(tile_url="/no-such-tiles/{z}/{x}/{y}.png") as url:  # type: ignore[attr-defined]
        yield url


def phone(browser: Browser, width: int, height: int = 740) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    return context.new_page()


def rect(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not on screen"
    return box


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("path", ["/", "/embed"])
@pytest.mark.parametrize("width", [320, 375, 414])
def test_the_legend_button_is_never_under_the_attribution(
    browser: Browser, tiled_url: str, path: str, width: int
) -> None:
    page = phone(browser, width)
    page.goto(f"{tiled_url}{path}")
    page.wait_for_selector("body[data-ready='true']")
    page.get_by_text("tiles could not be loaded").wait_for()  # the notice shares the bottom corner
    toggle = rect(page, ".legend-toggle")
    for other in (".leaflet-control-attribution", ".notice"):
        assert not overlap(toggle, rect(page, other)), f"the legend button is under {other} at {width}px"
    # A tap on the button lands on the button, and the open legend stays clear of the attribution.
    x, y = toggle["x"] + toggle["width"] / 2, toggle["y"] + toggle["height"] / 2
    hit = page.evaluate(f"document.elementFromPoint({x}, {y}).closest('.legend-toggle') !== null")
    assert hit
    page.locator(".legend-toggle").tap()
    assert page.locator(".legend-toggle").get_attribute("aria-expanded") == "true"
    page.locator(".legend-body li").first.wait_for()  # the legend's words load when it first opens
    page.wait_for_timeout(100)
    assert not overlap(rect(page, ".legend"), rect(page, ".leaflet-control-attribution"))
    page.context.close()


def test_a_tap_on_a_marker_keeps_the_map_in_view(browser: Browser, tiled_url: str) -> None:
    page = phone(browser, 375, 812)
    page.goto(f"{tiled_url}/")
    page.wait_for_selector("body[data-ready='true']")
    reveal(page, TECHNICALS_TITLE)  # out of the numbered circle round the garrison, if in it
    page.locator(f'.incident-icon[title="{TECHNICALS_TITLE}"]').tap()
    page.wait_for_timeout(500)  # the pan
    assert f"sel={TECHNICALS}" in page.url
    assert page.evaluate("window.scrollY") == 0, "the tap scrolled the page away from the map"
    sheet = page.locator("#sheet")
    assert sheet.is_visible() and TECHNICALS_TITLE in sheet.inner_text()
    # The map stays on screen, and the tapped marker stays in its uncovered part.
    map_box, sheet_box = rect(page, "#map"), rect(page, "#sheet")
    assert sheet_box["y"] - map_box["y"] >= 200, "less than 200 px of map left above the card"
    marker = rect(page, f'.incident-icon[title="{TECHNICALS_TITLE}"]')
    assert map_box["y"] <= marker["y"] and marker["y"] + marker["height"] <= sheet_box["y"]
    assert 0 <= marker["x"] and marker["x"] + marker["width"] <= 375
    # The way back: the sheet closes and the selection goes with it.
    page.get_by_role("button", name="Back to the map").tap()
    assert not sheet.is_visible()
    assert "sel=" not in page.url
    page.context.close()


def test_on_a_tablet_the_map_has_at_least_half_the_width(browser: Browser, tiled_url: str) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    page.goto(f"{tiled_url}/")
    page.wait_for_selector("body[data-ready='true']")
    assert rect(page, "#map")["width"] >= 384
    assert rect(page, ".panel")["width"] >= 260  # and the list stays readable beside it
    context.close()


# The incident markers drawn (not in a numbered circle) whose symbol meets the legend's box.
UNDER_THE_LEGEND = """() => {
  const l = document.querySelector('#map .legend').getBoundingClientRect();
  return [...document.querySelectorAll('#map .incident-icon:not(.stacked)')].map((e) => {
    const r = e.querySelector('svg').getBoundingClientRect();
    const meets = r.left < l.right && l.left < r.right && r.top < l.bottom && l.top < r.bottom;
    return [e.getAttribute('aria-label'), meets];
  }).filter(([, under]) => under).map(([name]) => name);
}"""


def test_markers_make_way_for_the_legend_on_a_phone(browser: Browser, tiled_url: str) -> None:
    """Opening the legend, then its "More", takes room from the map: the markers are placed again
    clear of it (they stayed where they were, three under the legend's "More" at 375 px). Where a
    crowd has no room on its side of the zone's line its circle may stay under it (the side
    rule first: tests/web/test_reader_zone_side.py); a marker alone finds room."""
    page = phone(browser, 375, 812)
    page.goto(f"{tiled_url}/")
    page.wait_for_selector("body[data-ready='true']")
    page.locator(".legend-toggle").tap()
    page.wait_for_selector("#legend-body:not([hidden])")
    page.wait_for_timeout(300)
    assert page.evaluate(UNDER_THE_LEGEND) == [], "legend open"
    page.locator(".legend-more > summary").tap()  # the rest of the legend, taller still
    page.wait_for_timeout(300)
    assert page.evaluate(UNDER_THE_LEGEND) == [], "whole legend open"
    page.locator(".legend-toggle").tap()  # closed: the room is back, and the markers with it
    page.wait_for_timeout(300)
    moved_back = page.evaluate("[...document.querySelectorAll('#map .incident-icon:not(.stacked)')].length")
    assert moved_back
    page.context.close()
