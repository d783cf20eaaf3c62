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

A request the table takes does not go through the framework's entry at all (``lean``): it runs
through the app's own middleware (the very ``user_middleware`` list, built the same way) straight
into the table, which turns the exceptions the app has handlers for (``ApiError``,
``HTTPException``: ``app.errors``) into those handlers' answers, as FastAPI's exception layer did.
FastAPI's and Starlette's seven layers around them (its entry and telemetry check, the server
error, exception telemetry, body limit, exception and exit-stack layers) cost about 60 µs of a
first request's CPU and did nothing for these routes: they take no body, no dependencies, and
every other exception is already the inner ``ProblemOnError``'s 500 problem+json. The table also
sits where FastAPI's router sits, for the requests that do go through the framework.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.urls import scope_route_path

Endpoint = Callable[[Request], Awaitable[Response] | Response]
Handler = Callable[[Request, Exception], Awaitable[Response]]
MATCHED = "at_tanf.route"  # the scope's key for the route the table matched in front of the framework


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

    def __init__(self, fallback: ASGIApp, handlers: Mapping[Any, Callable[..., Any]] | None = None) -> None:
        self.fallback = fallback
        self.routes: list[Route] = []
        # The app's handlers of exception classes (not of 500/Exception: the error layers' business).
        self.handlers: dict[type[BaseException], Handler] = {
            kind: handler
            for kind, handler in (handlers or {}).items()
            if isinstance(kind, type) and kind is not Exception
        }

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

    def match(self, scope: Scope, method: str | None = None) -> Route | None:
        """The route that answers ``scope`` (its ``path_params`` set), or None for the fallback;
        ``method`` in place of the scope's."""
        path = scope_route_path(scope)
        for route in self.routes:
            found = route.pattern.match(path)
            if found is not None:
                if (method or scope["method"]) not in route.methods:
                    return None  # the framework answers (405, or another route)
                params = found.groupdict()
                if params:
                    scope["path_params"] = {
                        **scope.get("path_params", {}),
                        **{name: route.convertors[name].convert(value) for name, value in params.items()},
                    }
                return route
        return None

    def takes(self, scope: Scope) -> bool:
        """Whether a request goes the lean way (``behind``): a GET or HEAD (the reading-methods
        layer makes a HEAD a GET) of a route of the table, noted in the scope for ``__call__``."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return False
        route = self.match(scope, "GET")
        if route is None:
            return False
        scope[MATCHED] = route
        return True

    def behind(self, middleware: Iterable[Middleware]) -> ASGIApp:
        """The table behind ``middleware`` (the app's ``user_middleware``, outermost first), built as
        Starlette builds it, without the framework's own layers (``takes`` says for which requests)."""
        app: ASGIApp = self
        for cls, args, kwargs in reversed(list(middleware)):
            app = cls(app, *args, **kwargs)
        return app

    def handler_for(self, error: Exception) -> Handler | None:
        """The app's handler of ``error``'s class or its nearest base, as Starlette looks it up."""
        for kind in type(error).__mro__:
            handler = self.handlers.get(kind)
            if handler is not None:
                return handler
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        route: Route | None = scope.get(MATCHED)
        if route is None:
            route = self.match(scope)
            if route is None:
                await self.fallback(scope, receive, send)
                return
        request = Request(scope, receive, send)
        try:
            if route.is_async:
                response = await route.endpoint(request)  # type: ignore[misc]
            else:
                response = await run_in_threadpool(route.endpoint, request)
        except Exception as error:
            handler = self.handler_for(error)
            if handler is None:
                raise
            response = await handler(request, error)
        await response(scope, receive, send)
