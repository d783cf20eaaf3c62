"""Location claims to regions: the area a reported location really describes.

A claim is made of parts, each optional, and the parts of one claim combine by intersection
("about 24 miles from the base" AND "northwest"). Distances and bearings are measured from the
claim's anchors; when the source's anchor is ambiguous ("from al-Tanf": the garrison or the
border crossing) every candidate is kept and the region is the union over them.

All inputs are WGS84 lon/lat degrees and metres; regions are lon/lat shapely geometries whose
curved edges follow the ellipsoid (see ``app.geo.shapes``).
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from app.geo.memo import by_geometry
from app.geo.shapes import REGION_CHORD_ERROR_M, annular_sector, annulus, circle
from app.geo.wording import OPEN_REACH_M

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Band:
    """Distances from ``min_m`` to ``max_m`` metres (min may be 0)."""

    min_m: float
    max_m: float

    def __post_init__(self) -> None:
        if not 0 <= self.min_m < self.max_m:
            raise ValueError(f"a band needs 0 <= min < max, got {self.min_m}..{self.max_m} m")


@dataclass(frozen=True)
class Sector:
    """Azimuths clockwise from ``from_deg`` to ``to_deg`` (degrees from true north)."""

    from_deg: float
    to_deg: float


@dataclass(frozen=True)
class ClaimShape:
    """The geometric content of one location claim, already turned from words into numbers.

    ``anchors`` are the candidate points that ``distance`` and ``bearing`` are measured from.
    ``zone_band`` is a band of distances from the zone's centre. ``near`` is a set of candidate
    discs (centre, radius). ``point`` is an exact coordinate with its precision radius.
    ``within`` is a lon/lat area the place lies in, such as a named country widened by its
    borders' error (``app.geo.countries.Borders.widened``).
    """

    anchors: tuple[LonLat, ...] = ()
    distance: Band | None = None
    bearing: Sector | None = None
    zone_band: Band | None = None
    near: tuple[tuple[LonLat, float], ...] = ()
    point: tuple[LonLat, float] | None = None
    within: BaseGeometry | None = None

    def is_empty(self) -> bool:
        """True when no part gives any geometry (the claim is kept as text only)."""
        anchored = bool(self.anchors) and (self.distance is not None or self.bearing is not None)
        return not (anchored or self.zone_band or self.near or self.point or self.within is not None)


def _from_anchor(anchor: LonLat, distance: Band | None, bearing: Sector | None) -> BaseGeometry:
    lon, lat = anchor
    band = distance or Band(0.0, OPEN_REACH_M)
    if bearing is None:
        return annulus(lon, lat, band.min_m, band.max_m, REGION_CHORD_ERROR_M)
    return annular_sector(
        lon, lat, band.min_m, band.max_m, bearing.from_deg, bearing.to_deg, REGION_CHORD_ERROR_M
    )


@by_geometry(maxsize=1024)  # the same claim in many incidents: one region
def claim_region(shape: ClaimShape, zone_centre: LonLat) -> BaseGeometry:
    """The region a claim describes, as the intersection of its parts (may be empty).

    Raises ``ValueError`` if the claim has no geometric part at all.
    """
    parts: list[BaseGeometry] = []
    if shape.anchors and (shape.distance or shape.bearing):
        per_anchor = [_from_anchor(a, shape.distance, shape.bearing) for a in shape.anchors]
        parts.append(shapely.union_all(per_anchor))
    if shape.zone_band:
        lon, lat = zone_centre
        # The zone's own tolerance: a band's edge on the boundary then IS the zone's boundary.
        parts.append(annulus(lon, lat, shape.zone_band.min_m, shape.zone_band.max_m))
    if shape.near:
        parts.append(
            shapely.union_all([circle(lon, lat, r, REGION_CHORD_ERROR_M) for (lon, lat), r in shape.near])
        )
    if shape.point:
        (lon, lat), precision_m = shape.point
        parts.append(circle(lon, lat, precision_m, REGION_CHORD_ERROR_M))
    if shape.within is not None:
        parts.append(shape.within)
    if not parts:
        raise ValueError("a location claim needs at least one geometric part")
    region = parts[0]
    for part in parts[1:]:
        region = shapely.intersection(region, part)
    return shapely.make_valid(region) if not region.is_valid else region
