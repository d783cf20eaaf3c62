"""Framing rules for HTML: embeds may be framed by the configured origins, nothing else may.

``frame-ancestors`` is the CSP directive browsers enforce for iframes; ``X-Frame-Options`` is
kept for the few that only know it (it cannot express an allow-list, so embeds do without it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

EMBED_PREFIX = "/embed"


def make_framing_middleware(
    embed_ancestors: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def framing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith(("text/html", "image/svg+xml")):
            return response
        path = request.url.path
        if path == EMBED_PREFIX or path.startswith(EMBED_PREFIX + "/"):
            response.headers["Content-Security-Policy"] = f"frame-ancestors {embed_ancestors}"
        else:
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return framing
