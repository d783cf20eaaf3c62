"""Markers that would overlap are moved aside, each visible and clickable (issue 18).

The contested strike of 6 June 2017 was half covered by the medevac request of the same day: a
click at its centre selected the other incident. Here, at the first view and at each zoom the
zoom buttons offer around it, no two markers' hit areas overlap by more than a few pixels, and
the point at each marker's drawn centre belongs to that marker.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import wait_until

CONTESTED = "2017-06-06-coalition-strike"
SIZES = [(375, 812), (768, 1024), (1440, 900)]
SLACK_PX = 2  # overlap allowed between two hit areas (anti-aliasing, rounding)

# Every marker's hit area (its element's box) and whether the point at its drawn centre is its own.
MARKERS = """() => [...document.querySelectorAll('#map .incident-icon')].map((e) => {
  const box = e.getBoundingClientRect();
  const drawn = e.querySelector('svg').getBoundingClientRect();
  const [cx, cy] = [(drawn.left + drawn.right) / 2, (drawn.top + drawn.bottom) / 2];
  const hit = document.elementFromPoint(cx, cy);
  const control = hit && hit.closest('.leaflet-control');
  return { name: e.getAttribute('aria-label'), control: Boolean(control),
           x0: box.left, y0: box.top, x1: box.right, y1: box.bottom,
           cx, cy, own: Boolean(hit && hit.closest('.incident-icon') === e) };
})"""


def check_markers(page: Page, where: str) -> None:
    markers = page.evaluate(MARKERS)
    assert markers, where
    (area,) = page.eval_on_selector_all("#map", "els => els.map(e => e.getBoundingClientRect().toJSON())")
    for i, a in enumerate(markers):
        for b in markers[i + 1 :]:
            ox = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            oy = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            pair = f"{a['name']!r} and {b['name']!r}"
            assert min(ox, oy) <= SLACK_PX, f"{where}: {pair} overlap {ox:.0f}x{oy:.0f} px"
        inside = area["left"] <= a["cx"] <= area["right"] and area["top"] <= a["cy"] <= area["bottom"]
        if inside and not a["control"]:  # (off the map or under a control: nothing to click)
            assert a["own"], f"{where}: a click at the centre of {a['name']!r} lands on something else"


def zoom_by(page: Page, button: str) -> None:
    zoom = page.evaluate("window.__atTanfMap.map.getZoom()")
    page.get_by_role("button", name=button).click()
    wait_until(page, f"window.__atTanfMap.map.getZoom() !== {zoom}")
    wait_until(page, "!document.querySelector('#map.leaflet-zoom-anim, #map .leaflet-zoom-anim')")
    page.wait_for_timeout(50)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_marker_covers_another_at_any_zoom(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{base_url}/")
    page.wait_for_selector("body[data-ready='true']")
    first = page.evaluate("window.__atTanfMap.map.getZoom()")
    check_markers(page, f"{width}px, first view (zoom {first})")
    for _ in range(6):  # in, half a zoom step at a time, to 3 steps beyond the first view
        zoom_by(page, "Zoom in")
        check_markers(page, f"{width}px, zoom {page.evaluate('window.__atTanfMap.map.getZoom()')}")
    for _ in range(8):  # and out, to one step before it
        zoom_by(page, "Zoom out")
        check_markers(page, f"{width}px, zoom {page.evaluate('window.__atTanfMap.map.getZoom()')}")
    page.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_click_on_the_contested_strike_selects_it(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{base_url}/")
    page.wait_for_selector("body[data-ready='true']")
    title = "Coalition strike on pro-regime forces that would not leave the zone"
    drawn = page.locator(f'#map .incident-icon[title="{title}"] svg')
    box = drawn.bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_until(page, f"location.search.includes('sel={CONTESTED}')")
    page.close()


def test_no_marker_covers_another_in_the_embed(browser: Browser, base_url: str) -> None:
    for width, height in [(320, 450), (600, 450)]:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{base_url}/embed?sel={CONTESTED}")
        page.wait_for_selector("body[data-ready='true']")
        check_markers(page, f"embed at {width}px")
        page.close()
