"""Every control is a target a finger can hit (issue 18; WCAG 2.2 SC 2.5.8 Target Size (Minimum)).

The phone's "Legend" button was 55x23 px, the attribution's link 14 px tall. Here, on a 375 px
touch screen, every control of the map and the embed (zoom, "Show all", "Legend", the
attribution's links) is at least 44x44 px (SC 2.5.5's size, for touch) or, for the attribution's
links in their line of text, at least 24 px tall; every control of the time range and the filters
(a checkbox counts with its label, which a tap on also toggles) and the embed's "Open the full map"
are at least 24x24 px; and with a mouse at 1440 px every one is at least 24x24 px.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.web.test_reader_markers import open_at

MINIMUM_PX = 24  # SC 2.5.8
TOUCH_PX = 44  # SC 2.5.5 (AAA), what the map's own controls give on a touch screen

# Every visible control (a checkbox as its label), with its box and whether it is the map's own.
TARGETS = """() => {
  const shown = (e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden';
  const controls = [...document.querySelectorAll(
    '.leaflet-control a[href], .leaflet-control button, .leaflet-control summary, '
    + '#controls select, #controls input:not([type=checkbox]), #controls button, #controls label.check, '
    + '#full-map')];
  return controls.filter(shown).map((e) => {
    const r = e.getBoundingClientRect();
    return { name: (e.getAttribute('aria-label') || e.textContent).trim().slice(0, 40) || e.id || e.tagName,
             width: r.width, height: r.height, map: Boolean(e.closest('.leaflet-control')),
             attribution: Boolean(e.closest('.leaflet-control-attribution')) };
  });
}"""


@pytest.mark.parametrize("path", ["/", "/embed", "/embed?timeline=1&list=1"])
def test_every_control_is_large_enough_on_a_phone(browser: Browser, base_url: str, path: str) -> None:
    page = open_at(browser, base_url, 375, 812, path, is_mobile=True, has_touch=True)
    page.get_by_role("button", name="Legend").click()  # its "More" too
    page.wait_for_timeout(300)
    targets = page.evaluate(TARGETS)
    assert any(t["map"] for t in targets) and any(t["attribution"] for t in targets), targets
    if path != "/embed":
        assert any(not t["map"] for t in targets), "the time range and filters were not seen"
    small = []
    for t in targets:
        if t["attribution"]:
            need = (MINIMUM_PX, MINIMUM_PX)  # a link in a line of text: its line's height
        elif t["map"]:
            need = (TOUCH_PX, TOUCH_PX)
        else:
            need = (MINIMUM_PX, MINIMUM_PX)
        if t["width"] < need[0] - 0.5 or t["height"] < need[1] - 0.5:
            small.append(f"{t['name']!r} {t['width']:.0f}x{t['height']:.0f} (needs {need[0]}x{need[1]})")
    assert not small, f"{path} at 375 px (touch): " + "; ".join(small)
    page.context.close()


@pytest.mark.parametrize("path", ["/", "/embed?timeline=1"])
def test_every_control_is_at_least_24_px_with_a_mouse(browser: Browser, base_url: str, path: str) -> None:
    page = open_at(browser, base_url, 1440, 900, path)
    small = [
        f"{t['name']!r} {t['width']:.0f}x{t['height']:.0f}"
        for t in page.evaluate(TARGETS)
        if t["width"] < MINIMUM_PX - 0.5 or t["height"] < MINIMUM_PX - 0.5
    ]
    assert not small, f"{path} at 1440 px: " + "; ".join(small)
    page.context.close()
