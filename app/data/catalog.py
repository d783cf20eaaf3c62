"""The catalog: the dataset plus everything derived from it, built once at start-up.

For each location claim: its region (``app.geo.regions``) and its measure against the zone. For
each incident: the evidence of its sources weighed one each (``app.geo.evidence``), the countries
its place lies in (``app.geo.countries``), the answer in words (``app.data.answer``), the union of
its claims' regions and a representative point. Views read the catalog; none of them computes
geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from app.data.answer import AnswerText, answer_text
from app.data.loader import Dataset
from app.data.model import Incident, LocationClaim, Site, Zone
from app.geo.countries import Borders, CountryShares, borders_near, country_shares
from app.geo.evidence import Evidence, SourceRegion, ZoneAnswer, weigh
from app.geo.geodesy import METRES_PER_KM, METRES_PER_UNIT, area_m2
from app.geo.measure import RegionMeasure, measure_region
from app.geo.memo import by_geometry
from app.geo.regions import Band, ClaimShape, Sector, claim_region
from app.geo.shapes import SERVED_REGION_M, annulus, circle, simplified
from app.geo.wording import (
    BEARING_ONLY_FROM_M,
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
    countries: CountryShares | None = None


@dataclass(frozen=True)
class DerivedIncident:
    incident: Incident
    claims: list[DerivedClaim]
    region: BaseGeometry | None  # the union of the claims' served regions
    point: tuple[float, float] | None
    area_km2: float | None  # of the common region where the sources share one, else of the union
    p_inside: float | None
    status: ZoneAnswer
    evidence: Evidence
    answer: AnswerText
    countries: CountryShares | None  # of the common region, else of the union
    common: BaseGeometry | None = None  # the served common region (two or more sources)


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
    borders: Borders

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


def claim_shape(
    claim: LocationClaim, sites: dict[str, Site], zone: ZoneGeometry, borders: Borders | None = None
) -> ClaimShape:
    """Turn a claim's words into numbers, following the rules in ``app.geo.wording``.

    A ``country`` becomes that country of ``borders`` grown by the borders' error
    (``Borders.widened``); the loader has checked the name. Raises ``KeyError`` for a name
    ``borders`` lacks, ``ValueError`` for a country without ``borders``.
    """
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
        if distance is None:
            # A bearing alone names a place beyond the site's surroundings (wording, "Bearing alone").
            distance = Band(BEARING_ONLY_FROM_M, OPEN_REACH_M)
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
    within = None
    if claim.country is not None:
        if borders is None:
            raise ValueError(f"claim {claim.id!r} names a country, but no borders were given")
        within = borders.widened[claim.country.name]
    return ClaimShape(anchors, distance, bearing, zone_band, near, point, within)


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
    claim: LocationClaim, sites: dict[str, Site], zone: ZoneGeometry, borders: Borders
) -> tuple[BaseGeometry | None, RegionMeasure | None, str | None, ClaimShape | None]:
    if claim.unmapped:
        return None, None, claim.unmapped, None
    shape = claim_shape(claim, sites, zone, borders)
    region = claim_region(shape, zone.centre)
    if region.is_empty:
        return None, None, "the parts of this claim do not overlap", None
    return region, measure_region(region, zone.polygon, zone.centre, zone.radius_m), None, shape


@dataclass(frozen=True)
class Context:
    """What deriving an incident needs besides the incident: sites, zone, borders, sources."""

    sites: dict[str, Site]
    zone: ZoneGeometry
    borders: Borders
    home_country: str | None  # the country the zone's centre lies in
    outlets: dict[str, str]  # source id -> outlet


def derive_incident(incident: Incident, ctx: Context) -> DerivedIncident:
    """Weigh the claims of an incident as evidence (``app.geo.evidence``) and describe them.

    Each source's claims are intersected, and the sources weighed one each. The incident's
    ``region`` is the union of its claims' regions (somewhere at least one source puts it). The
    representative point lies in the common region where one exists, else in the most specific
    (smallest) claim region: a handle for the marker, not a location. Measures and the handle
    come from the exact regions; only the served geometry is simplified.
    """
    zone = ctx.zone
    exact = [
        (claim, *_exact_region(claim, ctx.sites, zone, ctx.borders)) for claim in incident.location_claims
    ]
    claims = [
        DerivedClaim(
            claim, served_region(region), measure, why,
            None if region is None else country_shares(region, ctx.borders),
        )
        for claim, region, measure, why, _shape in exact
    ]  # fmt: skip
    by_source: dict[str, list[tuple[str, BaseGeometry]]] = {}
    for claim, region, _, _, _ in exact:
        if region is not None:
            by_source.setdefault(claim.source, []).append((claim.id, region))
    witnesses = [
        SourceRegion(source, tuple(cid for cid, _ in found), tuple(r for _, r in found))
        for source, found in by_source.items()
    ]
    evidence = weigh(witnesses, zone.polygon, zone.centre, zone.radius_m)
    texts = {claim.id: claim.text for claim in incident.location_claims}
    located = [
        (region, measure) for _, region, measure, _, _ in exact if region is not None and measure is not None
    ]
    if not located:
        words = answer_text(evidence, ctx.outlets, texts, None, ctx.home_country, zone.zone.radius_km)
        return DerivedIncident(incident, claims, None, None, None, None, "uncertain", evidence, words, None)
    if evidence.common is not None and evidence.common_measure is not None:
        point = evidence.common.representative_point()
        handle = (float(point.x), float(point.y))
        place, area_km2 = evidence.common, evidence.common_measure.area_km2
    else:  # the union of the claims' regions (cut only here: most incidents' sources share one)
        handle = min(located, key=lambda pair: pair[1].area_km2)[1].point
        regions = [region for region, _ in located]
        place = regions[0] if len(regions) == 1 else shapely.union_all(regions)
        area_km2 = area_m2(place) / 1e6
    countries = country_shares(place, ctx.borders)
    served = [c.region for c in claims if c.region is not None]
    # One claim: its served region is the incident's (sharing the object saves memory).
    served_union = served[0] if len(served) == 1 else shapely.union_all(served)
    common = None
    if evidence.common is not None and len(evidence.sources) > 1:
        common = served_region(evidence.common)
    return DerivedIncident(
        incident,
        claims,
        served_union,
        handle,
        area_km2,
        evidence.p_inside,
        evidence.status,
        evidence,
        answer_text(evidence, ctx.outlets, texts, countries, ctx.home_country, zone.zone.radius_km),
        countries,
        common,
    )


@by_geometry(maxsize=1024)
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


def border_polygons(borders: dict[str, Any]) -> dict[str, BaseGeometry]:
    """Country name -> polygon, from the bundled borders (a GeoJSON FeatureCollection)."""
    return {f["properties"]["name"]: shape(f["geometry"]) for f in borders.get("features", [])}


def context_for(dataset: Dataset, zone: ZoneGeometry) -> Context:
    countries = border_polygons(dataset.borders)
    centre = Point(zone.centre)
    home = next((name for name, g in countries.items() if g.contains(centre)), None)
    outlets = {sid: src.outlet for sid, src in dataset.sources.items()}
    return Context(dataset.sites, zone, borders_near(countries, zone.centre), home, outlets)


def build_catalog(dataset: Dataset) -> Catalog:
    zone = build_zone(dataset.zone, dataset.sites)
    ctx = context_for(dataset, zone)
    incidents = [derive_incident(i, ctx) for i in dataset.incidents]
    return Catalog(dataset, zone, incidents, ctx.borders)
