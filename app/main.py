"""The application factory: ``create_app(settings)``, and ``app`` for ``uvicorn app.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from app.api import health, locate, ogc, openapi
from app.api.caching import CachingMiddleware
from app.api.features import CollectionRows, build_collections
from app.data.cache import cached
from app.data.catalog import Catalog, build_catalog
from app.data.loader import dataset_version, load_dataset
from app.data.store import FeatureStore, link_regions
from app.errors import install_error_handlers
from app.middleware import HeadAsGet, ReadingMethodsOnly, RequestLog
from app.settings import Settings
from app.web import embed, pages
from app.web.headers import SecurityHeadersMiddleware


@dataclass(frozen=True)
class Served:
    """Everything the routes read, built once: the catalog, the collections, their stores."""

    catalog: Catalog
    collections: dict[str, CollectionRows]
    stores: dict[str, FeatureStore]


def load_catalog(settings: Settings, version: str | None = None) -> Catalog:
    """Load and derive the data directory; raises ``DataError`` naming every problem."""
    return build_catalog(load_dataset(settings.data_dir, version))


def build_served(settings: Settings, version: str | None = None) -> Served:
    catalog = load_catalog(settings, version)
    collections = build_collections(catalog)
    stores = {cid: FeatureStore.from_rows(c.rows) for cid, c in collections.items()}
    link_regions(stores["events"], stores["regions"])
    # The stores hold the features now; the rows they were built from can go.
    described = {cid: replace(c, rows=[]) for cid, c in collections.items()}
    return Served(catalog, described, stores)


def load_served(settings: Settings) -> Served:
    """``build_served``, through the on-disk cache when one is configured (app.data.cache)."""
    cache_dir = settings.cache_dir
    if cache_dir is None:
        return build_served(settings)
    # Resolved once: a data symlink switched meanwhile cannot give the key and the data apart.
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    version = dataset_version(settings.data_dir)  # hashed once, for the key and the data alike
    return cached(cache_dir, version, lambda: build_served(settings, version))


def create_app(settings: Settings | None = None, served: Served | None = None) -> FastAPI:
    """Build the service. The data is loaded at start-up (or passed in, already built)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ready = served or load_served(settings)
        # Publish everything at once, so no request ever sees a half-built state.
        app.state.collections, app.state.stores, app.state.catalog = (
            ready.collections, ready.stores, ready.catalog,
        )  # fmt: skip
        yield

    app = FastAPI(
        title="At Tanf zone map",
        version="0.1.0",
        description="Web map and REST API of the At Tanf de-confliction zone (2016-2018).",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # FastAPI's docs pages load scripts from a CDN; see app.api.openapi
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Starlette runs the middleware added last first: log, CORS, methods, HEAD, gzip, headers, cache.
    app.add_middleware(CachingMiddleware, max_age_s=settings.cache_max_age_s)
    app.add_middleware(
        SecurityHeadersMiddleware, tile_url=settings.tile_url, embed_ancestors=settings.embed_frame_ancestors
    )
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=5)
    app.add_middleware(HeadAsGet)
    app.add_middleware(ReadingMethodsOnly)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=False,
        expose_headers=["ETag", "X-Dataset-Version"],
    )
    app.add_middleware(RequestLog)
    app.include_router(health.router)
    app.include_router(ogc.router)
    app.include_router(locate.router)
    app.include_router(openapi.router)
    app.include_router(pages.router)
    app.include_router(embed.router)
    pages.mount_static(app)
    openapi.install_openapi(app, settings.default_limit, settings.max_limit)
    return app


app = create_app()
