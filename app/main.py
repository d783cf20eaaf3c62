"""The application factory: ``create_app(settings)``, and ``app`` for ``uvicorn app.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import health
from app.data.catalog import Catalog, build_catalog
from app.data.loader import load_dataset
from app.errors import install_error_handlers
from app.settings import Settings


def load_catalog(settings: Settings) -> Catalog:
    """Load and derive the data directory; raises ``DataError`` naming every problem."""
    return build_catalog(load_dataset(settings.data_dir))


def create_app(settings: Settings | None = None, catalog: Catalog | None = None) -> FastAPI:
    """Build the service. The data is loaded at start-up (or passed in, already built)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.catalog = catalog or load_catalog(settings)
        yield

    app = FastAPI(
        title="At Tanf zone map",
        version="0.1.0",
        description="Web map and REST API of the At Tanf de-confliction zone (2016-2018).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    return app


app = create_app()
