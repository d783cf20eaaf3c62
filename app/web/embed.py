"""Embeds for articles: the embed page, its static image, oEmbed, and the host resize script.

Ref: https://oembed.com (type "rich"; ``html`` is a blockquote and an iframe, no script, which
WordPress would strip).
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from app import urls
from app.api.caching import etag_for
from app.api.params import reject_unknown
from app.bundled import STATIC_DIR
from app.errors import ApiError, BadRequest, NotFound
from app.export.png import MAX_SIDE, PREVIEW_SIZE, cached_png
from app.export.svg import cached_svg
from app.web.pages import leaflet_path, link_preview, oembed_discovery, page_urls, templates
from app.web.state import (
    STATE_KEYS,
    caption_text,
    parse_state,
    state_query,
    summary_text,
    visible_query,
    years_text,
)

router = APIRouter(include_in_schema=False)
EMBED_FLAGS = ("list", "timeline", "static", "theme")
DEFAULT_SIZE = (600, 450)  # the oEmbed frame without list or timeline, CSS pixels
SVG_SIZE = (800, 600)
# static=1: the image drawn for the frame's width and shown at its own size, so its 12 px words
# are 12 px on screen; each height leaves room in a 450 px frame (the dialog's) for the title, the
# caption's lines (three under 480 px, two wider) and the sources line (measured in Chromium:
# tests/web/test_embed_figure.py); each image is as wide as the narrowest frame it is drawn for.
# 1100 x 380 had been scaled to 0.93 in a full-width frame, 860 px to 0.84 in a 720 px frame.
# (media query on the frame's viewport, width, height) in CSS pixels, the last for wider frames.
STATIC_SIZES = (
    ("(max-width: 419px)", 320, 260),
    ("(max-width: 599px)", 420, 300),
    ("(max-width: 859px)", 600, 330),
    ("(max-width: 1099px)", 860, 355),
    ("", 1100, 350),
)
OEMBED_PARAMS = ("url", "maxwidth", "maxheight", "format")
MAX_FRAME = 4000  # the largest frame side oEmbed answers, CSS pixels
TRUE_WORDS = ("1", "true", "yes")
# Heights of the embed's parts in CSS pixels (static/css/embed.css, measured in Chromium).
LIST_MAP_HEIGHT = 340
LIST_CHROME = 125
LIST_ROW = 83
LIST_ROWS_SHOWN = 5
TIMELINE_HEIGHT = 460  # with the period menu, the date fields and 24 px targets (issue 18)


class NotImplementedFormat(ApiError):
    status = 501


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "0") in TRUE_WORDS


@router.get("/embed", response_class=HTMLResponse)
def embed_page(request: Request) -> HTMLResponse:
    served = request.app.state.served
    settings = request.app.state.settings
    params = dict(request.query_params)
    query = state_query(params)
    state = parse_state(params)
    shown = served.stores["events"].tally(visible_query(state))  # counted once for both texts
    summary = summary_text(served, state, shown)
    page = templates.get_template("embed.html").render(
        leaflet=leaflet_path(),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        version=served.version,
        zone_id=served.zone.zone.id,
        summary=summary,
        caption=caption_text(served, state, shown),
        years=years_text(served),
        svg_url=urls.root(request) + "/embed/map.svg" + (f"?{query}" if query else ""),
        svg_sources=[
            (
                media,
                f"{urls.root(request)}/embed/map.svg?{query + '&' if query else ''}width={w}&height={h}",
                w,
                h,
            )
            for media, w, h in STATIC_SIZES
        ],
        full_url=urls.root(request) + "/" + (f"?{query}" if query else ""),
        oembed_url=oembed_discovery(request),
        preview=link_preview(request, "/embed", summary),
        **page_urls(request),
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
    svg = cached_svg(request.app.state.served, parse_state(dict(request.query_params)), width, height)
    return Response(svg, media_type="image/svg+xml")


@router.get("/embed/map.png")
def embed_png(request: Request) -> Response:
    """The same drawing as /embed/map.svg as a PNG (link previews, oEmbed thumbnails)."""
    reject_unknown(request.query_params, set(STATE_KEYS) | {"width", "height"})
    width = _size(request.query_params.get("width"), "width", PREVIEW_SIZE[0], MAX_SIDE)
    height = _size(request.query_params.get("height"), "height", PREVIEW_SIZE[1], MAX_SIDE)
    served = request.app.state.served
    etag = etag_for(request.url.path, request.url.query.encode(), "", served.version)
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    png = cached_png(served, parse_state(dict(request.query_params)), width, height)
    return Response(png, media_type="image/png", headers=headers)


@router.get("/embed/host.js")
def host_script() -> FileResponse:
    return FileResponse(STATIC_DIR / "embed" / "host.js", media_type="text/javascript")


def _size(text: str | None, name: str, default: int, largest: int = 4000) -> int:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and 50 <= int(text) <= largest):
        raise BadRequest(f"parameter {name!r} must be a whole number of pixels from 50 to {largest}", name)
    return int(text)


@router.get("/oembed")
def oembed(request: Request) -> JSONResponse:
    # Parameters the provider does not use are ignored: the spec lets consumers add their own
    # (WordPress sends dnt=1), https://oembed.com §2.2.
    params = request.query_params
    for name in OEMBED_PARAMS:
        if len(params.getlist(name)) > 1:
            raise BadRequest(f"parameter {name!r} is given more than once", name)
    fmt = params.get("format", "json")
    if fmt == "xml":
        raise NotImplementedFormat("only format=json is implemented", "format")
    if fmt != "json":
        raise BadRequest("parameter 'format' must be json", "format")
    url = params.get("url")
    if not url:
        raise BadRequest("parameter 'url' is required", "url")
    parts = urlsplit(url)
    ours = urlsplit(urls.base(request))
    if (
        parts.scheme not in ("http", "https")
        or parts.netloc != ours.netloc
        or parts.path.removeprefix(ours.path) not in ("", "/", "/embed")
        or not parts.path.startswith(ours.path)
    ):
        raise NotFound("that URL is not a view of this map")
    max_w = _max_size(params.get("maxwidth"), "maxwidth")
    max_h = _max_size(params.get("maxheight"), "maxheight")
    state_params = dict(parse_qsl(parts.query))
    state = parse_state(state_params)
    served = request.app.state.served
    flags = {k: state_params[k] for k in EMBED_FLAGS if state_params.get(k, "").isalnum()}
    width, height = frame_size(
        max_w,
        max_h,
        timeline=flags.get("timeline") in TRUE_WORDS,
        list_rows=len(served.stores["events"].page(visible_query(state), 0, LIST_ROWS_SHOWN)[1])
        if flags.get("list") in TRUE_WORDS
        else None,
    )
    query = state_query(state_params)
    full_query = "&".join(q for q in (query, urlencode(flags)) if q)
    base = urls.base(request)
    summary = summary_text(served, state)
    body: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": summary,
        "provider_name": "At Tanf zone map",
        "provider_url": f"{base}/",
        "html": embed_html(
            src=f"{base}/embed" + (f"?{full_query}" if full_query else ""),
            full_url=f"{base}/" + (f"?{query}" if query else ""),
            title=summary,
            width=width,
            height=height,
        ),
        "width": width,
        "height": height,
        "cache_age": 3600,
    }
    if 50 <= width <= MAX_SIDE and 50 <= height <= MAX_SIDE:  # the sizes /embed/map.png draws
        size = f"width={width}&height={height}"
        body["thumbnail_url"] = f"{base}/embed/map.png?" + "&".join(q for q in (query, size) if q)
        body["thumbnail_width"], body["thumbnail_height"] = width, height
    return JSONResponse(body)


def _max_size(text: str | None, name: str) -> int:
    """A consumer's ``maxwidth``/``maxheight`` in pixels; huge values are simply no limit."""
    if text is None:
        return MAX_FRAME
    if not (text.isascii() and text.isdigit()) or int(text[:9]) == 0:
        raise BadRequest(f"parameter {name!r} must be a positive whole number of pixels", name)
    return min(int(text[:9]) if len(text) <= 9 else MAX_FRAME, MAX_FRAME)


def frame_size(max_w: int, max_h: int, *, timeline: bool, list_rows: int | None) -> tuple[int, int]:
    """The iframe's width and height in CSS pixels, within the consumer's maximum.

    The map keeps its 4:3 shape in a narrower column; the timeline and the list add their own
    height (measured in Chromium at 400-600 px: the controls take about 310 px, the list's
    heading, summary and footer 125 px and each incident about 83 px). The frame is sized for
    at most five incidents; the embed then reports its full height to the host page.
    """
    width, map_h = DEFAULT_SIZE
    if width > max_w:
        width, map_h = max_w, round(map_h * max_w / width)
    height = map_h
    if list_rows is not None:
        height = LIST_MAP_HEIGHT + LIST_CHROME + LIST_ROW * min(list_rows, LIST_ROWS_SHOWN)
    if timeline:
        height += TIMELINE_HEIGHT
    return width, min(height, max_h)


def _secret(src: str) -> str:
    """A fixed WordPress embed secret for this frame (10 letters and digits, as wp-embed.js wants)."""
    return hashlib.sha256(src.encode()).hexdigest()[:10]


def embed_html(*, src: str, full_url: str, title: str, width: int, height: int) -> str:
    """The oEmbed ``html``: a ``<blockquote>`` linking to the map, then the ``<iframe>``.

    Shaped for WordPress (wp-includes/embed.php, ``wp_filter_oembed_result``, 6.1): for a
    discovered provider it keeps only ``<blockquote>``, ``<a href>`` and the iframe's ``src``,
    ``width``, ``height``, ``frameborder``, ``title`` (so ``frameborder="0"``, not only CSS, removes
    the border), shows the blockquote until the embed posts its height, and loads wp-embed.js
    because of it. For a registered provider the html is used as is: the ``wp-embedded-content``
    classes and the ``data-secret`` (also in the ``src`` fragment) make wp-embed.js resize the frame
    and hide the blockquote just the same. Other consumers show the link as a caption.
    """
    secret = _secret(src)
    quoted = escape(title)
    return (
        f'<blockquote class="wp-embedded-content" data-secret="{secret}">'
        f'<a href="{escape(full_url)}">{quoted}</a></blockquote>'
        f'<iframe class="wp-embedded-content" data-secret="{secret}" '
        f'src="{escape(src)}#?secret={secret}" width="{width}" height="{height}" title="{quoted}" '
        'frameborder="0" style="border:0;max-width:100%" loading="lazy" allowfullscreen></iframe>'
    )
