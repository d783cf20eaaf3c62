"""Geodesic shapes as lon/lat shapely polygons: circles, annuli, sectors.

Every curved edge is sampled on the ellipsoid with ``Geod.fwd``, densely enough that the straight
lon/lat segments between samples stay within ``MAX_CHORD_ERROR_M`` of the true geodesic curve.
That is how the zone keeps its 1 m budget *between* vertices, not only at them.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import shapely
from shapely import Polygon
from shapely.geometry.base import BaseGeometry

from app.geo.geodesy import WGS84
from app.geo.memo import by_geometry

# The sagitta of one chord: how far a straight edge between two samples of a circle of radius R
# sags inside the curve, R * (1 - cos(pi / n)) for n samples. 0.25 m leaves room for rounding
# coordinates to 6 decimals (about 0.1 m) inside the zone's 1 m budget.
MAX_CHORD_ERROR_M = 0.25
# Claim regions describe places known to hundreds of metres at best: 1 m edges keep their areas
# within 0.004 % (an n-gon loses 2*pi^2/(3 n^2) of its circle), at a quarter of the vertices.
REGION_CHORD_ERROR_M = 1.0
# Regions are *measured* (area, p_inside, handle) at that precision, but kept and served within
# 10 m of it: a tenth of the vertices, and still far finer than any claim they describe ("about
# 24 miles" is a 1.6 km band). The zone itself is never simplified.
SERVED_REGION_M = 10.0
METRES_PER_DEGREE_MIN = 110_574.0  # the shortest degree (of latitude, at the equator)
# Straight (radial) edges of sectors are sampled at this spacing; over 1 km a geodesic and a
# straight lon/lat segment part by far less than a millimetre at this latitude.
RADIAL_STEP_M = 1000.0
MIN_ARC_SAMPLES = 8


def samples_for_circle(radius_m: float, max_error_m: float = MAX_CHORD_ERROR_M) -> int:
    """Number of vertices a full circle of ``radius_m`` needs for a chord sagitta <= max_error_m."""
    # Small discs (a point's precision) also keep their area to 0.01 %, hence the relative cap.
    max_error_m = min(max_error_m, radius_m * 1e-4)
    n = math.pi / math.acos(1.0 - max_error_m / radius_m)
    return max(MIN_ARC_SAMPLES, math.ceil(n))


def arc_points(
    lon: float,
    lat: float,
    radius_m: float,
    start_deg: float,
    end_deg: float,
    max_error_m: float = MAX_CHORD_ERROR_M,
) -> np.ndarray:
    """Points (an n x 2 lon/lat array) of the geodesic circle arc from azimuth ``start_deg``
    clockwise to ``end_deg``. Both ends are included; ``end_deg`` may be ``start_deg + 360``.
    """
    sweep = end_deg - start_deg
    if sweep <= 0:
        sweep += 360.0
    per_turn = samples_for_circle(radius_m, max_error_m)
    n = max(2, math.ceil(per_turn * sweep / 360.0)) + 1
    azimuths = start_deg + np.linspace(0.0, sweep, n)
    lons, lats, _back = WGS84.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, float(radius_m)))
    return np.column_stack([lons, lats])


def radial_points(lon: float, lat: float, azimuth_deg: float, from_m: float, to_m: float) -> np.ndarray:
    """Points (n x 2) along the geodesic at ``azimuth_deg`` from distance ``from_m`` to ``to_m``."""
    n = max(2, math.ceil(abs(to_m - from_m) / RADIAL_STEP_M) + 1)
    dists = np.linspace(from_m, to_m, n)
    lons, lats, _back = WGS84.fwd(np.full(n, lon), np.full(n, lat), np.full(n, azimuth_deg), dists)
    return np.column_stack([lons, lats])


@by_geometry(maxsize=1024)
def circle(lon: float, lat: float, radius_m: float, max_error_m: float = MAX_CHORD_ERROR_M) -> Polygon:
    """The geodesic disc of ``radius_m`` metres around a lon/lat centre.

    Vertices run clockwise in azimuth, which is counter-clockwise in lon/lat (RFC 7946 order for
    an exterior ring); the first vertex (due north) is repeated to close the ring.
    """
    # Azimuth grows clockwise on the ground; reversed, the ring is counter-clockwise in lon/lat.
    return Polygon(arc_points(lon, lat, radius_m, 0.0, 360.0, max_error_m)[::-1])


@by_geometry(maxsize=1024)
def annulus(
    lon: float, lat: float, inner_m: float, outer_m: float, max_error_m: float = MAX_CHORD_ERROR_M
) -> BaseGeometry:
    """The geodesic ring from ``inner_m`` to ``outer_m`` metres of a centre (disc if inner=0)."""
    outer = circle(lon, lat, outer_m, max_error_m)
    if inner_m <= 0:
        return outer
    return Polygon(outer.exterior.coords, holes=[arc_points(lon, lat, inner_m, 0.0, 360.0, max_error_m)])


@by_geometry(maxsize=1024)
def annular_sector(
    lon: float,
    lat: float,
    inner_m: float,
    outer_m: float,
    from_deg: float,
    to_deg: float,
    max_error_m: float = MAX_CHORD_ERROR_M,
) -> Polygon:
    """The part of an annulus between azimuths ``from_deg`` and ``to_deg`` (clockwise).

    With ``inner_m`` = 0 this is a pie slice whose apex is the centre.
    """
    to_deg = to_deg if to_deg > from_deg else to_deg + 360.0
    outer = arc_points(lon, lat, outer_m, from_deg, to_deg, max_error_m)
    back = radial_points(lon, lat, to_deg, outer_m, inner_m)[1:]
    parts = [outer, back]
    if inner_m > 0:
        parts.append(arc_points(lon, lat, inner_m, from_deg, to_deg, max_error_m)[::-1][1:])
    parts.append(radial_points(lon, lat, from_deg, inner_m, outer_m)[1:-1])
    # Clockwise azimuth order; reversed, counter-clockwise in lon/lat.
    return Polygon(np.concatenate(parts)[::-1])


Shapes = TypeVar("Shapes", BaseGeometry, np.ndarray)


def simplified(geometry: Shapes, metres: float) -> Shapes:
    """Douglas-Peucker in lon/lat with the tolerance taken at the shortest degree, so that no
    point moves more than ``metres`` on the ground. A geometry, or an array of them (each
    simplified as it would be alone).

    Plain Douglas-Peucker first (a tenth of the cost); the topology-preserving variant only when
    that gives an invalid shape (rings of arcs, kilometres apart, practically never cross).
    """
    tolerance = metres / METRES_PER_DEGREE_MIN
    fast: Shapes = shapely.simplify(geometry, tolerance, preserve_topology=False)
    kept = shapely.is_valid(fast) & ~shapely.is_empty(fast)
    if isinstance(fast, np.ndarray):  # an array of geometries: each one as a geometry would be
        fast[~kept] = shapely.simplify(np.asarray(geometry)[~kept], tolerance, preserve_topology=True)
        return fast
    if kept:
        return fast
    careful: Shapes = shapely.simplify(geometry, tolerance, preserve_topology=True)
    return careful
