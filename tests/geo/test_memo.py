"""Measures kept by coordinates (app.geo.memo) answer what the measures themselves answer.

The perimeter is checked against ``pyproj.Geod.geometry_area_perimeter`` to the bit; a kept
answer against the function it keeps (``__wrapped__``) on every source region of the bundled
data.
"""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from pyproj import Geod

from app.data.catalog import border_polygons, build_catalog
from app.data.loader import load_dataset
from app.geo.countries import borders_near, country_shares
from app.geo.geodesy import area_m2, perimeter_m
from app.geo.measure import measure_region
from app.geo.memo import Keyed, by_geometry
from app.geo.regions import Band, ClaimShape, claim_region
from app.geo.shapes import annular_sector, annulus, circle
from app.settings import BUNDLED_DATA

ORACLE = Geod(ellps="WGS84")
RING = annulus(38.61778, 33.50583, 37_800.0, 39_400.0, 1.0)
SECTOR = annular_sector(38.61778, 33.50583, 10_000.0, 20_000.0, 300.0, 330.0, 1.0)
DISC = circle(38.9, 33.2, 5_000.0, 1.0)


@pytest.mark.parametrize(
    "geometry",
    [
        RING,
        SECTOR,
        DISC,
        shapely.MultiPolygon([SECTOR, DISC]),
        shapely.GeometryCollection([RING, RING.boundary, DISC.representative_point()]),
        shapely.intersection(RING, SECTOR),
    ],
    ids=["annulus", "sector", "disc", "multipolygon", "collection", "overlay"],
)
def test_the_perimeter_is_geods_to_the_bit(geometry: Any) -> None:
    _area, expected = ORACLE.geometry_area_perimeter(geometry)
    assert perimeter_m(geometry) == expected


def test_an_equal_region_built_again_is_answered_from_what_was_kept() -> None:
    calls: list[float] = []

    @by_geometry(maxsize=8)
    def measured(region: Any, scale: float) -> float:
        calls.append(scale)
        return area_m2(region) * scale

    again = shapely.from_wkb(shapely.to_wkb(SECTOR))  # another object, the same doubles
    assert again is not SECTOR
    assert measured(SECTOR, 2.0) == measured(again, 2.0) == area_m2.__wrapped__(SECTOR) * 2.0  # type: ignore[attr-defined]
    assert calls == [2.0]
    measured(SECTOR, 3.0)  # another argument: another answer
    assert calls == [2.0, 3.0]


def test_the_same_vertices_in_another_order_or_kind_are_another_key() -> None:
    ring = shapely.get_coordinates(SECTOR.exterior)[:-1]
    rotated = shapely.Polygon([*ring[5:], *ring[:5]])
    assert rotated.equals(SECTOR)  # the same place...
    assert Keyed(rotated) != Keyed(SECTOR)  # ...but other doubles in another order
    assert Keyed(shapely.MultiPolygon([SECTOR])) != Keyed(SECTOR)
    assert Keyed(shapely.from_wkb(shapely.to_wkb(SECTOR))) == Keyed(SECTOR)


def test_every_kept_measure_of_the_bundled_data_is_the_measures_own() -> None:
    catalog = build_catalog(load_dataset(BUNDLED_DATA))
    zone = catalog.zone
    compared = 0
    for incident in catalog.incidents:
        evidence = incident.evidence
        for source in evidence.sources:
            own = measure_region.__wrapped__(source.region, zone.polygon, zone.centre, zone.radius_m)  # type: ignore[attr-defined]
            assert source.measure == own, (incident.incident.id, source.source_id)
            compared += 1
        if evidence.common is not None:
            assert incident.countries == country_shares.__wrapped__(evidence.common, catalog.borders)  # type: ignore[attr-defined]
            assert incident.area_km2 == area_m2.__wrapped__(evidence.common) / 1e6  # type: ignore[attr-defined]
    assert compared > 50


def test_a_claim_met_again_is_the_same_region_as_derived_anew() -> None:
    def about_24_miles() -> ClaimShape:
        return ClaimShape(anchors=((38.61778, 33.50583),), distance=Band(37_820.0, 39_430.0))

    centre = (38.61778, 33.50583)
    first, again = claim_region(about_24_miles(), centre), claim_region(about_24_miles(), centre)
    assert again is first
    assert shapely.equals_identical(first, claim_region.__wrapped__(about_24_miles(), centre))  # type: ignore[attr-defined]
    assert (
        claim_region(ClaimShape(anchors=((38.6, 33.5),), distance=Band(37_820.0, 39_430.0)), centre)
        is not first
    )


def test_the_same_borders_about_the_same_centre_are_indexed_once() -> None:
    def countries() -> dict[str, Any]:  # read again, as each part of a load reads them
        return border_polygons(load_dataset(BUNDLED_DATA).borders)

    first = borders_near(countries(), (38.61778, 33.50583))
    assert borders_near(countries(), (38.61778, 33.50583)) is first
    assert borders_near(countries(), (38.5, 33.5)) is not first
    assert country_shares(DISC, first) is country_shares(
        DISC, borders_near(countries(), (38.61778, 33.50583))
    )
