"""Rules held in two languages, rendered by both and compared (issue 18, "one source of rules").

The URL state is read by static/js/state.js in the browser and by app/web/state.py for the embed,
its SVG and oEmbed; the marker symbols are drawn by static/js/markers.js and app/export/svg.py.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from app.export.svg import STATUS_COLOURS, TYPE_SHAPES, marker_svg
from app.web.state import parse_state
from tests.web.conftest import Watched

QUERIES = [
    "",
    "v=33.6,38.4,9",
    "v=33.61234,38.41234,9.5",
    "v=33.6,38.4,9.25",
    "v=33.6,38.4,9.3",  # between quarter steps: snaps to 9.25
    "v=33.6,38.4,9.375",  # half-way: rounds up, as JavaScript's Math.round
    "v=33.6,38.4,-3",
    "v=33.6,38.4,40",
    "v=89,38.4,9",
    "v=33.6,181,9",
    "v=33.6,38.4",
    "v=33.6,38.4,9,1",
    "v=a,b,c",
    "v=1e1,2E-1,5",
    "v=0x10,1,1",
    "v=1_0,1,1",
    "v=,1,1",
    "v=.5,-.5,+7.",
    "from=2017-06-01&to=2017-06-30",
    "from=2017-02-30",
    "from=2017-6-1",
    "from=0000-01-01",
    "status=inside,uncertain",
    "status=",
    "types=Battles,,Strategic developments",
    "types=" + ",".join(f"t{i}" for i in range(25)),
    "sel=2017-06-08-strike-on-technical-vehicles",
    "sel=" + "x" * 300,
]


def python_state(query: str) -> dict[str, object]:
    s = parse_state(dict(parse_qsl(query, keep_blank_values=True)))
    return {
        "view": list(s.view) if s.view else None,
        "from": s.date_from.isoformat() if s.date_from else None,
        "to": s.date_to.isoformat() if s.date_to else None,
        "types": list(s.types) if s.types is not None else None,
        "status": list(s.statuses) if s.statuses is not None else None,
        "sel": s.sel,
    }


def test_the_browser_and_the_server_read_every_url_alike(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    browser_states = page.evaluate(
        """async (queries) => {
          const { readState } = await import("/static/js/state.js");
          return queries.map((q) => {
            const s = readState("?" + q);
            return { ...s, view: s.view ? [s.view.lat, s.view.lon, s.view.zoom] : null };
          });
        }""",
        QUERIES,
    )
    for query, got in zip(QUERIES, browser_states, strict=True):
        assert got == python_state(query), query


def test_a_written_view_reads_back_as_itself(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    written = page.evaluate(
        """async () => {
          const { readState, writeState } = await import("/static/js/state.js");
          const out = [];
          for (const zoom of [1, 7.25, 9.5, 9.75, 10, 17.5]) {
            const view = { lat: 33.512345678, lon: 38.612345678, zoom };
            const url = writeState({ view }, { types: [], status: [] });
            out.push([url, readState(url).view, view]);
          }
          return out;
        }"""
    )
    for url, read, view in written:
        assert read["zoom"] == view["zoom"], url  # exactly: no rounding
        assert abs(read["lat"] - view["lat"]) <= 0.5e-5 and abs(read["lon"] - view["lon"]) <= 0.5e-5, url
        assert python_state(url.lstrip("?"))["view"] == [read["lat"], read["lon"], read["zoom"]]


def _attrs(markup: str, tag: str) -> dict[str, str]:
    found = re.search(rf"<{tag}\b([^>]*)>", markup)
    assert found, markup
    return dict(re.findall(r'([\w-]+)="([^"]*)"', found.group(1)))


def _colour(text: str) -> str:
    """ "#fff" and "#ffffff" alike."""
    text = text.lower()
    return "#" + "".join(c * 2 for c in text[1:]) if re.fullmatch(r"#[0-9a-f]{3}", text) else text


SHAPE_TAGS = {"circle": "circle", "triangle": "polygon", "square": "rect", "diamond": "polygon"}


def test_markers_mean_the_same_in_the_browser_and_the_svg(watched: Watched, base_url: str) -> None:
    page = watched.open(f"{base_url}/")
    for event_type in sorted(TYPE_SHAPES):
        for status in ("inside", "uncertain", "outside"):
            js = page.evaluate(
                """async ([type, status]) => {
                  const m = await import("/static/js/markers.js");
                  return { markup: m.markerSvg(type, status).outerHTML, colours: m.STATUS_COLOURS,
                           shapes: m.TYPE_SHAPES };
                }""",
                [event_type, status],
            )
            assert js["colours"] == STATUS_COLOURS and js["shapes"] == TYPE_SHAPES
            py = marker_svg(11, 11, event_type, status)
            tag = SHAPE_TAGS[TYPE_SHAPES[event_type]]
            a, b = _attrs(js["markup"], tag), _attrs(py, tag)
            for key in ("fill", "stroke"):
                assert _colour(a[key]) == _colour(b[key]), (event_type, status, key, a, b)
            assert (a.get("stroke-dasharray", "none") != "none") == ("stroke-dasharray" in b)
            # The uncertain dot: in both or in neither.
            dots = (js["markup"].count("<circle"), py.count("<circle"))
            assert dots[0] == dots[1], (event_type, status, dots)


def test_legend_words_and_dates_read_the_same_in_the_browser_and_the_server(
    watched: Watched, base_url: str
) -> None:
    import datetime as dt

    import httpx2

    from app.export.legend import STATUS_SHORT, STATUS_WORDS, SUB_TYPE_WORDS, TYPE_WORDS, type_text
    from app.export.words import when_text

    page = watched.open(f"{base_url}/")
    events = httpx2.get(f"{base_url}/api/collections/events/items?limit=1000").json()["features"]
    js = page.evaluate(
        """async (props) => {
          const legend = await import("/static/js/legend-body.js");
          const format = await import("/static/js/format.js");
          return { types: legend.TYPE_WORDS, statuses: legend.STATUS_WORDS, short: legend.STATUS_SHORT,
                   when: props.map((p) => format.whenText(p)), sub: format.SUB_TYPE_WORDS,
                   what: props.map((p) => format.typeText(p)),
                   other: format.typeText({ event_type: "Riots", sub_event_type: "Other" }) };
        }""",
        [f["properties"] for f in events],
    )
    assert js["types"] == TYPE_WORDS
    assert [tuple(x) for x in js["statuses"]] == list(STATUS_WORDS)
    assert js["short"] == STATUS_SHORT
    assert js["sub"] == SUB_TYPE_WORDS
    assert js["what"] == [
        type_text(f["properties"]["event_type"], f["properties"]["sub_event_type"]) for f in events
    ]
    assert js["other"] == type_text("Riots", "Other") == "Riots"
    for feature, words in zip(events, js["when"], strict=True):
        p = feature["properties"]
        start, end = dt.date.fromisoformat(p["date_start"]), dt.date.fromisoformat(p["date_end"])
        assert when_text(start, end, p["date_precision"]) == words


def test_markers_are_moved_aside_alike_in_the_browser_and_the_svg(watched: Watched, base_url: str) -> None:
    """The placement rule (static/js/markers.js placement, app/export/placement.py) gives the
    same places and the same markers stuck for the same markers: crowds, one point shared by many,
    a selected marker, sites, the zone's line (each marker kept on its point's side of it)."""
    import math
    import random

    from app.export.placement import placement

    page = watched.open(f"{base_url}/")
    rng = random.Random(18)
    cases = []
    for n in (2, 12, 60, 120):
        points = [(round(rng.uniform(0, 600), 2), round(rng.uniform(0, 400), 2)) for _ in range(n)]
        crowd = [(round(rng.gauss(0, 9), 2), round(rng.gauss(0, 9), 2)) for _ in range(n // 2)]
        points += [(300.0 + dx, 200.0 + dy) for dx, dy in crowd]
        points += [(150.0, 150.0)] * (n // 4)
        sizes = [16.0] * len(points)
        first = rng.randrange(len(points))
        sizes[first] = 22.0
        obstacles = [(144.0, 144.0, 156.0, 156.0), (297.0, 197.0, 303.0, 203.0)]
        r = rng.uniform(40, 160)
        zone = [
            (300 + r * math.cos(k * math.pi / 48), 200 + 1.1 * r * math.sin(k * math.pi / 48))
            for k in range(96)
        ]
        margins = [s / 2 for s in sizes]
        margins[-1] = 2.0
        cases.append(
            (points, sizes, first, obstacles, [0.0, 0.0, 600.0, 400.0], zone if n > 2 else None, margins)
        )
    # markers just east of the zone under a panel over its east half (a phone's open legend): the
    # free places west of the zone are barred (their leader lines would cross it)
    zone = [
        (200 + 60 * math.cos(k * math.pi / 64), 200 + 60 * math.sin(k * math.pi / 64)) for k in range(128)
    ]
    points = [(265.0, 200.0), (262.0, 180.0), (257.0, 165.0), (268.0, 215.0), (200.0, 200.0), (204.0, 203.0)]
    cases.append(
        (points, [22.0] * 6, -1, [(150.0, 40.0, 380.0, 330.0)], [0.0, 0.0, 400.0, 400.0], zone, None)
    )
    # markers whose points are out of view (past each edge), crowded there and with some in view
    points = [(-250.0, 100.0), (-254.0, 93.0), (-640.0, 300.0), (200.0, 900.0), (204.0, 903.0)]
    points += [(395.0, 50.0), (401.0, 52.0), (100.0, 300.0), (104.0, 303.0), (0.0, 50.0), (3.0, 52.0)]
    cases.append((points, [22.0] * 11, 8, [], [0.0, 0.0, 400.0, 400.0], zone, None))  # pulled in
    cases.append((points, [22.0] * 11, 8, [], [0.0, 0.0, 400.0, 400.0], zone, None))  # the map's: left out
    hide = [False] * (len(cases) - 1) + [True]
    got = page.evaluate(
        """async ([cases, hide]) => {
          const m = await import("/static/js/markers.js");
          return cases.map(([points, sizes, first, obstacles, bounds, zone, margins], k) =>
            m.placement(points, sizes, { first, obstacles, bounds, zone, margins, hideOutOfView: hide[k] }));
        }""",
        [cases, hide],
    )
    for (points, sizes, first, obstacles, bounds, zone, margins), js, h in zip(cases, got, hide, strict=True):
        py, stuck = placement(points, sizes, first, obstacles, tuple(bounds), zone, margins, h)
        assert js["stuck"] == stuck, len(points)
        assert len(js["at"]) == len(py)
        for k, ((jx, jy), (px, py_)) in enumerate(zip(js["at"], py, strict=True)):
            assert abs(jx - px) < 0.01 and abs(jy - py_) < 0.01, (len(points), k, (jx, jy), (px, py_))


def test_crowds_are_stacked_alike_in_the_browser_and_the_server_drawings(
    watched: Watched, base_url: str
) -> None:
    """The stacking rule (static/js/markers.js arrange, app/export/stacks.py arrange) draws the
    same crowds as numbered circles at the same places, and the other markers at the same places:
    crowds on both sides of the zone's line, a frame too small for them, a selected marker, a
    reach that stacks every crowd that spreads; and the same constants."""
    import math
    import random

    from app.export.stacks import OVERVIEW_ZOOM, RING_CLEAR, STACK_REACH, arrange, stack_size

    page = watched.open(f"{base_url}/")
    rng = random.Random(1818)
    cases = []
    for n, reach in ((3, math.inf), (20, 120.0), (40, 0.0), (80, 90.0), (120, 60.0)):
        points = [(round(rng.uniform(0, 400), 2), round(rng.uniform(0, 300), 2)) for _ in range(n)]
        points += [(200.0 + rng.gauss(0, 6), 150.0 + rng.gauss(0, 6)) for _ in range(n // 2)]
        points += [(80.0, 80.0)] * (n // 4)
        sizes = [22.0] * len(points)
        first = rng.randrange(len(points)) if n % 40 else -1
        if first >= 0:
            sizes[first] = 28.0
        r = rng.uniform(30, 120)
        zone = [
            (200 + r * math.cos(k * math.pi / 64), 150 + r * math.sin(k * math.pi / 64)) for k in range(128)
        ]
        cases.append(
            (points, sizes, first, [(76.0, 76.0, 84.0, 84.0)], [0.0, 0.0, 400.0, 300.0], zone, reach)
        )
    # crowds past the view's edges, one straddling it
    points = [(-60.0, 100.0), (-64.0, 96.0), (-58.0, 104.0), (200.0, 340.0), (204.0, 338.0), (198.0, 342.0)]
    points += [(398.0, 150.0), (402.0, 152.0), (404.0, 148.0), (396.0, 146.0), (100.0, 100.0), (103.0, 102.0)]
    cases.append((points, [22.0] * 12, -1, [], [0.0, 0.0, 400.0, 300.0], None, 0.0))  # pulled in
    cases.append((points, [22.0] * 12, -1, [], [0.0, 0.0, 400.0, 300.0], None, 0.0))  # the map's: left out
    hide = [False] * (len(cases) - 1) + [True]
    got = page.evaluate(
        """async ([cases, hide]) => {
          const m = await import("/static/js/markers.js");
          return { reach: m.STACK_REACH, overview: m.OVERVIEW_ZOOM, clear: m.RING_CLEAR,
                   sizes: [1, 2, 7, 28, 99, 1000].map(m.stackSize),
                   cases: cases.map(([points, sizes, first, obstacles, bounds, zone, reach], k) => m.arrange(
                     points, sizes, { first, obstacles, bounds, zone, reach: reach ?? Infinity,
                                      hideOutOfView: hide[k] })) };
        }""",
        [[[*c[:6], None if c[6] == math.inf else c[6]] for c in cases], hide],
    )
    assert got["reach"] == STACK_REACH and got["overview"] == OVERVIEW_ZOOM and got["clear"] == RING_CLEAR
    assert got["sizes"] == [stack_size(n) for n in (1, 2, 7, 28, 99, 1000)]
    stacked = 0
    for (points, sizes, first, obstacles, bounds, zone, reach), js, h in zip(
        cases, got["cases"], hide, strict=True
    ):
        at, stacks, stack_at = arrange(points, sizes, first, obstacles, tuple(bounds), zone, reach, h)
        assert js["stacks"] == stacks, len(points)
        stacked += len(stacks)
        for (jx, jy), (px, py) in zip([*js["at"], *js["stackAt"]], [*at, *stack_at], strict=True):
            assert abs(jx - px) < 0.01 and abs(jy - py) < 0.01, (len(points), (jx, jy), (px, py))
    assert stacked >= 3, "no crowd was stacked: the test saw nothing"


def test_claim_regions_are_styled_alike_in_the_browser_and_the_server_drawings(
    watched: Watched, base_url: str
) -> None:
    """One rule for how a claim region looks (static/js/layers.js regionStyle, app.export.regions):
    the map, the SVG and the standalone export draw the selected, hovered and other incidents'
    regions alike."""
    from app.export.regions import MODES, region_style

    page = watched.open(f"{base_url}/")
    statuses = [*STATUS_COLOURS, None]
    cases = [[s, role, mode] for s in statuses for role in ("claim", "common") for mode in MODES]
    js = page.evaluate(
        """async (cases) => {
          const { regionStyle } = await import("/static/js/layers.js");
          return cases.map(([zone_status, role, mode]) =>
            regionStyle({ properties: { zone_status, role } }, mode));
        }""",
        cases,
    )
    for (status, role, mode), got in zip(cases, js, strict=True):
        want = region_style(status, role == "common", mode)
        assert {k: v for k, v in got.items() if v is not None} == {
            k: v for k, v in want.items() if v is not None
        }, (status, role, mode)


def test_borders_are_drawn_as_the_same_lines_in_the_browser_and_the_export(
    watched: Watched, base_url: str
) -> None:
    """The bundled borders less the edges where they were clipped to the region's box
    (static/js/layers.js borderLines, app.export.borders.border_lines)."""
    import json

    from app.export.borders import border_lines
    from app.settings import BUNDLED_DATA

    borders = json.loads((BUNDLED_DATA / "borders.geojson").read_text(encoding="utf-8"))
    page = watched.open(f"{base_url}/")
    js = page.evaluate(
        """async (borders) => (await import("/static/js/layers.js")).borderLines(borders)""", borders
    )
    py = border_lines(borders)
    assert js["geometry"] == py["geometry"]
    assert len(py["geometry"]["coordinates"]) > 1
