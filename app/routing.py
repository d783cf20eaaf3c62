"""The app's routes dispatched without FastAPI's per-request machinery (issue 16).

Every route of the API and the pages takes only the ``Request`` and parses its own query
(``app.api.params``), so FastAPI validates nothing for them; its router still cost about 200 µs of
CPU per request on the build machine (it walks every route through its include contexts, solves
an empty dependency graph, and runs its telemetry), more than half of a first items request
(``python -m tests.perf.path_profile``). ``RouteTable`` takes the very routes the ``APIRouter``\\ s
declare (their path patterns, methods and endpoints: the OpenAPI document is written from the same
declarations, unchanged) and calls the endpoint of the first route whose pattern matches, with the
path parameters in ``scope["path_params"]`` as Starlette puts them. Anything else (a route that
takes other parameters, a static mount, a path no route matches, a method a route does not take)
goes to FastAPI's router, which answers as before (404, 405, the redirect of a trailing slash).

It sits where FastAPI's router sits, inside the exception layer, so an ``ApiError`` raised by an
endpoint becomes the same problem+json (``app.errors``), and every middleware runs as before.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.urls import scope_route_path

Endpoint = Callable[[Request], Awaitable[Response] | Response]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    convertors: dict[str, Convertor[Any]]
    methods: frozenset[str]
    endpoint: Endpoint
    is_async: bool


def takes_only_request(endpoint: Callable[..., Any]) -> bool:
    """Whether ``endpoint``'s one parameter is the ``Request`` (so FastAPI has nothing to solve)."""
    parameters = list(inspect.signature(endpoint).parameters.values())
    return len(parameters) == 1 and parameters[0].annotation in (Request, "Request")


class RouteTable:
    """An ASGI app: the endpoint of the first included route that matches the request's path and
    method, called with the ``Request``; otherwise ``fallback`` (FastAPI's router)."""

    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.routes: list[Route] = []

    def include(self, router: APIRouter) -> None:
        """Dispatch ``router``'s routes that take only the ``Request`` (in their declared order)."""
        for route in router.routes:
            if isinstance(route, APIRoute) and takes_only_request(route.endpoint):
                self.routes.append(
                    Route(
                        route.path_regex,
                        dict(route.param_convertors),
                        frozenset(route.methods or ()),
                        route.endpoint,
                        inspect.iscoroutinefunction(route.endpoint),
                    )
                )

    def match(self, scope: Scope) -> Route | None:
        """The route that answers ``scope`` (its ``path_params`` set), or None for the fallback."""
        path = scope_route_path(scope)
        for route in self.routes:
            found = route.pattern.match(path)
            if found is not None:
                if scope["method"] not in route.methods:
                    return None  # the framework answers (405, or another route)
                params = found.groupdict()
                if params:
                    scope["path_params"] = {
                        **scope.get("path_params", {}),
                        **{name: route.convertors[name].convert(value) for name, value in params.items()},
                    }
                return route
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.match(scope) if scope["type"] == "http" else None
        if route is None:
            await self.fallback(scope, receive, send)
            return
        request = Request(scope, receive, send)
        if route.is_async:
            response = await route.endpoint(request)  # type: ignore[misc]
        else:
            response = await run_in_threadpool(route.endpoint, request)
        await response(scope, receive, send)
