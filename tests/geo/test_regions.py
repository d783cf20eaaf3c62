"""Claim regions: reference values, and membership checked point by point with pyproj.Geod."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from app.geo.geodesy import area_m2
from app.geo.measure import measure_region, status_for
from app.geo.regions import Band, ClaimShape, Sector, claim_region
from app.geo.shapes import circle
from app.geo.wording import compass_sector, distance_band_m

ORACLE = Geod(ellps="WGS84")
GARRISON = (38.61778, 33.50583)
CROSSING = (38.83639, 33.43694)
ZONE_R = 55_000.0
ZONE = circle(*GARRISON, ZONE_R)
MILE = 1609.344


def km2(shape: ClaimShape) -> float:
    return area_m2(claim_region(shape, GARRISON)) / 1e6


# Reference values from the issue, computed independently on WGS84.
def test_about_24_miles_is_an_annulus_of_390_6_km2() -> None:
    band = Band(*distance_band_m(24, "mi", "about"))
    assert (band.min_m, band.max_m) == pytest.approx((23.5 * MILE, 24.5 * MILE))
    assert km2(ClaimShape(anchors=(GARRISON,), distance=band)) == pytest.approx(390.6, abs=0.05)


def test_about_24_miles_northwest_is_48_8_km2() -> None:
    shape = ClaimShape(
        anchors=(GARRISON,),
        distance=Band(23.5 * MILE, 24.5 * MILE),
        bearing=Sector(*compass_sector("northwest")),
    )
    assert km2(shape) == pytest.approx(48.8, abs=0.05)


def test_13_km_west_is_10_2_km2() -> None:
    shape = ClaimShape(anchors=(GARRISON,), distance=Band(12_500, 13_500), bearing=Sector(247.5, 292.5))
    assert km2(shape) == pytest.approx(10.2, abs=0.05)


@pytest.mark.parametrize(
    ("anchor", "p_expected", "status"),
    [
        pytest.param(CROSSING, 0.507, "uncertain", id="from-crossing"),
        pytest.param(GARRISON, 1.0, "inside", id="from-garrison"),
    ],
)
def test_45_to_55_km_ring_share_inside(anchor: tuple[float, float], p_expected: float, status: str) -> None:
    region = claim_region(ClaimShape(anchors=(anchor,), distance=Band(45_000, 55_000)), GARRISON)
    measure = measure_region(region, ZONE, GARRISON, ZONE_R)
    assert measure.p_inside == pytest.approx(p_expected, abs=0.001)
    assert measure.status == status


# Every claim kind, checked against the oracle: points clearly in the described set must be in
# the region, points clearly out of it must not.


def oracle_check(region: BaseGeometry, truth: np.ndarray, margin: np.ndarray, pts: np.ndarray) -> None:
    inside = shapely.contains_xy(region, pts[:, 0], pts[:, 1])
    sure_in = truth & margin
    sure_out = ~truth & margin
    assert sure_in.sum() > 20 and sure_out.sum() > 20, "sample does not exercise the region"
    assert inside[sure_in].all(), f"{(~inside[sure_in]).sum()} points wrongly outside"
    assert not inside[sure_out].any(), f"{inside[sure_out].sum()} points wrongly inside"


def polar(centre: tuple[float, float], pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(pts)
    az, _, dist = ORACLE.inv(np.full(n, centre[0]), np.full(n, centre[1]), pts[:, 0], pts[:, 1])
    return np.asarray(dist), np.asarray(az) % 360.0


def sample(centre: tuple[float, float], half_deg: float, n: int = 20_000) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.column_stack(
        [
            centre[0] + rng.uniform(-half_deg, half_deg, n),
            centre[1] + rng.uniform(-half_deg, half_deg, n),
        ]
    )


def in_sector(az: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (az - lo) % 360.0 <= (hi - lo) % 360.0


def off_sector_edge(az: np.ndarray, lo: float, hi: float, tol: float = 0.05) -> np.ndarray:
    def gap(a: float) -> np.ndarray:
        return np.minimum(np.abs(az - a) % 360.0, 360.0 - np.abs(az - a) % 360.0)

    return (gap(lo) > tol) & (gap(hi) > tol)


MARGIN_M = 5.0


def test_distance_band_region_matches_oracle() -> None:
    band = Band(23.5 * MILE, 24.5 * MILE)
    region = claim_region(ClaimShape(anchors=(GARRISON,), distance=band), GARRISON)
    pts = sample(GARRISON, 0.5)
    dist, _ = polar(GARRISON, pts)
    truth = (dist >= band.min_m) & (dist <= band.max_m)
    margin = (np.abs(dist - band.min_m) > MARGIN_M) & (np.abs(dist - band.max_m) > MARGIN_M)
    oracle_check(region, truth, margin, pts)


@pytest.mark.parametrize("word", ["NW", "N", "east", "SSW", "WNW"])
def test_bearing_sector_region_matches_oracle(word: str) -> None:
    lo, hi = compass_sector(word)
    band = Band(10_000, 40_000)
    shape = ClaimShape(anchors=(GARRISON,), distance=band, bearing=Sector(lo, hi))
    region = claim_region(shape, GARRISON)
    pts = sample(GARRISON, 0.5)
    dist, az = polar(GARRISON, pts)
    truth = (dist >= band.min_m) & (dist <= band.max_m) & in_sector(az, lo, hi)
    margin = (
        (np.abs(dist - band.min_m) > MARGIN_M)
        & (np.abs(dist - band.max_m) > MARGIN_M)
        & off_sector_edge(az, lo, hi)
    )
    oracle_check(region, truth, margin, pts)


def test_bearing_without_distance_is_a_slice_from_the_anchor() -> None:
    region = claim_region(ClaimShape(anchors=(GARRISON,), bearing=Sector(22.5, 67.5)), GARRISON)
    pts = sample(GARRISON, 1.5)
    dist, az = polar(GARRISON, pts)
    # Open-ended claims are cut at OPEN_REACH_M (200 km) from the anchor.
    truth = in_sector(az, 22.5, 67.5) & (dist <= 200_000)
    margin = off_sector_edge(az, 22.5, 67.5) & (dist > 200) & (np.abs(dist - 200_000) > MARGIN_M)
    oracle_check(region, truth, margin, pts)


@pytest.mark.parametrize(
    "band",
    [
        pytest.param(Band(50_000, 55_000), id="just-inside"),
        pytest.param(Band(45_000, 55_000), id="less-than-10km-inside"),
        pytest.param(Band(55_000, 60_000), id="just-outside"),
    ],
)
def test_zone_band_region_matches_oracle(band: Band) -> None:
    region = claim_region(ClaimShape(zone_band=band), GARRISON)
    pts = sample(GARRISON, 0.8)
    dist, _ = polar(GARRISON, pts)
    truth = (dist >= band.min_m) & (dist <= band.max_m)
    margin = (np.abs(dist - band.min_m) > MARGIN_M) & (np.abs(dist - band.max_m) > MARGIN_M)
    oracle_check(region, truth, margin, pts)
    expected = "inside" if band.max_m <= ZONE_R else "outside"
    assert measure_region(region, ZONE, GARRISON, ZONE_R).status == expected


def test_near_site_is_a_disc_of_the_stated_radius() -> None:
    region = claim_region(ClaimShape(near=((CROSSING, 5_000.0),)), GARRISON)
    pts = sample(CROSSING, 0.1)
    dist, _ = polar(CROSSING, pts)
    oracle_check(region, dist <= 5_000, np.abs(dist - 5_000) > MARGIN_M, pts)


def test_exact_point_is_a_disc_of_its_precision() -> None:
    region = claim_region(ClaimShape(point=(CROSSING, 30.0)), GARRISON)
    assert area_m2(region) == pytest.approx(np.pi * 30.0**2, rel=0.01)
    assert region.contains(shapely.Point(CROSSING))


def test_ambiguous_anchor_is_the_union_over_candidates() -> None:
    band = Band(15_000, 25_000)
    both = claim_region(ClaimShape(anchors=(GARRISON, CROSSING), distance=band), GARRISON)
    pts = sample(GARRISON, 0.6)
    d1, _ = polar(GARRISON, pts)
    d2, _ = polar(CROSSING, pts)
    truth = ((d1 >= 15_000) & (d1 <= 25_000)) | ((d2 >= 15_000) & (d2 <= 25_000))
    margin = np.ones(len(pts), dtype=bool)
    for d in (d1, d2):
        margin &= (np.abs(d - 15_000) > MARGIN_M) & (np.abs(d - 25_000) > MARGIN_M)
    oracle_check(both, truth, margin, pts)


def test_parts_combine_by_intersection() -> None:
    """ "Within 29 km" AND "northwest" AND "inside the zone": all three hold at once."""
    shape = ClaimShape(
        anchors=(GARRISON,),
        distance=Band(0, 29_000),
        bearing=Sector(292.5, 337.5),
        zone_band=Band(0, ZONE_R),
    )
    region = claim_region(shape, GARRISON)
    pts = sample(GARRISON, 0.4)
    dist, az = polar(GARRISON, pts)
    truth = (dist <= 29_000) & in_sector(az, 292.5, 337.5)
    margin = (np.abs(dist - 29_000) > MARGIN_M) & off_sector_edge(az, 292.5, 337.5) & (dist > 200)
    oracle_check(region, truth, margin, pts)


def test_parts_that_do_not_overlap_give_an_empty_region() -> None:
    shape = ClaimShape(anchors=(GARRISON,), distance=Band(0, 10_000), zone_band=Band(55_000, 60_000))
    assert claim_region(shape, GARRISON).is_empty


def test_a_claim_without_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one geometric part"):
        claim_region(ClaimShape(), GARRISON)


@pytest.mark.parametrize(
    ("p", "status"),
    [
        (1.0, "inside"),
        (0.999, "inside"),
        (0.998, "uncertain"),
        (0.5, "uncertain"),
        (0.002, "uncertain"),
        (0.001, "outside"),
        (0.0, "outside"),
    ],
)
def test_status_thresholds(p: float, status: str) -> None:
    assert status_for(p) == status


def test_p_inside_is_accurate_to_a_tenth_of_a_percent_against_sampling() -> None:
    """p_inside of a ring around the crossing, against a Monte Carlo estimate by the oracle.

    Equal-area sampling: uniform in the local azimuthal equal-area plane, judged by Geod.inv.
    """
    from pyproj import Transformer

    laea = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=laea +lat_0={CROSSING[1]} +lon_0={CROSSING[0]} +ellps=WGS84",
        always_xy=True,
    )
    rng = np.random.default_rng(11)
    n = 400_000
    x, y = rng.uniform(-56_000, 56_000, n), rng.uniform(-56_000, 56_000, n)
    lon, lat = laea.transform(x, y, direction="INVERSE")
    pts = np.column_stack([lon, lat])
    d_cross, _ = polar(CROSSING, pts)
    ring = (d_cross >= 45_000) & (d_cross <= 55_000)
    d_zone, _ = polar(GARRISON, pts[ring])
    sampled = float((d_zone <= ZONE_R).mean())
    region = claim_region(ClaimShape(anchors=(CROSSING,), distance=Band(45_000, 55_000)), GARRISON)
    computed = measure_region(region, ZONE, GARRISON, ZONE_R).p_inside
    # Sampling error of ~130k points is about 0.14 % (1 sigma); allow 3 sigma.
    assert computed == pytest.approx(sampled, abs=0.005)
