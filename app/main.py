"""The application factory: ``create_app(settings)``, and ``app`` for ``uvicorn app.main:app``."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from app import logs, proxy
from app.api import grid, health, locate, ogc, openapi
from app.api.answer_cache import AnswerCache
from app.api.caching import HttpCaching, NegotiatedGZip
from app.budget import WorkGuard
from app.errors import install_error_handlers
from app.heavy import HeavyWork
from app.middleware import EXPOSED_HEADERS, HostRequired, OpenCors, ProblemOnError, ReadingMethods, RequestLog
from app.routing import RouteTable
from app.served import Served, load_served
from app.settings import Settings
from app.web import embed, pages
from app.web.headers import SecurityHeadersMiddleware

# Measured with tests/perf/gzip_levels.py: on the 107 KB items page level 1 costs 43% less CPU than
# level 5 (1.2 against 2.2 ms on the shared build machine) for 24% more bytes (24.8 against 19.9 KB);
# zlib-ng (app.api.caching) at level 5: 0.6 ms against zlib's 1.0, and 2.2 against 4.3 ms for a page
# of 100 polygons, within 4% of zlib's bytes (1 December 2026).
# Finished API answers are kept compressed (app.api.answer_cache), so the CPU is paid once per URL
# and process, the bytes on every transfer: level 5.
GZIP_LEVEL = 5
# How long a thread may hold the GIL while another waits for it (Python's default: 5 ms). The
# event loop shares the GIL with the thread pool's CSV, HTML and polygon pages: at 5 ms a cheap
# request waited several such turns behind two CSV pages (tests/perf/serving.py, section 4).
SWITCH_INTERVAL_S = 0.001


def settle_process() -> None:
    """What a serving process sets once its data is loaded: the GIL's switch interval, and every
    object made so far (the app, the dataset's Python objects) moved out of the garbage
    collector's reach (``gc.freeze``): a full collection walked them all, 20-30 ms with the
    bundled data, a stall of the event loop every so often, at every request's tail. Once per
    process (a test run starts many apps in one: only the first one's objects stay frozen)."""
    global _settled
    if _settled:
        return
    _settled = True
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()


_settled = False


def publish(app: FastAPI, ready: Served) -> None:
    """Serve ``ready`` from now on (the three attributes are set between two awaits: no request
    sees a mix)."""
    app.state.collections, app.state.stores, app.state.served = ready.collections, ready.stores, ready


async def follow_database(app: FastAPI, settings: Settings) -> None:
    """Every ``database_poll_s``, serve a new load of the database (its dataset version changed).
    The ETags and kept answers are keyed on the version, so they change with it."""
    from app.data import pg_store

    assert settings.database_url is not None
    connections = pg_store.pool(settings.database_url, settings.request_budget_s)
    while True:
        await asyncio.sleep(settings.database_poll_s)
        try:
            version = await run_in_threadpool(pg_store.version, connections)
            if version is not None and version != app.state.served.version:
                publish(app, await run_in_threadpool(pg_store.served_from, connections))
        except Exception as error:  # the database away for a while: keep serving what we have
            logging.getLogger("app.database").warning("could not check the database: %s", error)


async def follow_cache(app: FastAPI, settings: Settings) -> None:
    """Every ``database_poll_s``, serve the entry ``at-tanf-map load --cache-dir`` last made
    current in the cache, when it is of another dataset version (``app.served.newer``)."""
    from app.served import newer

    assert settings.cache_dir is not None
    while True:
        await asyncio.sleep(settings.database_poll_s)
        try:
            ready = await run_in_threadpool(newer, settings.cache_dir, app.state.served.version)
            if ready is not None:
                heavy, app.state.heavy = app.state.heavy, None  # its workers hold the old stores
                publish(app, ready)  # heavy pages now in the thread pool (app.heavy)
                if heavy is not None:
                    heavy.stop()
        except Exception as error:  # a damaged or removed entry: keep serving what we have
            logging.getLogger("app.cache").warning("could not read the cache's new load: %s", error)


class Service(FastAPI):
    """FastAPI, with the layers every request meets first run before the framework's own entry:
    the request log, the proxy and Host rules, and the kept answers (``front``). A replayed answer
    then costs those three layers and nothing else: not FastAPI's per-request telemetry check, not
    Starlette's error layer (measured in tests/perf/serving.py)."""

    front: ASGIApp | None = None
    table: RouteTable | None = None  # the routes dispatched without the framework (app.routing)
    lean: ASGIApp | None = None  # the middleware and the table, built on first use (from user_middleware)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.front is not None:
            scope["app"] = self
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Everything behind the front layers: the middleware and the table for the table's
        routes (``app.routing``), else FastAPI's entry, the middleware and its router."""
        table = self.table
        if table is not None and table.takes(scope):
            lean = self.lean
            if lean is None:
                lean = self.lean = table.behind(self.user_middleware)
            await lean(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, served: Served | None = None) -> Service:
    """Build the service. The data is loaded at start-up (or passed in, already built)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.install()  # the request log written by a thread, not the event loop
        ready = served or load_served(settings)
        # Publish everything at once, so no request ever sees a half-built state.
        publish(app, ready)
        settle_process()
        # Heavy pages made by forked workers, forked now: they share what was just loaded.
        app.state.heavy = (
            None if settings.database_url else HeavyWork.start(ready.stores, settings.heavy_workers)
        )
        follow = None
        if settings.database_url:
            follow = asyncio.create_task(follow_database(app, settings))
        elif settings.cache_dir:
            follow = asyncio.create_task(follow_cache(app, settings))
        yield
        if app.state.heavy is not None:
            app.state.heavy.stop()
        if follow is not None:
            follow.cancel()
            with suppress(asyncio.CancelledError):
                await follow

    app = Service(
        title="At Tanf zone map",
        version="0.1.0",
        description="Web map and REST API of the At Tanf de-confliction zone and the incidents around it.",
        lifespan=lifespan,
        openapi_url=None,  # served by app.api.openapi, with the API's public URL as its server
        docs_url=None,  # FastAPI's docs pages load scripts from a CDN; see app.api.openapi
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.heavy = None  # until the lifespan starts the heavy pages' workers (app.heavy)
    install_error_handlers(app)
    # Starlette runs the middleware added last first: headers, budget, CORS, methods,
    # HTTP caching, gzip, errors (behind the front layers, below). Every answer made in
    # here, errors included, passes the security headers and CORS.
    app.add_middleware(ProblemOnError)
    app.add_middleware(NegotiatedGZip, minimum_size=500, compresslevel=GZIP_LEVEL)
    app.add_middleware(HttpCaching, max_age_s=settings.cache_max_age_s)
    app.add_middleware(ReadingMethods)
    app.add_middleware(
        OpenCors,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=False,
        expose_headers=list(EXPOSED_HEADERS),
    )
    # Each request's work bounded in time and stopped when its client leaves (app.budget).
    app.add_middleware(WorkGuard, seconds=settings.request_budget_s)
    app.add_middleware(
        SecurityHeadersMiddleware, tile_url=settings.tile_url, embed_ancestors=settings.embed_frame_ancestors
    )
    # In front of the framework (Service): an error in any of these layers still a 500
    # problem+json with the headers every error carries; finished answers and /healthz replayed
    # as the whole stack sent them (app.api.answer_cache); else the log; exactly one Host
    # (RFC 9112 §3.2), then Host and forwarded headers settled before anything reads them (app.proxy).
    stack = RequestLog(HostRequired(proxy.install(app.framework, settings=settings)))
    app.front = ProblemOnError(AnswerCache.in_front_of(stack, settings), front=True)
    # The routes as FastAPI declares them (and the OpenAPI document says), dispatched by a lean
    # table in place of its router; what the table does not take goes on to the router.
    table = RouteTable(app.router.middleware_stack, app.exception_handlers)
    for router in (health.router, ogc.router, grid.router, locate.router, openapi.router, pages.router,
                   embed.router):  # fmt: skip
        app.include_router(router)
        table.include(router)
    app.router.middleware_stack = table
    app.table = table
    pages.mount_static(app)
    openapi.install_openapi(app, settings.default_limit, settings.max_limit)
    return app


app = create_app()
