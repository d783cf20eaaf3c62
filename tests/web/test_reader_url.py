"""Shared links reproduce the view (issue 18): zoom exactly, centre to 5 decimals, no fragment."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.web.conftest import Watched, wait_until

VIEW = "33.61234,38.41234,9.5"


def view_of(page: Page) -> dict[str, float]:
    return page.evaluate(
        "(() => { const m = window.__atTanfMap.map, c = m.getCenter();"
        " return { lat: c.lat, lon: c.lng, zoom: m.getZoom() }; })()"
    )


def test_a_link_opens_at_its_zoom_and_centre(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/?v={VIEW}")
    view = view_of(page)
    assert view["zoom"] == 9.5
    assert abs(view["lat"] - 33.61234) < 1e-6 and abs(view["lon"] - 38.41234) < 1e-6


def test_the_view_round_trips_through_the_address(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/?v={VIEW}")
    page.evaluate("window.__atTanfMap.map.setZoom(10.5, { animate: false })")
    page.evaluate("window.__atTanfMap.map.panBy([37, -23], { animate: false })")
    wait_until(page, "location.search.includes(',10.5')")
    before = view_of(page)
    link = page.url
    page.goto(link)
    page.wait_for_selector("body[data-ready='true']")
    after = view_of(page)
    assert after["zoom"] == before["zoom"] == 10.5
    # Written to 5 decimals: within 0.5e-5 degrees, about half a metre.
    assert abs(after["lat"] - before["lat"]) <= 0.5e-5 and abs(after["lon"] - before["lon"]) <= 0.5e-5
    assert page.url == link  # opening the link writes nothing new: it is already the view


def test_the_skip_link_leaves_no_fragment_in_shared_links(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "incidents"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first incident
    wait_until(page, "location.search.includes('sel=')")
    assert "#" not in page.url
    page.locator("#embed-button").click()
    wait_until(page, "document.querySelector('#embed-code').value.includes('<iframe')")
    assert "#" not in page.locator("#embed-code").input_value()


SELECTED = "2017-04-08-isis-attack-on-garrison"


def test_a_link_with_a_selected_incident_opens_at_its_view(watched: Watched, base_url: str) -> None:
    """A shared link, "Open the full map" and back/forward carry ``v`` beside ``sel``: the page
    opens at that view, not re-centred on the incident (it moved 36 px, or 24 km from an embed)."""
    link = f"{base_url}/?v=33.50000,38.70000,9.25&sel={SELECTED}"
    page = watched.open(link)
    wait_until(page, "document.querySelector('#incidents li.selected') !== null")
    view = view_of(page)
    assert view["zoom"] == 9.25
    assert abs(view["lat"] - 33.5) <= 0.5e-5 and abs(view["lon"] - 38.7) <= 0.5e-5, view
    assert page.url == link

    # Another incident picked from the list pans to it; back returns to the linked view.
    page.locator("#incidents li:not(.selected)").first.click()
    wait_until(page, f"!location.search.includes('{SELECTED}')")
    page.go_back()
    wait_until(page, f"location.search.includes('{SELECTED}')")
    page.wait_for_timeout(300)  # a pan would have started by now
    view = view_of(page)
    assert abs(view["lat"] - 33.5) <= 0.5e-5 and abs(view["lon"] - 38.7) <= 0.5e-5, view
