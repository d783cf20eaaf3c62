"""How far a point is from a claim region, bounded from a few numbers instead of its vertices.

Every claim region lies inside a few geodesic annular sectors ("pieces") around known centres
(the claim's anchors, the zone centre, a near-site, an exact point), and for a claim of one part
the region *is* their union. In the azimuthal equidistant projection centred on a piece's centre,
distances and azimuths from the centre are true, so the piece is exactly a plane annular sector
and the query point sits exactly at (D, azimuth). Other distances only stretch there, by a factor
k between 1 and (rho/R) / sin(rho/R) within rho of the centre. So the plane distance d from the
point to the piece bounds the true one: d / k <= true distance <= d.

``app.data.near_index`` uses these bounds to settle almost every region of a ``near`` query
with a handful of numpy operations, and tests only the rest against the region's polygon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.geo.geodesy import WGS84
from app.geo.regions import ClaimShape
from app.geo.shapes import MAX_CHORD_ERROR_M, METRES_PER_DEGREE_MIN, REGION_CHORD_ERROR_M, SERVED_REGION_M
from app.geo.wording import OPEN_REACH_M

LonLat = tuple[float, float]
# The smallest radius of Gaussian curvature of WGS84 is 6,356,752 m (at the equator); a smaller
# radius only widens the bound.
R_MIN_M = 6_335_000.0
# How far a served region may lie from the pieces it is the union of: the Douglas-Peucker
# tolerance (taken at the shortest degree, so up to 1 % more along the longest), the polygon's
# own chord error, and the 1 cm coordinate grid of app.geo.ragged.
SERVED_SLACK_M = SERVED_REGION_M * 111_700.0 / METRES_PER_DEGREE_MIN + REGION_CHORD_ERROR_M + 0.2
# The query disc is a polygon inscribed in the true circle (app.geo.shapes.circle).
DISC_SLACK_M = MAX_CHORD_ERROR_M + 0.25
FULL_TURN = 360.0
WGS84_A = float(WGS84.a)
WGS84_E2 = float(WGS84.es)


@dataclass(frozen=True)
class Piece:
    """Distances ``min_m``..``max_m`` from ``centre`` at azimuths ``from_deg`` clockwise through
    ``sweep_deg`` (360: every azimuth)."""

    centre: LonLat
    min_m: float
    max_m: float
    from_deg: float = 0.0
    sweep_deg: float = FULL_TURN


def pieces_for(shape: ClaimShape, zone_centre: LonLat) -> tuple[tuple[Piece, ...], bool]:
    """Pieces whose union holds the claim's region, and whether the union *is* the region.

    The region is the intersection of the claim's parts (``app.geo.regions.claim_region``),
    each part a union of pieces; with one part the pieces are exact. With several, the part
    with the smallest pieces bounds the region from outside.
    """
    parts: list[tuple[Piece, ...]] = []
    if shape.anchors and (shape.distance or shape.bearing):
        low, high = (shape.distance.min_m, shape.distance.max_m) if shape.distance else (0.0, OPEN_REACH_M)
        start, sweep = 0.0, FULL_TURN
        if shape.bearing is not None:
            start = shape.bearing.from_deg
            sweep = (shape.bearing.to_deg - start) % FULL_TURN or FULL_TURN
        parts.append(tuple(Piece(a, low, high, start, sweep) for a in shape.anchors))
    if shape.zone_band:
        parts.append((Piece(zone_centre, shape.zone_band.min_m, shape.zone_band.max_m),))
    if shape.near:
        parts.append(tuple(Piece(centre, 0.0, radius) for centre, radius in shape.near))
    if shape.point:
        centre, precision = shape.point
        parts.append((Piece(centre, 0.0, precision),))
    if not parts:
        raise ValueError("a location claim needs at least one geometric part")
    smallest = min(parts, key=lambda pieces: sum(p.max_m**2 * p.sweep_deg for p in pieces))
    # An area such as a country only narrows the region: the other parts' pieces bound it.
    return smallest, len(parts) == 1 and shape.within is None


def stretch(rho_m: np.ndarray) -> np.ndarray:
    """An upper bound of the azimuthal equidistant projection's scale within ``rho_m`` of its
    centre: (x / sin x) for x = rho / R, with R below the ellipsoid's smallest radius of
    curvature, and its excess over 1 doubled for what a sphere does not show."""
    x = np.minimum(np.asarray(rho_m, dtype=np.float64) / R_MIN_M, 1.0)
    k = np.where(x > 1e-6, x / np.sin(np.maximum(x, 1e-6)), 1.0)
    bound: np.ndarray = 1.0 + 2.0 * (k - 1.0)
    return bound


def plane_distance(
    d: np.ndarray, azimuth: np.ndarray, min_m: np.ndarray, max_m: np.ndarray,
    from_deg: np.ndarray, sweep_deg: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Plane distance from the point at (``d``, ``azimuth``) to the annular sector, all in the
    azimuthal equidistant plane of the sector's centre (vectorised over sectors)."""
    return sector_plane_distance(d, min_m, max_m, *edge_terms(d, azimuth, from_deg, sweep_deg))


def edge_terms(
    d: np.ndarray | float, azimuth: np.ndarray | float, from_deg: np.ndarray, sweep_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the distance to a sector needs of the point's direction: whether it lies within the
    sweep, and for the nearer straight edge the point's distance from the edge's line
    (``across``) and its position along it (``along``). They depend on the sector's angles, not
    on its radii, so a centre's pieces share them (``app.data.near_index``).

    The nearer edge is the one at the smaller angle θ from the point's direction: for every
    point q of an edge, |p - q|² = d² + q² - 2 d q cos θ grows with θ, and so does the least.
    """
    past_start = np.mod(azimuth - from_deg, FULL_TURN)
    inside = (sweep_deg >= FULL_TURN) | (past_start <= sweep_deg)
    past_end = np.mod(azimuth - from_deg - sweep_deg, FULL_TURN)
    off_start = np.minimum(past_start, FULL_TURN - past_start)  # 0..180 from the edge's ray
    off_end = np.minimum(past_end, FULL_TURN - past_end)
    angle = np.radians(np.minimum(off_start, off_end))
    return inside, d * np.sin(angle), d * np.cos(angle)


def sector_plane_distance(
    d: np.ndarray | float, min_m: np.ndarray, max_m: np.ndarray, inside: np.ndarray,
    across: np.ndarray, along: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Plane distance to the annular sector [min_m, max_m] from the terms of ``edge_terms``:
    radial within the sweep; outside it, to the nearer straight edge (the segment from min_m to
    max_m along the edge's ray: ``along`` clipped to it, and ``across``)."""
    radial = np.maximum(0.0, np.maximum(min_m - d, d - max_m))
    to_edge = _norm(across, np.maximum(0.0, np.maximum(min_m - along, along - max_m)))
    distance: np.ndarray = np.where(inside, radial, to_edge)
    return distance


def _norm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """sqrt(x² + y²): np.hypot guards against overflow at a tenth of the speed, and distances in
    metres are far from overflowing (the rounding, 1e-16 of the value, is far inside the slack)."""
    norm: np.ndarray = np.sqrt(x * x + y * y)
    return norm


def open_limit(within_m: float, k: np.ndarray | float) -> np.ndarray | float:
    """The plane distance beyond which a piece's region is surely not within ``within_m``:
    the served region's and the disc's slack, stretched by ``k`` (``stretch``)."""
    return (within_m + DISC_SLACK_M + SERVED_SLACK_M) * k


def settle(
    plane_low: np.ndarray, plane_high: np.ndarray, exact: np.ndarray, within_m: float, k: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """For each piece, from bounds of its plane distance: is its region surely within
    ``within_m`` (exact regions only), or surely not as far as this piece goes? ``k``: the
    ``stretch`` over the distances involved."""
    surely_in = exact & (plane_high + SERVED_SLACK_M < within_m - DISC_SLACK_M)
    surely_out = plane_low > open_limit(within_m, k)
    return surely_in, surely_out


def _meridian_degree_m(lat: np.ndarray) -> np.ndarray:
    """Length of one degree of latitude at ``lat`` on WGS84 (grows towards the poles)."""
    sin2 = np.sin(np.radians(lat)) ** 2
    length: np.ndarray = np.radians(1.0) * WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * sin2) ** 1.5
    return length


def _parallel_degree_m(lat: np.ndarray) -> np.ndarray:
    """Length of one degree of longitude at ``lat`` on WGS84 (shrinks towards the poles)."""
    rad = np.radians(lat)
    length: np.ndarray = np.radians(1.0) * WGS84_A * np.cos(rad) / np.sqrt(1 - WGS84_E2 * np.sin(rad) ** 2)
    return length


def reach_box(lon: np.ndarray | float, lat: np.ndarray | float, reach_m: np.ndarray | float) -> np.ndarray:
    """A box (minlon, minlat, maxlon, maxlat) holding every point within ``reach_m`` of each
    (lon, lat), for ``app.geo.box_tree``.

    A geodesic of length s from latitude φ stays within s / 110,574 degrees of latitude of it
    (the shortest degree of latitude), so within |φ| + s / 110,574; along it every degree of
    longitude is at least as long as at that highest latitude, L_min, so the longitude changes
    by at most s / L_min. A box that would cross the antimeridian or reach a pole spans every
    longitude instead (wider, so still safe). Two points within a + b of each other have a
    point between them within a of one and b of the other: the boxes of reach a and b meet.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    reach = np.broadcast_to(np.asarray(reach_m, dtype=np.float64), lat.shape)
    dlat = reach / METRES_PER_DEGREE_MIN
    highest = np.abs(lat) + dlat
    polar = highest >= 89.9
    dlon = reach / _parallel_degree_m(np.minimum(highest, 89.9))
    wrap = polar | (lon - dlon < -180.0) | (lon + dlon > 180.0)
    return np.column_stack([
        np.where(wrap, -180.0, lon - dlon), np.maximum(-90.0, lat - dlat),
        np.where(wrap, 180.0, lon + dlon), np.minimum(90.0, lat + dlat),
    ])  # fmt: skip


# The degree lengths on a grid of latitudes, so that a bound reads them instead of evaluating
# trigonometry per point: M grows and L shrinks with |latitude|, so the grid value one step
# further down (or up) the slope is a safe bound at any latitude between grid points.
_GRID_DEG = 0.01
_GRID_ABS_LAT = np.arange(0, round(90 / _GRID_DEG) + 1) * _GRID_DEG
_MERIDIAN_GRID = _meridian_degree_m(_GRID_ABS_LAT)
_PARALLEL_GRID = _parallel_degree_m(_GRID_ABS_LAT)


def _grid_below(abs_lat: np.ndarray) -> np.ndarray:
    """A grid index at or below every |latitude| given (a step lower for rounding)."""
    below: np.ndarray = np.clip(np.floor(abs_lat / _GRID_DEG) - 1, 0, len(_GRID_ABS_LAT) - 1).astype(np.intp)
    return below


def _grid_above(abs_lat: np.ndarray) -> np.ndarray:
    """A grid index at or above every |latitude| given (a step higher for rounding)."""
    above: np.ndarray = np.clip(np.ceil(abs_lat / _GRID_DEG) + 1, 0, len(_GRID_ABS_LAT) - 1).astype(np.intp)
    return above


def distance_bounds(
    lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float, reach_m: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the geodesic distance from each point to (lon0, lat0), from
    degree differences alone; the lower one holds for points within ``reach_m`` (farther ones
    only need to be known to be farther than that, which it still shows; those a box shows to be
    beyond it get inf for both).

    The surface's metric is ds² = (M dφ)² + (L dλ)² with M, L the lengths of a degree of latitude
    and of longitude. Along any path, M and L stay between their extremes over the latitudes the
    path visits, and the length of a path under a fixed weighted Euclidean norm is at least the
    norm of its net change. The geodesic (if within ``reach_m``) visits latitudes at most
    reach/110,574 degrees beyond the two ends: lower = |(M_min Δφ, L_min Δλ)|. The path straight
    in latitude and longitude stays between the two ends: upper = |(M_max Δφ, L_max Δλ)|. M and
    L are read from a grid of latitudes, on the safe side of each.
    """
    reach = np.broadcast_to(np.asarray(reach_m, dtype=np.float64), np.shape(lat))
    lower = np.full(np.shape(lat), np.inf)
    upper = np.full(np.shape(lat), np.inf)
    # First a box, in a few cheap operations: points surely beyond their reach keep inf for both
    # (callers compare with the reach or less), and only the rest get the bounds below.
    dlat = np.abs(lat - lat0)
    highest = min(89.9, abs(lat0) + 2 * float(reach.max(initial=0.0)) / METRES_PER_DEGREE_MIN)
    dlon = np.abs(lon - lon0)
    dlon = np.minimum(dlon, 360.0 - dlon)  # across the antimeridian
    box = (dlat * METRES_PER_DEGREE_MIN <= reach) & (dlon * _parallel_degree_m(np.asarray(highest)) <= reach)
    idx: np.ndarray | slice = slice(None)  # views, when the caller's own box kept only these
    if not box.all():
        idx = np.flatnonzero(box)
        dlat, dlon, lat, reach = dlat[idx], dlon[idx], lat[idx], reach[idx]
    same_side = np.sign(lat) * np.sign(lat0) >= 0
    low_abs = np.where(same_side, np.minimum(np.abs(lat), abs(lat0)), 0.0)
    high_abs = np.maximum(np.abs(lat), abs(lat0))
    pad = reach / METRES_PER_DEGREE_MIN
    lower[idx] = _norm(
        _MERIDIAN_GRID[_grid_below(low_abs - pad)] * dlat, _PARALLEL_GRID[_grid_above(high_abs + pad)] * dlon
    )
    upper[idx] = _norm(
        _MERIDIAN_GRID[_grid_above(high_abs)] * dlat, _PARALLEL_GRID[_grid_below(low_abs)] * dlon
    )
    return lower, upper
