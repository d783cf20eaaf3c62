"""The catalog: the dataset plus everything derived from it, built once at start-up.

For each location claim: its region (``app.geo.regions``) and its measure against the zone. For
each incident: the union of its claims' regions, the share of that union inside the zone, and a
representative point. Views read the catalog; none of them computes geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from app.data.loader import Dataset
from app.data.model import Incident, LocationClaim, Site, Zone
from app.geo.geodesy import METRES_PER_KM, METRES_PER_UNIT
from app.geo.measure import RegionMeasure, ZoneStatus, measure_region, status_for
from app.geo.reach import Piece, pieces_for
from app.geo.regions import Band, ClaimShape, Sector, claim_region
from app.geo.shapes import SERVED_REGION_M, annulus, circle, simplified
from app.geo.wording import (
    JUST_M,
    NEAR_DEFAULT_M,
    OPEN_REACH_M,
    compass_sector,
    distance_band_m,
)


@dataclass(frozen=True)
class DerivedClaim:
    claim: LocationClaim
    region: BaseGeometry | None  # None: unmapped, or parts that do not overlap
    measure: RegionMeasure | None
    empty_reason: str | None
    # The pieces the region lies in, and whether it is their union (for the near index).
    reach: tuple[tuple[Piece, ...], bool] | None = None


@dataclass(frozen=True)
class DerivedIncident:
    incident: Incident
    claims: list[DerivedClaim]
    region: BaseGeometry | None
    point: tuple[float, float] | None
    area_km2: float | None
    p_inside: float | None
    status: ZoneStatus


@dataclass(frozen=True)
class ZoneGeometry:
    zone: Zone
    centre: tuple[float, float]
    radius_m: float
    polygon: BaseGeometry
    variant_band: BaseGeometry | None
    variant_radii_m: tuple[float, ...]


@dataclass(frozen=True)
class Catalog:
    dataset: Dataset
    zone: ZoneGeometry
    incidents: list[DerivedIncident]

    @property
    def version(self) -> str:
        return self.dataset.version


def build_zone(zone: Zone, sites: dict[str, Site]) -> ZoneGeometry:
    """The zone polygon and the band between its shortest and longest reported radii."""
    centre_site = sites[zone.centre]
    centre = (centre_site.lon, centre_site.lat)
    radius_m = zone.radius_km * METRES_PER_KM
    radii = tuple(sorted(v.radius * METRES_PER_UNIT[v.unit] for v in zone.variants))
    band = annulus(*centre, radii[0], radii[-1]) if len(radii) >= 2 else None
    polygon = circle(*centre, radius_m)
    shapely.prepare(polygon)  # every claim region is tested against it: index its edges once
    return ZoneGeometry(zone, centre, radius_m, polygon, band, radii)


def claim_shape(claim: LocationClaim, sites: dict[str, Site], zone: ZoneGeometry) -> ClaimShape:
    """Turn a claim's words into numbers, following the rules in ``app.geo.wording``."""
    anchors = tuple((sites[s].lon, sites[s].lat) for s in claim.from_sites)
    distance = None
    if claim.distance is not None:
        d = claim.distance
        if d.min is not None and d.max is not None:
            per_unit = METRES_PER_UNIT[d.unit]
            distance = Band(d.min * per_unit, d.max * per_unit)
        else:
            assert d.value is not None  # the model requires value or min/max
            distance = Band(*distance_band_m(d.value, d.unit, d.qualifier, d.step))
    bearing = None
    if claim.bearing is not None:
        b = claim.bearing
        if b.compass is not None:
            bearing = Sector(*compass_sector(b.compass))
        else:
            assert b.from_deg is not None and b.to_deg is not None
            bearing = Sector(b.from_deg, b.to_deg)
    zone_band = None
    if claim.zone is not None:
        zone_band = _zone_band(claim.zone.relation, claim.zone.depth_km, zone.radius_m)
    near: tuple[tuple[tuple[float, float], float], ...] = ()
    if claim.near is not None:
        radius = (claim.near.radius_km or NEAR_DEFAULT_M / METRES_PER_KM) * METRES_PER_KM
        near = tuple(((sites[s].lon, sites[s].lat), radius) for s in claim.near.sites)
    point = None
    if claim.point is not None:
        point = ((claim.point.lon, claim.point.lat), claim.point.precision_m)
    return ClaimShape(anchors, distance, bearing, zone_band, near, point)


def _zone_band(relation: str, depth_km: float | None, r: float) -> Band:
    """Distances from the zone centre that a relation to the boundary describes."""
    match relation:
        case "inside":
            return Band(0.0, r)
        case "just_inside":
            return Band(max(0.0, r - JUST_M), r)
        case "inside_within":
            return Band(max(0.0, r - (depth_km or 0.0) * METRES_PER_KM), r)
        case "just_outside":
            return Band(r, r + JUST_M)
        case "outside":
            return Band(r, max(OPEN_REACH_M, 2 * r))
    raise ValueError(f"unknown zone relation {relation!r}")


def _exact_region(
    claim: LocationClaim, sites: dict[str, Site], zone: ZoneGeometry
) -> tuple[BaseGeometry | None, RegionMeasure | None, str | None, ClaimShape | None]:
    if claim.unmapped:
        return None, None, claim.unmapped, None
    shape = claim_shape(claim, sites, zone)
    region = claim_region(shape, zone.centre)
    if region.is_empty:
        return None, None, "the parts of this claim do not overlap", None
    return region, measure_region(region, zone.polygon, zone.centre, zone.radius_m), None, shape


def derive_incident(incident: Incident, sites: dict[str, Site], zone: ZoneGeometry) -> DerivedIncident:
    """Combine the claims of an incident.

    The incident's region is the union of its claims' regions (somewhere at least one source
    puts it), ``p_inside`` is the share of that union inside the zone. The representative point
    lies where all located claims agree if they overlap, else in the most specific (smallest)
    claim region: a handle for the marker, not a location. Measures and the handle come from the
    exact regions; only the served geometry is simplified.
    """
    exact = [(claim, *_exact_region(claim, sites, zone)) for claim in incident.location_claims]
    claims = [
        DerivedClaim(
            claim, served_region(region), measure, why,
            None if shape is None else pieces_for(shape, zone.centre),
        )
        for claim, region, measure, why, shape in exact
    ]  # fmt: skip
    located = [
        (region, measure) for _, region, measure, _, _ in exact if region is not None and measure is not None
    ]
    if not located:
        return DerivedIncident(incident, claims, None, None, None, None, "uncertain")
    regions = [region for region, _ in located]
    union = regions[0] if len(regions) == 1 else shapely.union_all(regions)
    measure = measure_region(union, zone.polygon, zone.centre, zone.radius_m)
    common = shapely.intersection_all(regions)
    if not common.is_empty and common.area > 0:
        point = common.representative_point()
        handle = (float(point.x), float(point.y))
    else:
        handle = min(located, key=lambda pair: pair[1].area_km2)[1].point
    served = [c.region for c in claims if c.region is not None]
    # One claim: its served region is the incident's (sharing the object saves memory).
    served_union = served[0] if len(served) == 1 else shapely.union_all(served)
    return DerivedIncident(
        incident,
        claims,
        served_union,
        handle,
        measure.area_km2,
        measure.p_inside,
        status_for(measure.p_inside),
    )


def served_region(region: BaseGeometry | None) -> BaseGeometry | None:
    """The region as kept and served: within SERVED_REGION_M metres of the exact one.

    Only its polygons: a region is an area, and a stray line or point that repairing an invalid
    intersection can leave has none (and could not be stored with the polygons).
    """
    if region is None:
        return None
    served = simplified(region, SERVED_REGION_M)
    if shapely.get_type_id(served) == shapely.GeometryType.GEOMETRYCOLLECTION:
        parts = shapely.get_parts(served)
        served = shapely.union_all(parts[shapely.get_dimensions(parts) == 2])
    return served


def build_catalog(dataset: Dataset) -> Catalog:
    zone = build_zone(dataset.zone, dataset.sites)
    incidents = [derive_incident(i, dataset.sites, zone) for i in dataset.incidents]
    return Catalog(dataset, zone, incidents)
