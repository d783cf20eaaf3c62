"""The OpenAPI documents (3.1, as FastAPI writes it, and the same as 3.0 for the OGC clients) and
an HTML page that documents them.

Every operation's parameters are written from their declarations (``app.api.params``): QGIS
reads the page size only from ``components.parameters.limit`` and GDAL only from a ``$ref`` whose
name contains "limit", so ``limit`` (with its bounds), ``bbox`` and ``datetime`` are declared
there, in the words of OGC 17-069r4 (7.15.3, 7.15.4), which the OGC test suites check.
FastAPI's own Swagger/ReDoc pages load scripts from a CDN, so ``/api/docs`` is rendered here.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from app import urls
from app.api import params
from app.api.openapi30 import downgrade
from app.api.params import reject_unknown

API_ROOT = "/api"
OPENAPI_30_PATH = "/api/openapi-3.0.json"
OPENAPI_30_TYPE = "application/vnd.oai.openapi+json;version=3.0"
OPENAPI_31_PATH = "/api/openapi.json"
OPENAPI_31_TYPE = "application/vnd.oai.openapi+json;version=3.1"
router = APIRouter(prefix=API_ROOT, include_in_schema=False)


def install_openapi(app: FastAPI, default_limit: int, max_limit: int) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        # The operations list their parameters themselves (app.api.params); OGC's shared ones here.
        schema.setdefault("components", {})["parameters"] = params.components(default_limit, max_limit)
        # OGC API clients (GDAL) look paths up relative to the API root, as in the standard's
        # own document: "/collections/{collectionId}/items" under a server URL of "/api" (served
        # as the API's public URL, see with_server).
        schema["servers"] = [{"url": API_ROOT}]
        schema["paths"] = {
            path.removeprefix(API_ROOT) or "/": item
            for path, item in schema["paths"].items()
            if path.startswith(API_ROOT)
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.openapi30 = None


def openapi30(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.0 form of the app's document, written once."""
    if app.state.openapi30 is None:
        app.state.openapi30 = downgrade(app.openapi())
    doc: dict[str, Any] = app.state.openapi30
    return doc


def with_server(document: dict[str, Any], request: Request) -> dict[str, Any]:
    """``document`` with the API's public URL as its server (``app.urls``): a relative "/api"
    would resolve to the wrong place behind a proxy that serves the app under a sub-path."""
    return {**document, "servers": [{"url": urls.link(request, API_ROOT)}]}


@router.get("/openapi.json")
def openapi_31(request: Request) -> JSONResponse:
    """The API definition as FastAPI writes it (OpenAPI 3.1)."""
    return JSONResponse(with_server(request.app.openapi(), request))


@router.get("/openapi-3.0.json")
def openapi_30(request: Request) -> JSONResponse:
    """The API definition as OpenAPI 3.0 (the ``service-desc`` OGC clients read)."""
    reject_unknown(request.query_params, {"f"})
    return JSONResponse(with_server(openapi30(request.app), request), media_type=OPENAPI_30_TYPE)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    reject_unknown(request.query_params, set())
    schema = request.app.openapi()
    root = html.escape(urls.root(request))
    parts = [
        f"<p>{html.escape(schema.get('info', {}).get('description', ''))}</p>",
        f'<p>Machine-readable: <a href="{root}/api/openapi-3.0.json">/api/openapi-3.0.json</a> (OpenAPI 3.0) '
        f'and <a href="{root}/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>',
    ]
    components = schema.get("components", {}).get("parameters", {})
    for path, item in schema["paths"].items():
        for method, op in item.items():
            parts.append(f"<h2>{html.escape(method.upper())} {html.escape(path)}</h2>")
            parts.append(
                f"<p>{html.escape(op.get('summary', ''))}. {html.escape(op.get('description', ''))}</p>"
            )
            rows = []
            for param in op.get("parameters", []):
                if "$ref" in param:
                    param = components[param["$ref"].rsplit("/", 1)[-1]]
                rows.append(
                    f"<tr><td><code>{html.escape(param['name'])}</code></td>"
                    f"<td>{html.escape(param['in'])}</td>"
                    f"<td>{html.escape(param.get('description', ''))}</td></tr>"
                )
            if rows:
                parts.append(
                    "<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>"
                    + "".join(rows)
                    + "</table>"
                )
    body = "\n".join(parts)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>API documentation</title>
<link rel="stylesheet" href="{root}/static/css/api.css"></head>
<body><h1>At Tanf zone map API</h1>{body}</body></html>"""
    return HTMLResponse(page)
