"""Embeds for articles: the embed page, its static image, oEmbed, and the host resize script.

Ref: https://oembed.com (type "rich", a single iframe in ``html``: WordPress strips scripts).
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from app.api.params import reject_unknown
from app.errors import ApiError, BadRequest, NotFound
from app.export.svg import render_svg
from app.web.pages import STATIC_DIR, leaflet_path, oembed_discovery, templates
from app.web.state import STATE_KEYS, parse_state, state_query, summary_text

router = APIRouter(include_in_schema=False)
EMBED_FLAGS = ("list", "timeline", "static", "theme")
DEFAULT_SIZE = (600, 450)
SVG_SIZE = (800, 600)


class NotImplementedFormat(ApiError):
    status = 501


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "0") in ("1", "true", "yes")


@router.get("/embed", response_class=HTMLResponse)
def embed_page(request: Request) -> HTMLResponse:
    served = request.app.state.served
    settings = request.app.state.settings
    params = dict(request.query_params)
    query = state_query(params)
    state = parse_state(params)
    page = templates.get_template("embed.html").render(
        leaflet=leaflet_path(),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        version=served.version,
        zone_id=served.zone.zone.id,
        summary=summary_text(served, state),
        svg_url=f"/embed/map.svg?{query}" if query else "/embed/map.svg",
        full_url=f"/?{query}" if query else "/",
        oembed_url=oembed_discovery(request),
        show_list=_flag(request, "list"),
        show_timeline=_flag(request, "timeline"),
        static=_flag(request, "static"),
        dark=request.query_params.get("theme") == "dark",
    )
    return HTMLResponse(page)


@router.get("/embed/map.svg")
def embed_svg(request: Request) -> Response:
    reject_unknown(request.query_params, set(STATE_KEYS) | {"width", "height"})
    width = _size(request.query_params.get("width"), "width", SVG_SIZE[0])
    height = _size(request.query_params.get("height"), "height", SVG_SIZE[1])
    svg = render_svg(request.app.state.served, parse_state(dict(request.query_params)), width, height)
    return Response(svg, media_type="image/svg+xml")


@router.get("/embed/host.js")
def host_script() -> FileResponse:
    return FileResponse(STATIC_DIR / "embed" / "host.js", media_type="text/javascript")


def _size(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not 50 <= int(text) <= 4000:
        raise BadRequest(f"parameter {name!r} must be a whole number of pixels from 50 to 4000", name)
    return int(text)


@router.get("/oembed")
def oembed(request: Request) -> JSONResponse:
    reject_unknown(request.query_params, {"url", "maxwidth", "maxheight", "format"})
    fmt = request.query_params.get("format", "json")
    if fmt == "xml":
        raise NotImplementedFormat("only format=json is implemented", "format")
    if fmt != "json":
        raise BadRequest("parameter 'format' must be json", "format")
    url = request.query_params.get("url")
    if not url:
        raise BadRequest("parameter 'url' is required", "url")
    parts = urlsplit(url)
    ours = urlsplit(str(request.base_url))
    if (
        parts.scheme not in ("http", "https")
        or parts.netloc != ours.netloc
        or parts.path not in ("", "/", "/embed")
    ):
        raise NotFound("that URL is not a view of this map")
    max_w = _size(request.query_params.get("maxwidth"), "maxwidth", 4000)
    max_h = _size(request.query_params.get("maxheight"), "maxheight", 4000)
    width, height = DEFAULT_SIZE
    if width > max_w:  # keep the aspect ratio when the consumer's column is narrower
        width, height = max_w, round(height * max_w / width)
    height = min(height, max_h)
    params = dict(parse_qsl(parts.query))
    query = state_query(params)
    flags = "&".join(f"{k}={params[k]}" for k in EMBED_FLAGS if k in params and params[k].isalnum())
    full_query = "&".join(q for q in (query, flags) if q)
    base = str(request.base_url).rstrip("/")
    src = f"{base}/embed" + (f"?{full_query}" if full_query else "")
    summary = summary_text(request.app.state.served, parse_state(params))
    html = (
        f'<iframe src="{escape(src)}" width="{width}" height="{height}" title="{escape(summary)}" '
        'style="border:0;max-width:100%" loading="lazy" allowfullscreen></iframe>'
    )
    body: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": summary,
        "provider_name": "At Tanf zone map",
        "provider_url": f"{base}/",
        "html": html,
        "width": width,
        "height": height,
        "cache_age": 3600,
        "thumbnail_url": f"{base}/embed/map.svg?"
        + "&".join(q for q in (query, f"width={width}&height={height}") if q),
        "thumbnail_width": width,
        "thumbnail_height": height,
    }
    return JSONResponse(body)
