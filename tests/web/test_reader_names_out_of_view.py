"""A place's name whose point is out of the map's view is not drawn in it (session 27).

Zoomed in east of the garrison (/?v=33.55,38.80,11.5), "At Tanf garrison" stood at the map's left
edge with its leader line running off the map on a phone, and at 1440 x 900 "Syria-Iraq-Jordan
tripoint" stood at its bottom edge with no dot in view: the map named places it did not show (as
the markers of incidents out of view did: tests/web/test_reader_out_of_view.py). Each place's
point is worked out here from geodata/sites.yaml, projected by the map; the names of places in
view still show (at 375 x 800 none is in that view: a view west of it has the garrison in view
and the crossings out of it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser

from tests.web.conftest import ARTIFACTS

SITES = yaml.safe_load((Path(__file__).resolve().parents[2] / "geodata" / "sites.yaml").read_text())["sites"]
DOT_PX = {"garrison": 7.0}  # a dot's radius (static/js/layers.js addSites); 4 px for the others

SHOWN = """(sites) => {
  const map = window.__atTanfMap.map;
  const corner = map.getContainer().getBoundingClientRect();
  const names = [...document.querySelectorAll('#map .site-label')]
    .filter((e) => getComputedStyle(e).visibility !== 'hidden')
    .map((e) => {
      const r = e.getBoundingClientRect();
      return { text: e.textContent, box: [r.left, r.top, r.right, r.bottom] };
    });
  const points = sites.map(([lat, lon]) => {
    const p = map.latLngToContainerPoint([lat, lon]);
    return [p.x + corner.left, p.y + corner.top];
  });
  return { names, points };
}"""


# (width, height, view, how many places lie well inside it)
CASES = [
    (375, 800, "33.55,38.80,11.5", 0),
    (1440, 900, "33.55,38.80,11.5", 3),
    (375, 800, "33.47,38.66,11.5", 1),
]


@pytest.mark.parametrize(("width", "height", "view", "inside"), CASES)
def test_names_of_places_out_of_view_are_not_drawn(
    browser: Browser, base_url: str, width: int, height: int, view: str, inside: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{base_url}/?v={view}")
    page.wait_for_selector("body[data-ready='true']")
    m = page.locator("#map").bounding_box()
    assert m is not None
    map_box = (m["x"], m["y"], m["x"] + m["width"], m["y"] + m["height"])
    got = page.evaluate(SHOWN, [[s["lat"], s["lon"]] for s in SITES])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"names-out-of-view-{width}-{view}.png"))
    context.close()

    def meets_map(b: list[float]) -> bool:
        return b[0] < map_box[2] and b[2] > map_box[0] and b[1] < map_box[3] and b[3] > map_box[1]

    shown = {n["text"]: n["box"] for n in got["names"] if meets_map(n["box"])}
    out, seen = [], []
    for site, (x, y) in zip(SITES, got["points"], strict=True):
        r = DOT_PX.get(site["kind"], 4.0)
        dot = [x - r, y - r, x + r, y + r]
        if not meets_map(dot):
            out.append(site["name"])
            assert site["name"] not in shown, (
                f"{site['name']!r}, whose point {[round(x), round(y)]} is out of the map's view "
                f"{[round(v) for v in map_box]}, is named at {[round(v) for v in shown[site['name']]]}"
            )
        elif map_box[0] + 40 < x < map_box[2] - 40 and map_box[1] + 40 < y < map_box[3] - 40:
            seen.append(site["name"])
    assert out, "every place is in this view: it tests nothing"
    assert len(seen) == inside, seen
    for name in seen:  # well inside the view: still named
        assert name in shown, f"{name!r}, in view, is not named"
