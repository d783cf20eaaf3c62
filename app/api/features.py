"""The catalog as GeoJSON features, one list per collection, built once at start-up.

Feature ids are the dataset's own ids (stable across restarts); a location region's id is
``<incident id>--<claim id>``. Property names are snake_case; spec members keep the spec's
camelCase elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely import Point

from app.data.catalog import Catalog, DerivedClaim, DerivedIncident
from app.data.model import Citation, Incident, Source
from app.data.schema import Row
from app.geo.countries import CountryShares
from app.geo.evidence import Evidence
from app.geo.geodesy import area_m2, distance_bearing, perimeter_m
from app.geo.geojson import to_geojson_fragment
from app.geo.shapes import MAX_CHORD_ERROR_M


@dataclass
class CollectionRows:
    id: str
    title: str
    description: str
    rows: list[Row]
    temporal: bool = False
    # Which extension filters make sense for this collection (the rest are refused with a 400).
    filters: frozenset[str] = field(default_factory=frozenset)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _citations(cites: list[Citation], sources: dict[str, Source]) -> list[dict[str, Any]]:
    out = []
    for cite in cites:
        src = sources[cite.source]
        out.append(
            {
                "source_id": src.id,
                "outlet": src.outlet,
                "title": src.title,
                "date": src.date.isoformat() if src.date else None,
                "url": str(src.url) if src.url else None,
                "quote": cite.quote,
                "context": cite.context,
                "no_quote_reason": cite.no_quote_reason,
                "note": cite.note or src.note,
            }
        )
    return out


def _claim_props(d: DerivedClaim, sources: dict[str, Source]) -> dict[str, Any]:
    c = d.claim
    src = sources[c.source]
    m = d.measure
    return {
        "claim_id": c.id,
        "text": c.text,
        "quote": c.quote,
        "context": c.context,
        "no_quote_reason": c.no_quote_reason,
        "source_id": src.id,
        "outlet": src.outlet,
        "url": str(src.url) if src.url else None,
        "zone_status": m.status if m else None,
        "p_inside": _round(m.p_inside, 4) if m else None,
        "area_km2": _round(m.area_km2, 3) if m else None,
        "unmapped": d.empty_reason,
        "stated_country": c.country.name if c.country else None,
        "stated_country_quote": c.country.quote if c.country else None,
        **_country_props(d.countries),
    }


def _country_props(countries: CountryShares | None) -> dict[str, Any]:
    """Shares per country by the bundled (approximate) borders, and the words they allow."""
    if countries is None:
        return {"country_shares": None, "country_words": None}
    return {
        "country_shares": {name: round(share, 4) for name, share in countries.shares.items()},
        "country_words": countries.words,
    }


def _evidence_props(e: Evidence, sources: dict[str, Source]) -> dict[str, Any]:
    """How the answer was reached: the rule, each source's own answer, the common region's area."""
    return {
        "zone_rule": e.rule,
        "sources_inside": e.count("inside"),
        "sources_outside": e.count("outside"),
        "sources_across": e.count("across"),
        "common_area_km2": _round(e.common_measure.area_km2, 3) if e.common_measure else None,
        "source_answers": [
            {
                "source_id": a.source_id,
                "outlet": sources[a.source_id].outlet,
                "claim_ids": list(a.claim_ids),
                "allows": a.allows,
                "p_inside": round(a.measure.p_inside, 4),
                "area_km2": round(a.measure.area_km2, 3),
                "self_contradictory": a.self_contradictory,
            }
            for a in e.sources
        ],
    }


def _event_row(d: DerivedIncident, catalog: Catalog) -> Row:
    inc = d.incident
    sources = catalog.dataset.sources
    zone = catalog.zone
    distance = None
    if d.point is not None:
        distance = distance_bearing(*zone.centre, *d.point).distance_m / 1000
    props = {
        "title": inc.title,
        "date_start": inc.date.start.isoformat(),
        "date_end": inc.date.last.isoformat(),
        "date_precision": inc.date.precision,
        "date_text": inc.date.text,
        "event_type": inc.event_type,
        "sub_event_type": inc.sub_event_type,
        "actors": list(inc.actors),
        "summary": inc.summary,
        "unconfirmed": inc.unconfirmed,
        "zone_status": d.status,
        "zone_answer": d.answer.headline,
        "zone_share_text": d.answer.share,
        "place_note": d.answer.place,
        "p_inside": _round(d.p_inside, 4),
        "uncertainty_km2": _round(d.area_km2, 3),
        **_evidence_props(d.evidence, sources),
        **_country_props(d.countries),
        "point_distance_km": _round(distance, 3),
        "located": d.point is not None,
        "fatalities": [f.model_dump() for f in inc.fatalities],
        "sources": _citations(list(inc.sources), sources),
        "location_claims": [_claim_props(c, sources) for c in d.claims],
        "note": inc.note,
        "editors_note": inc.editors_note,
    }
    geometry = Point(d.point) if d.point else None
    feature = {
        "type": "Feature",
        "id": inc.id,
        "geometry": to_geojson_fragment(geometry),
        "properties": props,
    }
    # The regions ``near`` tests are the claims' (the regions collection's), linked by the caller.
    return Row(
        feature,
        geometry,
        inc.date.start,
        inc.date.last,
        d.status,
        d.p_inside,
        inc.event_type,
        inc.sub_event_type,
        f"{inc.title}\n{inc.summary}".lower(),
        d.point,
    )


def _region_head(inc: Incident, role: str) -> dict[str, Any]:
    """What every region feature says of its incident; ``role``: "claim" or "common"."""
    return {
        "event_id": inc.id,
        "event_title": inc.title,
        "event_type": inc.event_type,
        "date_start": inc.date.start.isoformat(),
        "date_end": inc.date.last.isoformat(),
        "role": role,
    }


def _region_rows(d: DerivedIncident, catalog: Catalog) -> list[Row]:
    inc = d.incident
    rows = []
    for claim in d.claims:
        props = {**_region_head(inc, "claim"), **_claim_props(claim, catalog.dataset.sources)}
        fid = f"{inc.id}--{claim.claim.id}"
        feature = {"type": "Feature", "id": fid, "properties": props}  # the store writes the geometry
        m = claim.measure
        rows.append(
            Row(
                feature,
                claim.region,
                inc.date.start,
                inc.date.last,
                m.status if m else None,
                m.p_inside if m else None,
                inc.event_type,
                inc.sub_event_type,
                f"{inc.title}\n{inc.summary}\n{claim.claim.text}".lower(),
                m.point if m else None,
                owner=inc.id,
            )
        )
    if d.common is not None:
        rows.append(_common_row(d))
    return rows


COMMON_SUFFIX = "--common"  # the id of an incident's common region: "<incident id>--common"


def _common_row(d: DerivedIncident) -> Row:
    """The region every source allows at once (two or more sources), as a region feature."""
    inc, e = d.incident, d.evidence
    m = e.common_measure
    assert m is not None
    props = {
        **_region_head(inc, "common"),
        "claim_id": None,
        "text": f"where all {len(e.sources)} sources can be right at once",
        "quote": None,
        "context": None,
        "no_quote_reason": None,
        "source_id": None,
        "outlet": None,
        "url": None,
        "zone_status": m.status,
        "p_inside": round(m.p_inside, 4),
        "area_km2": round(m.area_km2, 3),
        "unmapped": None,
        "stated_country": None,
        "stated_country_quote": None,
        **_country_props(d.countries),
    }
    feature = {"type": "Feature", "id": f"{inc.id}{COMMON_SUFFIX}", "properties": props}
    text = f"{inc.title}\n{inc.summary}".lower()
    return Row(
        feature, d.common, inc.date.start, inc.date.last, m.status, m.p_inside, inc.event_type,
        inc.sub_event_type, text, m.point, owner=inc.id,
    )  # fmt: skip


def _site_rows(catalog: Catalog) -> list[Row]:
    rows = []
    centre = catalog.zone.centre
    for site in catalog.dataset.sites.values():
        db = distance_bearing(*centre, site.lon, site.lat)
        props = {
            "name": site.name,
            "kind": site.kind,
            "precision_m": site.precision_m,
            "aliases": list(site.aliases),
            "distance_from_centre_km": round(db.distance_m / 1000, 3),
            "bearing_from_centre_deg": round(db.bearing_deg, 1),
            "sources": _citations(list(site.sources), catalog.dataset.sources),
            "note": site.note,
        }
        point = Point(site.lon, site.lat)
        feature = {
            "type": "Feature",
            "id": site.id,
            "geometry": to_geojson_fragment(point),
            "properties": props,
        }
        rows.append(Row(feature, point, point=(site.lon, site.lat)))
    return rows


def _zone_rows(catalog: Catalog) -> list[Row]:
    zg = catalog.zone
    zone = zg.zone
    props = {
        "name": zone.name,
        "role": "zone",
        "centre_site": zone.centre,
        "radius_km": zone.radius_km,
        "area_km2": round(area_m2(zg.polygon) / 1e6, 1),
        "perimeter_km": round(perimeter_m(zg.polygon) / 1000, 2),
        "max_edge_error_m": MAX_CHORD_ERROR_M,
        "description": zone.description,
        "sources": _citations(list(zone.sources), catalog.dataset.sources),
    }
    feature = {
        "type": "Feature",
        "id": zone.id,
        "geometry": to_geojson_fragment(zg.polygon),
        "properties": props,
    }
    rows = [Row(feature, zg.polygon, point=zg.centre)]
    if zg.variant_band is not None:
        cites = [c for v in zone.variants for c in v.sources]
        radii = [f"{v.radius:g} {v.unit}" for v in zone.variants]
        band_props = {
            "name": f"Reported radius variants ({' to '.join(radii)})",
            "role": "variant-band",
            "centre_site": zone.centre,
            "radius_min_km": round(zg.variant_radii_m[0] / 1000, 3),
            "radius_max_km": round(zg.variant_radii_m[-1] / 1000, 3),
            "area_km2": round(area_m2(zg.variant_band) / 1e6, 1),
            "description": "The band between the radii some sources give instead of 55 km.",
            "sources": _citations(cites, catalog.dataset.sources),
        }
        band = {
            "type": "Feature",
            "id": f"{zone.id}-variants",
            "geometry": to_geojson_fragment(zg.variant_band),
            "properties": band_props,
        }
        rows.append(Row(band, zg.variant_band, point=zg.centre))
    return rows


def _border_rows(catalog: Catalog) -> list[Row]:
    from shapely.geometry import shape

    rows = []
    attribution = catalog.dataset.borders.get("attribution", "Natural Earth")
    for f in catalog.dataset.borders.get("features", []):
        geom = shape(f["geometry"])
        props = {"name": f["properties"]["name"], "attribution": attribution}
        feature = {
            "type": "Feature",
            "id": str(f.get("id")),
            "geometry": f["geometry"],
            "properties": props,
        }
        rows.append(Row(feature, geom))
    return rows


EVENT_FILTERS = frozenset({"in_zone", "min_p_inside", "near", "within_km", "event_type",
                           "sub_event_type", "q"})  # fmt: skip


def build_collections(catalog: Catalog) -> dict[str, CollectionRows]:
    """Every collection the API serves, keyed by id, in the order they are listed."""
    regions = [row for d in catalog.incidents for row in _region_rows(d, catalog)]
    return {
        "events": CollectionRows(
            "events",
            "Incidents",
            "One feature per reported incident, at a representative point of where its sources put "
            "it (a handle, not a location), with its zone status (inside / outside / uncertain / "
            "contested) weighed source by source, the answer in words (zone_answer), each "
            "source's own answer (source_answers), p_inside, the area of the place the sources "
            "share, the countries it lies in (approximate borders), its dates, type, sources with "
            "verbatim quotes, and its location claims. Incidents no source locates have a null "
            "geometry.",
            [_event_row(d, catalog) for d in catalog.incidents],
            temporal=True,
            filters=EVENT_FILTERS,
        ),
        "regions": CollectionRows(
            "regions",
            "Location regions",
            "One feature per location claim (role 'claim'): the region a source's words describe "
            "(a ring for 'about 24 miles from', a sector for 'northwest of', a band for 'just "
            "inside the zone'), with its source, verbatim quote, area, share inside the zone and "
            "shares per country; and, for an incident whose sources can all be right at once, "
            "the region they share (role 'common'). Claims no region can be drawn for have a "
            "null geometry and say why in 'unmapped'.",
            regions,
            temporal=True,
            filters=EVENT_FILTERS,
        ),
        "sites": CollectionRows(
            "sites",
            "Sites",
            "The garrison, the border crossings, the tripoint and the Rukban camp, with sourced "
            "coordinates and their precision.",
            _site_rows(catalog),
        ),
        "zones": CollectionRows(
            "zones",
            "De-confliction zone",
            "The 55 km zone as a geodesic circle on WGS84 (edges within 1 m of the true circle), "
            "and the band between the 34 mi and 35 mi radii some sources report.",
            _zone_rows(catalog),
        ),
        "borders": CollectionRows(
            "borders",
            "Country borders (approximate)",
            "Natural Earth 1:10m admin-0 countries clipped to the region; approximate by 1-2 km "
            "near the tripoint.",
            _border_rows(catalog),
        ),
    }
