"""A calm, legible first view (issue 18): fit, regions on demand, labels that give way, legend."""

from __future__ import annotations

import itertools

import httpx2
import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import ARTIFACTS, wait_until

TECHNICALS = "2017-06-08-strike-on-technical-vehicles"
SIZES = [(375, 812), (768, 1024), (1440, 900)]


def open_map(browser: Browser, base_url: str, width: int, height: int, query: str = "") -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{base_url}/{query}")
    page.wait_for_selector("body[data-ready='true']")
    return page


def boxes(page: Page, selector: str) -> list[dict[str, float]]:
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => getComputedStyle(e).visibility !== "hidden").map(e => {
             const r = e.getBoundingClientRect();
             return { x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, text: e.textContent };
           })""",
    )


def within(m: dict[str, float], area: dict[str, float]) -> bool:
    return area["x0"] <= m["x0"] <= m["x1"] <= area["x1"] and area["y0"] <= m["y0"] <= m["y1"] <= area["y1"]


def meets(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_first_view_shows_every_located_incident(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    page = open_map(browser, base_url, width, height)
    located = [
        f for f in httpx2.get(f"{base_url}/api/collections/events/items?limit=1000").json()["features"]
        if f["geometry"]
    ]  # fmt: skip
    (area,) = boxes(page, "#map")
    covers = boxes(page, ".leaflet-control")  # zoom, legend, attribution: nothing hides under them
    # Each one a marker, or counted in a numbered circle (a crowd with no room on its side of the
    # zone's line), all on the map and none under a control.
    markers = boxes(page, ".incident-icon:not(.stacked)")
    circles = boxes(page, "#map .cell-icon")
    assert len(markers) + sum(int(c["text"]) for c in circles) == len(located)
    for m in markers + circles:
        assert within(m, area), f"a marker is off the map at {width}px: {m}"
        assert not any(meets(m, c) for c in covers), f"a marker is under a control at {width}px"
    page.context.close()


def test_show_all_brings_every_incident_back(browser: Browser, base_url: str) -> None:
    page = open_map(browser, base_url, 1440, 900, "?v=34.5,40.5,11")
    (area,) = boxes(page, "#map")

    markers = boxes(page, ".incident-icon:not(.stacked)") + boxes(page, "#map .cell-icon")
    assert not any(within(m, area) for m in markers)  # far away: every marker is off screen
    page.get_by_role("button", name="Show all").click()
    page.wait_for_timeout(800)
    markers = boxes(page, ".incident-icon:not(.stacked)") + boxes(page, "#map .cell-icon")
    assert markers and all(within(m, area) for m in markers)
    page.context.close()


STROKED = "#map .leaflet-overlay-pane path.claim-region:not([stroke='none'])"


def test_claim_regions_are_drawn_for_the_selected_or_hovered_incident_only(
    browser: Browser, base_url: str
) -> None:
    page = open_map(browser, base_url, 1440, 900)
    regions = httpx2.get(f"{base_url}/api/collections/regions/items?limit=1000").json()["features"]
    drawn = [r for r in regions if r["geometry"]]
    # Every region as a faint footprint (within 500 m), no outline anywhere.
    assert page.locator("path.claim-footprint").count() == len(drawn)
    assert page.locator("path.claim-footprint:not([stroke='none'])").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "regions-first-view-1440.png"))
    assert page.locator(STROKED).count() == 0, "the first view outlines every claim region"
    # Hover: the incident's own regions are outlined, and only those.
    mine = [r for r in drawn if r["properties"]["event_id"] == TECHNICALS]
    own = sum(1 for r in mine if r["properties"].get("role") != "common")  # each source's region
    page.locator('.incident-icon[title="Coalition strike on pro-regime technical vehicles"]').hover()
    # its own regions (within 50 m) come on demand
    wait_until(page, f"document.querySelectorAll({STROKED!r}).length === {own}")
    page.mouse.move(5, 500)
    assert page.locator(STROKED).count() == 0
    # Selected: outlined and filled.
    page.goto(f"{base_url}/?sel={TECHNICALS}")
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_timeout(400)
    wait_until(page, f"document.querySelectorAll({STROKED!r}).length === {len(mine)}")  # and the shared one
    page.screenshot(path=str(ARTIFACTS / "regions-selected-1440.png"))
    page.context.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_labels_give_way_to_markers_and_to_one_another(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    page = open_map(browser, base_url, width, height)
    labels = boxes(page, ".map-label")
    markers = boxes(page, ".incident-icon")
    for i, label in enumerate(labels):
        hit = [m for m in markers if meets(label, m)]
        assert not hit, f"{label['text']!r} covers {len(hit)} marker(s) at {width}px"
        for other in labels[i + 1 :]:
            assert not meets(label, other), f"{label['text']!r} and {other['text']!r} collide at {width}px"
    names = {label["text"] for label in labels}
    # The garrison's always (beside its dot or with a leader line), the zone's (just outside its
    # line, wherever markers leave room), and country names from the bundled borders: the three
    # countries of the tripoint.
    assert {"At Tanf garrison", "55 km de-confliction zone", "Syria", "Jordan", "Iraq"} <= names, names
    page.context.close()


RUKBAN = "2017-05-04-rukban-market-blast"  # "on or near the Jordan-Syria border" (its card)


@pytest.mark.parametrize(
    ("width", "height", "query"),
    [
        (600, 450, ""),  # the frame the embed dialog suggests
        (600, 450, f"?sel={RUKBAN}"),
        (1440, 900, f"?sel={RUKBAN}&timeline=1"),
    ],
)
def test_the_embed_names_the_countries_the_full_map_names(
    browser: Browser, base_url: str, width: int, height: int, query: str
) -> None:
    """The full map names Syria, Jordan and Iraq; the embed, in the frames here, named Syria and
    Iraq only (the slice of Jordan in its shorter map had no place free on the coarse grid of
    country places), while the selected incident's card says "On or near the Jordan-Syria
    border". Every country name the full map shows at this size, the embed shows too, each
    wholly inside the map and clear of the markers."""
    page = open_map(browser, base_url, width, height)
    page.wait_for_timeout(300)
    on_the_map = {label["text"] for label in boxes(page, ".country-label")}
    page.context.close()
    page = open_map(browser, base_url, width, height, f"embed{query}")
    if "sel=" in query:
        page.wait_for_selector("body[data-regions='true']")
    page.wait_for_timeout(300)
    names = boxes(page, ".country-label")
    assert on_the_map - {n["text"] for n in names} == set(), ({n["text"] for n in names}, on_the_map)
    (area,) = boxes(page, "#map")
    markers = boxes(page, ".incident-icon:not(.stacked) svg, .cell-icon")
    for name in names:
        assert within(name, area), name
        assert not [m for m in markers if meets(name, m)], name
    page.context.close()


def test_the_open_legend_is_a_small_key(browser: Browser, base_url: str) -> None:
    """Open by default on a desktop, the legend covered about a third of the map (issue 18): now
    a short key (shape and fill) that covers under a tenth of it, with the rest under "More"."""
    page = open_map(browser, base_url, 1440, 900)
    (area,) = boxes(page, "#map")
    (legend,) = boxes(page, ".legend")
    share = (
        (legend["x1"] - legend["x0"])
        * (legend["y1"] - legend["y0"])
        / ((area["x1"] - area["x0"]) * (area["y1"] - area["y0"]))
    )
    assert page.locator(".legend-body").is_visible()
    assert share < 0.1, f"the open legend covers {share:.0%} of the map"
    page.context.close()


def test_the_legend_explains_every_symbol_in_words(browser: Browser, base_url: str) -> None:
    page = open_map(browser, base_url, 1440, 900)
    legend = page.locator(".legend-body")
    assert legend.is_visible()
    page.locator(".legend-more > summary").click()
    text = legend.inner_text()
    types = {
        f["properties"]["event_type"]
        for f in httpx2.get(f"{base_url}/api/collections/events/items?limit=1000").json()["features"]
        if f["geometry"]
    }
    # One item per type on the map, each with a marker symbol and words (not a code).
    shape_items = legend.locator("ul").first.locator("li")
    assert shape_items.count() == len(types)
    for k in range(shape_items.count()):
        assert "/" not in shape_items.nth(k).inner_text()
    for words in (
        "inside the zone",
        "outside the zone",
        "crosses the zone's edge",
        "Select an incident",
        "the areas of all the other incidents",
        "de-confliction zone",
        "34–35 mile",
        "garrison",
        "borders",
        "numbered circle",  # the counts per grid cell at scale (static/js/cells.js)
        "its card opens",  # what a selection shows
        "under the pointer",
    ):
        assert words in text, words
    page.context.close()


def test_a_legend_too_tall_for_the_map_scrolls_by_keyboard_too(browser: Browser, base_url: str) -> None:
    """Opened in full on a short screen the legend scrolls: a named region that takes the focus
    (axe-core's scrollable-region-focusable, serious, when it did not)."""
    from tests.web.test_reader_access import axe_violations

    page = open_map(browser, base_url, 1440, 600)
    page.locator(".legend-more > summary").click()
    body = page.locator(".legend-body")
    assert body.evaluate("e => e.scrollHeight > e.clientHeight + 20"), "the legend should scroll here"
    assert body.get_attribute("aria-label") and body.get_attribute("tabindex") == "0"
    body.focus()
    page.keyboard.press("PageDown")
    wait_until(page, "document.querySelector('.legend-body').scrollTop > 0")
    assert axe_violations(page) == []
    page.context.close()


def test_no_border_is_drawn_where_the_countries_were_clipped(browser: Browser, base_url: str) -> None:
    """The bundled countries are clipped to the region's box: their clipped edges are no border,
    but drawn as outlines they read as straight dashed borders across the map (at 768 px, above
    Syria and through Saudi Arabia)."""
    borders = httpx2.get(f"{base_url}/api/collections/borders/items").json()["features"]
    polygons = [
        polygon
        for f in borders
        for polygon in (
            [f["geometry"]["coordinates"]]
            if f["geometry"]["type"] == "Polygon"
            else f["geometry"]["coordinates"]
        )
    ]
    points = [p for polygon in polygons for ring in polygon for p in ring]
    box = (
        min(p[0] for p in points),
        min(p[1] for p in points),
        max(p[0] for p in points),
        max(p[1] for p in points),
    )
    page = open_map(browser, base_url, 768, 1024)
    drawn = page.evaluate(
        """(() => Object.values(window.__atTanfMap.map._layers)
             .filter((l) => l.options && l.options.dashArray === "6 3" && l.getLatLngs)
             .flatMap((l) => { const ll = l.getLatLngs(); return Array.isArray(ll[0]) ? ll : [ll]; })
             .map((line) => line.map((p) => [p.lng, p.lat])))()"""
    )
    assert drawn and sum(len(line) for line in drawn) > 100
    west, south, east, north = box
    for line in drawn:
        for a, b in itertools.pairwise(line):
            for i, edges in ((0, (west, east)), (1, (south, north))):
                for edge in edges:
                    assert not (abs(a[i] - edge) < 0.01 and abs(b[i] - edge) < 0.01), (
                        f"a clipped edge is drawn: {a} {b}"
                    )
    page.context.close()
