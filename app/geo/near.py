"""Which points and regions lie within a geodesic distance of a point: a safe box in degrees to
find candidates with (``reach_boxes``), then the exact test on those only.

Points are measured with ``pyproj.Geod.inv`` (Karney), except those a bound settles: the
great-circle angle θ between two lon/lat points, computed as if on a sphere, relates to their
WGS84 geodesic distance s by R_LOW·θ <= s <= R_HIGH·θ (the ellipsoid's radii of curvature lie
between 6,335 km and 6,400 km; the margins are checked against Geod in tests/geo/test_near.py).
A region meets the distance when it intersects the geodesic disc of that radius (a polygon within
0.25 m of the true circle, ``app.geo.shapes.circle``), drawn in lon/lat even where it crosses the
antimeridian or holds a pole (``disc``).

Most regions are settled without their polygon by four distances from the centre of their bounds
(``reaches``, kept with the store): every point of the region lies between ``reach_min`` and
``reach_max`` of it, and every point between ``ring_min`` and ``ring_max`` of it lies in the
region (a ring, "about 24 miles from the base"; NaN where there is none). The triangle
inequality then says, from the query's distance to the centre alone, that the region is surely
out of reach or surely meets the disc (``settle``); only the others are intersected.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import Polygon, affinity
from shapely.geometry.base import BaseGeometry

from app.geo.geodesy import WGS84
from app.geo.shapes import arc_points

R_LOW = 6_300_000.0  # metres per radian of great-circle angle, at least
R_HIGH = 6_420_000.0  # at most
M_MIN = 6_335_439.0  # WGS84's smallest radius of curvature (the meridian's, at the equator), metres
Box = tuple[float, float, float, float]


def reach_boxes(lon: float, lat: float, within_m: float) -> list[Box]:
    """Lon/lat boxes (one, or two across the antimeridian) that hold every point within
    ``within_m`` metres of lon/lat: the bounds of the spherical cap of angle within_m / R_LOW."""
    theta = min(within_m / R_LOW, math.pi)
    north, south = lat + math.degrees(theta), lat - math.degrees(theta)
    if north >= 90.0 or south <= -90.0:  # the cap holds a pole: every longitude
        return [(-180.0, max(south, -90.0), 180.0, min(north, 90.0))]
    ratio = math.sin(theta) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return [(-180.0, south, 180.0, north)]
    half = math.degrees(math.asin(ratio))
    west, east = lon - half, lon + half
    if west < -180.0:
        return [(west + 360.0, south, 180.0, north), (-180.0, south, east, north)]
    if east > 180.0:
        return [(west, south, 180.0, north), (-180.0, south, east - 360.0, north)]
    return [(west, south, east, north)]


def within(
    lon: float, lat: float, lons: np.ndarray, lats: np.ndarray, within_m: float | np.ndarray
) -> np.ndarray:
    """Whether each point (degrees) is within ``within_m`` metres (geodesic, WGS84; one distance
    or one per point) of lon/lat:
    settled by the angle's bounds where they agree, measured with Geod.inv where they do not."""
    theta = _angle(lon, lat, lons, lats)
    inside: np.ndarray = theta * R_HIGH <= within_m
    unsure = np.flatnonzero(~inside & (theta * R_LOW <= within_m))
    if len(unsure):
        n = len(unsure)
        _, _, dist = WGS84.inv(np.full(n, lon), np.full(n, lat), lons[unsure], lats[unsure])
        inside[unsure] = np.asarray(dist) <= np.broadcast_to(within_m, lons.shape)[unsure]
    return inside


def disc(lon: float, lat: float, within_m: float) -> BaseGeometry:
    """The geodesic disc as a lon/lat (multi)polygon: cut in two at the antimeridian, or closed
    along the pole's parallel when it holds a pole."""
    ring = arc_points(lon, lat, within_m, 0.0, 360.0)[::-1]
    world = shapely.box(-180.0, -90.0, 180.0, 90.0)
    for pole in (90.0, -90.0):
        if WGS84.inv(lon, lat, 0.0, pole)[2] <= within_m:
            edge = ring[np.argsort(ring[:, 0])]
            (w_lon, w_lat), (e_lon, e_lat) = edge[0], edge[-1]
            at_180 = e_lat + (w_lat - e_lat) * (180.0 - e_lon) / (w_lon + 360.0 - e_lon)  # between them
            corners = [(180.0, at_180), (180.0, pole), (-180.0, pole), (-180.0, at_180)]
            return shapely.make_valid(Polygon([*map(tuple, edge), *corners]))
    lons = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    shape = Polygon(np.column_stack([lons, ring[:, 1]]))
    if lons.min() >= -180.0 and lons.max() <= 180.0:
        return shape
    shifted = affinity.translate(shape, -360.0 if lons.max() > 180.0 else 360.0)
    return shapely.union(shapely.intersection(shape, world), shapely.intersection(shifted, world))


# A lon/lat edge is not a geodesic: it strays from the one between its ends by up to about
# L² (1 + tan |lat|) / (8 R) metres; the bounds below are widened by twice that and a metre.
EDGE_MARGIN_M = 1.0
MAX_EDGE_M = 20_000.0  # a region with a longer edge is always tested against its polygon
DISC_SLACK_M = 0.25 + 0.01  # the disc polygon lies within MAX_CHORD_ERROR_M inside the circle


RING_SLACK_M = 100.0  # a ring within this of a region's reaches on both sides is all but the region


def settlers(geoms: np.ndarray) -> np.ndarray:
    """What a store keeps to settle each region by (shape (n, 7)): its ``reaches``, then its
    ``inner_discs``, but NaN where its ring is all but the region (within RING_SLACK_M of its
    reaches: a disc or an annulus about the centre of its bounds, two thirds of the synthetic
    regions). Such a ring settles every query such a disc would but those ending within that slack
    of it (left to the polygon), and the disc costs more than all the rest of a region's columns."""
    reach, rest = reaches(geoms), geoms.copy()
    rest[(reach[:, 2] - reach[:, 0] <= RING_SLACK_M) & (reach[:, 1] - reach[:, 3] <= RING_SLACK_M)] = None
    return np.hstack([reach, inner_discs(rest)])


def inner_discs(geoms: np.ndarray) -> np.ndarray:
    """For each polygon (None, points: NaN): ``[lon, lat, radius_m]`` of a geodesic disc inside it
    (shape (n, 3)): its largest inscribed circle in lon/lat (GEOS, to 0.001°), whose radius r in
    degrees holds at least radians(r) * M_MIN * cos(|lat| + r) metres in every direction (the
    shortest degree of latitude on WGS84 is M_MIN; a degree of longitude shrinks with the cosine)."""
    out = np.full((len(geoms), 3), np.nan)
    polygon = np.flatnonzero(np.isin(shapely.get_type_id(geoms), [3, 6]))
    if not len(polygon):
        return out
    line = shapely.maximum_inscribed_circle(geoms[polygon], 0.001)
    (x0, y0), (x1, y1) = (shapely.get_coordinates(shapely.get_point(line, k)).T for k in (0, 1))
    rho = np.hypot(x1 - x0, y1 - y0)
    shrink = np.cos(np.radians(np.minimum(np.abs(y0) + rho, 89.9)))
    out[polygon] = np.column_stack([x0, y0, np.radians(rho) * M_MIN * shrink * (1 - 1e-6)])
    return out


def reaches(geoms: np.ndarray) -> np.ndarray:
    """For each polygon (None, points: NaN), measured from the centre of its bounds:
    ``[reach_min, reach_max, ring_min, ring_max]`` in metres (shape (n, 4)).

    Each edge's ends are measured with Geod.inv; along an edge of length L between ends at d1 and
    d2 the distance stays between the triangle's height on L (Heron's formula; the nearer end where
    the foot falls outside the edge) and max(d1, d2), as in the plane, widened by how far the lon/lat
    edge may stray from the geodesic (EDGE_MARGIN_M and the L² term). A region's
    nearest point is a vertex or on an edge unless it holds the centre (reach_min 0). The ring is
    every distance above each hole's farthest point and below the shell's nearest one, when the
    centre is inside the shell (a disc about it that meets no shell edge lies inside the shell).
    """
    out = np.full((len(geoms), 4), np.nan)
    polygon = np.flatnonzero(np.isin(shapely.get_type_id(geoms), [3, 6]))  # Polygon, MultiPolygon
    if not len(polygon):
        return out
    cx, cy = centres(shapely.bounds(geoms[polygon]))
    parts, part_owner = shapely.get_parts(geoms[polygon], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_owner = part_owner[ring_part]
    single = shapely.get_type_id(geoms[polygon]) == 3
    shell = np.r_[True, ring_part[1:] != ring_part[:-1]] & single[ring_owner]  # a Polygon's first ring
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    owner = ring_owner[ring]
    _, _, d = WGS84.inv(cx[owner], cy[owner], xy[:, 0], xy[:, 1])
    edge = np.flatnonzero(ring[1:] == ring[:-1])  # vertex k to k + 1 on the same ring
    _, _, length = WGS84.inv(xy[edge, 0], xy[edge, 1], xy[edge + 1, 0], xy[edge + 1, 1])
    a, b, c = d[edge], d[edge + 1], np.asarray(length)
    heron = (a + b + c) * (-a + b + c) * (a - b + c) * (a + b - c)  # (4 times the triangle's area)²
    height = np.sqrt(np.maximum(heron, 0.0)) / np.maximum(2 * c, 1e-9)
    past_an_end = (a**2 + c**2 <= b**2) | (b**2 + c**2 <= a**2)  # the foot falls outside the edge
    stray = (
        c**2 * (1 + np.tan(np.radians(np.minimum(np.abs(xy[edge, 1]), 89.999)))) / (4 * R_LOW) + EDGE_MARGIN_M
    )
    low = np.where(past_an_end, np.minimum(a, b), height) - stray
    high = np.maximum(a, b) + stray
    n, of = len(polygon), owner[edge]
    reach_min, reach_max, longest = np.full(n, np.inf), np.zeros(n), np.zeros(n)
    np.minimum.at(reach_min, of, low)
    np.maximum.at(reach_max, of, high)
    np.maximum.at(longest, of, length)
    holds_centre = shapely.contains_xy(geoms[polygon], cx, cy)
    reach_min[holds_centre] = 0.0
    ring_min, ring_max = np.zeros(n), np.full(n, np.inf)
    on_shell = shell[ring[edge]]
    np.maximum.at(ring_min, of[~on_shell], high[~on_shell])
    np.minimum.at(ring_max, of[on_shell], low[on_shell])
    shells = shapely.polygons(shapely.get_exterior_ring(geoms[polygon]))
    no_ring = (ring_min >= ring_max) | ~shapely.contains_xy(shells, cx, cy)
    ring_min[no_ring], ring_max[no_ring] = np.nan, np.nan
    found = np.column_stack([np.maximum(reach_min, 0.0), reach_max, ring_min, ring_max])
    found[longest > MAX_EDGE_M] = np.nan
    out[polygon] = found
    return out


def centres(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The point regions are measured from: the centre of their bounds ((n, 4) degrees), to a
    thousandth of a degree, so that the rings about one place share it (any point would do)."""
    return np.round((boxes[:, 0] + boxes[:, 2]) / 2, 3), np.round((boxes[:, 1] + boxes[:, 3]) / 2, 3)


def settle(
    lon: float, lat: float, within_m: float, boxes: np.ndarray, reach: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which regions surely meet the geodesic disc and which surely do not (two bool arrays),
    from their bounds (``boxes``, (n, 4) degrees) and ``reaches`` (NaN settles nothing). The
    query's distance to each distinct centre is measured once with Geod.inv."""
    cx, cy = centres(boxes)
    key = np.round(cx * 1000).astype(np.int64) * 1_000_000 + np.round(cy * 1000).astype(np.int64)
    distinct, first, which = np.unique(key, return_index=True, return_inverse=True)
    n = len(distinct)
    _, _, s = WGS84.inv(np.full(n, lon), np.full(n, lat), cx[first], cy[first])
    distance = np.asarray(s, dtype=np.float64).reshape(n)[which.reshape(-1)]
    return _settled(distance, within_m, reach)


def _settled(distance: np.ndarray, within_m: float, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """With the query's distance to each centre (metres)."""
    reach_min, reach_max, ring_min, ring_max = reach.T
    out = (distance - reach_max > within_m) | (reach_min - distance > within_m)
    sure = within_m - DISC_SLACK_M  # the ring has a point this close to the query: in the disc polygon
    meets = (distance - sure <= ring_max) & (distance + sure >= ring_min)
    return meets, out


def _angle(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """The great-circle angle (radians) from lon/lat to each point, as on a sphere (haversine)."""
    p1, p2 = math.radians(lat), np.radians(lats)
    half = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    angle: np.ndarray = 2 * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))
    return angle
