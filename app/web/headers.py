"""Response headers every page needs: a strict CSP, framing rules, and the small safety headers.

HTML: scripts, styles, fetches and frames from this origin only (no inline script, no eval;
Leaflet styles elements through the CSSOM, which CSP allows), images also from the tile host.
``frame-ancestors``: embeds may be framed by the configured origins, every other page by this
site only (``X-Frame-Options`` too, for browsers that only know it; it cannot express an
allow-list, so embeds do without it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

EMBED_PREFIX = "/embed"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

Middleware = Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]


def tile_source(tile_url: str) -> str:
    """The CSP source of a tile URL template: scheme and host, ``{s}`` subdomains as ``*``."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""  # a relative template: tiles come from this origin
    host = parts.netloc
    if "{s}" in tile_url.split("/")[2]:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str, frame_ancestors: str) -> str:
    images = " ".join(s for s in ("'self'", "data:", tile_source(tile_url)) if s)
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "frame-src 'self'",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def make_headers_middleware(tile_url: str, embed_ancestors: str) -> Middleware:
    page_csp = content_security_policy(tile_url, "'self'")
    embed_csp = content_security_policy(tile_url, embed_ancestors)
    # An SVG opened on its own must not run anything either; its text is drawn, not scripted.
    svg_csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *"

    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("image/svg+xml"):
            response.headers["Content-Security-Policy"] = svg_csp
        elif content_type.startswith("text/html"):
            path = request.url.path
            response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
            if path == EMBED_PREFIX or path.startswith(EMBED_PREFIX + "/"):
                response.headers["Content-Security-Policy"] = embed_csp
            else:
                response.headers["Content-Security-Policy"] = page_csp
                response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return headers
