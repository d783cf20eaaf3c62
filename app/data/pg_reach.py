"""Reaching the PostGIS store's database: ``reach`` before serving (one line when it cannot be
reached, in seconds), ``read`` for a request (a database away: ``Unavailable``, the service's 503
with Retry-After; a pooled connection that died with a restarted server: read again, once), and
the waits that bound how long anything waits on it."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from app import budget
from app.errors import Unavailable

CONNECT_TIMEOUT_S = 3  # libpq's connect_timeout (its least is 2): an address that never answers
POOL_WAIT_S = 3.0  # a request waits this long for a pooled connection before its 503
AWAY = "the database is not answering; try again shortly"
log = logging.getLogger("app.database")


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


def read(connections: ConnectionPool, text: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one read-only statement. A connection that fails (a server restarted since it
    was pooled, or stopped) is read through again once, after every idle connection is tested and
    the dead ones replaced (``ConnectionPool.check``): nothing is paid while the database is well.
    ``Unavailable`` when it still fails or no connection comes within ``POOL_WAIT_S``; the
    statement timeout past the request's budget is the budget's 503 (``app.budget``)."""
    for attempt in (1, 2):
        try:
            with connections.connection() as conn:
                return conn.execute(text, params).fetchall()
        except psycopg.errors.QueryCanceled:  # the statement timeout, past the request's budget
            budget.check()  # the request's 503
            raise
        except psycopg.OperationalError as error:  # PoolTimeout too
            if attempt == 2 or isinstance(error, PoolTimeout):
                log.warning("the database is not answering: %s", cause(error))
                raise Unavailable(AWAY) from None
            connections.check()
    raise AssertionError("unreachable")
