"""The zone's side of a point worked out from the data files alone, for tests that check where a
drawing puts things: the garrison point and the zone's radius read from geodata/, the geodesic
distance by pyproj.Geod on WGS 84 (not the code under test)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pyproj import Geod

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
GEOD = Geod(ellps="WGS84")


def garrison_and_radius() -> tuple[float, float, float]:
    """(lon, lat) of the zone's centre and its radius in metres, from geodata/."""
    zone = yaml.safe_load((GEODATA / "zone.yaml").read_text())
    sites = yaml.safe_load((GEODATA / "sites.yaml").read_text())["sites"]
    (centre,) = [s for s in sites if s["id"] == zone["centre"]]
    return centre["lon"], centre["lat"], zone["radius_km"] * 1000.0


LON0, LAT0, RADIUS_M = garrison_and_radius()


def inside_zone(lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies within the zone's radius of the garrison, geodesically."""
    return GEOD.inv(LON0, LAT0, lon, lat)[2] <= RADIUS_M


def zone_circle() -> list[tuple[float, float]]:
    """The zone's line, lon/lat, a vertex every half degree of azimuth."""
    out = []
    for k in range(720):
        lon, lat, _ = GEOD.fwd(LON0, LAT0, k / 2, RADIUS_M)
        out.append((lon, lat))
    return out
