"""Keyboard and screen reader (issue 18): markers as buttons, reachable cards, axe-core clean."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import Watched, wait_until

TECHNICALS = "2017-06-08-strike-on-technical-vehicles"
TECHNICALS_TITLE = "Coalition strike on pro-regime technical vehicles"
CONTESTED = "2017-06-06-coalition-strike"  # sources disagree: its status words in the contested colour
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def test_enter_on_a_marker_selects_it_as_a_click_does(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    marker = page.locator(f'.incident-icon[title="{TECHNICALS_TITLE}"]')
    marker.focus()
    page.keyboard.press("Enter")
    wait_until(page, f"location.search.includes('sel={TECHNICALS}')")
    assert page.locator(f'#incidents button[data-id="{TECHNICALS}"]').get_attribute("aria-expanded") == "true"
    # On a desktop the card opens in the list beside the map, once (no popup repeats it).
    assert page.locator(".leaflet-popup").count() == 0
    in_card = f"document.activeElement.closest('#incidents article.card[data-id=\"{TECHNICALS}\"]') !== null"
    # The focus is in the card, and Tab reaches its links.
    wait_until(page, in_card)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"
    assert page.evaluate(in_card)
    # The map redrawing (the incident's regions coming in) leaves the focus where it is.
    wait_until(page, "document.querySelectorAll('path.claim-region').length > 0")
    page.wait_for_timeout(300)
    assert page.evaluate(in_card) and page.evaluate("document.activeElement.tagName") == "A"
    # Escape closes the card, drops the selection and gives the focus back to the marker.
    page.keyboard.press("Escape")
    wait_until(page, "!location.search.includes('sel=')")
    wait_until(page, "document.querySelectorAll('.leaflet-popup').length === 0")  # after its fade
    assert page.evaluate("document.activeElement.getAttribute('title')") == TECHNICALS_TITLE


def test_focus_on_a_marker_off_screen_brings_it_into_view(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/?v=33.5,38.2,12")
    area = page.locator("#map").bounding_box()
    assert area is not None
    off = page.evaluate(
        """(a) => [...document.querySelectorAll('.incident-icon')].map((e, i) => {
             if (e.classList.contains('stacked')) return null;  // in a numbered circle
             const r = e.getBoundingClientRect();
             const on = r.left >= a.x && r.right <= a.x + a.width
               && r.top >= a.y && r.bottom <= a.y + a.height;
             return on ? null : i; }).filter((i) => i !== null)""",
        area,
    )
    assert off, "the test needs a marker off screen"
    for k in off[:3]:
        page.locator(".incident-icon").nth(k).focus()
        page.wait_for_timeout(400)
        marker = page.locator(".incident-icon").nth(k)
        stack = marker.get_attribute("data-stack")
        # brought into view, as itself or in the numbered circle it went into there
        box = (
            page.locator(f'#map .cell-icon[data-stack="{stack}"]').bounding_box()
            if stack
            else marker.bounding_box()
        )
        assert box is not None
        assert area["x"] <= box["x"] and box["x"] + box["width"] <= area["x"] + area["width"]
        assert area["y"] <= box["y"] and box["y"] + box["height"] <= area["y"] + area["height"]


def test_markers_are_named_buttons(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    names = page.eval_on_selector_all(
        ".incident-icon", "els => els.map(e => [e.getAttribute('role'), e.getAttribute('aria-label')])"
    )
    assert names and all(role == "button" and label for role, label in names)
    # The name says what, when and whether inside the zone, not only the title.
    assert any("8 June 2017" in label for _, label in names), names


def axe_violations(page: Page) -> list[dict[str, object]]:
    if not AXE.exists():
        if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
            raise RuntimeError("axe-core is required here: npm ci --prefix tests/web")
        pytest.skip("axe-core not installed (npm ci --prefix tests/web)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
             .filter((v) => v.impact === "serious" || v.impact === "critical")
             .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }))"""
    )


@pytest.mark.parametrize(
    ("path", "width"),
    [
        ("/", 1440),
        (f"/?sel={TECHNICALS}", 1440),
        (f"/?sel={TECHNICALS}", 375),
        ("/embed", 600),
        (f"/embed?sel={TECHNICALS}&list=1&timeline=1", 600),
        ("/embed?theme=dark", 600),
        (f"/embed?theme=dark&sel={TECHNICALS}&list=1&timeline=1", 320),
        ("/embed?static=1", 600),
        # The contested strike selected: its list line and card answer (3.95:1 and 4.41:1 on the
        # selected row's tint in session 25), light and dark, on the map and on the embed.
        (f"/?sel={CONTESTED}", 375),
        (f"/?sel={CONTESTED}", 1440),
        (f"/embed?sel={CONTESTED}&list=1&timeline=1", 375),
        (f"/embed?sel={CONTESTED}&list=1&timeline=1", 1440),
        (f"/embed?theme=dark&sel={CONTESTED}&list=1&timeline=1", 375),
        (f"/embed?theme=dark&sel={CONTESTED}&list=1&timeline=1", 1440),
    ],
)
def test_axe_finds_nothing_serious(browser: Browser, base_url: str, path: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    if "static=1" in path:
        page.wait_for_selector("img.static-map")
    else:
        page.wait_for_selector("body[data-ready='true']")
    page.wait_for_timeout(300)
    violations = axe_violations(page)
    context.close()
    assert violations == [], violations


def test_the_dark_embeds_tile_notice_and_attribution_are_readable(browser: Browser) -> None:
    """The dark theme's tile notice (1.14:1) and attribution link (1.23:1) were unreadable: with a
    tile layer that fails, the notice shows, and axe-core finds no contrast fault in the frame."""
    from tests.web.conftest import start

    with start(tile_url="/no-such-tiles/{z}/{x}/{y}.png") as url:  # type: ignore[attr-defined]
        context = browser.new_context(viewport={"width": 600, "height": 450})
        page = context.new_page()
        page.goto(f"{url}/embed?theme=dark")
        page.wait_for_selector("body[data-ready='true']")
        page.get_by_text("tiles could not be loaded").wait_for()
        assert page.locator(".leaflet-control-attribution a").count() >= 1
        violations = axe_violations(page)
        context.close()
    assert violations == [], violations
