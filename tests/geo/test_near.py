"""The near filter's degree box and distance bounds (app.geo.near), against pyproj.Geod."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from app.data.store import POINT_SLACK_M
from app.geo import near

GEOD = Geod(ellps="WGS84")


def angle(lon: np.ndarray, lat: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """The great-circle angle (radians) between lon/lat points taken as on a sphere."""
    p1, p2 = np.radians(lat), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon) / 2) ** 2
    return np.asarray(2 * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


def test_the_angle_bounds_the_geodesic_distance_everywhere() -> None:
    """R_LOW·θ <= s <= R_HIGH·θ for pairs anywhere: short and long, along meridians and the
    equator, at the poles, across the antimeridian, nearly antipodal."""
    rng = np.random.default_rng(5)
    n = 200_000
    lon, lat = rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lat[:2000] = rng.uniform(89.0, 90.0, 2000)  # by the poles
    lat[2000:4000] = rng.uniform(-90.0, -89.0, 2000)
    lat[4000:6000] = rng.uniform(-0.01, 0.01, 2000)  # on the equator
    dist = np.concatenate([rng.uniform(0.01, 1_000, n // 2), rng.uniform(1_000, 20_000_000, n // 2)])
    az = rng.uniform(0, 360, n)
    az[6000:8000] = rng.choice([0.0, 90.0, 180.0, 270.0], 2000)  # along meridians and parallels
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, dist)
    _, _, s = GEOD.inv(lon, lat, lon2, lat2)
    theta = angle(lon, lat, lon2, lat2)
    assert (near.R_LOW * theta <= s).all() and (s <= near.R_HIGH * theta).all()
    ratio = np.asarray(s)[dist > 10] / theta[dist > 10]
    assert near.R_LOW < ratio.min() < 6_340_000 and 6_395_000 < ratio.max() < near.R_HIGH  # not loose


@pytest.mark.parametrize(
    ("lon", "lat", "within_m"),
    [(38.6, 33.5, 30_000), (179.9, 10.0, 50_000), (-179.99, -45.0, 200_000), (0.0, 89.9, 20_000),
     (100.0, 89.0, 150_000), (-60.0, -89.99, 5_000), (20.0, 70.0, 3_000_000), (5.0, 0.0, 25_000_000)],
)  # fmt: skip
def test_the_reach_boxes_hold_every_point_within(lon: float, lat: float, within_m: float) -> None:
    """Points on circles up to the distance (Geod.fwd) all lie in one of the boxes."""
    n = 2_000
    az, dist = np.linspace(0, 360, n), np.repeat([within_m, within_m * 0.999, within_m * 0.5], n)
    plon, plat, _ = GEOD.fwd(np.full(3 * n, lon), np.full(3 * n, lat), np.tile(az, 3), dist)
    boxes = near.reach_boxes(lon, lat, within_m)
    inside = np.zeros(3 * n, dtype=bool)
    for minx, miny, maxx, maxy in boxes:
        assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
        inside |= (plon >= minx) & (plon <= maxx) & (plat >= miny) & (plat <= maxy)
    assert inside.all()
    if within_m < 1_000_000:  # a box, not the world
        assert sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) < 360 * 180 / 4
        assert len(boxes) == (2 if abs(lon) > 179 and abs(lat) < 89 else 1)


DISCS = [(179.9, 10.0, 50_000), (-179.95, 0.0, 20_000), (40.0, 89.8, 60_000), (-120.0, -89.9, 30_000)]


@pytest.mark.parametrize(("lon", "lat", "within_m"), DISCS)
def test_the_disc_is_the_geodesic_disc_across_the_antimeridian_and_around_a_pole(
    lon: float, lat: float, within_m: float
) -> None:
    """Points 2 m inside the circle are in the lon/lat disc, points 2 m outside are not."""
    disc = near.disc(lon, lat, within_m)
    assert disc.is_valid and disc.bounds[0] >= -180 and disc.bounds[2] <= 180
    az = np.linspace(0, 360, 721)
    n = len(az)
    for offset, expected in ((-2.0, True), (2.0, False)):
        plon, plat, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, within_m + offset))
        assert (shapely.contains_xy(disc, plon, plat) == expected).all()


def test_within_equals_geod_at_the_distance_itself() -> None:
    rng = np.random.default_rng(8)
    lon, lat = 38.6, 33.5
    az = rng.uniform(0, 360, 5000)
    dist = 30_000 + rng.choice([-0.01, 0.01], 5000)
    plon, plat, _ = GEOD.fwd(np.full(5000, lon), np.full(5000, lat), az, dist)
    _, _, s = GEOD.inv(np.full(5000, lon), np.full(5000, lat), plon, plat)
    np.testing.assert_array_equal(near.within(lon, lat, plon, plat, 30_000), np.asarray(s) <= 30_000)


def claim_like(rng: np.random.Generator, lon: float, lat: float) -> shapely.Geometry:
    """A region as claims draw them (served within 10 m): a disc, a ring, a sector, or two discs."""
    from app.geo.shapes import annular_sector, annulus, circle, simplified

    inner = float(rng.uniform(1_000, 60_000))
    outer = inner + float(rng.uniform(800, 20_000))
    kind = int(rng.integers(4))
    if kind == 0:
        shape = circle(lon, lat, outer, 1.0)
    elif kind == 1:
        shape = annulus(lon, lat, inner, outer, 1.0)
    elif kind == 2:
        start = float(rng.uniform(0, 360))
        shape = annular_sector(lon, lat, inner, outer, start, start + float(rng.uniform(20, 300)), 1.0)
    else:
        far = GEOD.fwd(lon, lat, float(rng.uniform(0, 360)), outer * 3)
        first, second = circle(lon, lat, inner, 1.0), circle(far[0], far[1], inner, 1.0)
        shape = shapely.union(first, second) if second.bounds[2] - second.bounds[0] < 90 else first
    return simplified(shape, 10.0)


# Near At Tanf, by the antimeridian (not across it: regions are never drawn across) and the poles.
REACH_CENTRES = [(38.63, 33.5), (179.2, 5.0), (-179.3, -20.0), (30.0, 87.5), (120.0, -87.0), (0.0, 0.0)]


@pytest.mark.parametrize(("lon", "lat"), REACH_CENTRES)
def test_reaches_hold_every_point_of_the_region_by_geod(lon: float, lat: float) -> None:
    """Every point of a region (its edges every ~20 m, and points inside it) lies between
    reach_min and reach_max of its centre (``near.centres``) by Geod.inv; every point between ring_min
    and ring_max of that centre lies in the region."""
    rng = np.random.default_rng(int(abs(lon * 100 + lat)))
    shapes = (claim_like(rng, lon, lat) for _ in range(100))
    # Regions are never drawn across the antimeridian or around a pole (app.data.extent).
    drawable = [
        g for g in shapes if g.is_valid and g.bounds[2] - g.bounds[0] < 90 and abs(g.bounds[3]) < 89.9
    ]
    geoms = np.array(drawable[:24], dtype=object)
    assert len(geoms) == 24
    reach = near.reaches(geoms)
    assert not np.isnan(reach[:, :2]).any()
    rings = 0
    for geom, (reach_min, reach_max, ring_min, ring_max) in zip(geoms, reach, strict=True):
        minx, miny, maxx, maxy = geom.bounds
        cx, cy = (float(v[0]) for v in near.centres(np.array([geom.bounds])))
        edge = shapely.get_coordinates(shapely.segmentize(geom.boundary, 0.0002))
        inside = shapely.points(
            rng.uniform(minx, maxx, (400, 2)) * [1, 0] + rng.uniform(miny, maxy, (400, 2)) * [0, 1]
        )
        inside = shapely.get_coordinates(inside[shapely.contains(geom, inside)])
        xy = np.concatenate(
            [edge, inside, [(cx, cy)] if shapely.contains_xy(geom, cx, cy) else np.empty((0, 2))]
        )
        _, _, d = GEOD.inv(np.full(len(xy), cx), np.full(len(xy), cy), xy[:, 0], xy[:, 1])
        assert reach_min <= np.min(d) and np.max(d) <= reach_max
        assert np.min(d) - reach_min < 100 and reach_max - np.max(d) < 100  # not loose
        if not np.isnan(ring_min):
            rings += 1
            az, dist = rng.uniform(0, 360, 2000), rng.uniform(ring_min, ring_max, 2000)
            x, y, _ = GEOD.fwd(np.full(2000, cx), np.full(2000, cy), az, dist)
            assert shapely.contains_xy(geom, x, y).all()
    assert rings >= 3  # the rings and discs of the sample have one


def test_a_ring_settles_what_its_regions_inner_disc_would() -> None:
    """A store keeps no inner disc (the costly column, ``near.settlers``) where the ring is all but
    the region: every query such a disc would settle (``FeatureStore._meeting``), the ring settles
    too, but those ending within RING_SLACK_M of the ring (left to the polygon, not answered wrong)."""
    rng = np.random.default_rng(11)
    geoms = np.array([claim_like(rng, 38.63, 33.5) for _ in range(150)], dtype=object)
    kept, inner = near.settlers(geoms), near.inner_discs(geoms)
    np.testing.assert_array_equal(kept[:, :4], near.reaches(geoms))
    lean = np.isnan(kept[:, 4])
    assert 20 < lean.sum() < len(geoms) - 20  # the discs and annuli; not sectors, pairs of discs
    np.testing.assert_array_equal(kept[~lean, 4:], inner[~lean])
    boxes, inner, reach = shapely.bounds(geoms)[lean], inner[lean], kept[lean, :4]
    cx, cy = near.centres(boxes)
    settled = 0
    for _ in range(300):
        lon, lat, _ = GEOD.fwd(38.63, 33.5, rng.uniform(0, 360), rng.uniform(0, 90_000))
        within_m = float(rng.uniform(500, 60_000))
        by_ring, _ = near.settle(lon, lat, within_m, boxes, reach)
        by_disc = near.within(lon, lat, inner[:, 0], inner[:, 1], within_m - POINT_SLACK_M + inner[:, 2])
        _, _, d = GEOD.inv(np.full(len(cx), lon), np.full(len(cx), lat), cx, cy)
        sure = within_m - near.DISC_SLACK_M
        gap = np.maximum(d - sure - reach[:, 3], reach[:, 2] - d - sure)  # to the ring, metres
        assert (gap[by_disc & ~by_ring] <= near.RING_SLACK_M).all()
        settled += int(by_disc.sum())
    assert settled > 1000


def test_settle_agrees_with_the_disc_polygon() -> None:
    """What ``settle`` decides, intersecting each region with the disc polygon says too; and it
    decides most of them (what keeps ``near`` from testing every polygon)."""
    rng = np.random.default_rng(5)
    geoms = np.array([claim_like(rng, 38.63, 33.5) for _ in range(150)], dtype=object)
    reach, boxes = near.reaches(geoms), shapely.bounds(geoms)
    decided = 0
    for _ in range(40):
        lon, lat, _ = GEOD.fwd(38.63, 33.5, rng.uniform(0, 360), rng.uniform(0, 90_000))
        within_m = float(rng.uniform(500, 60_000))
        meets, out = near.settle(float(lon), float(lat), within_m, boxes, reach)
        truth = shapely.intersects(near.disc(float(lon), float(lat), within_m), geoms)
        assert truth[meets].all() and not truth[out].any()
        decided += int((meets | out).sum())
    assert decided > 0.6 * 40 * len(geoms)  # 68%: sectors and pairs of discs are left open more often


@pytest.mark.parametrize(("lon", "lat"), REACH_CENTRES)
def test_inner_discs_lie_inside_their_region_by_geod(lon: float, lat: float) -> None:
    """Points at every azimuth on the geodesic circle of the inner disc's radius (and halfway)
    about its centre, by Geod.fwd, lie inside the region."""
    rng = np.random.default_rng(int(abs(lon * 10 + lat)) + 7)
    shapes = (claim_like(rng, lon, lat) for _ in range(60))
    drawable = [
        g for g in shapes if g.is_valid and g.bounds[2] - g.bounds[0] < 90 and abs(g.bounds[3]) < 89.9
    ]
    geoms = np.array(drawable[:16], dtype=object)
    inner = near.inner_discs(geoms)
    assert (inner[:, 2] > 0).all() and (
        abs(lat) > 60 or (inner[:, 2] > 100).all()
    )  # of use away from the poles
    az = np.linspace(0, 360, 720, endpoint=False)
    for geom, (clon, clat, radius) in zip(geoms, inner, strict=True):
        for r in (radius, radius / 2):
            x, y, _ = GEOD.fwd(np.full(len(az), clon), np.full(len(az), clat), az, np.full(len(az), r))
            assert shapely.contains_xy(geom, x, y).all()
