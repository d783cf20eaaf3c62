"""What a reader reads (issue 18): no internal process text, one name per thing, text direction."""

from __future__ import annotations

import re

import httpx2
from playwright.sync_api import Browser, Route

from tests.web.conftest import Watched

# The project's own workings: fine in geodata/ comments and the API's provenance, never on a card.
INTERNAL = re.compile(r"research notes|research folder|the project|as given in", re.IGNORECASE)


def all_cards_text(watched: Watched, base_url: str) -> list[str]:
    page = watched.open(f"{base_url}/")
    buttons = page.locator("#incidents .incident-button")
    texts = []
    for i in range(buttons.count()):
        buttons.nth(i).click()
        texts.append(page.locator("#incidents article.card").inner_text())
    return texts


def test_no_card_shows_the_projects_own_workings(watched: Watched, base_url: str) -> None:
    texts = all_cards_text(watched, base_url)
    assert (
        len(texts) == httpx2.get(f"{base_url}/api/collections/events/items?limit=1").json()["numberMatched"]
    )
    found = {m.group(0) for text in texts for m in INTERNAL.finditer(text)}
    assert not found, found


def test_a_card_names_an_aircraft_one_way_in_its_own_words(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    buttons = page.locator("#incidents .incident-button")
    checked = 0
    for i in range(buttons.count()):
        buttons.nth(i).click()
        card = page.locator("#incidents article.card")
        ours = " ".join(card.locator(sel).inner_text() for sel in (".card-title", ".summary-text", ".actors"))
        names = set(re.findall(r"\bF-1[56]E?\b", ours))
        if names:
            checked += 1
            assert len(names) == 1 or re.search(r'"F-1[56]E?"', ours), names  # another name only quoted
        # The drone too: "Shahed 129" or "Shaheed-129", one spelling in a card's own words.
        drones = set(re.findall(r"\bShah(?:e|ee)d[- ]129\b", ours))
        assert len(drones) <= 1, drones
    assert checked >= 2


def test_text_from_the_data_sets_its_own_direction(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/?sel=2017-06-08-strike-on-technical-vehicles")
    missing = page.eval_on_selector_all(
        "#incidents .card-title, #incidents .summary-text, #incidents blockquote, #incidents .note,"
        " #incidents .claim strong, #incidents .incident-button .title, .site-label span",
        "els => els.filter(e => e.getAttribute('dir') !== 'auto').map(e => e.outerHTML.slice(0, 80))",
    )
    assert missing == []
    # Names inside running text are isolated, so a right-to-left one cannot reorder the line.
    assert page.locator("#incidents .actors bdi").count() >= 2


def test_while_loading_the_page_says_so(browser: Browser, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    held: list[Route] = []
    page.route("**/api/collections/events/items*", lambda route: held.append(route))
    page.goto(f"{base_url}/")
    page.locator("#summary").wait_for()
    text = page.locator("#summary").inner_text()
    assert "Loading the map" in text and "needs JavaScript" not in text
    for route in held:
        route.continue_()
    page.unroute("**/api/collections/events/items*")
    context.close()
    # Without JavaScript, the page says what it needs and where the data is.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/")
    assert "needs JavaScript" in page.locator("body").inner_text()
    context.close()
