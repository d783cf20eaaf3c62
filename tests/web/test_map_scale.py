"""The map at the scale of the store: it loads what the view needs, never every incident.

A synthetic dataset (tests/perf/synthetic.py) larger than the map holds in full (``SMALL`` in
static/js/view-data.js, 500) and than it draws as markers (``MAX_MARKERS``, 300): 2,000
incidents by default, so that the data loads in seconds; ``AT_TANF_SCALE_N=100000`` runs the same
checks at 100k (the budgets' size; tests/perf/map_scale.py measures it). The browser's answers
are read as they arrive: how many incidents each brought, and how many bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest
from playwright.sync_api import Browser, Page, Response

from app.main import create_app
from app.served import load_served
from app.settings import Settings
from tests.live_server import serve
from tests.perf.synthetic import write_dataset
from tests.web.conftest import ARTIFACTS, wait_until

N = int(os.environ.get("AT_TANF_SCALE_N", "2000"))
MAX_MARKERS = 300  # static/js/view-data.js
LIST_PAGE = 100


@pytest.fixture(scope="module")
def scale_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = write_dataset(tmp_path_factory.mktemp("scale") / "geodata", N)
    settings = Settings(data_dir=data, tile_url="")
    # Derived before the server starts (its start-up wait is for a server, not for a derivation).
    with serve(create_app(settings, load_served(settings))) as url:
        yield url


class Loads:
    """What a page fetched from the events collection: incidents received, and every body size."""

    def __init__(self, page: Page) -> None:
        self.incidents = 0
        self.item_urls: list[str] = []
        self.grid_urls: list[str] = []
        self.finished: list = []
        page.on("response", self.on_response)
        page.on("requestfinished", lambda r: self.finished.append(r))

    def on_response(self, response: Response) -> None:
        url = response.url
        if "/api/collections/events/items" in url and response.ok and "/items/" not in url:
            self.item_urls.append(url)
            self.incidents += len(response.json()["features"])
        if "/api/collections/events/grid" in url:
            self.grid_urls.append(url)

    def transferred(self) -> int:
        return sum(r.sizes()["responseBodySize"] for r in self.finished)


def open_map(browser: Browser, url: str, width: int = 1440, height: int = 900) -> tuple[Page, Loads]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    loads = Loads(page)
    page.goto(url)
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    assert page.evaluate("document.body.dataset.ready") == "true"
    settled(page)
    return page, loads


def cell_counts(page: Page) -> list[int]:
    return [int(t) for t in page.locator(".cell-icon").all_inner_texts() if t.isdigit()]


def test_the_first_view_loads_counts_not_every_incident(browser: Browser, scale_url: str) -> None:
    page, loads = open_map(browser, f"{scale_url}/")
    # The old page followed every next link: N incidents. Now: the list's first page, and the
    # view's incidents only when few enough to draw.
    assert loads.incidents <= LIST_PAGE + MAX_MARKERS, loads.item_urls
    assert not any("offset=" in u and "offset=0" not in u for u in loads.item_urls)
    # More than a reader can tell apart is in view: counts per cell, which add up to the
    # incidents the API has in that view.
    counts = cell_counts(page)
    assert counts and page.locator(".incident-icon").count() == 0
    view_grid = next(u for u in reversed(loads.grid_urls) if "bbox=" in u)
    answer = httpx2.get(view_grid).json()
    assert sum(counts) == answer["numberLocated"] > MAX_MARKERS
    assert f"{N:,} incidents" in page.locator("#summary").inner_text()
    assert page.locator("#count").inner_text() == f"({N:,} of {N:,} shown)"
    assert loads.transferred() < 300_000, loads.transferred()
    page.context.close()


def settled(page: Page) -> None:
    """Wait until the map has no view load under way (static/js/app.js)."""
    wait_until(page, "window.__atTanfMap.pending() === 0", timeout_s=60)


def test_a_cell_zooms_in_until_markers_show(browser: Browser, scale_url: str) -> None:
    """Enter on the fullest cell zooms in to it, and a cell whose incidents zooming cannot split
    (all within 64 px at the deepest zoom: synthetic incidents share places) opens into markers."""
    page, _ = open_map(browser, f"{scale_url}/")
    for _ in range(10):
        settled(page)
        if page.locator(".incident-icon").count():
            break
        # The fullest cell, by keyboard as a reader without a mouse would.
        texts = page.locator(".cell-icon").all_inner_texts()
        fullest = max(range(len(texts)), key=lambda i: float(texts[i].replace("k", "e3")))
        zoom = page.evaluate("window.__atTanfMap.map.getZoom()")
        page.locator(".cell-icon").nth(fullest).focus()
        # A reader presses Enter a moment later: by then the focus's own frames have run and any
        # view load they began has been drawn, and the focus is still on the cell (the keyboard's
        # focus stopped the map, which reloaded the view and drew its cells anew: it fell to the
        # page, Enter did nothing, 2 runs in 6 under load and every time for a person).
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        settled(page)
        assert page.evaluate("document.activeElement.classList.contains('cell-icon')"), (
            "the cell lost the focus"
        )
        page.keyboard.press("Enter")
        opened = "document.querySelector('.incident-icon') !== null"
        wait_until(page, f"window.__atTanfMap.map.getZoom() > {zoom} || {opened}", timeout_s=60)
    settled(page)
    markers = page.locator(".incident-icon").count()
    assert 0 < markers <= MAX_MARKERS + 1
    assert page.evaluate("window.__atTanfMap.shown()") == markers
    page.context.close()


# The cells whose circle (12 px around it, focus-view.js) meets a panel or the map's edge: a
# focus must pan the map to show them. -> their indices among the cells, the fullest first.
COVERED_CELLS = """() => {
  const map = document.getElementById('map').getBoundingClientRect();
  const panels = [...document.querySelectorAll('#map .leaflet-control')].map((e) => e.getBoundingClientRect())
    .filter((r) => r.width && r.height);
  const meets = (a, b) => a.left - 12 < b.right && b.left < a.right + 12
    && a.top - 12 < b.bottom && b.top < a.bottom + 12;
  const out = (r) => r.left - 12 < map.left || r.right + 12 > map.right
    || r.top - 12 < map.top || r.bottom + 12 > map.bottom;
  const cells = [...document.querySelectorAll('#map .cell-icon')];
  return cells.map((e, i) => [e.getBoundingClientRect(), i, parseFloat(e.textContent)])
    .filter(([r]) => out(r) || panels.some((p) => meets(r, p))).sort((a, b) => b[2] - a[2]).map(([, i]) => i);
}"""


def test_a_cell_panned_clear_of_the_panels_keeps_the_focus(browser: Browser, scale_url: str) -> None:
    """A cell reached by keyboard under a panel (or at the map's edge) is panned clear of it
    (static/js/focus-view.js); that pan loads the view again (the same cells) and the cell keeps
    the focus, so Enter zooms in to it. All cells were drawn anew on every view load: the focus
    fell to the page and Enter did nothing."""
    page, _ = open_map(browser, f"{scale_url}/")
    covered = page.evaluate(COVERED_CELLS)
    assert covered, "no cell under a panel or at the edge in this view"
    cell = page.locator(".cell-icon").nth(covered[0])
    label = cell.get_attribute("aria-label")
    centre = page.evaluate("window.__atTanfMap.map.getCenter()")
    zoom = page.evaluate("window.__atTanfMap.map.getZoom()")
    cell.focus()
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    settled(page)
    assert page.evaluate("window.__atTanfMap.map.getCenter()") != centre  # the focus panned the map
    focused = page.evaluate("document.activeElement.ariaLabel || document.activeElement.tagName")
    assert focused == label, f"the focus left {label!r} for {focused!r}"
    page.keyboard.press("Enter")
    opened = "document.querySelector('.incident-icon') !== null"
    wait_until(page, f"window.__atTanfMap.map.getZoom() > {zoom} || {opened}", timeout_s=60)
    page.context.close()


# What holds the keyboard's focus, and how far (px) the centre of each circle or marker drawn
# (not hidden in a numbered circle) lies from the container point [x, y].
FOCUS_AND_DISTANCES = """([x, y]) => {
  const map = document.getElementById('map');
  const corner = map.getBoundingClientRect();
  const drawn = [...map.querySelectorAll('.cell-icon, .incident-icon:not(.stacked)')];
  const away = (e) => {
    const r = e.getBoundingClientRect();
    return Math.hypot(r.left + r.width / 2 - corner.left - x, r.top + r.height / 2 - corner.top - y);
  };
  const focused = document.activeElement;
  return { inMap: map.contains(focused), tag: focused.tagName, label: focused.ariaLabel,
           distances: drawn.map(away), focused: drawn.includes(focused) ? away(focused) : null };
}"""


def test_the_focus_stays_in_the_map_after_a_cell_zooms_in(browser: Browser, scale_url: str) -> None:
    """Enter on a numbered circle zooms in (or opens it into markers); the new view's circles
    are new DOM, and the focus goes to the circle or marker now drawn nearest the place the
    reader zoomed into, not to the page (where it fell, and Tab started again from the top).
    The reader goes on by Enter alone, down to the markers."""
    page, _ = open_map(browser, f"{scale_url}/")
    texts = page.locator(".cell-icon").all_inner_texts()
    fullest = max(range(len(texts)), key=lambda i: float(texts[i].replace("k", "e3")))
    page.locator(".cell-icon").nth(fullest).focus()  # the reader tabs to it once
    steps = []
    for _ in range(8):
        if not page.evaluate("document.activeElement.classList.contains('cell-icon')"):
            break  # on a marker: the circles left are elsewhere
        pressed = page.evaluate(
            """() => {
              const e = document.activeElement;
              e.dataset.pressed = "yes";
              const corner = document.getElementById('map').getBoundingClientRect();
              const r = e.getBoundingClientRect();
              const p = window.__atTanfMap.map.containerPointToLatLng(
                [r.left + r.width / 2 - corner.left, r.top + r.height / 2 - corner.top]);
              return { place: [p.lat, p.lng], zoom: window.__atTanfMap.map.getZoom(), label: e.ariaLabel };
            }"""
        )
        page.keyboard.press("Enter")
        wait_until(page, "!document.querySelector('[data-pressed]')", timeout_s=60)  # drawn anew
        settled(page)
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        settled(page)
        at = page.evaluate(
            f"(() => {{ const p = window.__atTanfMap.map.latLngToContainerPoint({pressed['place']});"
            " return [p.x, p.y]; })()"
        )
        seen = page.evaluate(FOCUS_AND_DISTANCES, at)
        zoomed = page.evaluate("window.__atTanfMap.map.getZoom()") > pressed["zoom"]
        steps.append((pressed["label"], zoomed, seen["label"]))
        assert seen["inMap"], f"after Enter on {pressed['label']!r} the focus fell to {seen['tag']}: {steps}"
        assert seen["focused"] is not None, f"the focus is on {seen['label']!r}, not a circle or marker drawn"
        # The nearest drawn to that place (measured after any pan the focus made).
        nearest = min(seen["distances"])
        assert seen["focused"] <= nearest + 0.5, (steps, seen["focused"], nearest)
    assert any(zoomed for _, zoomed, _ in steps), f"no Enter zoomed in: {steps}"
    assert page.locator(".incident-icon:not(.stacked)").count(), steps
    page.context.close()


def test_the_list_pages_through_every_incident(browser: Browser, scale_url: str) -> None:
    page, loads = open_map(browser, f"{scale_url}/?status=inside")
    expected = httpx2.get(f"{scale_url}/api/collections/events/items?in_zone=inside&limit=1").json()
    matched = expected["numberMatched"]
    assert page.locator("#count").inner_text() == f"({matched:,} of {N:,} shown)"
    assert page.locator("#incidents > li").count() == LIST_PAGE
    assert page.locator(".pager [role=status]").inner_text() == f"1–{LIST_PAGE} of {matched:,}"
    first = page.locator("#incidents .incident-button .title").first.inner_text()
    page.get_by_role("button", name="Next").click()
    wait_until(page, "document.querySelector('.pager [role=status]').textContent.startsWith('101')")
    assert page.locator("#incidents .incident-button .title").first.inner_text() != first
    assert any("offset=100" in u and "in_zone=inside" in u for u in loads.item_urls)
    words = set(page.locator("#incidents .status-word").all_inner_texts())
    assert words == {"Inside the zone"}
    page.context.close()


def test_selecting_loads_the_card_and_its_regions(browser: Browser, scale_url: str) -> None:
    items = httpx2.get(f"{scale_url}/api/collections/events/items?limit=50").json()["features"]
    chosen = next(f for f in items if f["geometry"] and f["properties"]["location_claims"])
    page, _ = open_map(browser, f"{scale_url}/?sel={chosen['id']}")
    # In the list beside the map when on its page, else in a popup on the map: told once.
    card = page.locator(f'article.card[data-id="{chosen["id"]}"]')
    card.wait_for()
    assert chosen["properties"]["title"] in card.inner_text()
    assert "Where, according to each source" in card.inner_text()
    assert card.count() == 1
    assert page.locator(".incident-icon.selected").count() == 1
    wait_until(page, "document.querySelectorAll('path.claim-region').length > 0", timeout_s=60)
    page.context.close()


def test_the_view_and_filters_round_trip_through_the_url(browser: Browser, scale_url: str) -> None:
    query = "?v=33.60000,38.50000,10.25&from=2017-01-01&to=2018-12-31&status=inside,contested"
    page, loads = open_map(browser, f"{scale_url}/{query}")
    assert urlparse(page.url).query == query[1:]
    assert page.evaluate("window.__atTanfMap.map.getZoom()") == 10.25
    asked = parse_qs(urlparse(loads.item_urls[-1]).query)
    assert asked["in_zone"] == ["inside,contested"] and asked["datetime"] == ["2017-01-01/2018-12-31"]
    assert "bbox" in asked or loads.grid_urls
    page.locator(".leaflet-control-zoom-in").click()
    wait_until(page, "location.search.includes(',10.75')")
    again = page.url
    page.goto(again)
    page.wait_for_selector("body[data-ready='true']")
    assert page.url == again and page.evaluate("window.__atTanfMap.map.getZoom()") == 10.75
    page.context.close()


def test_the_embed_at_scale_fits_its_budget(browser: Browser, scale_url: str) -> None:
    page, loads = open_map(browser, f"{scale_url}/embed", 600, 450)
    assert loads.incidents <= MAX_MARKERS
    assert page.locator(".cell-icon").count() > 0
    assert loads.transferred() < 100_000, loads.transferred()
    page.context.close()


def test_the_server_svg_counts_as_the_map_does(scale_url: str) -> None:
    svg = httpx2.get(f"{scale_url}/embed/map.svg").text
    titles = [int(n) for n in re.findall(r"<title>(\d+) incidents:", svg)]
    assert titles and max(titles) > 1
    assert len(svg) < 400_000


@pytest.mark.parametrize(
    ("name", "width", "height"), [("375", 375, 812), ("768", 768, 1024), ("1440", 1440, 900)]
)
def test_screenshots_of_the_first_view_at_scale(
    browser: Browser, scale_url: str, name: str, width: int, height: int
) -> None:
    page, _ = open_map(browser, f"{scale_url}/", width, height)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-scale-{N}-{name}.png"))
    assert cell_counts(page)
    page.context.close()


def test_the_period_menu_offers_only_periods_that_hold_incidents(browser: Browser, scale_url: str) -> None:
    """At scale the map does not hold every incident: the API's grid counts each year and month
    (its totals), and the menu offers only those that hold some, with their counts."""
    import re

    page, _ = open_map(browser, f"{scale_url}/")
    options = page.eval_on_selector_all("#period option", "os => os.map(o => [o.value, o.textContent])")
    offered = {
        v: int(re.search(r"\((\d[\d,]*) incidents?\)$", t).group(1).replace(",", ""))
        for v, t in options
        if v not in ("", "custom")
    }  # type: ignore[union-attr]
    totals = httpx2.get(f"{scale_url}/api/collections/events/grid?level=0").json()["totals"]
    assert offered == {**totals["years"], **totals["months"]}
    assert all(n > 0 for n in offered.values())
    page.context.close()
