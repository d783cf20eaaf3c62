"""Small pure-ASGI guards: only reading methods exist, one Host header, HEAD is GET without a
body, an unexpected error is still a problem+json answer, one log line per request.

The log line is JSON (method, path, status, duration in ms, and the query string cut to
``MAX_LOGGED_QUERY`` characters): enough to follow traffic, never a dump of oversized input.
Nothing in a request here is secret (there are no cookies or credentials), and headers are not
logged at all. Pure ASGI rather than Starlette's BaseHTTPMiddleware: each of those costs a task
and a stream per request, which showed in the load test.
"""

from __future__ import annotations

import json
import logging
import time

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.budget import ClientGone
from app.errors import problem

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
ALLOW = ", ".join(ALLOWED_METHODS)
MAX_LOGGED_QUERY = 200
access_log = logging.getLogger("app.access")
error_log = logging.getLogger("app.errors")


class ReadingMethodsOnly:
    """405 (problem+json) for anything but GET/HEAD/OPTIONS; a bare OPTIONS lists the methods.

    CORS preflights never get here: the CORS middleware outside this one answers them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if scope["type"] != "http" or method in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        response: Response
        if method == "OPTIONS":
            response = Response(status_code=204, headers={"Allow": ALLOW})
        else:
            response = problem(405, f"method {method[:20]} is not allowed; use {ALLOW}", scope["path"])
            response.headers["Allow"] = ALLOW
        await response(scope, receive, send)


class HostRequired:
    """400 (problem+json) for a request with two ``Host`` headers, or an HTTP/1.1 request with
    none (RFC 9112 §3.2: the server MUST answer either with 400). Which hosts are acceptable is
    a question of configuration, not of this check."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hosts = sum(1 for name, _value in scope["headers"] if name == b"host")
            if hosts > 1 or (hosts == 0 and scope.get("http_version") == "1.1"):
                detail = "more than one Host header" if hosts else "an HTTP/1.1 request needs a Host header"
                await problem(400, detail, scope["path"][:MAX_LOGGED_QUERY])(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ProblemOnError:
    """Innermost: an unexpected exception becomes a 500 problem+json here, inside every other
    layer, so the answer still gets the security headers, CORS and ``no-store`` (Starlette's own
    500 is made outside all of them). The exception is logged once, with its traceback; its text
    never reaches the client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except ClientGone:
            raise  # not an error: the client left, and app.budget answers for the log (499)
        except Exception as error:
            error_log.error("unhandled error on %s", scope["path"][:MAX_LOGGED_QUERY], exc_info=error)
            if started:
                raise  # too late for another answer; the server closes the connection
            await problem(500, "internal error", scope["path"][:MAX_LOGGED_QUERY])(scope, receive, send)


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


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            query = scope["query_string"].decode("latin-1")
            line: dict[str, object] = {
                "method": scope["method"],
                "path": scope["path"][:MAX_LOGGED_QUERY],
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
            if query:
                cut = query[:MAX_LOGGED_QUERY]
                line["query"] = cut + ("…" if len(query) > MAX_LOGGED_QUERY else "")
            if access_log.isEnabledFor(logging.INFO):
                # makeRecord + handle: logging.info would also walk the stack for the caller's
                # file and line, a third of the cost of the line, for nothing the line shows.
                text = json.dumps(line, ensure_ascii=False)
                access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, "", 0, text, (), None))
