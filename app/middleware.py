"""Two small pure-ASGI-style guards: only reading methods exist, and one log line per request.

The log line is JSON (method, path, status, duration in ms, and the query string cut to
``MAX_LOGGED_QUERY`` characters): enough to follow traffic, never a dump of oversized input.
Nothing in a request here is secret (there are no cookies or credentials), and headers are not
logged at all.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
ALLOW = ", ".join(ALLOWED_METHODS)
MAX_LOGGED_QUERY = 200
access_log = logging.getLogger("app.access")

Next = Callable[[Request], Awaitable[Response]]


async def only_reading_methods(request: Request, call_next: Next) -> Response:
    """405 (problem+json) for anything but GET/HEAD/OPTIONS; a bare OPTIONS lists the methods.

    CORS preflights never get here: the CORS middleware outside this one answers them.
    """
    if request.method not in ALLOWED_METHODS:
        response = problem(405, f"method {request.method[:20]} is not allowed; use {ALLOW}", request.url.path)
        response.headers["Allow"] = ALLOW
        return response
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": ALLOW})
    return await call_next(request)


async def log_requests(request: Request, call_next: Next) -> Response:
    started = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        query = request.url.query
        line = {
            "method": request.method,
            "path": request.url.path[:MAX_LOGGED_QUERY],
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if query:
            line["query"] = query[:MAX_LOGGED_QUERY] + ("…" if len(query) > MAX_LOGGED_QUERY else "")
        access_log.info(json.dumps(line, ensure_ascii=False))


class HeadAsGet:
    """Answer HEAD like GET, without the body (FastAPI's GET routes do not take HEAD)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
