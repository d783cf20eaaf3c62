"""Response headers every page needs: a strict CSP, framing rules, and the small safety headers.

HTML: scripts, styles, fetches and frames from this origin only (no inline script, no eval;
Leaflet styles elements through the CSSOM, which CSP allows), images also from the tile host.
``frame-ancestors``: embeds may be framed by the configured origins, every other page by this
site only (``X-Frame-Options`` too, for browsers that only know it; it cannot express an
allow-list, so embeds do without it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import header_lists
from app.urls import scope_route_path

EMBED_PREFIX = "/embed"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

# An SVG opened on its own must not run anything either; its text is drawn, not scripted.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *"
_SVG_CSP, _PERMISSIONS_POLICY = SVG_CSP.encode(), PERMISSIONS_POLICY.encode()  # as set (app.header_lists)


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


class SecurityHeadersMiddleware:
    """Adds the headers above to every response, by its content type and path (pure ASGI), and
    ``Cache-Control: no-store`` to every error. It runs outside every other layer but the log, so
    no answer (a 405, a 500) goes without them."""

    def __init__(self, app: ASGIApp, tile_url: str, embed_ancestors: str) -> None:
        self.app = app
        self.page_csp = content_security_policy(tile_url, "'self'").encode("latin-1")
        self.embed_csp = content_security_policy(tile_url, embed_ancestors).encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope_route_path(scope)
        embed = path == EMBED_PREFIX or path.startswith(EMBED_PREFIX + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = header_lists.writable(message)
                put = header_lists.put
                put(headers, b"x-content-type-options", b"nosniff")
                put(headers, b"referrer-policy", b"strict-origin-when-cross-origin")
                if message["status"] >= 400:
                    put(headers, b"cache-control", b"no-store")  # an error is never cached or revalidated
                content_type = header_lists.get(headers, b"content-type") or b""
                if content_type.startswith(b"image/svg+xml"):
                    put(headers, b"content-security-policy", _SVG_CSP)
                elif content_type.startswith(b"text/html"):
                    put(headers, b"permissions-policy", _PERMISSIONS_POLICY)
                    put(headers, b"content-security-policy", self.embed_csp if embed else self.page_csp)
                    if not embed:
                        put(headers, b"x-frame-options", b"SAMEORIGIN")
            await send(message)

        await self.app(scope, receive, send_with_headers)
