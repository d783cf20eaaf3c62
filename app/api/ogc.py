"""OGC API - Features Part 1 resources: landing page, conformance, collections, items.

Ref: OGC 17-069r4 (Core), with the GeoJSON, HTML and OpenAPI 3.0 classes, and OGC 18-058r1
(Part 2, CRS by reference) with one CRS, CRS84: the ``crs`` and ``bbox-crs`` parameters take its
URI (any other is a 400) and every GeoJSON answer says it in ``Content-Crs``. The extension
parameters are documented in the OpenAPI text (``app.api.openapi``).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app import budget, urls
from app.api import formats
from app.api.cql import compile_filter
from app.api.features import CollectionRows
from app.api.openapi import OPENAPI_30_PATH, OPENAPI_30_TYPE, OPENAPI_31_PATH, OPENAPI_31_TYPE
from app.api.params import (
    CRS84,
    parse_crs,
    parse_item_query,
    parse_limit,
    parse_offset,
    parse_simplify,
    reject_unknown,
)
from app.api.queryables import queryables_document
from app.data.store_api import Store, features
from app.errors import NotFound, problem_responses

router = APIRouter(
    prefix="/api",
    tags=["OGC API - Features"],
    responses={**problem_responses(400, 404, 406, 500), 304: {"description": "Not modified (If-None-Match)"}},
)

CONTENT_CRS = {"Content-Crs": f"<{CRS84}>"}  # OGC 18-058r1, /req/crs/ogc-crs-header
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 3 (OGC 19-079r2) and CQL2 (OGC 21-065r2), on the events and regions (app.api.cql).
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
]
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_JSON = "application/schema+json"
FILTER_PARAMS = {"filter", "filter-lang", "filter-crs"}
FilterLang = Literal["cql2-text", "cql2-json", "cql-text"]
LINKS_SCHEMA = {"type": "array", "items": {"type": "object", "required": ["href", "rel"]}}
FEATURE_SCHEMA = {
    "type": "object",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {"type": {"const": "Feature"}, "id": {"type": "string"},
                   "geometry": {"type": ["object", "null"]}, "properties": {"type": "object"}},
}  # fmt: skip
COLLECTION_SCHEMA = {
    "type": "object",
    "required": ["type", "features", "numberMatched", "numberReturned", "links"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": FEATURE_SCHEMA},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "links": LINKS_SCHEMA,
    },
}
STANDARD_ITEM_PARAMS = {"f", "bbox", "datetime", "limit", "offset", "simplify_m", "crs", "bbox-crs"}

D = {
    "f": "Output format: json/geojson (GeoJSON), csv (geometry as WKT plus lon/lat), or html.",
    "bbox": "minlon,minlat,maxlon,maxlat (CRS84, 4 or 6 numbers): features whose geometry "
    "intersects the box. For events the geometry is the representative point.",
    "datetime": "RFC 3339 date/date-time or interval 'start/end' ('..' = open end): features "
    "whose date interval [date_start, date_end] intersects it (by UTC day).",
    "limit": "Features per page (default 100, at most 1000; larger values are clamped).",
    "offset": "Features to skip (paging; follow the 'next' link).",
    "in_zone": "inside, outside, uncertain and/or contested (comma list): the answer to 'inside "
    "the zone?' weighed source by source (each source once): from the place every source "
    "allows where they share one (inside: >= 0.999 of its WGS84 ellipsoidal area inside the "
    "geodesic 55 km circle, outside: <= 0.001, else uncertain), otherwise from what every source "
    "allows; contested: one source puts it wholly inside and another wholly outside. For "
    "regions, the region's own share.",
    "min_p_inside": "0..1: at least this p_inside (the common place's share inside the zone, or "
    "the mean of the sources' own shares where they share no place).",
    "near": "lon,lat (WGS84): with within_km, features within that geodesic distance. An event "
    "matches if its representative point is within the distance, OR any part of its region "
    "comes within it (region intersects the geodesic disc of that radius; regions are kept within "
    "10 m of their exact shape).",
    "within_km": "Geodesic distance on the WGS84 ellipsoid, in km (with near).",
    "event_type": "ACLED-style event type, exact match, case-insensitive.",
    "sub_event_type": "ACLED-style sub-event type, exact match, case-insensitive.",
    "q": "Free text, case-insensitive, searched in the title and summary.",
    "crs": f"The CRS of the answer's coordinates: only {CRS84} (lon/lat WGS84), the default.",
    "bbox-crs": f"The CRS of bbox: only {CRS84}, the default.",
    "filter": "A CQL2 expression (OGC 21-065r2) on the collection's queryables (see its "
    "/queryables): comparisons, BETWEEN, IN, LIKE, IS NULL, AND/OR/NOT, CASEI/ACCENTI, S_ spatial "
    "and T_ temporal functions; e.g. date_start >= DATE('2017-06-01') AND zone_status = 'inside'. "
    "Only the features it is true for are returned (a comparison with a null is not true). Events "
    "and regions only.",
    "filter-lang": "cql2-text (the default) or cql2-json.",
    "filter-crs": f"The CRS of the filter's geometries: only {CRS84}, the default.",
    "simplify_m": "For display: polygons simplified to within this many metres on the ground "
    "(one of 1, 5, 10, 50, 100, 500, 1000). Without it, geometry is exact (the zone within 1 m).",
}


def base(request: Request) -> str:
    return urls.base(request)


def json_or_html(
    request: Request,
    document: dict[str, Any],
    title: str,
    allowed: frozenset[str] = frozenset({"f"}),
) -> Response:
    """The document as JSON, or as HTML for a browser or ``f=html``; unknown parameters are 400."""
    reject_unknown(request.query_params, allowed)
    if formats.negotiate(request) == "html":
        return HTMLResponse(formats.html_page(title, document, urls.root(request)))
    return JSONResponse(document)


def _collections(request: Request) -> dict[str, CollectionRows]:
    result: dict[str, CollectionRows] = request.app.state.collections
    return result


def _store(request: Request, collectionId: str) -> tuple[CollectionRows, Store]:
    collections = _collections(request)
    if collectionId not in collections:
        raise NotFound(f"no collection {collectionId[:60]!r}; see /api/collections")
    store: Store = request.app.state.stores[collectionId]
    return collections[collectionId], store


# The handlers below are async on purpose: their work is short and CPU-bound, and a hop to the
# thread pool (FastAPI's default for plain functions) cost more than the work (0.3 ms a request).
@router.get("/", include_in_schema=False)  # "/api/" too: the document's "/" under server "/api"
@router.get("", summary="Landing page", operation_id="getLandingPage")
async def landing(request: Request) -> Response:
    b = base(request)
    doc = {
        "title": "At Tanf zone map API",
        "description": "OGC API - Features for the At Tanf de-confliction zone: the "
        "geodesic zone, sites, incidents with sources, and the regions their locations describe. "
        "Extensions: in_zone, min_p_inside, near/within_km (geodesic), event_type, q; /api/locate.",
        "dataset_version": request.app.state.served.version,
        "links": [
            {"href": f"{b}/api", "rel": "self", "type": "application/json", "title": "This document"},
            {"href": f"{b}/api?f=html", "rel": "alternate", "type": "text/html", "title": "As HTML"},
            {"href": f"{b}{OPENAPI_30_PATH}", "rel": "service-desc", "type": OPENAPI_30_TYPE,
             "title": "OpenAPI 3.0 definition"},
            {"href": f"{b}{OPENAPI_31_PATH}", "rel": "service-desc", "type": OPENAPI_31_TYPE,
             "title": "OpenAPI 3.1 definition"},
            {"href": f"{b}/api/docs", "rel": "service-doc", "type": "text/html",
             "title": "API documentation"},
            {"href": f"{b}/api/conformance", "rel": "conformance", "type": "application/json",
             "title": "Conformance classes"},
            {"href": f"{b}/api/collections", "rel": "data", "type": "application/json",
             "title": "Collections"},
            {"href": f"{b}/api/locate?lon=38.2&lat=33.7", "rel": "related", "type": "application/json",
             "title": "Locate a point: geodesic distance and bearing from the garrison, in/out"},
        ],
    }  # fmt: skip
    return json_or_html(request, doc, "At Tanf zone map API")


@router.get("/conformance", summary="Conformance classes", operation_id="getConformance")
async def conformance(request: Request) -> Response:
    return json_or_html(request, {"conformsTo": CONFORMANCE}, "Conformance")


def collection_doc(request: Request, c: CollectionRows, store: Store) -> dict[str, Any]:
    b = f"{base(request)}/api/collections/{c.id}"
    bbox = store.bounds() or [-180, -90, 180, 90]
    extent: dict[str, Any] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    if c.temporal:
        first, last = store.interval()
        extent["temporal"] = {
            "interval": [[first and f"{first}T00:00:00Z", last and f"{last}T23:59:59Z"]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "itemCount": len(store),
        "extent": extent,
        "links": [
            {"href": b, "rel": "self", "type": "application/json", "title": c.title},
            {"href": f"{b}?f=html", "rel": "alternate", "type": "text/html", "title": "As HTML"},
            {"href": f"{b}/items", "rel": "items", "type": formats.GEOJSON, "title": "Items (GeoJSON)"},
            {"href": f"{b}/items?f=csv", "rel": "items", "type": "text/csv", "title": "Items (CSV)"},
            {"href": f"{b}/items?f=html", "rel": "items", "type": "text/html", "title": "Items (HTML)"},
            *([{"href": f"{b}/queryables", "rel": QUERYABLES_REL, "type": SCHEMA_JSON,
                "title": "Queryables (what a CQL2 filter may name)"},
               # the relation's name in the drafts of Part 3, the one GDAL's OAPIF driver looks for
               {"href": f"{b}/queryables", "rel": "queryables", "type": "application/json",
                "title": "Queryables"}] if c.id in QUERYABLE else []),
        ],
    }  # fmt: skip


@router.get("/collections", summary="The collections", operation_id="getCollections")
async def collections(request: Request) -> Response:
    b = base(request)
    stores = request.app.state.stores
    doc = {
        "links": [
            {"href": f"{b}/api/collections", "rel": "self", "type": "application/json"},
            {"href": f"{b}/api/collections?f=html", "rel": "alternate", "type": "text/html"},
        ],
        "collections": [collection_doc(request, c, stores[c.id]) for c in _collections(request).values()],
    }
    return json_or_html(request, doc, "Collections")


CollectionId = Annotated[str, Path(description="events, regions, sites, zones or borders")]
QUERYABLE = ("events", "regions")


@router.get(
    "/collections/{collectionId}/queryables",
    summary="What a CQL2 filter may name (JSON Schema)",
    operation_id="getQueryables",
    responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}}, "text/html": {}}}},
)
async def collection_queryables(request: Request, collectionId: CollectionId) -> Response:
    c, _ = _store(request, collectionId)
    url = f"{base(request)}/api/collections/{c.id}/queryables"
    doc = queryables_document(c.id, url, c.title)
    if doc is None:
        raise NotFound(f"collection {c.id!r} has no queryables; filters apply to events and regions")
    reject_unknown(request.query_params, {"f"})
    if formats.negotiate(request) == "html":
        return HTMLResponse(formats.html_page(f"{c.title}: queryables", doc))
    # GDAL asks for "application/geo+json, application/json" and refuses any other type.
    accept = request.headers.get("accept", "")
    wants_json = "application/json" in accept and SCHEMA_JSON not in accept and "*/*" not in accept
    return JSONResponse(doc, media_type="application/json" if wants_json else SCHEMA_JSON)


@router.get("/collections/{collectionId}", summary="One collection", operation_id="describeCollection")
async def collection(request: Request, collectionId: CollectionId) -> Response:
    c, store = _store(request, collectionId)
    return json_or_html(request, collection_doc(request, c, store), c.title)


def _page_links(request: Request, offset: int, limit: int, matched: int) -> list[dict[str, str]]:
    path = urls.route_path(request)
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "f")}

    def href(**extra: Any) -> str:
        return urls.link(request, path, {**params, **{k: str(v) for k, v in extra.items()}})

    links = [
        {"href": href(offset=offset), "rel": "self", "type": formats.GEOJSON, "title": "This page"},
        {
            "href": href(offset=offset, f="csv"),
            "rel": "alternate",
            "type": "text/csv",
            "title": "As CSV",
        },
        {
            "href": href(offset=offset, f="html"),
            "rel": "alternate",
            "type": "text/html",
            "title": "As HTML",
        },
    ]
    if offset + limit < matched:
        links.append(
            {
                "href": href(offset=offset + limit),
                "rel": "next",
                "type": formats.GEOJSON,
                "title": "Next page",
            }
        )
    if offset > 0:
        links.append(
            {
                "href": href(offset=max(0, offset - limit)),
                "rel": "prev",
                "type": formats.GEOJSON,
                "title": "Previous page",
            }
        )
    return links  # fmt: skip


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection, filtered",
    operation_id="getFeatures",
    responses={
        200: {"content": {formats.GEOJSON: {"schema": COLLECTION_SCHEMA}, "text/csv": {}, "text/html": {}}}
    },
)
async def items(
    request: Request,
    collectionId: CollectionId,
    f: Annotated[str | None, Query(description=D["f"])] = None,
    bbox: Annotated[str | None, Query(description=D["bbox"])] = None,
    datetime: Annotated[str | None, Query(description=D["datetime"])] = None,
    limit: Annotated[str | None, Query(description=D["limit"])] = None,
    offset: Annotated[str | None, Query(description=D["offset"])] = None,
    in_zone: Annotated[str | None, Query(description=D["in_zone"])] = None,
    min_p_inside: Annotated[str | None, Query(description=D["min_p_inside"])] = None,
    near: Annotated[str | None, Query(description=D["near"])] = None,
    within_km: Annotated[str | None, Query(description=D["within_km"])] = None,
    event_type: Annotated[str | None, Query(description=D["event_type"])] = None,
    sub_event_type: Annotated[str | None, Query(description=D["sub_event_type"])] = None,
    q: Annotated[str | None, Query(description=D["q"])] = None,
    simplify_m: Annotated[str | None, Query(description=D["simplify_m"])] = None,
    crs: Annotated[str | None, Query(description=D["crs"])] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description=D["bbox-crs"])] = None,
    filter: Annotated[str | None, Query(description=D["filter"])] = None,
    filter_lang: Annotated[FilterLang | None, Query(alias="filter-lang", description=D["filter-lang"])] = (
        None
    ),
    filter_crs: Annotated[str | None, Query(alias="filter-crs", description=D["filter-crs"])] = None,
) -> Response:
    c, store = _store(request, collectionId)
    params = request.query_params
    reject_unknown(params, STANDARD_ITEM_PARAMS | c.filters | (FILTER_PARAMS if c.id in QUERYABLE else set()))
    for name in ("crs", "bbox-crs", "filter-crs"):
        if name in params:
            parse_crs(params[name], name)
    query = parse_item_query(params)
    if "filter" in params:
        query = dataclasses.replace(
            query, filter=compile_filter(params["filter"], params.get("filter-lang"), c.id)
        )
    elif "filter-lang" in params:
        compile_filter("true", params["filter-lang"], c.id)  # a bad filter-lang is a 400 even alone
    settings = request.app.state.settings
    page_size = parse_limit(limit, settings.default_limit, settings.max_limit)
    start = parse_offset(offset)
    fmt = formats.negotiate(request, allow_csv=True)
    if store.blocking:
        matched, page = await run_in_threadpool(store.page, query, start, page_size)
    else:
        matched, page = store.page(query, start, page_size)
    returned = len(page)
    # CSV, HTML and polygons are written in the thread pool, never on the event loop (their rows
    # check the request's budget, app.budget); a page of stored bodies is joined right here.
    if fmt == "csv":
        body = await run_in_threadpool(_csv, store, page)
        filename = f"at-tanf-{c.id}.csv"
        return Response(body, media_type=formats.CSV,
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})  # fmt: skip
    links = _page_links(request, start, page_size, matched)
    if fmt == "html":
        doc = {"numberMatched": matched, "numberReturned": returned, "links": links}
        page_html = await run_in_threadpool(_html, store, page, f"{c.title}: items", doc, urls.root(request))
        return HTMLResponse(page_html)
    # Stored feature bodies joined into the collection body; only polygons are written per request.
    version = request.app.state.served.version
    head = orjson.dumps({"type": "FeatureCollection", "numberMatched": matched,
                         "numberReturned": returned, "dataset_version": version, "links": links})  # fmt: skip
    tolerance = None if simplify_m is None else parse_simplify(simplify_m)
    if store.blocking or store.has_polygons(page):
        bodies = await run_in_threadpool(_bodies, store, page, tolerance)
    else:
        bodies = _bodies(store, page, tolerance)
    body_bytes = head[:-1] + b',"features":[' + b",".join(bodies) + b"]}"
    return Response(body_bytes, media_type=formats.json_media_type(request), headers=CONTENT_CRS)


BODIES_AT_ONCE = 32  # features read between two checks of the request's budget (app.budget)


def _features(store: Store, page: np.ndarray) -> list[dict[str, Any]]:
    found = []
    for at in range(0, len(page), BODIES_AT_ONCE):
        budget.check()
        found.extend(features(store, page[at : at + BODIES_AT_ONCE]))
    return found


def _csv(store: Store, page: np.ndarray) -> str:
    return formats.features_csv(_features(store, page))


def _html(store: Store, page: np.ndarray, title: str, doc: dict[str, Any], root: str) -> str:
    return formats.html_page(title, {**doc, "features": _features(store, page)}, root)


def _bodies(store: Store, page: np.ndarray, tolerance: int | None) -> list[bytes]:
    bodies = []
    for at in range(0, len(page), BODIES_AT_ONCE):
        budget.check()
        bodies.extend(store.bodies(page[at : at + BODIES_AT_ONCE], tolerance))
    return bodies


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    summary="One feature",
    operation_id="getFeature",
    responses={
        200: {"content": {formats.GEOJSON: {"schema": FEATURE_SCHEMA}, "text/csv": {}, "text/html": {}}}
    },
)
async def item(
    request: Request,
    collectionId: CollectionId,
    featureId: Annotated[str, Path(description="The feature's id (stable across restarts)")],
    f: Annotated[str | None, Query(description=D["f"])] = None,
    simplify_m: Annotated[str | None, Query(description=D["simplify_m"])] = None,
    crs: Annotated[str | None, Query(description=D["crs"])] = None,
) -> Response:
    c, store = _store(request, collectionId)
    reject_unknown(request.query_params, {"f", "simplify_m", "crs"})
    if crs is not None:
        parse_crs(crs, "crs")
    row = await run_in_threadpool(store.get, featureId) if store.blocking else store.get(featureId)
    if row is None:
        raise NotFound(f"no feature {featureId[:80]!r} in collection {c.id!r}")
    fmt = formats.negotiate(request, allow_csv=True)
    tolerance = None if simplify_m is None else parse_simplify(simplify_m)
    if store.blocking:
        body = (await run_in_threadpool(store.bodies, [row], tolerance))[0]
    else:
        body = store.bodies([row], tolerance)[0]
    feature = orjson.loads(body)
    if fmt == "csv":
        return Response(formats.features_csv([feature]), media_type=formats.CSV)
    b = f"{base(request)}/api/collections/{c.id}"
    links = [
        {"href": f"{b}/items/{featureId}", "rel": "self", "type": formats.GEOJSON},
        {"href": f"{b}/items/{featureId}?f=html", "rel": "alternate", "type": "text/html"},
        {"href": b, "rel": "collection", "type": "application/json"},
    ]
    if fmt == "html":
        return HTMLResponse(formats.html_page(str(feature["properties"].get("title") or featureId),
                                              {**feature, "links": links}, urls.root(request)))  # fmt: skip
    return Response(
        orjson.dumps({**feature, "links": links}),
        media_type=formats.json_media_type(request),
        headers=CONTENT_CRS,
    )
