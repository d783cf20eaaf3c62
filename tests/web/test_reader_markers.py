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
from tests.zone_oracle import LAT0, LON0

CONTESTED = "2017-06-06-coalition-strike"
SIZES = [(375, 812), (768, 1024), (1440, 900)]
SLACK_PX = 2  # overlap allowed between two hit areas (anti-aliasing, rounding)

# Every marker's hit area (its element's box) and whether the point at its drawn centre is its own;
# a crowd too large for the view is one numbered circle (.cell-icon), which counts as a marker.
MARKERS = """() => [...document.querySelectorAll('#map .incident-icon:not(.stacked), #map .cell-icon')]
  .map((e) => {
  const box = e.getBoundingClientRect();
  const drawn = (e.querySelector('svg') || e).getBoundingClientRect();
  const [cx, cy] = [(drawn.left + drawn.right) / 2, (drawn.top + drawn.bottom) / 2];
  const hit = document.elementFromPoint(cx, cy);
  const control = hit && hit.closest('.leaflet-control');
  return { name: e.getAttribute('aria-label'), control: Boolean(control),
           x0: box.left, y0: box.top, x1: box.right, y1: box.bottom,
           cx, cy, own: Boolean(hit && hit.closest('.incident-icon, .cell-icon') === e) };
})"""


def check_markers(page: Page, where: str) -> None:
    (area,) = page.eval_on_selector_all("#map", "els => els.map(e => e.getBoundingClientRect().toJSON())")
    # Those the map shows: a marker whose point is out of view stays there, not drawn (the map
    # clips it), and may lie on another out there.
    every = page.evaluate(MARKERS)
    assert every, where
    markers = [
        m
        for m in every
        if m["x0"] < area["right"]
        and m["x1"] > area["left"]
        and m["y0"] < area["bottom"]
        and m["y1"] > area["top"]
    ]
    for i, a in enumerate(markers):
        for b in markers[i + 1 :]:
            ox = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            oy = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            pair = f"{a['name']!r} and {b['name']!r}"
            assert min(ox, oy) <= SLACK_PX, f"{where}: {pair} overlap {ox:.0f}x{oy:.0f} px"
        inside = area["left"] <= a["cx"] <= area["right"] and area["top"] <= a["cy"] <= area["bottom"]
        if inside and not a["control"]:  # (off the map or under a control: nothing to click)
            assert a["own"], f"{where}: a click at the centre of {a['name']!r} lands on something else"


def open_at(
    browser: Browser, base_url: str, width: int, height: int, path: str = "/", **context: object
) -> Page:
    """A new page of this size (in a context of its own, with ``context``'s options: is_mobile,
    has_touch...) at ``path``, once the map is ready."""
    page = browser.new_context(viewport={"width": width, "height": height}, **context).new_page()  # type: ignore[arg-type]
    page.goto(f"{base_url}{path}")
    page.wait_for_selector("body[data-ready='true']")
    return page


def zoom_by(page: Page, button: str) -> None:
    zoom = page.evaluate("window.__atTanfMap.map.getZoom()")
    # exact: a numbered circle's name ends with "zoom in" too
    page.get_by_role("button", name=button, exact=True).click()
    wait_until(page, f"window.__atTanfMap.map.getZoom() !== {zoom}")
    wait_until(page, "!document.querySelector('#map.leaflet-zoom-anim, #map .leaflet-zoom-anim')")
    page.wait_for_timeout(50)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_marker_covers_another_at_any_zoom(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    page = open_at(browser, base_url, width, height)
    first = page.evaluate("window.__atTanfMap.map.getZoom()")
    check_markers(page, f"{width}px, first view (zoom {first})")
    for _ in range(6):  # in, half a zoom step at a time, to 3 steps beyond the first view
        zoom_by(page, "Zoom in")
        check_markers(page, f"{width}px, zoom {page.evaluate('window.__atTanfMap.map.getZoom()')}")
    for _ in range(8):  # and out, to one step before it
        zoom_by(page, "Zoom out")
        check_markers(page, f"{width}px, zoom {page.evaluate('window.__atTanfMap.map.getZoom()')}")
    page.context.close()


def reveal(page: Page, title: str) -> None:
    """Clicks the numbered circle that holds this incident's marker until the marker is drawn."""
    for _ in range(6):
        stack = page.evaluate(
            """(title) => { const m = document.querySelector(`#map .incident-icon[title="${title}"]`);
               return m && m.classList.contains('stacked') ? m.dataset.stack : null; }""",
            title,
        )
        if stack is None:
            return
        zoom = page.evaluate("window.__atTanfMap.map.getZoom()")
        page.locator(f'#map .cell-icon[data-stack="{stack}"]').click()
        wait_until(page, f"window.__atTanfMap.map.getZoom() > {zoom}")
        wait_until(page, "!document.querySelector('#map .leaflet-zoom-anim')")
        page.wait_for_timeout(100)
    raise AssertionError(f"{title!r} stays in a numbered circle")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_click_on_the_contested_strike_selects_it(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    """Drawn, or in a numbered circle whose clicks zoom in until it is: then a click at its
    drawn centre selects it."""
    page = open_at(browser, base_url, width, height)
    title = "Coalition strike on pro-regime forces that would not leave the zone"
    reveal(page, title)
    drawn = page.locator(f'#map .incident-icon[title="{title}"] svg')
    box = drawn.bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_until(page, f"location.search.includes('sel={CONTESTED}')")
    page.context.close()


def test_no_marker_covers_another_in_the_embed(browser: Browser, base_url: str) -> None:
    for width, height in [(320, 450), (600, 450)]:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{base_url}/embed?sel={CONTESTED}")
        page.wait_for_selector("body[data-ready='true']")
        check_markers(page, f"embed at {width}px")
        page.close()


def test_a_crowd_too_large_for_a_small_frame_is_one_circle_that_opens(
    browser: Browser, base_url: str
) -> None:
    """In a 320 px frame the incidents around the garrison would spread over the whole map: they
    are one numbered circle; a click zooms in, until each marker has room of its own."""
    page = browser.new_page(viewport={"width": 320, "height": 450})
    page.goto(f"{base_url}/embed?sel={CONTESTED}")
    page.wait_for_selector("body[data-ready='true']")
    stack = page.locator("#map .cell-icon")
    assert stack.count() >= 1
    label = stack.first.get_attribute("aria-label") or ""
    assert "incidents here" in label and "zoom in" in label
    hidden = page.locator("#map .incident-icon.stacked").count()
    assert hidden == sum(int(c.split()[0]) for c in page.locator("#map .cell-icon").all_text_contents())
    # The selected incident is never in a stack.
    assert page.locator("#map .incident-icon.selected:not(.stacked)").count() == 1
    # The circles on the map (not those of crowds the zoom has taken out of view).
    seen = """() => { const m = document.getElementById('map').getBoundingClientRect();
      return [...document.querySelectorAll('#map .cell-icon')].map((e) => e.getBoundingClientRect())
        .filter((r) => r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom)
        .map((r) => [r.left + r.width / 2, r.top + r.height / 2]); }"""
    for _ in range(5):
        circles = page.evaluate(seen)
        if not circles:
            break
        zoom = page.evaluate("window.__atTanfMap.map.getZoom()")
        page.mouse.click(*circles[0])
        wait_until(page, f"window.__atTanfMap.map.getZoom() > {zoom}")
        page.wait_for_timeout(400)
        check_markers(page, f"embed at 320px, zoom {page.evaluate('window.__atTanfMap.map.getZoom()')}")
    assert not page.evaluate(seen), "zooming in never gave the crowd room"
    page.close()


GARRISON = """(garrison) => {
  const label = document.querySelector('#map .garrison-label');
  if (!label) return null;
  const r = label.getBoundingClientRect();
  const area = document.getElementById('map').getBoundingClientRect();
  const drawn = [...document.querySelectorAll('#map .incident-icon:not(.stacked), #map .cell-icon')]
    .map((e) => e.getBoundingClientRect());
  const markers = drawn
    .filter((m) => m.left < r.right && r.left < m.right && m.top < r.bottom && r.top < m.bottom);
  const map = window.__atTanfMap.map;
  const p = map.latLngToContainerPoint(garrison);
  const dot = [p.x + area.left, p.y + area.top];
  const apart = (a, b) => Math.hypot(Math.max(0, b.left - a.right, a.left - b.right),
                                     Math.max(0, b.top - a.bottom, a.top - b.bottom));
  const point = { left: dot[0], right: dot[0], top: dot[1], bottom: dot[1] };
  // A leader line from the dot to the name: a path in the leaders' pane from one to the other.
  const leader = [...document.querySelectorAll('#map .leaflet-leaders-pane path')].some((e) => {
    const b = e.getBoundingClientRect();
    return b.width + b.height > 0 && apart(b, point) <= 2 && apart(b, r) <= 3;
  });
  return { text: label.textContent, shown: getComputedStyle(label).visibility !== 'hidden',
           within: r.left >= area.left && r.right <= area.right
             && r.top >= area.top && r.bottom <= area.bottom,
           covers: markers.length, own: apart(r, point) - 8,
           nearest: Math.min(1e9, ...drawn.map((m) => apart(r, m))), leader };
}"""


def check_garrison(page: Page, where: str) -> None:
    """The garrison is named, whole, on the map, over no marker; and its name reads as its own
    (the rule of the server's drawings, app/export/svg_names.py): its dot nearer to it than any
    marker, or a leader line from the dot and no marker within 8 px. At 1440 px it sat left of
    its dot with no line, beside the contested strike's marker, and read as that strike's name."""
    label = page.evaluate(GARRISON, [LAT0, LON0])
    assert label and label["text"] == "At Tanf garrison", where
    assert label["shown"] and label["within"], f"{where}: the garrison is unnamed"
    assert label["covers"] == 0, f"{where}: the garrison's name covers {label['covers']} marker(s)"
    near, own = label["nearest"], label["own"]
    assert near > own or (label["leader"] and near >= 8 - 0.5), (
        f"{where}: the garrison's name is {near:.1f} px from a marker and {own:.1f} px from its dot"
        f"{' with' if label['leader'] else ' without'} a leader line"
    )


@pytest.mark.parametrize("path", ["/", f"/?sel={CONTESTED}"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_garrison_is_named_in_the_first_view(
    browser: Browser, base_url: str, width: int, height: int, path: str
) -> None:
    page = open_at(browser, base_url, width, height, path)
    check_garrison(page, f"map{path} at {width}px")
    page.context.close()


@pytest.mark.parametrize("query", ["", f"?sel={CONTESTED}", "?list=1", "?theme=dark"])
@pytest.mark.parametrize("width", [320, 600, 1000])
def test_the_garrison_is_named_in_the_embed(browser: Browser, base_url: str, width: int, query: str) -> None:
    page = browser.new_page(viewport={"width": width, "height": 450})
    page.goto(f"{base_url}/embed{query}")
    page.wait_for_selector("body[data-ready='true']")
    check_garrison(page, f"embed{query} at {width}px")
    page.close()


def test_the_garrisons_name_makes_way_for_the_card_sheet_on_a_phone(browser: Browser, base_url: str) -> None:
    """A tap on a marker opens the card as a sheet over the lower part of the screen: the
    garrison's name moves above it (it had stayed under the sheet's edge, cut off)."""
    page = open_at(browser, base_url, 375, 812, is_mobile=True, has_touch=True)
    context = page.context
    # a marker drawn on its own (the incidents round the garrison are one numbered circle here)
    title = "Syrian army reaches the Iraqi border northeast of Tanf"
    box = page.locator(f'#map .incident-icon[title="{title}"] svg').bounding_box()
    assert box
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("#sheet:not([hidden])").wait_for()
    page.wait_for_timeout(600)
    check_garrison(page, "map at 375px with the card's sheet open")
    under = page.evaluate(
        """(() => { const s = document.getElementById('sheet').getBoundingClientRect();
           return [...document.querySelectorAll('#map .map-label')]
             .filter((e) => getComputedStyle(e).visibility !== 'hidden')
             .filter((e) => e.getBoundingClientRect().bottom > s.top).map((e) => e.textContent); })()"""
    )
    assert under == [], f"names under the sheet: {under}"
    context.close()
