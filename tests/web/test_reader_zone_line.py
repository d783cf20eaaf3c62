"""Every marker and numbered circle lies wholly on its incidents' side of the zone's line, on its
point or moved aside (session 27).

A reviewer saw, at `/` at 1440x900 and 375x800, the hollow blue square of "Second armed Shahed 129
drone shot down" (outside the zone) centred about 7 px outside the line but reaching 4 px inside
it, on its own point (only markers moved aside were held to their side); and, in the timeline
embed of the Rukban market blast at 320x420 with tiles that load, the ring of "2 incidents here"
4.5 px across the line. Here the line is the zone's polygon as the page draws it (its path, read
point by point on the screen); the side of each incident is worked out from its coordinates
alone (tests/zone_oracle.py: pyproj.Geod on WGS 84).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from shapely.geometry import Point, Polygon, box

from tests.web.conftest import start
from tests.web.test_reader_markers import open_at
from tests.zone_oracle import inside_zone

SLACK_PX = 1.0  # anti-aliasing, rounding
ZONE_STROKE_PX = 2.5  # the zone's line as the map draws it (static/js/layers.js)
RUKBAN = "2017-05-04-rukban-market-blast"
CONTESTED = "2017-06-06-coalition-strike"

# The zone's line as drawn (the overlay's path of the zone's stroke, sampled along its length, in
# page px); every marker's point, box and stacking; every numbered circle's box and label.
SEEN = """() => {
  const map = window.__atTanfMap.map;
  const corner = map.getContainer().getBoundingClientRect();
  const paths = [...map.getPane('overlayPane').querySelectorAll('path')]
    .filter((p) => p.getAttribute('stroke') === '#7b3294' && p.getAttribute('stroke-width') === '2.5');
  const lines = paths.map((p) => {
    const m = p.getScreenCTM();
    const n = Math.max(400, Math.ceil(p.getTotalLength()));
    return Array.from({ length: n }, (_, k) => {
      const q = p.getPointAtLength((k * p.getTotalLength()) / n);
      return [m.a * q.x + m.c * q.y + m.e, m.b * q.x + m.d * q.y + m.f];
    });
  });
  const view = [corner.left, corner.top, corner.right, corner.bottom];
  const markers = [];
  map.eachLayer((layer) => {
    const e = layer.feature && layer.getElement && layer.getElement();
    if (!e || !e.classList.contains('incident-icon')) return;
    const [lon, lat] = layer.feature.geometry.coordinates;
    const p = map.latLngToContainerPoint([lat, lon]);
    const r = e.querySelector('svg').getBoundingClientRect();
    markers.push({ name: layer.feature.properties.title, lon, lat,
                   point: [p.x + corner.left, p.y + corner.top],
                   box: [r.left, r.top, r.right, r.bottom], stacked: e.classList.contains('stacked'),
                   stack: e.dataset.stack ?? null });
  });
  const stacks = [...document.querySelectorAll('#map .cell-icon')].map((e) => {
    const r = e.getBoundingClientRect();
    return { stack: e.dataset.stack ?? null, label: e.getAttribute('aria-label') || e.textContent,
             box: [r.left, r.top, r.right, r.bottom] };
  });
  return { lines, view, markers, stacks };
}"""


def seen_on(page: Page, where: str) -> tuple[Polygon, dict[str, object]]:
    seen = page.evaluate(SEEN)
    assert len(seen["lines"]) == 1, f"{where}: {len(seen['lines'])} zone lines drawn"
    return Polygon(seen["lines"][0]), seen


def in_view(b: list[float], view: list[float]) -> bool:
    return b[2] > view[0] and b[3] > view[1] and b[0] < view[2] and b[1] < view[3]


def check_markers(page: Page, where: str) -> int:
    """Every marker drawn in view (on its point or not) lies wholly on its incident's side of the
    drawn line; returns how many were checked."""
    circle, seen = seen_on(page, where)
    line = circle.exterior
    checked = 0
    for m in seen["markers"]:  # type: ignore[attr-defined]
        if m["stacked"] or not in_view(m["box"], seen["view"]):  # type: ignore[arg-type]
            continue
        checked += 1
        drawn = box(*m["box"])
        side = inside_zone(m["lon"], m["lat"])
        assert circle.contains(drawn.centroid) == side, f"{where}: {m['name']!r} drawn on the other side"
        reach = line.distance(drawn.centroid) if not drawn.intersects(line) else 0.0
        assert not drawn.buffer(-SLACK_PX).intersects(line), (
            f"{where}: {m['name']!r} ({'inside' if side else 'outside'} the zone) is drawn across the "
            f"zone's line, its box {m['box']}, its point {m['point']} ({reach:.1f} px clear)"
        )
    return checked


@pytest.mark.parametrize(
    ("path", "width", "height"),
    [
        ("/", 1440, 900),
        ("/", 375, 800),
        (f"/?sel={CONTESTED}", 1440, 900),
        (f"/?sel={CONTESTED}", 375, 800),
    ],
)
def test_no_marker_on_its_point_straddles_the_zone_line(
    browser: Browser, base_url: str, path: str, width: int, height: int
) -> None:
    """The Shahed 129's hollow square, outside the zone on its own point, reached 4 px inside the
    line: a marker whose point is nearer the line than its half diagonal is moved aside, outward
    (or inward), with a leader line to its point."""
    page = open_at(browser, base_url, width, height, path, is_mobile=width < 500, has_touch=width < 500)
    page.wait_for_timeout(300)
    page.screenshot(path=f"/work/shots19/s27/zoneline-markers-{width}{'-sel' if 'sel' in path else ''}.png")
    checked = check_markers(page, f"{path} at {width}px")
    page.context.close()
    assert checked, f"{path} at {width}px: no marker in view, the test saw nothing"


@pytest.fixture(scope="module")
def tiles_url() -> Iterator[str]:
    """The app with a tile layer that loads (every tile the app's own favicon, an image), so the
    map shows the tile layer's attribution."""
    with start(tile_url="/static/favicon.svg") as url:  # type: ignore[attr-defined]
        yield url


@pytest.mark.parametrize("phone", [True, False])
@pytest.mark.parametrize(
    ("path", "width", "height"),
    [
        (f"/embed?timeline=1&sel={RUKBAN}", 320, 420),
        (f"/embed?timeline=1&sel={CONTESTED}", 320, 420),
        ("/embed?timeline=1", 320, 420),
        (f"/embed?sel={RUKBAN}", 320, 420),
        (f"/?sel={RUKBAN}", 375, 800),
        (f"/?sel={RUKBAN}", 1440, 900),
    ],
)
def test_numbered_circles_keep_clear_of_the_zone_line_with_tiles(
    browser: Browser, tiles_url: str, path: str, width: int, height: int, phone: bool
) -> None:
    """In the timeline embed of the Rukban market blast at 320x420 on a phone, tiles loading, the ring of
    "2 incidents here (1 contested, 1 outside)" overlapped the zone's line by 4.5 px: each
    numbered circle's ring keeps its RING_CLEAR of the line's stroke, and so does every marker."""
    page = open_at(browser, tiles_url, width, height, path, is_mobile=phone, has_touch=phone)
    page.wait_for_timeout(500)
    tag = "embed" if "embed" in path else "map"
    page.screenshot(path=f"/work/shots19/s27/zoneline-rings-{tag}-{width}{'-phone' if phone else ''}.png")
    where = f"{path} at {width}x{height}{' (a phone)' if phone else ''} with tiles"
    circle, seen = seen_on(page, where)
    line = circle.exterior
    for s in seen["stacks"]:  # type: ignore[attr-defined]
        b = s["box"]
        at = Point((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        radius = (b[2] - b[0]) / 2
        gap = line.distance(at) - radius - ZONE_STROKE_PX / 2
        assert gap >= 1 - SLACK_PX, (
            f"{where}: the ring of {s['label']!r} is {gap:.1f} px from the line's stroke"
        )
    check_markers(page, where)
    page.context.close()
