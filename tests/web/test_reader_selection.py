"""A selected incident told once (issue 18): on a desktop its card opens in the side panel, and
the map shows its highlighted marker and regions, not a popup repeating the card over them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import wait_until

CONTESTED = "2017-06-06-coalition-strike"
TOWER_22 = "2024-01-28-tower-22-drone-attack"


def open_page(browser: Browser, url: str, width: int, height: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready='true']")
    return page


def told_once_beside_the_map(page: Page, incident: str) -> None:
    card = page.locator(f'article.card[data-id="{incident}"]')
    card.wait_for()
    wait_until(page, "document.querySelectorAll('path.claim-region').length > 0")
    page.wait_for_timeout(400)  # a popup would have opened (and faded in) by now
    assert page.locator(".leaflet-popup").count() == 0, "a popup repeats the card over the map"
    assert card.count() == 1, "the card is shown twice"
    # The card is in the panel, its line and its start in view; the map shows the marker
    # highlighted.
    assert card.evaluate("e => e.closest('.panel') !== null")
    panel = page.locator(".panel").bounding_box()
    line = page.locator(f'#incidents button[data-id="{incident}"]').bounding_box()
    top = card.bounding_box()
    assert panel and line and top
    assert panel["y"] <= line["y"] and top["y"] + 40 <= panel["y"] + panel["height"]
    assert page.locator(".incident-icon.selected").count() == 1


@pytest.mark.parametrize("incident", [CONTESTED, TOWER_22])
def test_a_linked_selection_is_told_once_on_a_desktop(browser: Browser, base_url: str, incident: str) -> None:
    page = open_page(browser, f"{base_url}/?sel={incident}", 1440, 900)
    told_once_beside_the_map(page, incident)
    page.context.close()


@pytest.mark.parametrize("width", [1440, 768])
def test_a_clicked_marker_is_told_once_beside_the_map(browser: Browser, base_url: str, width: int) -> None:
    page = open_page(browser, f"{base_url}/", width, 900)
    title = page.locator(f'#incidents button[data-id="{CONTESTED}"] .title').inner_text()
    # (Its neighbour of the same day, fanned out beside it, covers its middle: the click goes to
    # the marker itself.)
    page.locator(f'.incident-icon[title="{title}"]').dispatch_event("click")
    wait_until(page, f"location.search.includes('sel={CONTESTED}')")
    told_once_beside_the_map(page, CONTESTED)
    # Escape on one of the card's links closes it and gives the focus back to the marker.
    page.locator(f'article.card[data-id="{CONTESTED}"] a').first.focus()
    page.keyboard.press("Escape")
    wait_until(page, "!location.search.includes('sel=')")
    assert page.locator("article.card").count() == 0
    # (or, where the marker goes back into a numbered circle, to the circle that holds it)
    back = page.evaluate(
        """(title) => { const a = document.activeElement;
             const m = document.querySelector(`.incident-icon[title="${title}"]`);
             return a.getAttribute('title') === title
               || (m.classList.contains('stacked') && a.classList.contains('cell-icon')
                   && a.dataset.stack === m.dataset.stack); }""",
        title,
    )
    assert back, page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    page.context.close()


def test_on_a_phone_the_card_is_a_sheet_and_no_popup(browser: Browser, base_url: str) -> None:
    page = open_page(browser, f"{base_url}/?sel={CONTESTED}", 375, 812)
    page.locator(f'#sheet article.card[data-id="{CONTESTED}"]').wait_for()
    page.wait_for_timeout(400)
    assert page.locator(".leaflet-popup").count() == 0
    page.context.close()
