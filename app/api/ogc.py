"""OGC API - Features Part 1 resources: landing page, conformance, collections, items.

Ref: OGC 17-069r4 (Core), with the GeoJSON, HTML and OpenAPI 3.0 classes, and OGC 18-058r1
(Part 2, CRS by reference) with one CRS, CRS84: the ``crs`` and ``bbox-crs`` parameters take its
URI (any other is a 400) and every GeoJSON answer says it in ``Content-Crs``. The extension
parameters are documented in the OpenAPI text (``app.api.openapi``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app import budget, heavy, urls
from app.api import formats, projection
from app.api.cql import compile_filter
from app.api.features import CollectionRows
from app.api.openapi import OPENAPI_30_PATH, OPENAPI_30_TYPE, OPENAPI_31_PATH, OPENAPI_31_TYPE
from app.api.paging import page_links
from app.api.params import (
    AFTER,
    BBOX,
    BBOX_CRS,
    COLLECTION_ID,
    CRS,
    CRS84,
    DATETIME,
    EVENT_TYPE,
    FEATURE_ID,
    FILTER,
    FILTER_CRS,
    FILTER_LANG,
    IN_ZONE,
    LIMIT,
    MIN_P_INSIDE,
    NEAR,
    OFFSET,
    SIMPLIFY_M,
    SUB_EVENT_TYPE,
    WITHIN_KM,
    F,
    Parameter,
    Parameters,
    Q,
    parse_after,
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
LINKS_SCHEMA = {"type": "array", "items": {"type": "object", "required": ["href", "rel"]}}
FEATURE_SCHEMA = {
    "type": "object",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {"type": {"const": "Feature"}, "id": {"type": "string"},
                   "geometry": {"type": ["object", "null"]}, "properties": {"type": "object"}},
}  # fmt: skip
COLLECTION_SCHEMA = {
    "type": "object",
    "required": ["type", "features", "numberReturned", "links"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": FEATURE_SCHEMA},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "links": LINKS_SCHEMA,
    },
}
PROPERTIES = Parameter(
    "properties",
    "Only these properties of each feature (comma list of names; OGC API - Features Part 6 draft): "
    "e.g. title,date_start,zone_status for a light listing. Unknown names are a 400.",
)
ITEM_PARAMS = Parameters(
    COLLECTION_ID, F, BBOX, DATETIME, LIMIT, OFFSET, AFTER, IN_ZONE, MIN_P_INSIDE, NEAR, WITHIN_KM,
    EVENT_TYPE, SUB_EVENT_TYPE, Q, SIMPLIFY_M, PROPERTIES, CRS, BBOX_CRS, FILTER, FILTER_LANG, FILTER_CRS,
)  # fmt: skip
FILTER_PARAMS = frozenset({FILTER.name, FILTER_LANG.name, FILTER_CRS.name})
# Every collection's: the rest are the extension filters (CollectionRows.filters) and CQL2's.
STANDARD_ITEM_PARAMS = frozenset({F.name, BBOX.name, DATETIME.name, LIMIT.name, OFFSET.name, SIMPLIFY_M.name,
                                  AFTER.name, CRS.name, BBOX_CRS.name, PROPERTIES.name})  # fmt: skip
FEATURE_PARAMS = Parameters(COLLECTION_ID, FEATURE_ID, F, SIMPLIFY_M, CRS)
COLLECTION_PARAMS = Parameters(COLLECTION_ID)


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


def _store(request: Request) -> tuple[CollectionRows, Store]:
    """The collection the path names (``collectionId``), or a 404."""
    collectionId: str = request.path_params["collectionId"]
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


QUERYABLE = ("events", "regions")


@router.get(
    "/collections/{collectionId}/queryables",
    summary="What a CQL2 filter may name (JSON Schema)",
    operation_id="getQueryables",
    responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}}, "text/html": {}}}},
    openapi_extra=COLLECTION_PARAMS.openapi_extra(),
)
async def collection_queryables(request: Request) -> Response:
    c, _ = _store(request)
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


@router.get(
    "/collections/{collectionId}",
    summary="One collection",
    operation_id="describeCollection",
    openapi_extra=COLLECTION_PARAMS.openapi_extra(),
)
async def collection(request: Request) -> Response:
    c, store = _store(request)
    return json_or_html(request, collection_doc(request, c, store), c.title)


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection, filtered",
    operation_id="getFeatures",
    responses={
        200: {"content": {formats.GEOJSON: {"schema": COLLECTION_SCHEMA}, "text/csv": {}, "text/html": {}}}
    },
    openapi_extra=ITEM_PARAMS.openapi_extra(),
)
async def items(request: Request) -> Response:
    params = request.query_params
    ITEM_PARAMS.check(params)
    c, store = _store(request)
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
    page_size = parse_limit(params.get("limit"), settings.default_limit, settings.max_limit)
    start, after = parse_offset(params.get("offset")), parse_after(params.get("after"))
    fmt = formats.negotiate(request, allow_csv=True)
    names = None if "properties" not in params else projection.parse_properties(params["properties"], store)
    if store.blocking:
        matched, page = await run_in_threadpool(store.page, query, start, page_size, after)
    else:
        matched, page = store.page(query, start, page_size, after)
    returned = len(page)
    # More match than this page shows (numberMatched None: not counted; a full page means more).
    more = (start + page_size < matched) if matched is not None else returned == page_size
    last = None  # the page's last feature, which the next link starts after
    if more and returned:
        last = (await run_in_threadpool(store.ids, page[-1:]) if store.blocking else store.ids(page[-1:]))[0]
    # CSV, HTML and polygons are written by the heavy pages' workers (app.heavy; else the thread
    # pool), never on the event loop (their rows check the request's budget, app.budget); a page
    # of stored bodies is joined right here.
    if fmt == "csv":
        body = await heavy.made(request.app.state.heavy, store, _csv, c.id, len(page), page, names)
        filename = f"at-tanf-{c.id}.csv"
        return Response(body, media_type=formats.CSV,
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})  # fmt: skip
    links = page_links(request, start, page_size, last, matched)
    counted = {} if matched is None else {"numberMatched": matched}  # left out when not counted
    if fmt == "html":
        doc = {**counted, "numberReturned": returned, "links": links}
        title, root = f"{c.title}: items", urls.root(request)
        page_html = await heavy.made(
            request.app.state.heavy, store, _html, c.id, len(page), page, title, doc, root, names
        )
        return HTMLResponse(page_html)
    # Stored feature bodies joined into the collection body; only polygons are written per request.
    version = request.app.state.served.version
    head = orjson.dumps({"type": "FeatureCollection", **counted,
                         "numberReturned": returned, "dataset_version": version, "links": links})  # fmt: skip
    tolerance = None if "simplify_m" not in params else parse_simplify(params["simplify_m"])
    if store.blocking or store.has_polygons(page):
        bodies = await heavy.made(request.app.state.heavy, store, _bodies, c.id, len(page), page, tolerance)
    else:
        bodies = _bodies(store, page, tolerance)
    if names is not None:
        bodies = projection.selected_bodies(bodies, names)
    body_bytes = head[:-1] + b',"features":[' + b",".join(bodies) + b"]}"
    return Response(body_bytes, media_type=formats.json_media_type(request), headers=CONTENT_CRS)


def _item(store: Store, feature_id: str, request: Request) -> tuple[str, bytes] | None:
    """The feature's format and body, None if the store has no such feature; its checks in the
    route's order (the feature 404, the format 406, ``simplify_m`` 400). One turn of the thread
    pool for a store that waits on a server, not one for the row and one for its body: each turn
    is a thread woken, which on a loaded machine waits for a core."""
    row = store.get(feature_id)
    if row is None:
        return None
    fmt, simplify = formats.negotiate(request, allow_csv=True), request.query_params.get("simplify_m")
    return fmt, store.bodies([row], None if simplify is None else parse_simplify(simplify))[0]


BODIES_AT_ONCE = 32  # features read between two checks of the request's budget (app.budget)


def _features(store: Store, page: np.ndarray, names: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    found = []
    for at in range(0, len(page), BODIES_AT_ONCE):
        budget.check()
        found.extend(features(store, page[at : at + BODIES_AT_ONCE]))
    return found if names is None else [projection.select(f, names) for f in found]


def _csv(store: Store, page: np.ndarray, names: tuple[str, ...] | None) -> str | bytes:
    budget.check()  # a request past its budget is a 503 whichever way its CSV is written
    kept = store.csv(page) if names is None else None  # stored lines joined, where the store has them
    return kept if kept is not None else formats.features_csv(_features(store, page, names))


def _html(
    store: Store, page: np.ndarray, title: str, doc: dict[str, Any], root: str, names: tuple[str, ...] | None
) -> str:
    return formats.html_page(title, {**doc, "features": _features(store, page, names)}, root)


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
    openapi_extra=FEATURE_PARAMS.openapi_extra(),
)
async def item(request: Request) -> Response:
    params = request.query_params
    FEATURE_PARAMS.check(params)
    c, store = _store(request)
    featureId: str = request.path_params["featureId"]
    reject_unknown(params, FEATURE_PARAMS.names)
    if "crs" in params:
        parse_crs(params["crs"], "crs")
    args = (store, featureId, request)
    found = await run_in_threadpool(_item, *args) if store.blocking else _item(*args)
    if found is None:
        raise NotFound(f"no feature {featureId[:80]!r} in collection {c.id!r}")
    fmt, body = found
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
