"""The server's drawings as a reader sees them (issue 18): the SVG's legend and labels, the export."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.export.legend import STATUS_SHORT, TYPE_WORDS
from tests.web.conftest import ARTIFACTS

TECHNICALS = "2017-06-08-strike-on-technical-vehicles"
MARKER_COLOURS = ("#b2182b", "#2166ac", "#6b4c00", "#b35806")


@pytest.mark.parametrize("query", ["", f"?sel={TECHNICALS}", "?v=33.5,38.6,10"])
def test_the_svg_has_a_legend_and_its_names_clear_of_the_markers(
    browser: Browser, base_url: str, query: str
) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 600})
    page.goto(f"{base_url}/embed/map.svg{query}")
    texts = page.eval_on_selector_all(
        "text:not(.legend text)",
        "els => els.map(e => { const b = e.getBBox();"
        " return [e.textContent, b.x, b.y, b.width, b.height]; })",
    )
    words = page.locator("svg").text_content() or ""
    assert any(w in words for w in TYPE_WORDS.values()) and any(w in words for w in STATUS_SHORT.values())
    # Every marker (outside the legend box) and every name: no name lies over a marker.
    markers = page.evaluate(
        """(colours) => [...document.querySelectorAll('circle, rect, polygon')]
             .filter(e => colours.includes((e.getAttribute('stroke') || '').toLowerCase())
                       || colours.includes((e.getAttribute('fill') || '').toLowerCase()))
             .filter(e => !e.closest('g[transform]'))
             .map(e => { const b = e.getBBox(); return [b.x, b.y, b.width, b.height]; })""",
        list(MARKER_COLOURS),
    )
    assert markers
    names = [
        t for t in texts if t[0].endswith(("garrison", "zone", "crossing", "camp", "Jordan)", "tripoint"))
    ]
    assert any("At Tanf garrison" == t[0] for t in names), "the garrison's name is missing"
    for name, x, y, w, h in names:
        for mx, my, mw, mh in markers:
            overlap = x < mx + mw - 1 and mx + 1 < x + w and y < my + mh - 1 and my + 1 < y + h
            assert not overlap, f"{name!r} lies over a marker"
    # The legend covers no marker.
    legend = page.evaluate("(() => { const b = document.querySelector('.legend rect').getBBox();"
                           " return [b.x, b.y, b.width, b.height]; })()")  # fmt: skip
    lx, ly, lw, lh = legend
    assert not any(
        lx < mx + mw and mx < lx + lw and ly < my + mh and my < ly + lh for mx, my, mw, mh in markers
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"svg{query.replace('?', '-').replace('=', '-')[:40]}.png"))
    page.close()


def test_the_export_has_a_title_a_legend_a_list_and_dates_in_words(browser: Browser, tmp_path: Path) -> None:
    from app.cli import main

    target = tmp_path / "at-tanf.html"
    assert main(["export", str(target), "--tile-url", ""]) == 0
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(target.as_uri())
    page.wait_for_selector(".incident", state="attached")
    assert "The At Tanf de-confliction zone" in page.locator("h1").inner_text()
    legend = page.locator(".export-legend").inner_text()
    assert all(w in legend for w in ("inside the zone", "outside the zone", "de-confliction zone"))
    items = page.locator(".export-list > ol > li")
    from app.data.loader import load_dataset
    from app.settings import BUNDLED_DATA

    assert items.count() == len(load_dataset(BUNDLED_DATA).incidents)
    text = page.locator("body").inner_text()
    assert "18 May 2017" in text and "(day)" not in text and "2017-05-18" not in text
    # Every list item holds the card; a located one is shown on the map selected (no popup over
    # the map), and its marker opens the same card.
    items.first.locator("summary").click()
    assert "Sources" in items.first.locator(".card").inner_text()
    item = page.locator(f'.export-list li:has(button[data-id="{TECHNICALS}"])')
    item.locator("summary").click()
    item.locator("button").click()
    assert page.locator(".leaflet-popup").count() == 0
    page.locator(".leaflet-marker-icon.incident.selected").click()
    assert "Sources" in page.locator(".leaflet-popup-content").inner_text()
    # Sites are markers (never clipped by the vector layer's edge), with their names.
    assert page.locator(".leaflet-marker-icon.site").count() >= 4
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export-1280.png"))
    page.close()


@pytest.mark.parametrize(("width", "height"), [(320, 200), (420, 260), (600, 330), (800, 600)])
def test_no_name_is_drawn_over_the_attribution(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    """At the sizes the static embed asks for (app.web.embed), the credit line stays legible."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{base_url}/embed/map.svg?width={width}&height={height}")
    boxes = page.eval_on_selector_all(
        "text:not(.legend text)",
        "els => els.map(e => { const b = e.getBBox();"
        " return [e.textContent, b.x, b.y, b.width, b.height]; })",
    )
    credit = [b for b in boxes if b[0].startswith(("At Tanf zone map", "Borders: Natural Earth"))]
    assert len(credit) == 1
    _, cx, cy, cw, ch = credit[0]
    assert 0 <= cx and cx + cw <= width, f"the credit line is cut off at {width}x{height}"
    over = [
        name for name, x, y, w, h in boxes
        if name != credit[0][0] and x < cx + cw and cx < x + w and y < cy + ch and cy < y + h
    ]  # fmt: skip
    assert not over, f"drawn over the credit line at {width}x{height}: {over}"
    page.close()


CONTESTED = "2017-06-06-coalition-strike"
# The claim regions outlined in the export: SVG paths stroked in a zone status's colour.
OUTLINED = """(colours) => [...document.querySelectorAll('.leaflet-pane path')].filter(e => {
    const s = (e.getAttribute('stroke') || '').toLowerCase();
    return colours.includes(s) && e.getAttribute('stroke-opacity') !== '0';
  }).length"""


def test_the_export_outlines_claim_regions_only_for_the_selected_or_hovered_incident(
    browser: Browser, tmp_path: Path
) -> None:
    """The export's first view is calm, as the map's: no incident's claim outlines (it drew every
    incident's at once, dozens of concentric rings); selecting the contested strike of 6 June 2017
    (its card opened from the list) outlines its sources' regions only; pointing at another marker
    outlines that one's while the pointer is on it."""
    from app.cli import main
    from app.data.catalog import build_catalog
    from app.data.loader import load_dataset
    from app.settings import BUNDLED_DATA

    catalog = build_catalog(load_dataset(BUNDLED_DATA))
    by_id = {d.incident.id: d for d in catalog.incidents}
    own = sum(1 for c in by_id[CONTESTED].claims if c.region is not None and c.measure is not None)
    common = 1 if by_id[CONTESTED].common is not None else 0
    target = tmp_path / "at-tanf.html"
    assert main(["export", str(target), "--tile-url", ""]) == 0
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(target.as_uri())
    page.wait_for_selector(".incident", state="attached")
    colours = list(MARKER_COLOURS)
    assert page.evaluate(OUTLINED, colours) == 0, "claim outlines drawn before any selection"
    item = page.locator(f'.export-list li:has(button[data-id="{CONTESTED}"])')
    item.locator("summary").click()
    item.locator("button").click()
    _outlined(page, own + common)
    item.locator("summary").click()  # the card closed
    _outlined(page, 0)
    # Pointing at another incident's marker (one with regions, in view, clear of the panels)
    # outlines its sources' regions, and only while the pointer is on it.
    page.reload()  # the first view again (showing it panned the map)
    page.wait_for_selector(".incident", state="attached")
    shown = page.eval_on_selector_all(
        ".leaflet-marker-icon.incident",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [e.dataset.id, r.left, r.top, r.right, r.bottom]; })",
    )
    free = [
        i for i, x0, y0, x1, y1 in shown
        if i != CONTESTED and 60 < x0 and x1 < 1100 and 70 < y0 and y1 < 800 and by_id[i].claims
    ]  # fmt: skip
    other = next(
        i for i in free if any(c.region is not None and c.measure is not None for c in by_id[i].claims)
    )
    regions = sum(1 for c in by_id[other].claims if c.region is not None and c.measure is not None)
    page.locator(f'.leaflet-marker-icon.incident[data-id="{other}"]').hover()
    _outlined(page, regions)
    page.mouse.move(5, 890)
    _outlined(page, 0)
    page.close()


def _outlined(page: Page, n: int) -> None:
    """Wait (up to 5 s: an animation may be under way) until n claim regions are outlined."""
    try:
        page.wait_for_function(
            "([colours, n]) => (" + OUTLINED + ")(colours) === n", arg=[list(MARKER_COLOURS), n], timeout=5000
        )
    except PlaywrightTimeout:
        pass  # told by the assertion below
    assert page.evaluate(OUTLINED, list(MARKER_COLOURS)) == n


@pytest.mark.parametrize(
    ("width", "height", "query"),
    [(800, 600, f"sel={CONTESTED}"), (800, 600, ""), (600, 450, ""), (600, 450, f"sel={CONTESTED}")],
)
def test_the_garrisons_name_is_not_taken_for_a_markers(
    browser: Browser, base_url: str, width: int, height: int, query: str
) -> None:
    """As a reader sees it (boxes measured by Chromium): the garrison's name is either nearer to
    its own dot than to any incident marker, or stands clear of every marker, 8 px at least (the
    leader line tells whose it is). At 800x600 with the contested strike of 6 June 2017 selected it sat
    5 px under the contested marker and read as that strike's name."""
    from app.export.svg_names import FAIR_CLEAR_PX

    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{base_url}/embed/map.svg?width={width}&height={height}&{query}")
    name = page.evaluate(
        """() => { const t = [...document.querySelectorAll('text')]
             .find(e => e.textContent === 'At Tanf garrison' && !e.closest('.legend'));
           const b = t.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; }"""
    )
    dot = page.evaluate(
        """() => { const c = [...document.querySelectorAll('circle')]
             .find(e => e.getAttribute('fill') === '#111' && e.getAttribute('r') === '6'
                        && !e.closest('.legend'));
           return [+c.getAttribute('cx'), +c.getAttribute('cy'), +c.getAttribute('r')]; }"""
    )
    markers = page.evaluate(
        """(colours) => [...document.querySelectorAll('circle, rect, polygon')]
             .filter(e => colours.includes((e.getAttribute('stroke') || '').toLowerCase())
                       || colours.includes((e.getAttribute('fill') || '').toLowerCase()))
             .filter(e => !e.closest('g[transform]') && !e.closest('.legend'))
             .map(e => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })""",
        list(MARKER_COLOURS),
    )
    page.close()

    def distance(a: list[float], b: list[float]) -> float:
        dx = max(0.0, b[0] - a[2], a[0] - b[2])
        dy = max(0.0, b[1] - a[3], a[1] - b[3])
        return (dx * dx + dy * dy) ** 0.5

    x, y, r = dot
    own = distance(name, [x, y, x, y]) - r
    nearest = min(distance(name, m) for m in markers)
    assert nearest > own or nearest >= FAIR_CLEAR_PX - 0.5, (
        f"the garrison's name is {nearest:.1f} px from a marker, {own:.1f} px from its dot"
    )


# Each place's name shown in the export, its box, and its leader line's ends (page px).
EXPORT_NAMES = """() => [...document.querySelectorAll('.site-name')]
  .filter(e => getComputedStyle(e).visibility !== 'hidden')
  .map(e => { const r = e.getBoundingClientRect();
    const svg = e.parentNode.querySelector('svg'), s = svg.getBoundingClientRect();
    const line = [...e.parentNode.querySelectorAll('path')].map(p => p.getAttribute('d') || '')
      .find(d => d.startsWith('M') && getComputedStyle(e).visibility !== 'hidden');
    const ends = line ? line.slice(1).split('L').map(p => p.split(',').map(Number)) : null;
    const c = e.parentNode.querySelector('circle').getBoundingClientRect();
    return { name: e.textContent, box: [r.left, r.top, r.right, r.bottom],
             dot: [(c.left + c.right) / 2, (c.top + c.bottom) / 2, c.width / 2],
             line: ends ? ends.map(([x, y]) => [s.left + x, s.top + y]) : null }; })"""
EXPORT_MARKERS = """() => [...document.querySelectorAll('.leaflet-marker-icon:is(.incident, .stack)')]
  .filter(e => getComputedStyle(e).display !== 'none').map(e => {
  const b = (e.querySelector('.body') || e).getBoundingClientRect();
  return [b.left, b.top, b.right, b.bottom]; })"""


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (375, 812), (768, 1024), (1000, 800)])
def test_the_exports_names_read_as_their_places(
    browser: Browser, tmp_path: Path, width: int, height: int
) -> None:
    """In the export's first view on a desktop and a phone: the places' names overlap neither one
    another (it drew "Al-Tanf border crossing" under "Al-Waleed border crossing") nor a marker,
    their leader lines cross no marker, and the garrison is named, inside the map, where its name
    reads as its own: its dot nearer to it than any marker, or a leader line and no marker within
    8 px (at 768 px it stood beside the "7" numbered circle)."""
    from app.cli import main

    target = tmp_path / "at-tanf.html"
    assert main(["export", str(target), "--tile-url", ""]) == 0
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(target.as_uri())
    page.wait_for_selector(".incident", state="attached")
    page.wait_for_timeout(300)
    names = page.evaluate(EXPORT_NAMES)
    markers = page.evaluate(EXPORT_MARKERS)
    # The countries named in view, whole and under no panel or control (clip() hides the others).
    countries = page.evaluate(
        "[...document.querySelectorAll('.country-name span')]"
        ".filter((e) => getComputedStyle(e).visibility !== 'hidden').map((e) => e.textContent)"
    )
    frame = page.evaluate(
        "(() => { const r = document.querySelector('.folium-map').getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; })()"
    )
    page.close()

    def meets(a: list[float], b: list[float]) -> bool:
        return a[0] < b[2] - 1 and b[0] + 1 < a[2] and a[1] < b[3] - 1 and b[1] + 1 < a[3]

    def distance(a: list[float], b: list[float]) -> float:
        dx = max(0.0, b[0] - a[2], a[0] - b[2])
        dy = max(0.0, b[1] - a[3], a[1] - b[3])
        return float((dx * dx + dy * dy) ** 0.5)

    assert "At Tanf garrison" in [n["name"] for n in names]
    # Jordan and Iraq told apart: at 768 px only SYRIA was named (the others under the panels).
    want = {"SYRIA", "IRAQ", "JORDAN"} if width >= 700 else {"SYRIA", "IRAQ"}
    assert want <= set(countries), f"at {width}px the countries named are {countries}"
    (garrison,) = [n for n in names if n["name"] == "At Tanf garrison"]
    gx, gy, gr = garrison["dot"]
    own = distance(garrison["box"], [gx, gy, gx, gy]) - gr
    near = min(distance(garrison["box"], m) for m in markers)
    assert near > own or (garrison["line"] and near >= 8 - 0.5), (
        f"at {width}px the garrison's name is {near:.1f} px from a marker, {own:.1f} px from its dot"
    )

    for i, a in enumerate(markers):  # and no marker covers another
        for b in markers[i + 1 :]:
            assert min(min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])) <= 1
    for i, n in enumerate(names):
        box = n["box"]
        assert frame[0] <= box[0] and box[2] <= frame[2] and frame[1] <= box[1] and box[3] <= frame[3], n[
            "name"
        ]
        for other in names[i + 1 :]:
            assert not meets(box, other["box"]), (
                f"{n['name']!r} overlaps {other['name']!r} at {width}x{height}"
            )
        for m in markers:
            assert not meets(box, m), f"{n['name']!r} covers a marker at {width}x{height}"
        # (On a phone, thirty markers fanned out round the garrison enclosed its dot, and no line
        # out of it could miss them all; that crowd is one numbered circle now, as on the map.)
        if n["line"]:
            (x0, y0), (x1, y1) = n["line"]
            length = max(1.0, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
            for k in range(int(length)):
                t = k / length
                if t * length < 8:  # its own dot
                    continue
                px, py = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
                hit = [m for m in markers if m[0] + 1 < px < m[2] - 1 and m[1] + 1 < py < m[3] - 1]
                assert not hit, f"{n['name']!r}'s leader line crosses a marker at {width}x{height}"
