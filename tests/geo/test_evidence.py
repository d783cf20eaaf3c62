"""Claims as evidence (app.geo.evidence), checked against areas computed independently with
pyproj.Geod: polygons sampled along geodesic circles and radials with Geod.fwd and measured with
Geod.polygon_area_perimeter, never with the shapes the code under test builds."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from app.geo.evidence import SourceRegion, has_area, weigh
from app.geo.regions import Band, ClaimShape, Sector, claim_region
from app.geo.shapes import circle

ORACLE = Geod(ellps="WGS84")
GARRISON = (38.61778, 33.50583)
ZONE_R = 55_000.0
ZONE = circle(*GARRISON, ZONE_R)


def oracle_sector_km2(inner_m: float, outer_m: float, from_deg: float = 0.0, to_deg: float = 360.0) -> float:
    """Area of an annular sector around the garrison, sampled every 0.05 degrees with Geod.fwd."""
    az = np.linspace(from_deg, to_deg, int((to_deg - from_deg) / 0.05) + 1)
    lon0, lat0 = np.full(az.size, GARRISON[0]), np.full(az.size, GARRISON[1])
    out_lon, out_lat, _ = ORACLE.fwd(lon0, lat0, az, np.full(az.size, outer_m))
    if inner_m == 0:
        lons, lats = list(out_lon), list(out_lat)
    else:
        in_lon, in_lat, _ = ORACLE.fwd(lon0, lat0, az[::-1], np.full(az.size, inner_m))
        lons, lats = [*out_lon, *in_lon], [*out_lat, *in_lat]
    if to_deg - from_deg >= 360 and inner_m > 0:  # a full ring: the outer disc less the inner one
        return oracle_sector_km2(0, outer_m) - oracle_sector_km2(0, inner_m)
    area, _ = ORACLE.polygon_area_perimeter(lons, lats)
    return abs(area) / 1e6


def ring(inner_m: float, outer_m: float, bearing: tuple[float, float] | None = None):  # type: ignore[no-untyped-def]
    sector = Sector(*bearing) if bearing else None
    return claim_region(
        ClaimShape(anchors=(GARRISON,), distance=Band(inner_m, outer_m), bearing=sector), GARRISON
    )


def zone_band(inner_m: float, outer_m: float):  # type: ignore[no-untyped-def]
    return claim_region(ClaimShape(zone_band=Band(inner_m, outer_m)), GARRISON)


def source(name: str, *regions) -> SourceRegion:  # type: ignore[no-untyped-def]
    return SourceRegion(name, tuple(f"{name}-{k}" for k in range(len(regions))), tuple(regions))


def judge(*sources: SourceRegion):  # type: ignore[no-untyped-def]
    return weigh(sources, ZONE, GARRISON, ZONE_R)


def test_sources_that_agree_answer_from_their_common_region() -> None:
    # 20-40 km and 30-50 km from the garrison: both right at once in the 30-40 km ring, inside.
    e = judge(source("a", ring(20_000, 40_000)), source("b", ring(30_000, 50_000)))
    assert e.rule == "common-region" and e.status == "inside" and e.p_inside == 1.0
    assert e.common_measure is not None
    assert e.common_measure.area_km2 == pytest.approx(oracle_sector_km2(30_000, 40_000), rel=1e-3)
    assert [s.allows for s in e.sources] == ["inside", "inside"]


def test_a_common_region_across_the_edge_is_uncertain_with_its_own_share() -> None:
    # 50-60 km and 45-58 km: common ring 50-58 km, of which 50-55 km lies inside.
    e = judge(source("a", ring(50_000, 60_000)), source("b", ring(45_000, 58_000)))
    expected = oracle_sector_km2(50_000, 55_000) / oracle_sector_km2(50_000, 58_000)
    assert e.rule == "common-region" and e.status == "uncertain"
    assert e.p_inside == pytest.approx(expected, abs=2e-3)


def test_sources_that_conflict_are_contested_and_weighed_one_each() -> None:
    # One small ring wholly inside, one huge ring wholly outside: each source counts once.
    inside, outside = source("us", ring(20_000, 28_000)), source("sohr", ring(100_000, 200_000))
    e = judge(inside, outside)
    assert e.rule == "per-source" and e.status == "contested" and e.common is None
    assert e.p_inside == pytest.approx(0.5)  # (1 + 0) / 2, not the area-weighted 0.01
    assert (e.count("inside"), e.count("outside"), e.count("across")) == (1, 1, 0)


def test_one_vague_source_never_outweighs_several_specific_ones() -> None:
    four_inside = [source(f"s{k}", ring(10_000 + k * 5_000, 20_000 + k * 5_000)) for k in range(4)]
    e = judge(*four_inside, source("far", ring(100_000, 200_000)))
    assert e.status == "contested" and e.p_inside == pytest.approx(0.8)


@pytest.mark.parametrize("cut_m", [150_000, 200_000, 300_000])
def test_where_an_open_ended_claim_is_cut_changes_nothing_when_it_lies_wholly_outside(cut_m: float) -> None:
    e = judge(source("us", ring(20_000, 28_000)), source("sohr", ring(100_000, cut_m)))
    assert (e.status, e.p_inside) == ("contested", pytest.approx(0.5))
    # ...and in the common-region case: "outside the zone" cut anywhere, with "east, 60-80 km".
    e = judge(source("a", zone_band(ZONE_R, cut_m)), source("b", ring(60_000, 80_000, (67.5, 112.5))))
    assert (e.status, e.p_inside, e.rule) == ("outside", 0.0, "common-region")
    assert e.common_measure is not None
    assert e.common_measure.area_km2 == pytest.approx(
        oracle_sector_km2(60_000, 80_000, 67.5, 112.5), rel=1e-3
    )


def test_one_source_with_two_parts_is_one_place() -> None:
    # "about 30 km" and, elsewhere in the same report, "to the northeast": one 45-degree sector.
    e = judge(source("a", ring(25_000, 35_000), ring(5_000, 200_000, (22.5, 67.5))))
    (only,) = e.sources
    assert not only.self_contradictory and only.allows == "inside"
    assert only.measure.area_km2 == pytest.approx(oracle_sector_km2(25_000, 35_000, 22.5, 67.5), rel=1e-3)


def test_a_source_that_contradicts_itself_is_flagged() -> None:
    e = judge(source("a", ring(10_000, 20_000), ring(100_000, 120_000)))
    (only,) = e.sources
    assert only.self_contradictory and only.allows == "across"
    assert e.status == "uncertain"


def test_a_bearing_alone_next_to_just_outside_meets_in_the_band_outside() -> None:
    # 20 June 2017: CENTCOM "combat outpost to the northeast of At Tanf" (a bearing alone, from
    # 5 km out: wording "Bearing alone") and CNN "just outside the 55 kilometer zone" (55-60 km).
    northeast = ring(5_000, 200_000, (22.5, 67.5))
    e = judge(source("centcom", northeast), source("cnn", zone_band(ZONE_R, ZONE_R + 5_000)))
    assert (e.rule, e.status, e.p_inside) == ("common-region", "outside", 0.0)
    assert [s.allows for s in e.sources] == ["across", "outside"]
    assert e.common_measure is not None
    assert e.common_measure.area_km2 == pytest.approx(oracle_sector_km2(55_000, 60_000, 22.5, 67.5), rel=2e-3)


def test_a_bearing_alone_beside_east_outside_with_no_common_area_is_outside() -> None:
    # 8 June 2017: Dillon "east of At Tanf, outside the zone" and CENTCOM's northeast outpost share
    # only the 67.5-degree radial: each answers for itself, {outside} and {inside, outside}.
    east_outside = claim_region(
        ClaimShape(anchors=(GARRISON,), distance=Band(5_000, 200_000), bearing=Sector(67.5, 112.5),
                   zone_band=Band(ZONE_R, 200_000)),
        GARRISON,
    )  # fmt: skip
    e = judge(source("dod", east_outside), source("centcom", ring(5_000, 200_000, (22.5, 67.5))))
    assert (e.rule, e.status) == ("per-source", "outside")
    inside_share = (oracle_sector_km2(5_000, ZONE_R, 22.5, 67.5)) / oracle_sector_km2(
        5_000, 200_000, 22.5, 67.5
    )
    assert e.p_inside == pytest.approx((0.0 + inside_share) / 2, abs=2e-3)


def test_bands_that_meet_on_the_edge_share_a_line_not_an_area() -> None:
    just_inside, just_outside = zone_band(ZONE_R - 5_000, ZONE_R), zone_band(ZONE_R, ZONE_R + 5_000)
    assert not has_area(just_inside.intersection(just_outside))
    e = judge(source("a", just_inside), source("b", just_outside))
    assert (e.rule, e.status) == ("per-source", "contested")
