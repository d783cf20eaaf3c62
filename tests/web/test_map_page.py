"""The reader's map in a real browser: drawn from the API, safe, keyboard-usable, linkable."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser

from tests.conftest import bundled
from tests.web.conftest import ARTIFACTS, Watched, start, wait_until

TECHNICALS = "2017-06-08-strike-on-technical-vehicles"


def located_events(base_url: str) -> list[dict]:
    body = httpx2.get(f"{base_url}/api/collections/events/items?limit=1000").json()
    return [f for f in body["features"] if f["geometry"]]


def test_page_loads_clean_and_everything_stays_on_localhost(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    assert watched.errors == []
    assert all(url.startswith(base_url) for url in watched.requests), watched.requests
    assert page.locator(".leaflet-marker-icon.incident-icon").count() == len(located_events(base_url))
    assert page.get_by_text("55 km de-confliction zone", exact=True).is_visible()
    # The zone is the API's polygon (every vertex), never a Leaflet circle.
    zone = httpx2.get(f"{base_url}/api/collections/zones/items/at-tanf-dcz").json()
    drawn = page.evaluate(
        """() => {
          const layers = Object.values(window.__atTanfMap.map._layers);
          const zone = layers.find((l) => l.feature && l.feature.properties.role === "zone" && l.getLatLngs);
          return {
            vertices: zone ? zone.getLatLngs()[0].length : 0,
            circles: layers.filter((l) => l instanceof L.Circle).length,
          };
        }"""
    )
    assert (
        drawn["vertices"] == len(zone["geometry"]["coordinates"][0]) - 1
    )  # Leaflet drops the closing vertex
    assert drawn["circles"] == 0


def test_summary_counts_match_the_api(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    body = httpx2.get(f"{base_url}/api/collections/events/items?limit=1000").json()
    counts = {
        s: sum(f["properties"]["zone_status"] == s for f in body["features"])
        for s in ("inside", "uncertain", "contested", "outside")
    }
    summary = page.locator("#summary").inner_text()
    assert f"{body['numberMatched']} incidents" in summary
    assert (
        f"{counts['inside']} inside, {counts['uncertain']} uncertain, {counts['contested']} contested, "
        f"{counts['outside']} outside" in summary
    )
    assert page.locator("#incidents > li").count() == body["numberMatched"]


def test_a_marker_opens_its_card_with_its_sources_quote(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    page.locator('.incident-icon[title="Coalition strike on pro-regime technical vehicles"]').click()
    card = page.locator(f'#incidents article.card[data-id="{TECHNICALS}"]')  # beside the map
    card.wait_for()
    assert "about 24 miles from the At Tanf base" in card.inner_text()
    assert "390.6 km²" in card.inner_text()
    assert f"sel={TECHNICALS}" in page.url


def test_click_on_the_map_measures_from_the_garrison(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/?v=33.5058,38.6178,9")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 40, box["y"] + box["height"] * 0.75)  # WSW of the garrison, off the markers
    text = page.locator(".locate-popup .leaflet-popup-content").inner_text()
    assert re.search(r"\d+\.\d km W\w* of the garrison", text), text
    assert "zone" in text


def test_keyboard_alone_reaches_an_incident_card(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.dataset.id")
    page.keyboard.press("Enter")
    item = page.locator(f'#incidents button[data-id="{focused}"]')
    assert item.get_attribute("aria-expanded") == "true"
    card = page.locator(f'#incidents article.card[data-id="{focused}"]')
    card.wait_for()  # its details load when it opens
    assert card.is_visible() and "Sources" in card.inner_text()
    # The map follows: the incident's marker is highlighted (its card is not repeated there).
    assert (
        page.locator(f'.incident-icon.selected[title="{item.locator(".title").inner_text()}"]').count() == 1
    )
    assert page.locator(".leaflet-popup").count() == 0


def test_the_url_round_trips_the_state(watched: Watched, base_url: str) -> None:
    state = f"v=33.6000,38.4000,9&from=2017-06-01&to=2017-06-30&status=inside,contested&sel={TECHNICALS}"
    url = f"{base_url}/?{state}"
    page = watched.open(url)
    assert page.locator("#from-label").inner_text() == "1 June 2017"
    assert page.locator("#to-label").inner_text() == "30 June 2017"
    assert not page.locator("#status-filters-outside").is_checked()
    assert page.locator(f'#incidents button[data-id="{TECHNICALS}"]').get_attribute("aria-expanded") == "true"
    shown = page.locator("#incidents > li").count()
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#incidents > li").count() == shown
    assert "from=2017-06-01" in page.url and "status=inside,contested" in page.url
    # Back and forward walk through selections.
    page.locator('#incidents button[data-id="2017-06-06-coalition-strike"]').click()
    assert "sel=2017-06-06-coalition-strike" in page.url
    page.go_back()
    wait_until(page, f"location.search.includes('sel={TECHNICALS}')")
    expanded = page.locator(f'#incidents button[data-id="{TECHNICALS}"]')
    expanded.wait_for()
    assert expanded.get_attribute("aria-expanded") == "true"
    page.go_forward()
    wait_until(page, "location.search.includes('sel=2017-06-06-coalition-strike')")


def test_filters_and_timeline_filter_map_and_list(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    before = page.locator("#incidents > li").count()
    page.locator("#status-filters-inside").uncheck()
    after = page.locator("#incidents > li").count()
    assert after < before
    assert page.locator(".leaflet-marker-icon.incident-icon").count() <= after
    assert "status=uncertain,contested,outside" in page.url
    # Play slides a window over time; the list follows; pause stops it.
    page.locator("#play").click()
    assert page.locator("#play").get_attribute("aria-pressed") == "true"
    last = max(i.date.last for i in bundled().incidents)
    assert page.locator("#to-label").inner_text() != f"{last.day} {last:%B %Y}"
    first_window = page.locator("#to-label").inner_text()
    wait_until(page, f"document.getElementById('to-label').textContent !== {first_window!r}")
    page.locator("#play").click()
    assert page.locator("#play").get_attribute("aria-pressed") == "false"
    assert re.match(rf"\((\d+) of {len(bundled().incidents)} shown\)", page.locator("#count").inner_text())


def test_tiles_that_fail_are_reported_and_the_map_stays_usable(browser: Browser) -> None:
    with start(tile_url="/no-such-tiles/{z}/{x}/{y}.png") as url:  # type: ignore[attr-defined]
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/")
        page.wait_for_selector("body[data-ready]")
        page.get_by_text("tiles could not be loaded").wait_for()
        assert page.locator(".leaflet-marker-icon.incident-icon").count() > 0
        # Read, it can be closed (on a phone it covers a corner of the map).
        page.get_by_role("button", name="Close this notice").click()
        assert page.get_by_text("tiles could not be loaded").count() == 0
        context.close()


@pytest.mark.parametrize(
    ("name", "width", "height"),
    [("phone-375", 375, 812), ("tablet-768", 768, 1024), ("desktop-1440", 1440, 900)],
)
def test_screenshots_without_overflow(
    browser: Browser, base_url: str, name: str, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{base_url}/?sel={TECHNICALS}")
    page.wait_for_selector("body[data-ready]")
    card_selector = "#incidents li.selected article.card" if width > 760 else "#sheet"
    # Let the card and the pan settle before the picture (slow on a loaded machine).
    wait_until(
        page,
        f"(() => {{ const e = document.querySelector('{card_selector}'); if (!e) return false;"
        f" const r = e.getBoundingClientRect(); return r.left >= 0 && r.right <= {width}; }})()",
    )
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-{name}.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of horizontal overflow at {width}px"
    assert page.locator("#map").bounding_box()["width"] <= width  # type: ignore[index]
    # The selected incident's card is open (in the list beside the map, or on a phone a sheet),
    # all of its width on screen.
    card = page.locator(card_selector).bounding_box()
    assert card is not None
    assert card["x"] >= 0 and card["x"] + card["width"] <= width, f"the card spans {card} at {width}px"
    context.close()


def hostile_copy(data_dir: Path, target: Path) -> Path:
    shutil.copytree(data_dir, target, ignore=shutil.ignore_patterns("raw"))
    path = target / "incidents" / f"{TECHNICALS}.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "title: Coalition strike on pro-regime technical vehicles",
        'title: "Strike <img src=x onerror=window.__xss=1> <script>window.__xss=2</script>"',
    )
    text = text.replace(
        'quote: "Two of the vehicles were hit about 24 miles from the At Tanf base."',
        'quote: "<img src=x onerror=window.__xss=3><b>bold</b> <a href=javascript:window.__xss=4>x</a>"',
    )
    path.write_text(text, encoding="utf-8")
    return target


def test_incident_text_is_rendered_as_text(browser: Browser, tmp_path: Path) -> None:
    from app.settings import BUNDLED_DATA

    data = hostile_copy(BUNDLED_DATA, tmp_path / "geodata")
    with start(data_dir=data) as url:  # type: ignore[attr-defined]
        context = browser.new_context()
        w = Watched(context.new_page())
        page = w.open(f"{url}/?sel={TECHNICALS}")
        card = page.locator("#incidents article.card")
        card.wait_for()
        text = card.inner_text()
        assert "<img src=x onerror=window.__xss=1>" in text
        assert "<script>window.__xss=2</script>" in text
        assert "<b>bold</b>" in text
        assert page.evaluate("window.__xss") is None
        assert page.locator("img[src='x']").count() == 0
        assert page.locator(".card b, .card script").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
        assert not [e for e in w.errors if e.startswith(("page error", "dialog"))]
        context.close()


def test_first_view_fits_the_budget(browser: Browser, base_url: str) -> None:
    """HTML, JS, CSS and data of the first view, as transferred (gzip), under 150 KB."""
    context = browser.new_context()
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda r: responses.append(r))
    page.goto(f"{base_url}/")
    page.wait_for_selector("body[data-ready]")
    page.wait_for_load_state("networkidle")
    transferred = sum(r.sizes()["responseBodySize"] for r in responses)
    encodings = {
        r.url.rsplit("/", 1)[-1].split("?")[0]: (
            r.response().headers.get("content-encoding") if r.response() else None
        )
        for r in responses
    }
    assert encodings.get("leaflet.js") == "gzip"
    (ARTIFACTS / "first-view-bytes.txt").parent.mkdir(exist_ok=True)
    (ARTIFACTS / "first-view-bytes.txt").write_text(f"{transferred}\n")
    context.close()
    assert transferred < 150_000, f"first view is {transferred} bytes compressed"
