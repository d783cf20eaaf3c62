"""What guarding against dead pooled connections costs a read of the PostGIS store, two ways,
alternated (A B A B) on one cluster (tests/postgres.py), with the bundled data:

- read again on failure (``app.data.pg_reach.read``, what the service does): nothing while the
  database is well;
- check on checkout (psycopg_pool's ``check=ConnectionPool.check_connection``): an empty
  statement, a round trip, before every statement.

Also ``/healthz`` in process, the PostGIS store's (a ``SELECT 1`` through the pool, off the event
loop) against the embedded store's (its kept answer), alternated; both through Starlette's
TestClient, whose own cost is in both. Run by hand: ``python -m tests.perf.pg_checkout [reads]``
(default 2000); prints wall and this process's CPU per read or request, and the machine's load.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from app.data.pg_load import load
from app.data.pg_reach import read
from app.data.pg_store import pool
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.postgres import cluster

ITEM = "SELECT fid, id, head FROM feature WHERE collection = %s AND id = %s"  # an item by its id
PARAMS = ("events", "2016-10-16-rukban-checkpoint-attack")


def _per_call_us(call: object, n: int) -> tuple[float, float]:
    """Wall and this process's CPU per call, µs."""
    assert callable(call)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        call()
    return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6


def main(n: int) -> None:
    os.environ.setdefault("AT_TANF_ALLOWED_HOSTS", "testserver")
    logging.getLogger("app.access").disabled = True
    with cluster() as pg:
        url = pg.database()
        load(BUNDLED_DATA, url)
        ours = pool(url)
        checked = ConnectionPool(url, max_size=8, open=True, check=ConnectionPool.check_connection,
                                 kwargs={"autocommit": True})  # fmt: skip
        ours.wait()
        checked.wait()
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
        for _round in range(3):
            for name, connections in (("read again on failure", ours), ("check on checkout", checked)):
                wall, cpu = _per_call_us(lambda c=connections: read(c, ITEM, PARAMS), n)
                print(f"{name:>22}: {wall:7.0f} µs wall, {cpu:6.0f} µs client CPU per read")
        checked.close()
        postgis = TestClient(create_app(Settings(data_dir=BUNDLED_DATA, database_url=url)))
        embedded = TestClient(create_app(Settings(data_dir=BUNDLED_DATA)))
        with (
            postgis,
            embedded,
        ):  # the embedded store's: its kept answer replayed (the TestClient's own cost in both)
            for _round in range(3):
                for name, client in (("PostGIS /healthz", postgis), ("embedded /healthz", embedded)):
                    wall, cpu = _per_call_us(lambda c=client: c.get("/healthz"), n // 4)
                    print(f"{name:>22}: {wall:7.0f} µs wall, {cpu:6.0f} µs CPU per request (in process)")
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
