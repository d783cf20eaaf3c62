"""Which points and regions lie within a geodesic distance of a point: a safe box in degrees to
find candidates with (``reach_boxes``), then the exact test on those only.

Points are measured with ``pyproj.Geod.inv`` (Karney), except those a bound settles: the
great-circle angle θ between two lon/lat points, computed as if on a sphere, relates to their
WGS84 geodesic distance s by R_LOW·θ <= s <= R_HIGH·θ (the ellipsoid's radii of curvature lie
between 6,335 km and 6,400 km; the margins are checked against Geod in tests/geo/test_near.py).
A region meets the distance when it intersects the geodesic disc of that radius (a polygon within
0.25 m of the true circle, ``app.geo.shapes.circle``), drawn in lon/lat even where it crosses the
antimeridian or holds a pole (``disc``).
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


def within(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray, within_m: float) -> np.ndarray:
    """Whether each point (degrees) is within ``within_m`` metres (geodesic, WGS84) of lon/lat:
    settled by the angle's bounds where they agree, measured with Geod.inv where they do not."""
    p1, p2 = math.radians(lat), np.radians(lats)
    half = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    theta = 2 * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))
    inside: np.ndarray = theta * R_HIGH <= within_m
    unsure = np.flatnonzero(~inside & (theta * R_LOW <= within_m))
    if len(unsure):
        n = len(unsure)
        _, _, dist = WGS84.inv(np.full(n, lon), np.full(n, lat), lons[unsure], lats[unsure])
        inside[unsure] = np.asarray(dist) <= within_m
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
