"""One error shape everywhere: RFC 9457 ``application/problem+json``.

The body also carries the OGC API members ``code`` and ``description``, and ``parameter`` when a
query parameter is at fault. Unexpected exceptions are logged and answered with a generic 500;
their text never reaches a client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("app.errors")


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance", "code", "description"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "description": {"type": "string"},
        "parameter": {"type": "string", "description": "the query parameter at fault"},
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries for the problem+json answers a route can give."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


class ApiError(Exception):
    """An error with a status and a message that is safe to show a client."""

    status = 400
    headers: ClassVar[dict[str, str]] = {}  # sent with the answer (``Unavailable``: Retry-After)

    def __init__(self, detail: str, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class Unavailable(ApiError):
    """What the service needs is away for a while (the PostGIS store's database): try again."""

    status = 503
    headers: ClassVar[dict[str, str]] = {"Retry-After": "5"}


def problem(status: int, detail: str, instance: str, parameter: str | None = None) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": phrase.replace(" ", ""),
        "description": detail,
    }
    if parameter:
        body["parameter"] = parameter
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        response = problem(exc.status, exc.detail, request.url.path, exc.parameter)
        response.headers.update(exc.headers)
        return response

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = {404: "no such resource", 405: "method not allowed"}.get(
            exc.status_code, HTTPStatus(exc.status_code).phrase
        )
        response = problem(exc.status_code, detail, request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", ())]
        name = loc[-1] if loc else None
        return problem(400, f"invalid value for parameter {name!r}", request.url.path, name)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        return problem(500, "internal error", request.url.path)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
