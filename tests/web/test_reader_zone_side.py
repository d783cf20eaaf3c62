"""A marker moved aside stays on its side of the zone's line, and its leader line crosses no other
marker (issue 18).

The overlap rule had fanned the crowd round the garrison so far at a phone's first view that
incidents inside the 55 km zone were drawn outside its circle: the map said the wrong thing. Here,
at 375, 768 and 1440 px and a few zoom steps, and in the embed, every marker drawn away from its
point has its drawn centre inside the zone's circle exactly when its point is inside the zone, and
each numbered circle lies on the side of all the incidents it holds. The side of a point is
worked out here from its coordinates alone: its geodesic distance from the garrison
(pyproj.Geod, WGS 84) against the zone's 55 km, both read from geodata/; the circle on the screen
is that geodesic circle projected by the map.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from shapely.geometry import LineString, Point, Polygon, box

from tests.web.conftest import start
from tests.web.test_reader_markers import open_at, zoom_by
from tests.zone_oracle import inside_zone, zone_circle

SIZES = [(375, 812), (768, 1024), (1440, 900)]
CONTESTED = "2017-06-06-coalition-strike"
MOVED_PX = 1.0  # a marker drawn further than this from its point was moved aside
SLACK_PX = 1.0  # a leader may graze a marker's edge by this much (anti-aliasing, rounding)
ZONE_STROKE_PX = 2.5  # the zone's line as the map draws it (static/js/layers.js)


# Every incident marker: its point (the data's coordinates), its point and drawn box in page px,
# whether it is in a numbered circle (and which); every numbered circle's box.
DRAWN = """(circle) => {
  const map = window.__atTanfMap.map;
  const corner = map.getContainer().getBoundingClientRect();
  const page = (ll) => {
    const p = map.latLngToContainerPoint(ll);
    return [p.x + corner.left, p.y + corner.top];
  };
  const markers = [];
  map.eachLayer((layer) => {
    const e = layer.feature && layer.getElement && layer.getElement();
    if (!e || !e.classList.contains('incident-icon')) return;
    const [lon, lat] = layer.feature.geometry.coordinates;
    const r = e.querySelector('svg').getBoundingClientRect();
    markers.push({ name: layer.feature.properties.title, lon, lat, point: page([lat, lon]),
                   box: [r.left, r.top, r.right, r.bottom], stacked: e.classList.contains('stacked'),
                   stack: e.dataset.stack ?? null });
  });
  const stacks = [...document.querySelectorAll('#map .cell-icon')].map((e) => {
    const r = e.getBoundingClientRect();
    return { stack: e.dataset.stack ?? null, box: [r.left, r.top, r.right, r.bottom] };
  });
  return { markers, stacks, ring: circle.map(([lon, lat]) => page([lat, lon])) };
}"""


def centre(b: list[float]) -> Point:
    return Point((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


def check_sides_and_leaders(page: Page, where: str) -> int:
    """Asserts the rule for the view on the page; returns how many markers were moved aside."""
    drawn = page.evaluate(DRAWN, zone_circle())
    circle = Polygon(drawn["ring"])
    line = circle.exterior
    markers, stacks = drawn["markers"], drawn["stacks"]
    assert markers, where
    on_map = [m for m in markers if not m["stacked"]]
    hit_areas = [(m["name"], box(*m["box"]).buffer(-SLACK_PX)) for m in on_map]
    hit_areas += [(f"numbered circle {s['stack']}", box(*s["box"]).buffer(-SLACK_PX)) for s in stacks]
    moved = 0
    for m in on_map:
        at = centre(m["box"])
        if at.distance(Point(m["point"])) <= MOVED_PX:
            continue
        moved += 1
        side = inside_zone(m["lon"], m["lat"])
        assert circle.contains(at) == side, (
            f"{where}: {m['name']!r} is {'inside' if side else 'outside'} the zone but drawn "
            f"{'outside' if side else 'inside'} its circle"
        )
        # wholly: no corner across the line (an outside marker pushed 19 px had one inside)
        assert not box(*m["box"]).buffer(-SLACK_PX).intersects(line), (
            f"{where}: {m['name']!r}, moved aside, is drawn across the zone's line"
        )
        leader = LineString([m["point"], (at.x, at.y)])
        # its leader line too: not across the zone to its other side (with a phone's legend open,
        # markers east of the zone were drawn on its west side, their leader lines across it)
        if side:
            assert circle.buffer(SLACK_PX).contains(leader), (
                f"{where}: the leader line of {m['name']!r}, inside the zone, leaves it"
            )
        else:
            assert not leader.intersects(circle.buffer(-SLACK_PX)), (
                f"{where}: the leader line of {m['name']!r}, outside the zone, crosses it"
            )
        for name, area in hit_areas:
            if name != m["name"]:
                assert not leader.intersects(area), (
                    f"{where}: the leader line of {m['name']!r} crosses {name!r}"
                )
    for s in stacks:
        members = [m for m in markers if m["stacked"] and m["stack"] == s["stack"]]
        assert members, f"{where}: numbered circle {s['stack']} holds no incident"
        at = centre(s["box"])
        # the whole disc on its side ("28 incidents here" sat on the line, 17 of 36 rim points in),
        # its ring a pixel clear of the line's stroke (at 375 px the ring touched it)
        radius = (s["box"][2] - s["box"][0]) / 2
        assert not at.buffer(radius - SLACK_PX).intersects(line), (
            f"{where}: numbered circle {s['stack']} is drawn across the zone's line"
        )
        clear = at.buffer(radius + ZONE_STROKE_PX / 2 + 1 - SLACK_PX)
        assert not clear.intersects(line), (
            f"{where}: the ring of numbered circle {s['stack']} touches the zone's line"
        )
        for m in members:
            side = inside_zone(m["lon"], m["lat"])
            assert circle.contains(at) == side, (
                f"{where}: numbered circle {s['stack']} holds {m['name']!r}, "
                f"{'inside' if side else 'outside'} the zone, but is drawn on the other side"
            )
    return moved


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_markers_moved_aside_keep_their_side_of_the_zone_line(
    browser: Browser, base_url: str, width: int, height: int
) -> None:
    page = open_at(browser, base_url, width, height, is_mobile=width < 500, has_touch=width < 500)
    moved = check_sides_and_leaders(page, f"{width}px, first view")
    for step in range(5):  # in, half a zoom step at a time
        zoom_by(page, "Zoom in")
        moved += check_sides_and_leaders(page, f"{width}px, {step + 1} half-steps in")
    zoom_by(page, "Zoom out")
    moved += check_sides_and_leaders(page, f"{width}px, zoomed out again")
    assert moved, "no marker was moved aside: the test saw nothing"
    page.context.close()


def test_markers_keep_their_side_with_the_legend_open_on_a_phone(browser: Browser, base_url: str) -> None:
    """Session 25, 375x812 (touch), "Legend" tapped: the open legend covers most of the zone, and
    the numbered circle "28 incidents here" was pushed onto the zone's line, an outside marker 19 px
    with a corner inside; later, two outside markers east of the zone, under the legend, were drawn
    on its west side with leader lines across it. Whatever panel covers part of the map, each
    keeps its side, and so does its leader line."""
    page = open_at(browser, base_url, 375, 812, is_mobile=True, has_touch=True)
    check_sides_and_leaders(page, "375px, legend closed")
    page.locator(".legend-toggle").tap()
    page.wait_for_selector("#legend-body:not([hidden])")
    page.wait_for_timeout(300)
    check_sides_and_leaders(page, "375px, legend open")
    page.locator(".legend-more > summary").tap()  # the rest of the legend, taller still
    page.wait_for_timeout(300)
    check_sides_and_leaders(page, "375px, whole legend open")
    page.context.close()


@pytest.mark.parametrize("width", [320, 600])
def test_the_embeds_markers_keep_their_side_of_the_zone_line(
    browser: Browser, base_url: str, width: int
) -> None:
    for path in ["/embed", f"/embed?sel={CONTESTED}"]:
        page = open_at(browser, base_url, width, 450, path)
        check_sides_and_leaders(page, f"embed {path} at {width}px")
        page.context.close()


COUNTRY_NAMES = """(circle) => {
  const map = window.__atTanfMap.map;
  const corner = map.getContainer().getBoundingClientRect();
  const ring = circle.map(([lon, lat]) => {
    const p = map.latLngToContainerPoint([lat, lon]);
    return [p.x + corner.left, p.y + corner.top];
  });
  const names = [...document.querySelectorAll('#map .country-label')]
    .filter((e) => getComputedStyle(e).visibility !== 'hidden')
    .map((e) => {
      const r = e.getBoundingClientRect();
      return [e.textContent, [r.left, r.top, r.right, r.bottom]];
    });
  return { ring, names };
}"""


@pytest.mark.parametrize(
    ("path", "width", "height"),
    [
        ("/", 375, 812),
        ("/", 768, 1024),
        ("/", 1440, 900),
        ("/embed?timeline=1", 600, 910),
        ("/embed", 600, 450),
    ],
)
def test_no_country_name_is_drawn_across_the_zone_line(
    browser: Browser, base_url: str, path: str, width: int, height: int
) -> None:
    """A country's name never straddles the zone's circle (in the timeline embed's 600 px frame
    "JORDAN" sat on the line, and read as part of the zone)."""
    page = open_at(browser, base_url, width, height, path)
    seen = page.evaluate(COUNTRY_NAMES, zone_circle())
    page.context.close()
    line = Polygon(seen["ring"]).exterior
    assert seen["names"], f"{path} at {width}px: no country named"
    for name, b in seen["names"]:
        assert not box(*b).buffer(-1).intersects(line), (
            f"{path} at {width}px: {name} is drawn across the zone's line"
        )


@pytest.fixture(scope="module")
def no_tiles_url() -> Iterator[str]:
    """The app with a tile layer that fails: the map shows its tile notice (as a reader saw it)."""
    with start(tile_url="/no-such-tiles/{z}/{x}/{y}.png") as url:  # type: ignore[attr-defined]
        yield url


# Every leader line drawn (the markers' and the garrison name's: paths in the leaders' pane, not
# their dots) as its two ends in page px, and every marker's and numbered circle's box.
LEADERS = """() => {
  const ends = [...document.querySelectorAll('#map .leaflet-leaders-pane path:not(.leader-dot)')]
    .filter((p) => p.getTotalLength() > 0)
    .map((p) => {
      const m = p.getScreenCTM();
      return [0, p.getTotalLength()].map((t) => {
        const q = p.getPointAtLength(t);
        return [m.a * q.x + m.c * q.y + m.e, m.b * q.x + m.d * q.y + m.f];
      });
    });
  const boxes = [...document.querySelectorAll('#map .incident-icon:not(.stacked), #map .cell-icon')]
    .map((e) => { const r = (e.querySelector('svg') || e).getBoundingClientRect();
                  return [e.getAttribute('aria-label'), [r.left, r.top, r.right, r.bottom]]; });
  return { ends, boxes };
}"""


@pytest.mark.parametrize(
    ("path", "width", "height"),
    [
        (f"/embed?sel={CONTESTED}", 320, 450),
        (f"/embed?sel={CONTESTED}", 351, 450),
        ("/embed", 320, 450),
        (f"/?sel={CONTESTED}", 375, 812),
        ("/", 1440, 900),
    ],
)
def test_no_leader_line_crosses_a_marker_or_a_numbered_circle(
    browser: Browser, no_tiles_url: str, path: str, width: int, height: int
) -> None:
    """Session 25, the embed of the contested strike at 320 px, its tiles failing (the notice
    over the map's foot): the garrison's leader line ran through the "27" numbered circle. A
    leader line may end at its own marker; it crosses none."""
    page = open_at(browser, no_tiles_url, width, height, path)
    page.wait_for_timeout(300)
    seen = page.evaluate(LEADERS)
    page.context.close()
    assert seen["ends"], f"{path} at {width}px: no leader line drawn, the test sees nothing"
    for a, b in seen["ends"]:
        line = LineString([a, b])
        for name, b4 in seen["boxes"]:
            area = box(*b4)
            if area.contains(Point(a)) or area.contains(Point(b)):
                continue  # its own marker, at one end
            assert not line.intersects(area.buffer(-SLACK_PX)), (
                f"{path} at {width}px: a leader line {a} -> {b} crosses {name!r}"
            )
