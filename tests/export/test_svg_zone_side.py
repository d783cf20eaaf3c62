"""In the server's SVG (``/embed/map.svg``, the ``static=1`` image) every incident is drawn on
the side of the zone's line its stated status says (issue 18).

The SVG placed markers by the old rule: a marker moved aside kept clear of the others only, so a
crowd round the garrison could be fanned out across the zone's circle and an incident inside the
zone drawn outside it. Here, at the static embed's and the dialog's sizes, each drawn marker's
centre, and each numbered circle's, lies inside the zone's circle exactly when its incident is
inside the zone: "inside" and "outside" as the API states them, the others by their point. The
circle and the points are projected here from the view the image states (``data-view``: Web
Mercator centre and zoom) with pyproj; the circle is the geodesic 55 km from the garrison, both
read from geodata/ (tests/zone_oracle.py), not drawn by the code under test.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable

import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from app.data.store_api import STATUS_NAMES
from app.export import svg
from app.served import Served, load_served
from app.settings import Settings
from app.web.state import parse_state
from tests.export.test_svg_markers import marker_boxes
from tests.zone_oracle import inside_zone, zone_circle

SVG_NS = "{http://www.w3.org/2000/svg}"
CONTESTED = "2017-06-06-coalition-strike"
MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
EARTH_M = 2 * math.pi * 6378137.0  # Web Mercator's world, metres
FRAMES = [(600, 450), (800, 600), (320, 200), (320, 450), (420, 260)]


@pytest.fixture(scope="module")
def served() -> Served:
    return load_served(Settings())


def projector(root: ET.Element, width: int) -> tuple[Callable[[float, float], tuple[float, float]], float]:
    """A function (lon, lat) -> (x, y) px of the drawing, from the view it states; its map height."""
    lat, lon, zoom = (float(x) for x in (root.get("data-view") or "").split(","))
    height = float(root.get("data-map-height") or 0)
    cx, cy = MERCATOR.transform(lon, lat)
    metres_per_px = EARTH_M / (256 * 2**zoom)

    def xy(plon: float, plat: float) -> tuple[float, float]:
        x, y = MERCATOR.transform(plon, plat)
        return (x - cx) / metres_per_px + width / 2, (cy - y) / metres_per_px + height / 2

    return xy, height


def expected_inside(status: str, lon: float, lat: float) -> bool:
    """The side an incident belongs on: its stated status where it says one, else its point's."""
    if status in ("inside", "outside"):
        assert (status == "inside") == inside_zone(lon, lat), "the status disagrees with the point"
        return status == "inside"
    return inside_zone(lon, lat)


def centre(box: tuple[float, float, float, float]) -> Point:
    return Point((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


@pytest.mark.parametrize(("width", "height"), FRAMES)
@pytest.mark.parametrize("query", [{}, {"sel": CONTESTED}])
def test_every_marker_is_drawn_on_its_incidents_side_of_the_zone_line(
    served: Served, width: int, height: int, query: dict
) -> None:
    root = ET.fromstring(svg.render_svg(served, parse_state(query), width, height))
    xy, map_h = projector(root, width)
    circle = Polygon([xy(lon, lat) for lon, lat in zone_circle()])
    events = served.stores["events"]
    drawn: dict[str, Point] = {}
    for g in root.iter(f"{SVG_NS}g"):
        if g.get("class") == "incident":
            (box,) = marker_boxes(ET.tostring(g, encoding="unicode"))
            drawn[g.get("data-id") or ""] = centre(box)
        elif g.get("class") == "stack":
            c = g.find(f"{SVG_NS}circle")
            assert c is not None
            at = Point(float(c.get("cx", 0)), float(c.get("cy", 0)))
            drawn.update(dict.fromkeys((g.get("data-ids") or "").split(), at))
    assert len(drawn) >= 20, f"{width}x{height}: {len(drawn)} incidents drawn"
    wrong = []
    for incident_id, at in drawn.items():
        row = events.get(incident_id)
        assert row is not None, incident_id
        attrs = events.attributes(np.array([row]))
        lon, lat = float(attrs.lon[0]), float(attrs.lat[0])
        status = STATUS_NAMES.get(int(attrs.status[0]), "")
        px, py = xy(lon, lat)
        if not (0 <= px <= width and 0 <= py <= map_h):
            continue  # its point is out of the frame: drawn at its edge, where it lies
        if circle.contains(at) != expected_inside(status, lon, lat):
            wrong.append(f"{incident_id} ({status}) drawn at ({at.x:.0f}, {at.y:.0f})")
    assert not wrong, f"{width}x{height} {query}: on the wrong side of the zone's line: {wrong}"
