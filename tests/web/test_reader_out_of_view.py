"""A marker whose point is out of the map's view is not drawn in it (session 27).

On a phone zoomed in, markers whose points lay past the map's edge were pulled onto it, with
leader lines across the map (650 px long at 375 px), and numbered circles of incidents all out of
view stood in it: the map said "here" of places it did not show. A reader expects a map to show
what lies in its view: now such a marker stays on its point, out of view (the keyboard still
reaches it, and its focus pans it into view: tests/web/test_reader_focus_pan.py). Each marker's
point is worked out here from the data's coordinates, projected by the map.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.web.test_reader_zone_side import DRAWN
from tests.zone_oracle import zone_circle

# Views at 375 x 812 zoomed in round the zone (lat, lon, zoom) where, before, markers or circles
# of incidents out of view were drawn in it.
VIEWS = ["33.45,38.70,11", "33.55,38.80,11.5", "33.52,38.70,12", "33.40,38.72,11.5"]


@pytest.mark.parametrize("view", VIEWS)
def test_markers_out_of_view_are_not_drawn_in_it(browser: Browser, base_url: str, view: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 812}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base_url}/?v={view}")
    page.wait_for_selector("body[data-ready='true']")
    drawn = page.evaluate(DRAWN, zone_circle())
    m = page.locator("#map").bounding_box()
    assert m is not None

    def meets_map(b: list[float]) -> bool:
        return b[0] < m["x"] + m["width"] and b[2] > m["x"] and b[1] < m["y"] + m["height"] and b[3] > m["y"]

    def on_its_point(k: dict) -> list[float]:  # where its box would be, left on its point
        h = (k["box"][2] - k["box"][0]) / 2
        return [k["point"][0] - h, k["point"][1] - h, k["point"][0] + h, k["point"][1] + h]

    markers = drawn["markers"]
    # wholly out of view on its point (one that shows in part there is placed as the others)
    out = [k for k in markers if not meets_map(on_its_point(k))]
    assert out, "every incident is in this view: it tests nothing"
    for k in out:
        assert not k["stacked"], f"{k['name']!r}, out of view, is in a numbered circle"
        assert not meets_map(k["box"]), (
            f"{k['name']!r}, whose point is {k['point']} (out of view), is drawn at {k['box']}, in it"
        )
    # no leader line longer than a crowd's spread: the longest ran across the map
    for k in markers:
        if not k["stacked"] and meets_map(k["box"]):
            x, y = (k["box"][0] + k["box"][2]) / 2, (k["box"][1] + k["box"][3]) / 2
            assert ((x - k["point"][0]) ** 2 + (y - k["point"][1]) ** 2) ** 0.5 < 200, k["name"]
    context.close()
