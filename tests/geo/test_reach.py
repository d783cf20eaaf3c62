"""The bounds the near index settles regions with, against distances measured with pyproj.Geod."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from app.geo.reach import Piece, distance_bounds, pieces_for, plane_distance, reach_box, stretch
from app.geo.regions import Band, ClaimShape, Sector

GEOD = Geod(ellps="WGS84")
STEP_M = 25.0  # spacing of the sampled sector edges: the oracle overshoots by at most half of it


def sector_samples(lon: float, lat: float, low: float, high: float, start: float, sweep: float) -> np.ndarray:
    """Dense points of the sector's outline (arcs and straight edges), on the ellipsoid."""
    pieces = []
    for radius in (low, high):
        if radius > 0:
            n = max(2, int(np.radians(sweep) * radius / STEP_M) + 1)
            az = start + np.linspace(0, sweep, n)
            pieces.append(
                np.column_stack(GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius))[:2])
            )
    if sweep < 360:
        n = max(2, int((high - low) / STEP_M) + 1)
        for az in (start, start + sweep):
            dist = np.linspace(low, high, n)
            pieces.append(
                np.column_stack(GEOD.fwd(np.full(n, lon), np.full(n, lat), np.full(n, az), dist)[:2])
            )
    return np.concatenate(pieces)


def true_distance(lon: float, lat: float, piece: Piece, plon: float, plat: float) -> float:
    """Geodesic distance from the point to the sector: 0 inside, else to its sampled outline."""
    az, _, d = GEOD.inv(lon, lat, plon, plat)
    within_sweep = piece.sweep_deg >= 360 or (az - piece.from_deg) % 360 <= piece.sweep_deg
    if within_sweep and piece.min_m <= d <= piece.max_m:
        return 0.0
    outline = sector_samples(lon, lat, piece.min_m, piece.max_m, piece.from_deg, piece.sweep_deg)
    n = len(outline)
    _, _, dists = GEOD.inv(np.full(n, plon), np.full(n, plat), outline[:, 0], outline[:, 1])
    return float(np.min(dists))


def cases(seed: int, n: int, lat: float) -> list[tuple[Piece, float, float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        centre = (38.6 + rng.uniform(-1, 1), lat + rng.uniform(-1, 1))
        low = float(rng.choice([0.0, rng.uniform(0, 80_000)]))
        high = low + float(rng.uniform(100, 60_000))
        sweep = float(rng.choice([360.0, rng.uniform(5, 350)]))
        piece = Piece(centre, low, high, float(rng.uniform(0, 360)), sweep)
        az, dist = rng.uniform(-180, 180), rng.uniform(0, 250_000)
        plon, plat, _ = GEOD.fwd(centre[0], centre[1], az, dist)
        out.append((piece, float(plon), float(plat)))
    return out


@pytest.mark.parametrize(("seed", "lat"), [(1, 33.5), (2, 33.5), (3, 62.0), (4, -40.0)])
def test_the_plane_distance_bounds_the_geodesic_one(seed: int, lat: float) -> None:
    """d / k <= true <= d, where d is the distance in the centre's azimuthal equidistant plane."""
    checked_beside = 0
    for piece, plon, plat in cases(seed, 60, lat):
        clon, clat = piece.centre
        az, _, d = GEOD.inv(clon, clat, plon, plat)
        plane = float(plane_distance(np.array([d]), np.array([az]), np.array([piece.min_m]),
                                     np.array([piece.max_m]), np.array([piece.from_deg]),
                                     np.array([piece.sweep_deg]))[0])  # fmt: skip
        true = true_distance(clon, clat, piece, plon, plat)
        k = float(stretch(np.array([max(d, piece.max_m)]))[0])
        assert plane / k <= true + 1e-6, (piece, plon, plat, plane, true)
        assert true - STEP_M / 2 <= plane + 1e-6, (piece, plon, plat, plane, true)
        checked_beside += piece.sweep_deg < 360 and (az - piece.from_deg) % 360 > piece.sweep_deg
    assert checked_beside > 5  # the straight-edge branch was exercised, not only the rings


def test_degree_differences_bound_the_geodesic_distance() -> None:
    rng = np.random.default_rng(5)
    for lon0, lat0 in [
        (38.6, 0.0),
        (38.6, 33.5),
        (-70.0, 70.0),
        (10.0, -85.0),
        (179.9, 10.0),
    ]:  # and across 180
        n = 4000
        reach = rng.uniform(1_000, 600_000, n)
        # Points up to about the reach away, in every direction.
        lon, lat, _ = GEOD.fwd(
            np.full(n, lon0), np.full(n, lat0), rng.uniform(-180, 180, n), reach * rng.uniform(0, 1.3, n)
        )
        _, _, dist = GEOD.inv(np.full(n, lon0), np.full(n, lat0), lon, lat)
        low, high = distance_bounds(np.asarray(lon), np.asarray(lat), lon0, lat0, reach)
        dist = np.asarray(dist)
        within = dist <= reach
        assert (low[within] <= dist[within] + 1e-6).all()
        assert (dist <= high + 1e-6).all()
        # And they are tight enough to settle most points near a 30 km query without measuring.
        if abs(lat0) < 60:
            close = within & (dist < 100_000)
            assert np.median((high[close] - low[close]) / dist[close]) < 0.02


def test_pieces_are_the_claims_parts() -> None:
    garrison, crossing, centre = (38.61778, 33.50583), (38.66, 33.40), (38.61778, 33.50583)
    ring = ClaimShape(anchors=(garrison, crossing), distance=Band(30_000, 40_000))
    pieces, exact = pieces_for(ring, centre)
    assert exact and [p.centre for p in pieces] == [garrison, crossing]
    sector = ClaimShape(anchors=(garrison,), distance=Band(0, 20_000), bearing=Sector(292.5, 337.5))
    (piece,), exact = pieces_for(sector, centre)
    assert exact and (piece.from_deg, piece.sweep_deg) == (292.5, 45.0)
    wraps = ClaimShape(anchors=(garrison,), bearing=Sector(337.5, 22.5))
    assert pieces_for(wraps, centre)[0][0].sweep_deg == 45.0
    both = ClaimShape(anchors=(garrison,), distance=Band(30_000, 40_000), point=((38.3, 33.6), 500.0))
    (piece,), exact = pieces_for(both, centre)
    assert not exact and piece.max_m == 500.0  # an intersection: bounded by its smallest part


@pytest.mark.parametrize(
    ("lon", "lat", "reach_m"),
    [(38.6, 33.5, 30_000), (0.0, 0.0, 200_000), (10.0, 70.0, 100_000), (179.5, -40.0, 80_000),
     (20.0, -89.5, 50_000), (-70.0, 60.0, 5.0)],
)  # fmt: skip
def test_the_reach_box_holds_every_point_within_reach(lon: float, lat: float, reach_m: float) -> None:
    box = reach_box(lon, lat, reach_m)[0]
    azimuths = np.linspace(0, 360, 1441)
    for fraction in (1.0, 0.6, 0.2):
        n = len(azimuths)
        plon, plat, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, reach_m * fraction))
        plon, plat = np.asarray(plon), np.asarray(plat)
        assert ((plon >= box[0]) & (plon <= box[2]) & (plat >= box[1]) & (plat <= box[3])).all()
    if box[2] - box[0] < 360:  # not widened to every longitude: then no wider than it needs to be
        reached = GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, reach_m))
        assert box[2] - lon < 1.06 * (np.max(reached[0]) - lon)
        assert box[3] - lat < 1.01 * (np.max(reached[1]) - lat)
