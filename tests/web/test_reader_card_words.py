"""The card and the summary in a reader's words (issue 18).

A card said its date twice (the list's line, then the card's own line; the embed's summary, then
the card); the incident's type read as ACLED's jargon ("Explosions/Remote violence / Air/drone
strike"); the "June 2017" period's summary sentence said "from May 2017" (one incident ran from
18 May into June); one drone was spelled "Shahed 129" on one card and "Shaheed-129" on another.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import httpx2
import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import Watched, wait_until
from tests.web.test_reader_markers import open_at

CONTESTED = "2017-06-06-coalition-strike"
ACLED_TYPES = [
    "Explosions/Remote violence",
    "Battles",
    "Strategic developments",
    "Violence against civilians",
]
ACLED_SUB_TYPES = [
    "Air/drone strike",
    "Armed clash",
    "Change to group/activity",
    "Disrupted weapons use",
    "Remote explosive/landmine/IED",
]


def visible_text(page: Page, selector: str) -> str:
    """The text a sighted reader sees there (a heading kept for screen readers only, 1 px and
    clipped, left out)."""
    return page.evaluate(
        """(selector) => {
          const element = document.querySelector(selector);
          const hidden = [...element.querySelectorAll('*')].filter((e) => {
            const r = e.getBoundingClientRect();
            const clipped = getComputedStyle(e).overflow === 'hidden';
            return e.textContent.trim() && r.width <= 1 && r.height <= 1 && clipped;
          });
          hidden.forEach((e) => { e.dataset.srOnly = e.textContent; e.textContent = ''; });
          const text = element.innerText;
          hidden.forEach((e) => { e.textContent = e.dataset.srOnly; delete e.dataset.srOnly; });
          return text;
        }""",
        selector,
    )


def test_the_list_card_says_its_date_once_and_its_type_in_plain_words(
    watched: Watched, base_url: str
) -> None:
    page = watched.open(f"{base_url}/?sel={CONTESTED}")
    item = "#incidents > li.selected"
    page.locator(f"{item} article.card").wait_for()
    text = visible_text(page, item)
    assert text.count("6 June 2017") == 1, text[:400]
    for term in ACLED_TYPES + ACLED_SUB_TYPES:
        assert term not in text, f"the card says {term!r}"
    assert "Air or drone strike" in text
    # The ACLED terms stay for analysts: in the line's title, and in the API.
    title = page.locator(f"{item} .card .meta").get_attribute("title") or ""
    assert "Explosions/Remote violence" in title and "Air/drone strike" in title
    api = httpx2.get(f"{base_url}/api/collections/events/items/{CONTESTED}").json()
    assert api["properties"]["event_type"] == "Explosions/Remote violence"


def test_the_filters_name_the_types_in_plain_words(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    labels = page.locator("#type-filters label").all_inner_texts()
    assert labels and not set(labels) & set(ACLED_TYPES), labels
    assert "Air strike, shelling, drone or bomb" in labels
    titles = [page.locator("#type-filters label").nth(i).get_attribute("title") for i in range(len(labels))]
    assert "ACLED event type: Explosions/Remote violence" in titles


@pytest.mark.parametrize("width", [375, 600])
def test_the_embeds_card_says_its_title_and_date_once(browser: Browser, base_url: str, width: int) -> None:
    page = open_at(browser, base_url, width, 700, f"/embed?sel={CONTESTED}")
    page.locator("#embed-card summary").click()
    page.locator("#embed-card .card").wait_for()
    text = visible_text(page, "#embed-card")
    assert text.count("6 June 2017") == 1, text[:400]
    title = "Coalition strike on pro-regime forces that would not leave the zone"
    assert text.count(title) == 1, text[:400]
    assert "Explosions/Remote violence" not in text
    page.context.close()


def test_the_phone_sheet_says_its_date_once(browser: Browser, base_url: str) -> None:
    page = open_at(browser, base_url, 375, 812, f"/?sel={CONTESTED}", is_mobile=True, has_touch=True)
    page.locator("#sheet:not([hidden]) .card").wait_for()
    text = visible_text(page, "#sheet")
    assert text.count("6 June 2017") == 1 and "Explosions/Remote violence" not in text, text[:400]
    page.context.close()


def test_a_months_summary_says_what_the_apis_datetime_filter_gives(watched: Watched, base_url: str) -> None:
    """June 2017: the incidents whose days meet June (the API's datetime filter), said to be in
    June 2017, with the one that began in May said so; the server's sentence is the same."""
    page = watched.open(f"{base_url}/")
    page.locator("#period").select_option("2017-06")
    wait_until(page, "location.search.includes('from=2017-06-01&to=2017-06-30')")
    june = httpx2.get(
        f"{base_url}/api/collections/events/items?datetime=2017-06-01/2017-06-30&limit=100"
    ).json()
    total = httpx2.get(f"{base_url}/api/collections/events/items?limit=1").json()["numberMatched"]
    began_before = sum(1 for f in june["features"] if f["properties"]["date_start"] < "2017-06-01")
    went_on = sum(1 for f in june["features"] if f["properties"]["date_end"] > "2017-06-30")
    assert began_before >= 1  # the data holds one: 18 May - 1 June 2017
    summary = page.locator("#summary").inner_text()
    assert f"{june['numberMatched']} of {total} incidents in June 2017:" in summary, summary
    assert "May" not in summary.split(":")[0], summary
    assert f"{began_before} of them began before June 2017." in summary, summary
    assert ("went on after" in summary) == bool(went_on), summary
    # The sentence the server writes (the embed's page, its drawings' alt text) is the same.
    page_html = httpx2.get(f"{base_url}/embed?from=2017-06-01&to=2017-06-30").text
    served = re.search(r'<p id="summary"[^>]*>(.*?)</p>', page_html, re.S)
    assert served and " ".join(html.unescape(served.group(1)).split()) == " ".join(summary.split())


def test_a_custom_range_and_a_year_are_said_plainly(watched: Watched, base_url: str) -> None:
    for query, words in [
        ("from=2017-06-05&to=2017-06-09", "from 5 June 2017 to 9 June 2017:"),
        ("from=2017-01-01&to=2017-12-31", "in 2017:"),
    ]:
        page = watched.open(f"{base_url}/?{query}")
        assert words in page.locator("#summary").inner_text()


def test_one_spelling_of_each_drone_in_readers_words(base_url: str) -> None:
    """Titles, summaries and actors (not the sources' quotes, which stay exact) spell the drone
    one way across every incident."""
    events = httpx2.get(f"{base_url}/api/collections/events/items?limit=1000").json()["features"]
    spellings: set[str] = set()
    for feature in events:
        full = httpx2.get(f"{base_url}/api/collections/events/items/{quote(feature['id'])}").json()[
            "properties"
        ]
        words = " ".join([full["title"], full["summary"], *full["actors"]])
        spellings |= set(re.findall(r"\bShah(?:e|ee)d[- ]129\b", words))
    assert len(spellings) == 1, spellings
