"""Embedded store against PostGIS, side by side: per-query server time, load and pick-up times.

Run by hand (not part of the test run; needs Debian's postgresql and postgis):

    python -m tests.perf.pg_bench [sizes...]     # default: 0 (the bundled data) and 10000

Size 0 is the bundled dataset; any other a synthetic one (tests/perf/synthetic.py) written under
``test-artifacts/bench/pg-N``. A PostgreSQL cluster is started for the run (tests/postgres.py).
For each size: the time of a first ``at-tanf-map load`` (validate, derive, write, one
transaction), of a second one after one incident was edited (incremental: that incident derived
again), and the services' per-query time in process (no network; the answer cache off), p50 and
p95 of 30 requests after one warm-up, the two stores alternating request by request. The machine's
load (``uptime``) is printed with the figures.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.data.pg_load import load
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.perf.synthetic import write_dataset
from tests.postgres import cluster

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"
ITEMS = "/api/collections/events/items"
QUERIES = {
    "small bbox": f"{ITEMS}?bbox=38.5,33.4,38.7,33.6&limit=100",
    "datetime interval": f"{ITEMS}?datetime=2017-06-01/2017-06-30&limit=100",
    "item by id": "/api/collections/events/items/{id}",
    "limit=1000": f"{ITEMS}?limit=1000",
    "offset=2000": f"{ITEMS}?offset=2000&limit=100",
    "near 30 km": f"{ITEMS}?near=38.2,33.75&within_km=30&limit=100",
    "in_zone": f"{ITEMS}?in_zone=inside&limit=100",
    "CQL2 filter": f"{ITEMS}?filter=date_start >= DATE('2017-06-01') AND zone_status = 'inside'&limit=100",
}


def _p(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100)[int(q) - 1] if len(times) > 1 else times[0]


def main(sizes: list[int]) -> None:
    os.environ.setdefault("AT_TANF_ALLOWED_HOSTS", "testserver")
    logging.getLogger("app.access").disabled = True  # the request log, one line per request
    with cluster() as pg:
        for size in sizes:
            data = BUNDLED_DATA if size == 0 else write_dataset(ARTIFACTS / f"pg-{size}", size)
            url = pg.database()
            started = time.perf_counter()
            first = load(data, url)
            first_s = time.perf_counter() - started
            again_s = None
            if size:  # one incident edited: only it is derived again
                jsonl = sorted((data / "incidents").glob("*.jsonl"))[0]
                title = b'"Synthetic incident 5"'
                jsonl.write_bytes(jsonl.read_bytes().replace(title, title[:-1] + b' (edited)"', 1))
                started = time.perf_counter()
                again = load(data, url)
                again_s = time.perf_counter() - started
                assert again.derived == 1, again
            uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
            print(f"\n## {size or 'bundled'} ({first.derived} incidents), {uptime}")
            print(
                f"first load {first_s:.1f} s"
                + (f", after editing one incident {again_s:.2f} s" if again_s else "")
            )
            embedded = TestClient(create_app(Settings(data_dir=data, answer_cache_mb=0)))
            postgis = TestClient(create_app(Settings(database_url=url, answer_cache_mb=0)))
            with embedded, postgis:
                some_id = embedded.get(f"{ITEMS}?limit=1").json()["features"][0]["id"]
                print("| query | embedded p50 / p95 (ms) | PostGIS p50 / p95 (ms) | matched |")
                print("|---|---:|---:|---:|")
                for name, url_ in QUERIES.items():
                    path = url_.replace("{id}", some_id)
                    times: dict[str, list[float]] = {"e": [], "p": []}
                    bodies = {}
                    for client in (embedded, postgis):  # warm-up
                        client.get(path)
                    for _ in range(30):
                        for client, key in ((embedded, "e"), (postgis, "p")):
                            t = time.perf_counter()
                            r = client.get(path)
                            times[key].append((time.perf_counter() - t) * 1000)
                            assert r.status_code == 200, r.text[:200]
                            body = r.json()
                            absent = "not counted" if "features" in body else 1
                            bodies[key] = body.get("numberMatched", absent)
                    # PostGIS leaves numberMatched out past 500 matches (app.data.pg_store.COUNT_CAP)
                    assert bodies["p"] in (bodies["e"], "not counted"), (name, bodies)
                    e, p = times["e"], times["p"]
                    print(f"| {name} | {statistics.median(e):.1f} / {_p(e, 95):.1f} | "
                          f"{statistics.median(p):.1f} / {_p(p, 95):.1f} | {bodies['e']} |")  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [0, 10_000])
