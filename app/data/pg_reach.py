"""Reaching the PostGIS store's database: ``reach`` before serving (one line when it cannot be
reached, in seconds), and the waits that bound how long anything waits on it."""

from __future__ import annotations

import os

import psycopg
from psycopg.conninfo import conninfo_to_dict

CONNECT_TIMEOUT_S = 3  # libpq's connect_timeout (its least is 2): an address that never answers
POOL_WAIT_S = 3.0  # a request waits this long for a pooled connection before its 503


def where(url: str) -> str:
    """``HOST:PORT`` the URL names (libpq's environment and defaults where it names none)."""
    params = conninfo_to_dict(url)
    host = params.get("host") or os.environ.get("PGHOST") or "the local socket"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    return f"{host}:{port}"


def cause(error: psycopg.Error) -> str:
    """libpq's reason in one line: ``Connection refused``, ``FATAL: database "x" does not exist``."""
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return " ".join(first.rsplit(" failed: ", 1)[-1].split())


def reach(url: str) -> None:
    """Connect to the database once, within ``CONNECT_TIMEOUT_S``; ``LookupError`` (one line,
    naming where and why) if it cannot."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S):
            pass
    except psycopg.Error as error:
        raise LookupError(f"cannot reach the database at {where(url)}: {cause(error)}") from None
