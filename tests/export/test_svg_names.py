"""The server's drawing read as a map (issue 18): the countries named where they are, a key in
every frame the embeds use, and each place's name where it reads as that place's: never over a
marker or another name, beside its own dot or joined to it by a leader line that crosses no
marker, and on a background that no border runs through.

The drawing is parsed as XML: the names' boxes are their backgrounds (the text is fitted to
them, ``textLength``), the markers' boxes their shapes."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from app.export import svg
from app.export.svg_names import CLEAR_PX, RELAXED_CLEAR_PX
from app.served import Served, load_served
from app.settings import Settings
from app.web.state import parse_state
from tests.export.test_svg_markers import SIZES, marker_boxes
from tests.zone_oracle import inside_zone

SVG_NS = "{http://www.w3.org/2000/svg}"
CONTESTED = "2017-06-06-coalition-strike"
QUERIES = [{}, {"sel": CONTESTED}, {"v": "33.55,38.6,9"}]
FRAMES = [*SIZES, (600, 450)]

Box = tuple[float, float, float, float]


@pytest.fixture(scope="module")
def served() -> Served:
    return load_served(Settings())


def _box(e: ET.Element) -> Box:
    x, y, w, h = (float(e.get(k, 0)) for k in ("x", "y", "width", "height"))
    return (x, y, x + w, y + h)


def _meets(a: Box, b: Box, air: float = 0.0) -> bool:
    return a[0] - air < b[2] and b[0] - air < a[2] and a[1] - air < b[3] and b[1] - air < a[3]


def _distance(a: Box, b: Box) -> float:
    dx = max(0.0, b[0] - a[2], a[0] - b[2])
    dy = max(0.0, b[1] - a[3], a[1] - b[3])
    return math.hypot(dx, dy)


def _names(root: ET.Element) -> dict[str, Box]:
    """Each place's name: its background's box, by site id."""
    out = {}
    for g in root.iter(f"{SVG_NS}g"):
        if g.get("class") == "name":
            rect = g.find(f"{SVG_NS}rect")
            assert rect is not None
            out[g.get("data-site", "")] = _box(rect)
    return out


def _dots(root: ET.Element) -> list[tuple[float, float, float]]:
    return [
        (float(e.get("cx", 0)), float(e.get("cy", 0)), float(e.get("r", 0)))
        for e in root.iter(f"{SVG_NS}circle")
        if e.get("class") == "site"
    ]


def _leaders(root: ET.Element) -> list[tuple[float, float, float, float]]:
    out = []
    for e in root.iter(f"{SVG_NS}path"):
        if e.get("class") == "name-leader":
            a, b = (e.get("d") or "").lstrip("M").split("L")
            out.append((*map(float, a.split(",")), *map(float, b.split(","))))
    return out


def _segment_meets(seg: tuple[float, float, float, float], box: Box, skip_px: float) -> bool:
    """Whether the segment passes through the box (sampled every 0.5 px, its first ``skip_px``
    left out: it starts on its own dot)."""
    x0, y0, x1, y1 = seg
    length = math.hypot(x1 - x0, y1 - y0)
    for k in range(int(length * 2) + 1):
        t = k / max(1.0, length * 2)
        if t * length < skip_px:
            continue
        px, py = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
        if box[0] + 1 < px < box[2] - 1 and box[1] + 1 < py < box[3] - 1:
            return True
    return False


@pytest.mark.parametrize(("width", "height"), FRAMES)
@pytest.mark.parametrize("query", QUERIES)
def test_each_name_reads_as_its_own_places(served: Served, width: int, height: int, query: dict) -> None:
    """No name covers a marker or another name; a name without a leader line has its own dot
    nearer than any marker; a name with one keeps ``CLEAR_PX`` from every marker (the garrison's,
    which is never left out, ``FAIR_CLEAR_PX`` where it can and ``RELAXED_CLEAR_PX`` at least)
    and its line crosses no marker (at 800x600 with the contested strike selected, the
    garrison's name sat against the contested marker and read as its name)."""
    root = ET.fromstring(svg.render_svg(served, parse_state(query), width, height))
    names = _names(root)
    markers = marker_boxes(ET.tostring(root, encoding="unicode"))
    dots = _dots(root)
    leaders = _leaders(root)
    assert "garrison" in names, f"the garrison is unnamed at {width}x{height} {query}"
    # 320x200 and 420x260 (the static embed's narrowest): the crowd fills the zone, and the
    # garrison's name goes where it covers nothing, its line crossing no marker, however near.
    crowded = width < 500
    ids = list(names)
    for i, (site, box) in enumerate(names.items()):
        assert 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height, site
        for other in ids[i + 1 :]:
            assert not _meets(box, names[other]), f"{site!r} and {other!r} overlap"
        for m in markers:
            assert not _meets(box, m), f"the name of {site!r} covers a marker at {width}x{height} {query}"
        line = [seg for seg in leaders if _distance((seg[2], seg[3], seg[2], seg[3]), box) < 0.5]
        if crowded and site == "garrison":
            continue
        if line:
            (seg,) = line
            # The garrison's name, which must be shown, may come nearer where nothing is that clear.
            clear = RELAXED_CLEAR_PX if site == "garrison" else CLEAR_PX
            for m in markers:
                assert _distance(box, m) >= clear - 0.5, f"{site!r}'s name stands against a marker"
                assert not _segment_meets(seg, m, skip_px=7), f"{site!r}'s leader line crosses a marker"
        else:
            own = min(_distance(box, (x, y, x, y)) - r for x, y, r in dots)
            nearest = min((_distance(box, m) for m in markers), default=math.inf)
            assert nearest > own, f"{site!r}'s name is as near a marker as its own dot"


@pytest.mark.parametrize(("width", "height"), FRAMES)
def test_every_frame_has_a_key_under_the_map_covering_nothing(
    served: Served, width: int, height: int
) -> None:
    """A key in every frame the embeds and previews use (at 600x450, the frame the embed dialog
    suggests, the corner legend was left out: every corner covered a marker), under the map."""
    text = svg.render_svg(served, parse_state({}), width, height)
    root = ET.fromstring(text)
    (key,) = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "legend"]
    words = " ".join(t.text or "" for t in key.iter(f"{SVG_NS}text"))
    for w in ("inside the zone", "outside the zone", "sources disagree"):
        assert w in words, (width, height, words)
    if width >= 400:
        assert "air strike, shelling, drone or bomb" in words
    rect = key.find(f"{SVG_NS}rect")
    assert rect is not None
    top = _box(rect)[1]
    assert _box(rect)[3] <= height + 0.5 and top >= height * 0.6
    for m in marker_boxes(text):
        assert m[1] < top, f"a marker at {m} lies under the key at {width}x{height}"
    # Legible where it is drawn: no word smaller than 10 px.
    assert float(key.get("font-size", 0)) >= 10


def _viewport(served: Served, width: int, height: int, root: ET.Element) -> svg.Viewport:
    key = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "legend"]
    rect = key[0].find(f"{SVG_NS}rect") if key else None
    map_h = round(_box(rect)[1]) if rect is not None else height
    zone = served.zone
    minx, miny, maxx, maxy = zone.polygon.bounds
    pad_x, pad_y = (maxx - minx) * 0.08, (maxy - miny) * 0.08
    lat, lon, zoom = svg.fit_view((minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y), width, map_h)
    return svg.Viewport(lat, lon, zoom, width, map_h)


@pytest.mark.parametrize(("width", "height"), [(800, 600), (600, 450), (1200, 630), (420, 260)])
def test_the_countries_are_named_inside_themselves(served: Served, width: int, height: int) -> None:
    """SYRIA, IRAQ and JORDAN (from the bundled borders, as on the map) each named inside its own
    outline, clear of every marker and name (at 420 px, Jordan's corner of the image is full),
    and not across the zone's line (the geodesic circle from geodata/, tests/zone_oracle.py)."""
    text = svg.render_svg(served, parse_state({}), width, height)
    root = ET.fromstring(text)
    v = _viewport(served, width, height, root)
    borders = {f["properties"]["name"].upper(): shape(f["geometry"]) for f in served.borders["features"]}
    countries = [e for e in root.iter(f"{SVG_NS}text") if e.get("class") == "country"]
    named = {e.text for e in countries}
    assert ({"SYRIA", "IRAQ", "JORDAN"} if width >= 600 else {"SYRIA", "IRAQ"}) <= named, (width, height)
    names = list(_names(root).values())
    for e in countries:
        x, y = float(e.get("x", 0)), float(e.get("y", 0)) - 4.5
        lon, lat = v.lonlat_arrays(np.array([x]), np.array([y]))
        assert shapely.contains_xy(borders[e.text or ""], lon[0], lat[0]), f"{e.text} drawn outside itself"
        ends = [inside_zone(*(float(a[0]) for a in v.lonlat_arrays(np.array([x + dx]), np.array([y]))))
                for dx in (-len(e.text or "") * 4.5, 0, len(e.text or "") * 4.5)]  # fmt: skip
        assert len(set(ends)) == 1, f"{e.text} is drawn across the zone's line at {width}x{height}"
        box = (x - 20, y - 6, x + 20, y + 6)  # its middle, at least
        for other in [*marker_boxes(text), *names]:
            assert not _meets(box, other), f"{e.text} covers something at {width}x{height}"


@pytest.mark.parametrize(("width", "height"), [(800, 600), (600, 450), (320, 200)])
@pytest.mark.parametrize("query", [{}, {"sel": CONTESTED}])
def test_no_border_runs_through_a_name(served: Served, width: int, height: int, query: dict) -> None:
    """Every name is drawn on its own light background after the borders (the crossings' names
    sit on borders: the dashed lines ran through their letters)."""
    root = ET.fromstring(svg.render_svg(served, parse_state(query), width, height))
    order = list(root.iter())
    borders = [k for k, e in enumerate(order) if e.get("stroke-dasharray") == "6 3"]
    assert borders
    assert "garrison" in _names(root), "the names are not drawn as names on a background"
    for k, e in enumerate(order):
        if e.get("class") == "name":
            rect = e.find(f"{SVG_NS}rect")
            assert rect is not None and rect.get("fill") == "#fff"
            assert float(rect.get("fill-opacity", 1)) >= 0.85
            assert k > max(borders)
