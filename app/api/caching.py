"""HTTP caching of API responses: dataset version, ETag, 304, Cache-Control.

Every answer is a pure function of the dataset version, the URL and the negotiated format, so
the ETag is computed from those, before the handler runs: a revalidation costs no query at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

CACHED_PREFIXES = ("/api",)
VERSION_HEADER = "X-Dataset-Version"


def etag_for(request: Request, version: str) -> str:
    key = "\n".join((request.url.path, str(request.url.query), request.headers.get("accept", "")))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f'"{version}-{digest}"'


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


def make_caching_middleware(
    max_age_s: int,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def caching(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        catalog = getattr(request.app.state, "catalog", None)
        version = catalog.version if catalog is not None else ""
        cacheable = request.method in ("GET", "HEAD") and request.url.path.startswith(CACHED_PREFIXES)
        if not cacheable:
            response = await call_next(request)
            if version:
                response.headers[VERSION_HEADER] = version
            return response
        etag = etag_for(request, version)
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={max_age_s}",
            "Vary": "Accept",
            VERSION_HEADER: version,
        }
        if _matches(request.headers.get("if-none-match", ""), etag):
            return Response(status_code=304, headers=headers)
        response = await call_next(request)
        if response.status_code == 200:
            response.headers.update(headers)
        else:
            response.headers[VERSION_HEADER] = version
            response.headers["Cache-Control"] = "no-store"
        return response

    return caching
