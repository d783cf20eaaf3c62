"""The time range in a few actions (issue 18): periods, date fields, sliders and URL in step."""

from __future__ import annotations

import datetime as dt
import re

import httpx2
from playwright.sync_api import Page

from tests.web.conftest import Watched, wait_until


def in_step(page: Page, start: str, end: str) -> None:
    """The slider labels, the date fields and the address all hold start..end."""
    assert page.locator("#from-date").input_value() == start
    assert page.locator("#to-date").input_value() == end
    days = page.evaluate(
        """() => ({ from: Number(document.getElementById('from').value),
                    to: Number(document.getElementById('to').value),
                    first: document.getElementById('from-date').min })"""
    )
    origin = dt.date.fromisoformat(days["first"])
    assert (origin + dt.timedelta(days=days["from"])).isoformat() == start
    assert (origin + dt.timedelta(days=days["to"])).isoformat() == end


def test_a_month_is_one_choice(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    page.locator("#period").select_option("2017-06")
    in_step(page, "2017-06-01", "2017-06-30")
    assert page.locator("#from-label").inner_text() == "1 June 2017"
    assert page.locator("#to-label").inner_text() == "30 June 2017"
    wait_until(page, "location.search.includes('from=2017-06-01&to=2017-06-30')")
    june = httpx2.get(f"{base_url}/api/collections/events/items?datetime=2017-06-01/2017-06-30").json()
    assert page.locator("#incidents > li").count() == june["numberMatched"]
    # A year, then back to all dates.
    page.locator("#period").select_option("2018")
    wait_until(page, "location.search.includes('from=2018-01-01')")
    assert page.locator("#from-date").input_value() == "2018-01-01"
    page.locator("#period").select_option("")
    wait_until(page, "!location.search.includes('from=')")
    total = httpx2.get(f"{base_url}/api/collections/events/items?limit=1").json()["numberMatched"]
    assert page.locator("#incidents > li").count() == total
    # Back walks through the choices, and every control follows.
    page.go_back()
    wait_until(page, "location.search.includes('from=2018-01-01')")
    assert page.locator("#period").input_value() == "2018"
    page.go_back()
    wait_until(page, "location.search.includes('from=2017-06-01')")
    in_step(page, "2017-06-01", "2017-06-30")
    assert page.locator("#period").input_value() == "2017-06"


def test_the_date_fields_and_the_sliders_move_together(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    page.locator("#from-date").fill("2017-06-01")
    page.locator("#from-date").dispatch_event("change")
    wait_until(page, "location.search.includes('from=2017-06-01')")
    in_step(page, "2017-06-01", page.locator("#to-date").get_attribute("max") or "")
    assert page.locator("#period").input_value() == "custom"
    # A slider moved by keyboard moves its date field.
    page.locator("#from").focus()
    page.keyboard.press("ArrowRight")
    in_step(page, "2017-06-02", page.locator("#to-date").get_attribute("max") or "")
    # A date read from a shared link lands in the fields too.
    page.goto(f"{base_url}/?from=2017-05-18&to=2017-06-08")
    page.wait_for_selector("body[data-ready='true']")
    in_step(page, "2017-05-18", "2017-06-08")


def test_play_pauses_when_an_incident_is_selected(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    page.locator("#play").click()
    assert page.locator("#play").get_attribute("aria-pressed") == "true"
    page.locator("#incidents .incident-button").first.click()
    assert page.locator("#play").get_attribute("aria-pressed") == "false"
    held = page.locator("#to-label").inner_text()
    page.wait_for_timeout(1200)  # two ticks of play, had it gone on
    assert page.locator("#to-label").inner_text() == held


def period_options(page: Page) -> list[tuple[str, str]]:
    """The period menu's years and months: (value, label), without "all dates" and "custom"."""
    options = page.eval_on_selector_all("#period option", "os => os.map(o => [o.value, o.textContent])")
    return [(v, label) for v, label in options if v not in ("", "custom")]


def test_the_period_menu_offers_only_periods_that_hold_incidents(watched: Watched, base_url: str) -> None:
    """Each year and month offered says how many incidents it holds; choosing it shows exactly
    those (the API's datetime filter agrees), and the sliders, date fields and address follow."""
    page = watched.open(f"{base_url}/")
    options = period_options(page)
    assert options
    for value, label in options:
        said = re.search(r"\((\d+) incidents?\)$", label)
        assert said, f"the period {label!r} does not say how many incidents it holds"
        page.locator("#period").select_option(value)
        start = page.locator("#from-date").input_value()
        end = page.locator("#to-date").input_value()
        assert start[: len(value)] == value and end[: len(value)] == value
        wait_until(page, f"location.search.includes('to={end}') || location.search.includes('from={start}')")
        shown = page.locator("#incidents > li").count()
        api = httpx2.get(f"{base_url}/api/collections/events/items?limit=1&datetime={start}/{end}").json()
        assert int(said.group(1)) == shown == api["numberMatched"] > 0, (label, shown)
        in_step(page, start, end)


def test_the_embeds_options_survive_every_address_it_writes(watched: Watched, base_url: str) -> None:
    """Session 25: in /embed?timeline=1&from=…&to=…, choosing the year 2022 wrote
    ?from=2022-01-01&to=2022-12-31 without timeline=1, so a reload showed no timeline. The
    embed's options (timeline, list, theme) are kept by every write: a period, a pan, a selection."""
    options = ("timeline=1", "list=1", "theme=dark")
    page = watched.open(f"{base_url}/embed?timeline=1&list=1&theme=dark&from=2017-06-01&to=2017-06-30")
    year = [v for v, _ in period_options(page) if len(v) == 4][-1]
    page.locator("#period").select_option(year)
    wait_until(page, f"location.search.includes('from={year}-01-01')")
    assert all(o in page.evaluate("location.search") for o in options), page.evaluate("location.search")
    page.locator(".leaflet-control-zoom-in").click()  # a zoom writes the view
    wait_until(page, "location.search.includes('v=')")
    page.locator("#incidents .incident-button").first.click()
    wait_until(page, "location.search.includes('sel=')")
    search = page.evaluate("location.search")
    assert all(o in search for o in options), search
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator("#period").is_visible() and page.locator("#incidents > li").count() > 0
    assert page.evaluate("document.documentElement.classList.contains('dark')")
