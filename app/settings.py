"""Service settings, read from ``AT_TANF_*`` environment variables and CLI flags.

Never read at import time: ``create_app(settings)`` receives them, so tests build an app per case.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.bundled import BUNDLED_DATA

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_HOST_PATTERN = re.compile(r"^(\*|(\*\.)?[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?)$")
_URL_PATH = re.compile(r"^[A-Za-z0-9._~/-]*$")
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
    # Serve from PostGIS (app.data.pg_store) instead of deriving data_dir in the process, e.g.
    # "postgresql://user@db.example/at_tanf"; filled by ``at-tanf-map load``. None: embedded store.
    database_url: str | None = None
    # How often the service asks the database for its dataset version (a new load), seconds.
    database_poll_s: float = Field(default=2.0, gt=0)
    # Who may frame /embed: "*" (any site), or origins separated by spaces, e.g.
    # "https://news.example https://*.news.example". Every other page: this site only.
    embed_frame_ancestors: str = "*"
    # Seconds of work a request may take before it is ended with a 503 (app.budget).
    request_budget_s: float = Field(default=10.0, gt=0)
    # Finished API answers kept per worker process (app.api.answer_cache), in MB of bodies; 0: none.
    answer_cache_mb: int = Field(default=64, ge=0)
    # Processes per worker that make CSV, HTML and polygon pages (app.heavy); 0: the thread pool.
    heavy_workers: int = Field(default=1, ge=0)
    # Where readers reach the service, e.g. "https://maps.example.org/tanf/": every link is built
    # from it, whatever Host or forwarded headers a request carries (app.proxy, app.urls).
    public_url: str | None = None
    # Host names a request may carry (without public_url, links are built from the Host): names,
    # "*.example.org", or "*" for any. Empty: this machine's loopback names (and public_url's host
    # when given; with public_url the Host is checked only if this is set).
    allowed_hosts: Annotated[list[str], NoDecode] = []
    # Addresses of the proxies whose X-Forwarded-Proto/-For/-Prefix are believed: IPs, networks
    # (10.0.0.0/8) or "*". Empty: nobody's.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []

    @field_validator("allowed_hosts", "forwarded_allow_ips", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """``a,b`` (a flag or an environment variable) as a list; lists as they are."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                "public_url: an http(s) URL with a host and no query, e.g. https://maps.example.org/tanf/"
            )
        if not _URL_PATH.match(parts.path):
            raise ValueError("public_url: its path may hold only letters, digits and - . _ ~ /")
        return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}/"

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _HOST_PATTERN.match(host):
                raise ValueError(f"allowed_hosts: {host[:80]!r} is not a host name, '*.name' or '*'")
        return [host.lower().strip("[]") for host in value]

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _ips(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(
                        f"forwarded_allow_ips: {item[:80]!r} is not an address or network"
                    ) from None
        return value

    def effective_allowed_hosts(self) -> list[str] | None:
        """The Host patterns requests are checked against; None: not checked (public_url given
        and no allowed_hosts)."""
        if self.allowed_hosts:
            return self.allowed_hosts
        if self.public_url:
            return None
        return list(LOOPBACK_HOSTS)

    # What one connection may hold (app.server): request line and headers at most this many
    # bytes (beyond: 431), sent within this many seconds of connecting or of the previous answer
    # (beyond: 408 and closed); an idle keep-alive connection is closed after idle_timeout_s.
    max_header_bytes: int = Field(default=32 * 1024, ge=4096, le=1024 * 1024)
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    idle_timeout_s: float = Field(default=5.0, gt=0, le=300)

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
