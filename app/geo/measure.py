"""Measures of a region against the zone: area, share inside, three-valued status.

``p_inside`` is the share of the region's ellipsoidal area (``Geod.geometry_area_perimeter``,
an exact equal-area measure) that lies inside the zone polygon. Status is three-valued:
``inside`` when p >= 0.999, ``outside`` when p <= 0.001, ``uncertain`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import shapely
from shapely.geometry.base import BaseGeometry

from app.geo.geodesy import area_m2, distance_m
from app.geo.memo import by_geometry

ZoneStatus = Literal["inside", "outside", "uncertain"]
INSIDE_AT = 0.999
OUTSIDE_AT = 0.001


@dataclass(frozen=True)
class RegionMeasure:
    """Area (km²), share inside the zone, status and a representative lon/lat point."""

    area_km2: float
    p_inside: float
    status: ZoneStatus
    point: tuple[float, float]


def status_for(p_inside: float) -> ZoneStatus:
    """Three-valued answer to "inside the zone?" for a share of area inside."""
    if p_inside >= INSIDE_AT:
        return "inside"
    if p_inside <= OUTSIDE_AT:
        return "outside"
    return "uncertain"


@by_geometry(maxsize=1024)
def measure_region(
    region: BaseGeometry, zone: BaseGeometry, zone_centre: tuple[float, float], zone_radius_m: float
) -> RegionMeasure:
    """Measure ``region`` against ``zone`` (a polygon of the geodesic circle around the centre).

    A region with no area (a bare point) is decided by its geodesic distance to the centre.
    """
    if region.is_empty:
        raise ValueError("cannot measure an empty region")
    point = region.representative_point()
    lonlat = (float(point.x), float(point.y))
    area = area_m2(region)
    if area <= 0.0:
        inside = distance_m(*zone_centre, *lonlat) <= zone_radius_m
        p = 1.0 if inside else 0.0
    elif shapely.contains(zone, region):  # most regions lie wholly on one side: no overlay
        p = 1.0
    elif not shapely.intersects(zone, region):
        p = 0.0
    else:
        p = area_m2(shapely.intersection(region, zone)) / area
        p = min(1.0, max(0.0, p))
    return RegionMeasure(area_km2=area / 1e6, p_inside=p, status=status_for(p), point=lonlat)
