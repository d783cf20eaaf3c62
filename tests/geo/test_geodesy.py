"""Distances and bearings between the sourced sites, against the research notes' derivations."""

from __future__ import annotations

import pytest

from app.geo.geodesy import destination, distance_bearing

GARRISON = (38.61778, 33.50583)


@pytest.mark.parametrize(
    ("target", "km", "bearing"),
    [
        pytest.param((38.83639, 33.43694), 21.7, 111, id="al-tanf-crossing"),
        pytest.param((38.9374, 33.4332), 30.7, 105, id="al-waleed-crossing"),
        pytest.param((38.7936, 33.3747), 21.9, 132, id="tripoint"),
        pytest.param((38.668472, 33.310861), 22.2, 168, id="rukban-camp"),
        pytest.param((37.68361, 33.77972), 91.7, 290, id="al-sabe-biyar"),
    ],
)
def test_distance_and_bearing_match_the_research_notes(
    target: tuple[float, float], km: float, bearing: float
) -> None:
    result = distance_bearing(*GARRISON, *target)
    # The notes derived great-circle (spherical) distances; the ellipsoid differs by up to ~0.5 %.
    assert result.distance_m / 1000 == pytest.approx(km, rel=0.005)
    assert result.bearing_deg == pytest.approx(bearing, abs=0.5)


def test_destination_inverts_distance_bearing() -> None:
    lon, lat = destination(*GARRISON, 292.5, 38_624.3)
    back = distance_bearing(*GARRISON, lon, lat)
    assert back.distance_m == pytest.approx(38_624.3, abs=1e-6)
    assert back.bearing_deg == pytest.approx(292.5, abs=1e-9)
