"""The zone polygon against the oracle: pyproj.Geod distances along every edge."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from shapely import Polygon

from app.geo.geodesy import area_m2, perimeter_m
from app.geo.geojson import to_geojson
from app.geo.shapes import circle

ORACLE = Geod(ellps="WGS84")
GARRISON = (38.61778, 33.50583)
BUDGET_M = 1.0


def edge_samples(ring: np.ndarray, per_edge: int = 9) -> np.ndarray:
    """Points along each straight lon/lat edge (vertices and ``per_edge`` points between)."""
    start, end = ring[:-1], ring[1:]
    t = np.linspace(0.0, 1.0, per_edge + 2)[:, None, None]
    return (start + (end - start) * t).reshape(-1, 2)


def distances_from(centre: tuple[float, float], points: np.ndarray) -> np.ndarray:
    n = len(points)
    _, _, dist = ORACLE.inv(np.full(n, centre[0]), np.full(n, centre[1]), points[:, 0], points[:, 1])
    return np.asarray(dist)


@pytest.mark.parametrize(
    ("centre", "radius_m"),
    [
        pytest.param(GARRISON, 55_000.0, id="at-tanf-55km"),
        pytest.param(GARRISON, 34 * 1609.344, id="at-tanf-34mi"),
        pytest.param((0.0, 0.0), 55_000.0, id="equator"),
        pytest.param((10.0, 70.0), 55_000.0, id="high-latitude"),
        pytest.param(GARRISON, 500.0, id="small"),
    ],
)
def test_circle_edges_stay_within_budget(centre: tuple[float, float], radius_m: float) -> None:
    ring = np.asarray(circle(*centre, radius_m).exterior.coords)
    error = np.abs(distances_from(centre, edge_samples(ring)) - radius_m)
    assert error.max() <= BUDGET_M, f"worst edge error {error.max():.3f} m"


def test_zone_as_served_in_geojson_stays_within_budget() -> None:
    served = to_geojson(circle(*GARRISON, 55_000.0))
    assert served is not None and served["type"] == "Polygon"
    ring = np.asarray(served["coordinates"][0])
    error = np.abs(distances_from(GARRISON, edge_samples(ring)) - 55_000.0)
    assert error.max() <= BUDGET_M


def test_zone_geojson_is_rfc7946() -> None:
    served = to_geojson(circle(*GARRISON, 55_000.0))
    assert served is not None
    ring = served["coordinates"][0]
    assert ring[0] == ring[-1]
    assert Polygon(ring).exterior.is_ccw  # counter-clockwise exterior
    lons = [p[0] for p in ring]
    assert 37.9 < min(lons) < max(lons) < 39.3  # lon first
    assert all(len(str(v).split(".")[-1]) <= 6 for p in ring for v in p)  # 6 decimals


def test_zone_area_and_perimeter_match_reference() -> None:
    zone = circle(*GARRISON, 55_000.0)
    assert area_m2(zone) / 1e6 == pytest.approx(9503, abs=1)
    assert perimeter_m(zone) / 1e3 == pytest.approx(345.6, abs=0.05)


def test_shortcuts_are_far_off_which_is_why_the_zone_is_geodesic() -> None:
    """A buffer in Web Mercator metres misses by kilometres: the contrast the product exists for."""
    from pyproj import Transformer
    from shapely import Point

    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = to_merc.transform(*GARRISON)
    ring = np.asarray(Point(x, y).buffer(55_000.0, 64).exterior.coords)
    lon, lat = to_merc.transform(ring[:, 0], ring[:, 1], direction="INVERSE")
    error = np.abs(distances_from(GARRISON, np.column_stack([lon, lat])) - 55_000.0)
    assert error.max() > 9_000
