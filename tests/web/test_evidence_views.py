"""Every view shows the same answer to "inside the zone?" for the same incident.

The words are made once (app/data/answer.py) and served by the API; the map card (in Chromium),
the list, the page summary, the server's SVG, the oEmbed title, the CSV and HTML of the API and
the folium export must all carry them unchanged, with the same status.
"""

from __future__ import annotations

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote

import httpx2 as httpx
import pytest

from app.data.catalog import build_catalog
from app.data.loader import load_dataset
from app.export.standalone import card_html
from app.settings import BUNDLED_DATA
from tests.web.conftest import Watched, wait_until

EVENTS = "/api/collections/events/items"
CONTESTED = "2017-06-06-coalition-strike"
DRONE = "2017-06-08-drone-shot-down"
SVG_NS = "{http://www.w3.org/2000/svg}"


def api_events(base_url: str) -> dict[str, dict]:
    body = httpx.get(f"{base_url}{EVENTS}", params={"limit": "1000"}).json()
    return {f["id"]: f["properties"] for f in body["features"]}


@pytest.mark.parametrize("incident_id", [CONTESTED, DRONE])
def test_the_map_card_says_what_the_api_says(watched: Watched, base_url: str, incident_id: str) -> None:
    props = api_events(base_url)[incident_id]
    page = watched.open(f"{base_url}/?sel={incident_id}")
    selector = f'#incidents .card[data-id="{incident_id}"] .status'
    wait_until(page, f"document.querySelector('{selector}') !== null")
    answer = page.locator(f"{selector} .answer").inner_text()
    assert answer == props["zone_answer"]
    assert f"status-{props['zone_status']}" in (page.locator(selector).get_attribute("class") or "")
    if props["zone_share_text"]:
        assert props["zone_share_text"] in page.locator(f"{selector} .answer-more").inner_text()
    summary = page.locator("#summary").inner_text()
    assert summary.endswith(f"Selected: {props['title']}. {props['zone_answer']}")
    assert not watched.errors


def test_the_embed_says_what_the_api_says(watched: Watched, base_url: str) -> None:
    props = api_events(base_url)[CONTESTED]
    expected = f"Selected: {props['title']}. {props['zone_answer']}"
    # The static embed (server-drawn) and the interactive one (with its list) alike.
    static = httpx.get(f"{base_url}/embed", params={"sel": CONTESTED, "static": "1"}).text
    assert expected in html.unescape(static)
    page = watched.open(f"{base_url}/embed?sel={CONTESTED}&list=1")
    wait_until(page, "document.querySelector('#summary').textContent.includes('Selected:')")
    assert page.locator("#summary").inner_text().endswith(expected)
    assert not watched.errors


def test_the_page_summary_counts_contested(watched: Watched, base_url: str) -> None:
    statuses = [p["zone_status"] for p in api_events(base_url).values()]
    page = watched.open(f"{base_url}/")
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("inside", "uncertain", "contested", "outside"))
    assert counts in page.locator("#summary").inner_text()
    assert statuses.count("contested") >= 1


def test_svg_oembed_csv_html_and_export_carry_the_same_words(base_url: str) -> None:
    events = api_events(base_url)
    catalog = build_catalog(load_dataset(BUNDLED_DATA))
    exported = {d.incident.id: card_html(d, catalog) for d in catalog.incidents}
    table = {
        row["id"]: row
        for row in csv.DictReader(io.StringIO(httpx.get(f"{base_url}{EVENTS}", params={"f": "csv"}).text))
    }
    for incident_id, props in events.items():
        answer = props["zone_answer"]
        # The folium export: the same sentence and status, escaped.
        assert (
            html.escape(answer, quote=True).replace("`", "&#96;").replace("$", "&#36;")
            in exported[incident_id]
        )
        assert f"status-{props['zone_status']}" in exported[incident_id]
        # CSV: one column each for the status and the words.
        assert (table[incident_id]["zone_status"], table[incident_id]["zone_answer"]) == (
            props["zone_status"],
            answer,
        )
        if not props["located"]:
            continue
        # The server-drawn SVG of the map with this incident selected: its description.
        svg = httpx.get(f"{base_url}/embed/map.svg", params={"sel": incident_id})
        desc = ET.fromstring(svg.content).find(f"{SVG_NS}desc")
        assert desc is not None and desc.text is not None and answer in desc.text
    # oEmbed of a selected incident: the title (what WordPress shows as the iframe's title).
    url = f"{base_url}/?sel={CONTESTED}"
    body = httpx.get(f"{base_url}/oembed", params={"url": url}).json()
    assert body["title"].endswith(events[CONTESTED]["zone_answer"])
    # The API's own HTML view of the feature.
    page = httpx.get(f"{base_url}{EVENTS}/{quote(CONTESTED)}", params={"f": "html"}).text
    assert html.escape(events[CONTESTED]["zone_answer"]) in page
    assert re.search(r"<th>zone_status</th><td>contested</td>", page)


def test_an_unconfirmed_incident_says_so_in_the_api_the_card_and_the_export(
    watched: Watched, base_url: str
) -> None:
    events = api_events(base_url)
    unconfirmed = {i: p for i, p in events.items() if p["unconfirmed"]}
    assert unconfirmed  # the data marks some (e.g. the Russian strikes claimed in June 2024)
    incident_id, props = next(iter(unconfirmed.items()))
    page = watched.open(f"{base_url}/?sel={incident_id}")
    selector = f'#incidents .card[data-id="{incident_id}"] .unconfirmed'
    wait_until(page, f"document.querySelector('{selector}') !== null")
    assert page.locator(selector).inner_text() == f"Unconfirmed: {props['unconfirmed']}"
    catalog = build_catalog(load_dataset(BUNDLED_DATA))
    derived = next(d for d in catalog.incidents if d.incident.id == incident_id)
    assert "<b>Unconfirmed:</b>" in card_html(derived, catalog)


@pytest.mark.parametrize("query", ["status=uncertain", "types=Battles&status=contested", "status=outside"])
def test_a_span_of_one_month_is_said_as_one(watched: Watched, base_url: str, query: str) -> None:
    """The incidents shown begin and end in one month: "in June 2016", not "from June 2016 to
    June 2016"; the reader's summary (in Chromium) and the server's (the embed page's text, the
    oEmbed title) say the same."""
    page = watched.open(f"{base_url}/?{query}")
    wait_until(page, "document.querySelector('#summary').textContent.includes('incidents')")
    browser = page.locator("#summary").inner_text()
    served = html.unescape(httpx.get(f"{base_url}/embed?{query}&static=1").text)
    when = re.search(r"incidents ((?:in|from) [^:]+):", browser)
    assert when is not None, browser
    assert f"incidents {when.group(1)}:" in served
    first_last = re.fullmatch(r"from (\w+ \d{4}) to (\w+ \d{4})", when.group(1))
    assert first_last is None or first_last.group(1) != first_last.group(2), browser
    assert not watched.errors
