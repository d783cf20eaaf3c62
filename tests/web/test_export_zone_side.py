"""In the standalone export every incident is drawn on the side of the zone's line its stated
status says, at a phone's and a desktop's first view and zoomed in (issue 18).

The export placed markers by the old rule: on a phone (zoom 8) about thirty markers fanned out
round the garrison, past the zone's circle, so incidents inside the zone were drawn outside it.
Here each drawn marker's centre, and each numbered circle's, lies inside the zone's circle
exactly when its incident is inside the zone ("inside" and "outside" as stated, the others by
their point). The circle is the geodesic 55 km round the garrison from geodata/
(tests/zone_oracle.py, pyproj.Geod), projected by the page's own map.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from shapely.geometry import Point, Polygon

from app.cli import main
from app.data.catalog import build_catalog
from app.data.loader import load_dataset
from app.settings import BUNDLED_DATA
from tests.zone_oracle import inside_zone, zone_circle

# Each incident drawn: its id, point, and drawn centre (page px; a numbered circle's for one in
# it, unless selected); the zone's circle in page px; the zoom.
DRAWN = """(circle) => {
  const D = JSON.parse(document.getElementById('export-data').textContent);
  const map = window[D.map];
  const corner = map.getContainer().getBoundingClientRect();
  const page = (ll) => {
    const p = map.latLngToContainerPoint(ll);
    return [p.x + corner.left, p.y + corner.top];
  };
  const middle = (e) => {
    const r = e.getBoundingClientRect();
    return [(r.left + r.right) / 2, (r.top + r.bottom) / 2];
  };
  const stacks = {};
  document.querySelectorAll('.leaflet-marker-icon.stack').forEach((e) => {
    e.dataset.ids.split(' ').forEach((id) => { stacks[id] = middle(e); });
  });
  const drawn = Object.keys(D.markers).map((id) => {
    const m = window[D.markers[id]];
    const e = m.getElement();
    const hidden = getComputedStyle(e).display === 'none';
    const at = hidden ? stacks[id] || null : middle(e.querySelector('.body'));
    return { id, point: page(m.getLatLng()), at };
  });
  const r = map.getContainer().getBoundingClientRect();
  return { drawn, ring: circle.map(([lon, lat]) => page([lat, lon])), zoom: map.getZoom(),
           frame: [r.left, r.top, r.right, r.bottom] };
}"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("export") / "at-tanf.html"
    assert main(["export", str(target), "--tile-url", ""]) == 0
    return target


def check_sides(page: Page, statuses: Mapping[str, tuple[str, float, float]], where: str) -> int:
    """Asserts the rule for the view on the page; returns how many incidents it checked."""
    seen = page.evaluate(DRAWN, zone_circle())
    circle = Polygon(seen["ring"])
    x0, y0, x1, y1 = seen["frame"]
    wrong, checked = [], 0
    for d in seen["drawn"]:
        status, lon, lat = statuses[d["id"]]
        px, py = d["point"]
        if not (x0 <= px <= x1 and y0 <= py <= y1):
            continue  # out of the view
        assert d["at"] is not None, f"{where}: {d['id']} is neither drawn nor in a numbered circle"
        checked += 1
        side = status == "inside" if status in ("inside", "outside") else inside_zone(lon, lat)
        if status in ("inside", "outside"):
            assert side == inside_zone(lon, lat), f"{d['id']}: its status disagrees with its point"
        if circle.contains(Point(d["at"])) != side:
            wrong.append(f"{d['id']} ({status})")
    assert not wrong, f"{where} (zoom {seen['zoom']}): drawn on the wrong side of the zone's line: {wrong}"
    return checked


@pytest.mark.parametrize(("width", "height"), [(375, 812), (1440, 900)])
def test_the_exports_markers_are_drawn_on_their_incidents_side_of_the_zone_line(
    browser: Browser, exported: Path, width: int, height: int
) -> None:
    catalog = build_catalog(load_dataset(BUNDLED_DATA))
    statuses = {d.incident.id: (d.status, *d.point) for d in catalog.incidents if d.point is not None}
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.goto(exported.as_uri())
    page.wait_for_selector(".incident", state="attached")
    page.wait_for_timeout(300)
    checked = check_sides(page, statuses, f"{width}px, first view")
    assert checked >= 20, f"{width}px: {checked} incidents in view"
    for step in range(3):
        page.evaluate("(() => { const D = JSON.parse(document.getElementById('export-data').textContent);"
                      " window[D.map].zoomIn(1, { animate: false }); })()")  # fmt: skip
        page.wait_for_timeout(200)
        check_sides(page, statuses, f"{width}px, {step + 1} zoom steps in")
    context.close()


def test_the_exports_place_dots_sit_on_their_places(browser: Browser, exported: Path) -> None:
    """Each place's dot is drawn on its point: the dots' SVG sat on the text baseline of its
    Leaflet icon, 7 px below (the garrison's dot under the crowd drawn at its point)."""
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(exported.as_uri())
    page.wait_for_selector(".site", state="attached")
    off = page.evaluate(
        """() => { const D = JSON.parse(document.getElementById('export-data').textContent);
          const map = window[D.map], corner = map.getContainer().getBoundingClientRect();
          return Object.keys(D.sites).map((id) => {
            const s = window[D.sites[id]], p = map.latLngToContainerPoint(s.getLatLng());
            const r = s.getElement().querySelector('circle').getBoundingClientRect();
            const x = (r.left + r.right) / 2 - corner.left, y = (r.top + r.bottom) / 2 - corner.top;
            return [id, x - p.x, y - p.y];
          }); }"""
    )
    page.close()
    assert off and all(abs(dx) <= 1 and abs(dy) <= 1 for _, dx, dy in off), off


def test_the_exports_numbered_circle_opens_by_zooming_in(browser: Browser, exported: Path) -> None:
    """On a phone the crowd round the garrison is one numbered circle, a button named with its
    counts; a tap zooms in, until its incidents are drawn one by one."""
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(exported.as_uri())
    page.wait_for_selector(".leaflet-marker-icon.stack", state="attached")
    label = page.locator(".leaflet-marker-icon.stack").first.get_attribute("aria-label") or ""
    assert "incidents here (" in label and "inside" in label and label.endswith(": zoom in"), label
    zoom = "(() => { const D = JSON.parse(document.getElementById('export-data').textContent);" \
        " return window[D.map].getZoom(); })()"  # fmt: skip
    for _ in range(5):
        circles = page.locator(".leaflet-marker-icon.stack")
        if not circles.count():
            break
        before = page.evaluate(zoom)
        box = circles.first.bounding_box()
        assert box
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(600)
        assert page.evaluate(zoom) > before, "a tap on the numbered circle did not zoom in"
    assert not page.locator(".leaflet-marker-icon.stack").count(), "zooming in never opened the crowd"
    assert not page.locator(".incident.stacked").count()
    context.close()
