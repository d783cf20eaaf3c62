"""Service settings, read from ``AT_TANF_*`` environment variables and CLI flags.

Never read at import time: ``create_app(settings)`` receives them, so tests build an app per case.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.bundled import BUNDLED_DATA

_SOURCE = re.compile(r"^(\*|'self'|https?://(\*\.)?[a-z0-9.-]+(:\d+)?)$", re.IGNORECASE)


def _is_source(text: str) -> bool:
    return bool(_SOURCE.match(text))


__all__ = ["BUNDLED_DATA", "Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AT_TANF_", extra="ignore", env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = BUNDLED_DATA
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    default_limit: int = Field(default=100, ge=1)
    max_limit: int = Field(default=1000, ge=1)
    cache_max_age_s: int = Field(default=300, ge=0)
    # Where derived data is cached between starts (app.data.cache); None: derive at every start.
    # Worth it for large datasets: the bundled one derives in a fraction of a second.
    cache_dir: Path | None = None
    # Who may frame /embed: "*" (any site), or origins separated by spaces, e.g.
    # "https://news.example https://*.news.example". Every other page: this site only.
    embed_frame_ancestors: str = "*"

    @field_validator("embed_frame_ancestors")
    @classmethod
    def _ancestors(cls, value: str) -> str:
        sources = value.split()
        if not sources or any(not _is_source(s) for s in sources):
            raise ValueError("embed_frame_ancestors: '*' or space-separated http(s) origins")
        return " ".join(sources)

    @model_validator(mode="after")
    def _limits(self) -> Settings:
        if self.default_limit > self.max_limit:
            raise ValueError("default_limit must not exceed max_limit")
        return self
