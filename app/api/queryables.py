"""What a CQL2 ``filter`` may name: the queryables of the events and regions collections.

One schema, ``PROPERTIES``, says each filterable property's type and meaning; the collections
pick their names from it, and ``/collections/{id}/queryables`` (OGC 19-079r2, Part 3, "Queryables")
and the filter evaluator (``app.api.cql_eval``) both read it, so a property added here is queryable
everywhere at once. ``tests/api/test_filter.py`` checks it against every served feature: a served
scalar property missing here, or of another type, fails there. The zone statuses come from the
store's own list (``STATUS_CODES``).
"""

from __future__ import annotations

from typing import Any

from app.data.store_api import STATUS_CODES

TEXT = {"type": "string"}
NUMBER = {"type": "number"}
DAY = {"type": "string", "format": "date"}

# name -> JSON Schema (with a title); "null" is allowed where the data has gaps.
PROPERTIES: dict[str, dict[str, Any]] = {
    "geometry": {"title": "Geometry (events: the representative point; regions: the claim's region)",
                 "format": "geometry-any", "x-ogc-role": "primary-geometry"},
    "title": {**TEXT, "title": "Title of the incident"},
    "event_title": {**TEXT, "title": "Title of the incident the claim belongs to"},
    "event_id": {**TEXT, "title": "Id of the incident the claim belongs to"},
    "date_start": {**DAY, "title": "First day of the incident (UTC)"},
    "date_end": {**DAY, "title": "Last day of the incident (UTC)"},
    "date_precision": {**TEXT, "title": "Precision of the date (day, week, month ...)"},
    "date_text": {"type": ["string", "null"], "title": "The date in the sources' words"},
    "event_type": {**TEXT, "title": "ACLED-style event type"},
    "sub_event_type": {**TEXT, "title": "ACLED-style sub-event type"},
    "summary": {**TEXT, "title": "Summary of the incident"},
    "zone_status": {"type": ["string", "null"], "enum": [*STATUS_CODES, None],
                    "title": "Inside the zone? (share of the region's ellipsoidal area inside)"},
    "p_inside": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                 "title": "Share of the region's WGS84 ellipsoidal area inside the zone"},
    "uncertainty_km2": {"type": ["number", "null"], "title": "Area of the incident's region (km²)"},
    "point_distance_km": {"type": ["number", "null"],
                          "title": "Geodesic distance of the representative point from the garrison (km)"},
    "located": {"type": "boolean", "title": "Whether any source locates the incident"},
    "note": {"type": ["string", "null"], "title": "A note for readers on how to read the record"},
    "editors_note": {"type": ["string", "null"], "title": "For editors: how the record was drawn"},
    "claim_id": {"type": ["string", "null"], "title": "Id of the location claim"},
    "text": {**TEXT, "title": "The location claim in words"},
    "quote": {"type": ["string", "null"], "title": "The source's verbatim words"},
    "context": {"type": ["string", "null"], "title": "The source's words around the quote"},
    "no_quote_reason": {"type": ["string", "null"], "title": "Why there is no quote"},
    "source_id": {"type": ["string", "null"], "title": "Id of the claim's source"},
    "outlet": {"type": ["string", "null"], "title": "Outlet of the claim's source"},
    "url": {"type": ["string", "null"], "title": "Link to the claim's source"},
    "area_km2": {"type": ["number", "null"], "title": "Area of the claim's region (km²)"},
    "unmapped": {"type": ["string", "null"], "title": "Why no region could be drawn for the claim"},
    "stated_country": {"type": ["string", "null"], "title": "The country the claim's source puts it in"},
    "stated_country_quote": {"type": ["string", "null"], "title": "The source's words naming that country"},
    "zone_answer": {**TEXT, "title": "The answer to 'inside the zone?' in words"},
    "zone_share_text": {"type": ["string", "null"], "title": "The share inside the zone in words"},
    "place_note": {"type": ["string", "null"], "title": "Where the sources put it, in words"},
    "zone_rule": {**TEXT, "title": "How the sources' answers were combined"},
    "sources_inside": {"type": "integer", "title": "Sources whose region is inside the zone"},
    "sources_outside": {"type": "integer", "title": "Sources whose region is outside the zone"},
    "sources_across": {"type": "integer", "title": "Sources whose region straddles the zone's edge"},
    "common_area_km2": {"type": ["number", "null"],
                        "title": "Area of the region every source allows at once (km²)"},
    "country_words": {"type": ["string", "null"], "title": "The countries the region lies in, in words"},
    "unconfirmed": {"type": ["string", "null"], "title": "Why the incident stands unconfirmed, if it does"},
    "role": {**TEXT, "title": "claim (one source's region) or common (where all sources agree)"},
}  # fmt: skip

COLLECTIONS: dict[str, tuple[str, ...]] = {
    "events": ("geometry", "title", "date_start", "date_end", "date_precision", "date_text",
               "event_type", "sub_event_type", "summary", "zone_status", "zone_answer",
               "zone_share_text", "place_note", "p_inside", "uncertainty_km2", "zone_rule",
               "sources_inside", "sources_outside", "sources_across", "common_area_km2",
               "country_words", "point_distance_km", "located", "unconfirmed", "note",
               "editors_note"),
    "regions": ("geometry", "event_id", "event_title", "event_type", "date_start", "date_end",
                "role", "claim_id", "text", "quote", "context", "no_quote_reason", "source_id", "outlet",
                "url", "zone_status", "p_inside", "area_km2", "unmapped", "stated_country",
                "stated_country_quote", "country_words"),
}  # fmt: skip


def queryables(collection_id: str) -> dict[str, dict[str, Any]] | None:
    """The queryable properties of a collection (name -> schema), or None if it has none."""
    names = COLLECTIONS.get(collection_id)
    return None if names is None else {name: PROPERTIES[name] for name in names}


def queryables_document(collection_id: str, url: str, title: str) -> dict[str, Any] | None:
    """The Queryables resource (Part 3, /req/queryables/get-queryables-response): a JSON Schema."""
    props = queryables(collection_id)
    if props is None:
        return None
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": f"{title}: queryables",
        "description": "Properties a CQL2 filter (filter-lang cql2-text or cql2-json) may name.",
        "properties": props,
        "additionalProperties": False,
        # The same names in the form of the drafts of Part 3, which GDAL's OAPIF driver (up to
        # 3.12 at least) reads to decide which comparisons it may send as a filter; JSON Schema
        # ignores a keyword it does not know.
        "queryables": [{"id": name} for name in props if name != "geometry"],
    }
