"""HTML pages: the reader's map at ``/``, and the static assets it loads.

The page is a template (autoescaped) that carries the settings it needs as data attributes; the
map itself is drawn by ``static/js`` from the API. Leaflet comes from the XStatic-Leaflet package.
"""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet as xleaflet
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from app import urls
from app.bundled import STATIC_DIR, TEMPLATES_DIR
from app.export.png import PREVIEW_SIZE
from app.served import Served
from app.web.precompressed import IMMUTABLE, PrecompressedStaticFiles
from app.web.state import parse_state, state_query, summary_text, years_text

LEAFLET_DIR = Path(xleaflet.BASE_DIR)
LEAFLET_VERSION = xleaflet.VERSION

templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
)
router = APIRouter(include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    # Versioned paths: a new Leaflet or a new dataset never meets a stale cached file.
    leaflet = PrecompressedStaticFiles(directory=LEAFLET_DIR, cache_control=IMMUTABLE)
    app.mount(f"/static/vendor/leaflet-{LEAFLET_VERSION}", leaflet, name="leaflet")
    app.mount("/static", PrecompressedStaticFiles(directory=STATIC_DIR), name="static")


def oembed_discovery(request: Request) -> str:
    """The oEmbed URL of this very page, for the discovery ``<link>``."""
    return urls.link(request, "/oembed", {"format": "json", "url": urls.own_url(request)})


def page_urls(request: Request) -> dict[str, str]:
    """What a page template needs to link anything: ``root``, the path prefix of same-site
    links (``{{ root }}/static/...``), and ``public_url``, the absolute base for links that
    leave the site (the embed snippet; ``data-public-url`` for static/js/urls.js)."""
    return {"root": urls.root(request), "public_url": urls.base(request)}


def page_title(served: Served) -> str:
    return f"At Tanf de-confliction zone, {years_text(served)}: map of reported incidents"


def link_preview(request: Request, path: str, summary: str) -> dict[str, str]:
    """Open Graph and Twitter card values for a view of the map (https://ogp.me).

    ``url`` is the page with only its state parameters; ``image`` the view as PNG (Open Graph
    and X take PNG or JPEG, not SVG), at the size ``/embed/map.png`` draws by default.
    """
    query = state_query(dict(request.query_params))
    return {
        "title": page_title(request.app.state.served),
        "description": summary,
        "url": urls.link(request, path, query),
        "image": urls.link(request, "/embed/map.png", query),
        "image_width": str(PREVIEW_SIZE[0]),
        "image_height": str(PREVIEW_SIZE[1]),
    }


def leaflet_path() -> str:
    return f"/static/vendor/leaflet-{LEAFLET_VERSION}"


@router.get("/", response_class=HTMLResponse)
async def map_page(request: Request) -> HTMLResponse:
    # Unknown parameters are ignored here (shared links pick up tracking parameters); the
    # state parameters are read by static/js/state.js.
    settings = request.app.state.settings
    served = request.app.state.served
    state = parse_state(dict(request.query_params))
    if served.stores["events"].blocking:  # a database's answers are awaited off the event loop
        summary = await run_in_threadpool(summary_text, served, state)
    else:
        summary = summary_text(served, state)
    page = templates.get_template("map.html").render(
        leaflet=leaflet_path(),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        version=served.version,
        incident_count=len(served.stores["events"]),
        years=years_text(served),
        zone_id=served.zone.zone.id,
        oembed_url=oembed_discovery(request),
        **page_urls(request),
        preview=link_preview(request, "/", summary),
    )
    return HTMLResponse(page)
