"""Focus pans the map (issue 18): a marker reached by Tab is wholly in view, clear of the panels.

Session 25, /?v=33.50,38.62,11 at 1440x900, Tab held through the markers: "Clash near Tanf" ended
at x=1089 (the map ends at 1040: under the side panel); tabbing slower it sat flush at the map's
edge, half hidden. Leaflet's own pan on focus is animated and overtaken by the next Tab, and
knows neither the marker drawn aside of its point nor the legend or notice over the map.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

MARGIN = 4  # px: the least room a focused marker keeps from the map's edge and from any panel


def focused_clear(page: Page) -> dict[str, object]:
    """The focused marker's box, the map's, the panels it meets and whether it is wholly clear."""
    return page.evaluate(
        """(m) => {
          const e = document.activeElement;
          const map = document.getElementById('map').getBoundingClientRect();
          const r = e.getBoundingClientRect();
          const inside = r.left >= map.left + m && r.right <= map.right - m
            && r.top >= map.top + m && r.bottom <= map.bottom - m;
          const hits = [...document.querySelectorAll('#map .leaflet-control, .sheet:not([hidden])')]
            .map((c) => [c.className, c.getBoundingClientRect()])
            .filter(([, c]) => c.width && c.height && c.left < r.right + m && r.left - m < c.right
              && c.top < r.bottom + m && r.top - m < c.bottom)
            .map(([name]) => String(name).slice(0, 40));
          return { label: e.getAttribute('aria-label') || e.getAttribute('title'),
                   box: [r.left, r.top, r.right, r.bottom], map: [map.left, map.top, map.right, map.bottom],
                   clear: inside && hits.length === 0, hits };
        }""",
        MARGIN,
    )


def on_a_marker(page: Page) -> bool:
    return bool(page.evaluate("document.activeElement.matches('.incident-icon, .cell-icon')"))


@pytest.mark.parametrize("pause_ms", [150, 600])
def test_tab_through_the_markers_keeps_each_wholly_in_view(
    browser: Browser, base_url: str, pause_ms: int
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/?v=33.50,38.62,11")
    page.wait_for_selector("body[data-ready='true']")
    page.locator("#map .incident-icon:not(.stacked), #map .cell-icon").first.focus()
    seen, hidden = 0, []
    while on_a_marker(page) and seen < 60:
        page.wait_for_timeout(pause_ms)
        where = focused_clear(page)
        if not where["clear"]:
            hidden.append(where)
        seen += 1
        page.keyboard.press("Tab")
    page.wait_for_timeout(pause_ms)
    # Tab went on past the markers to the map's controls: the focus was never dropped (a marker
    # placed again into a numbered circle hands it to the circle).
    left_on = page.evaluate("document.activeElement.tagName + '.' + document.activeElement.className")
    context.close()
    # 16 markers and the circle of the garrison's 15 (out of view at first, they are no longer
    # pulled to the map's edge: the pan that shows them shows them as one circle; 28 before)
    assert seen >= 16, f"the test needs the markers reached by Tab ({seen}, then {left_on})"
    assert not left_on.startswith("BODY"), f"the focus was dropped after {seen} markers"
    assert hidden == [], hidden
