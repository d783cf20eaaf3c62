"""HTTP caching of API responses: dataset version, ETag, 304, Cache-Control (pure ASGI).

Every answer is a pure function of the dataset version, the URL and the negotiated format, so
the ETag is computed from those, before the handler runs: a revalidation costs no query at all.
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.urls import scope_route_path

CACHED_PREFIXES = ("/api",)
VERSION_HEADER = "X-Dataset-Version"


def etag_for(path: str, query: bytes, accept: str, version: str) -> str:
    key = b"\n".join((path.encode(), query, accept.encode()))
    return f'"{version}-{hashlib.sha256(key).hexdigest()[:16]}"'


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


class CachingMiddleware:
    def __init__(self, app: ASGIApp, max_age_s: int) -> None:
        self.app = app
        self.max_age_s = max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        served = getattr(scope["app"].state, "served", None)
        version = served.version if served is not None else ""
        path: str = scope["path"]  # with the public prefix, if any (app.proxy)
        cacheable = scope["method"] in ("GET", "HEAD") and scope_route_path(scope).startswith(CACHED_PREFIXES)
        extra: dict[str, str] = {VERSION_HEADER: version} if version else {}
        if cacheable:
            headers = Headers(scope=scope)
            etag = etag_for(path, scope["query_string"], headers.get("accept", ""), version)
            cached = {
                "ETag": etag,
                "Cache-Control": f"public, max-age={self.max_age_s}",
                "Vary": "Accept",
                **extra,
            }
            if _matches(headers.get("if-none-match", ""), etag):
                raw = [(k.lower().encode(), v.encode()) for k, v in cached.items()]
                await send({"type": "http.response.start", "status": 304, "headers": raw})
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                if cacheable and message["status"] == 200:
                    response_headers.update(cached)
                else:
                    response_headers.update(extra)
                    if cacheable:
                        response_headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
