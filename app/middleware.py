"""Small pure-ASGI guards: only reading methods exist (HEAD is GET without a body), one Host
header, an unexpected error is still a problem+json answer, one log line per request.

The log line is JSON (method, path, status, duration in ms, and the query string cut to
``MAX_LOGGED_QUERY`` characters): enough to follow traffic, never a dump of oversized input.
Nothing in a request here is secret (there are no cookies or credentials), and headers are not
logged at all. Pure ASGI rather than Starlette's BaseHTTPMiddleware: each of those costs a task
and a stream per request, which showed in the load test.
"""

from __future__ import annotations

import functools
import logging
import time

import orjson
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import header_lists
from app.budget import ClientGone
from app.errors import problem

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
ALLOW = ", ".join(ALLOWED_METHODS)
# What every error carries (app.web.headers adds them inside the framework), and CORS's answer to a
# request with an Origin (the CORS layer's, app.main): for answers made in front of both.
ERROR_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
EXPOSED_HEADERS = ("ETag", "X-Dataset-Version", "Content-Crs")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
}
MAX_LOGGED_QUERY = 200
access_log = logging.getLogger("app.access")
error_log = logging.getLogger("app.errors")


class ReadingMethods:
    """Only reading methods exist: 405 (problem+json) for anything but GET/HEAD/OPTIONS, a bare
    OPTIONS lists them, and HEAD is answered like GET without the body (FastAPI's GET routes do
    not take HEAD).

    CORS preflights never get here: the CORS middleware outside this one answers them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if scope["type"] != "http" or method == "GET":
            await self.app(scope, receive, send)
        elif method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        elif method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": ALLOW})(scope, receive, send)
        else:
            response = problem(405, f"method {method[:20]} is not allowed; use {ALLOW}", scope["path"])
            response.headers["Allow"] = ALLOW
            await response(scope, receive, send)


def _without_body(send: Send) -> Send:
    async def send_without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_without_body


class HostRequired:
    """400 (problem+json) for a request with two ``Host`` headers, or an HTTP/1.1 request with
    none (RFC 9112 §3.2: the server MUST answer either with 400). Which hosts are acceptable is
    a question of configuration, not of this check."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hosts = 0
            for name, _value in scope["headers"]:
                if name == b"host":
                    hosts += 1
            if hosts > 1 or (hosts == 0 and scope.get("http_version") == "1.1"):
                detail = "more than one Host header" if hosts else "an HTTP/1.1 request needs a Host header"
                await problem(400, detail, scope["path"][:MAX_LOGGED_QUERY])(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Progress:
    """How far an answer has gone out: wraps ``send`` and notes the status and the last body."""

    __slots__ = ("complete", "send", "started", "status")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500  # what the log says of a request that never answered
        self.started = False
        self.complete = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started, self.status = True, message["status"]
        elif kind == "http.response.body" and not message.get("more_body", False):
            self.complete = True
        await self.send(message)


class ProblemOnError:
    """An unexpected exception becomes a 500 problem+json, logged once with its traceback; its
    text never reaches the client.

    Used twice. Innermost (``front=False``), inside every other layer of the framework, so the
    answer still gets the security headers, CORS and ``no-store`` from them (Starlette's own 500
    is made outside all of them). Outermost (``front=True``), around the layers that run before
    the framework (request log, Host and proxy rules, kept answers): there no layer adds those
    headers, so this one does. An error after the answer began cannot be answered: the exception
    goes on and the server closes the connection; after it was complete, it is only logged."""

    def __init__(self, app: ASGIApp, front: bool = False) -> None:
        self.app = app
        self.front = front

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        progress = Progress(send)
        try:
            await self.app(scope, receive, progress)
        except ClientGone:
            raise  # not an error: the client left, and app.budget answers for the log (499)
        except Exception as error:
            error_log.error("unhandled error on %s", scope["path"][:MAX_LOGGED_QUERY], exc_info=error)
            if progress.complete and self.front:
                return  # the client has its whole answer
            if progress.started:
                raise  # too late for another answer; the server closes the connection
            response = problem(500, "internal error", scope["path"][:MAX_LOGGED_QUERY])
            if self.front:
                response.headers.update(ERROR_HEADERS)
                if any(name == b"origin" for name, _ in scope["headers"]):
                    response.headers.update(CORS_HEADERS)
            await response(scope, receive, send)


class LogLine:
    """A request's log line: its fields, made into JSON text only when the line is written (by the
    log's writer thread, ``app.logs``), not on the event loop."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, object]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return orjson.dumps(self.fields).decode()  # a fifth of json.dumps's CPU, in the writer thread


def clock() -> float:
    """``time.perf_counter()``, where a request's time starts."""
    return time.perf_counter()


def log_request(scope: Scope, status: int, started: float) -> None:
    """One line for the request of ``scope``, answered with ``status``, begun at ``started``
    (``time.perf_counter()``)."""
    line: dict[str, object] = {
        "method": scope["method"],
        "path": scope["path"][:MAX_LOGGED_QUERY],
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    query = scope["query_string"]
    if query:
        text = query[: MAX_LOGGED_QUERY + 1].decode("latin-1")
        line["query"] = text[:MAX_LOGGED_QUERY] + ("…" if len(query) > MAX_LOGGED_QUERY else "")
    if access_log.isEnabledFor(logging.INFO):
        # makeRecord + handle: logging.info would also walk the stack for the caller's
        # file and line, a third of the cost of the line, for nothing the line shows.
        record = access_log.makeRecord(access_log.name, logging.INFO, "", 0, LogLine(line), (), None)
        access_log.handle(record)


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = clock()
        progress = Progress(send)
        try:
            await self.app(scope, receive, progress)
        finally:
            log_request(scope, progress.status, started)


class OpenCors(CORSMiddleware):
    """Starlette's CORS layer, its simple answers made on the raw header lists (app.header_lists):
    the same headers, in the same order, without building a ``Headers`` per request and a
    ``MutableHeaders`` per answer. With every origin allowed and no credentials (how the service
    is configured), Starlette adds ``Access-Control-Allow-Origin: *`` and the exposed headers when
    a request has an ``Origin``, and ``Origin`` to every answer's ``Vary``; its preflight answers
    are its own. Any other configuration is Starlette's layer unchanged."""

    @functools.cached_property
    def raw(self) -> bool:
        return self.allow_all_origins and not self.allow_credentials

    @functools.cached_property
    def simple_raw(self) -> list[tuple[bytes, bytes]]:
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.simple_headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.raw:
            await super().__call__(scope, receive, send)
            return
        origin = preflight = False
        for name, _value in scope["headers"]:
            if name == b"origin":
                origin = True
            elif name == b"access-control-request-method":
                preflight = True
        if origin and preflight and scope["method"] == "OPTIONS":
            await self.preflight_response(request_headers=Headers(scope=scope))(scope, receive, send)
            return
        simple = self.simple_raw if origin else ()

        async def send_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = header_lists.writable(message)
                for name, value in simple:
                    header_lists.put(headers, name, value)
                header_lists.add_vary(headers, b"Origin")
            await send(message)

        await self.app(scope, receive, send_cors)
