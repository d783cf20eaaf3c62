"""This service against its peers over HTTP, on the same PostGIS tables, alternated in one run
(issue 19, part 3): **tipg** (OGC API - Features straight from PostGIS tables and views) and
**pygeoapi** with its PostgreSQL provider and with its GeoPackage provider (``SQLiteGPKG``) on the
same events exported from the database with ``ogr2ogr``. Run by hand, never in CI.

The peers live in a venv of their own, so their pins never touch the project's environment:

    /usr/bin/python3 -m venv /tmp/peers-venv2
    /tmp/peers-venv2/bin/pip install tipg==1.6.1 pygeoapi==0.21.0 uvicorn geoalchemy2 psycopg2-binary

(Debian's Python, because pygeoapi's GeoPackage provider loads SpatiaLite, Debian's
``libsqlite3-mod-spatialite``, into ``sqlite3``, which a Python built without
``enable_load_extension`` cannot; the export needs GDAL's ``ogr2ogr``). Then, with the databases of
``tests/perf/pg_scale.py`` built:

    python -m tests.perf.peers 1000000 [ROUNDS] [VENV] [ONLY]   # ROUNDS: 20, VENV: /tmp/peers-venv2

``ONLY``: the names of the queries to run, comma-separated (``"item by id,limit=1000"``), to re-time
the closest ratios without the peers' seconds-long counts; all of ``QUERIES`` by default.

Each server is started as a real HTTP server on 127.0.0.1 with one worker process (this service:
``at-tanf-map serve --database-url URL --workers 1 --answer-cache-mb 0``, so every request queries
the database; tipg and pygeoapi under uvicorn). tipg and pygeoapi's PostgreSQL provider read the
``events`` view (``app/data/pg_schema.py``: typed columns over the ``feature`` table), with ``id``
as key and ``date_start`` as time column. For every query the servers take turns request by
request, ``ROUNDS`` times after one warm-up each, each round begun by the next server in turn
(the request after a slow one, such as the GeoPackage provider's 5 s item, finds the caches
cold: in a fixed order this service always paid it); the table gives the client-side latency p50 and
p95 (HTTP/1.1 keep-alive, gzip accepted, the body read) and the CPU per request of the server
process and of the PostgreSQL backends, from ``/proc`` (utime + stime; 10 ms ticks, so only the
mean over all rounds is meaningful). ``uptime`` is printed before and after.

Before the timing, a check: every server is asked each query in this service's order
(``sortby=date_start,id`` for the peers, the order this service pages in) and the ``numberMatched``
and the ids of the page are compared with this service's; the differences are printed (the
peers' own semantics: see ``docs/scale-out.md``). The timed requests use each server's own
default order (tipg and pygeoapi: by ``id``), as a client that does not ask for one gets.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.perf.pg_scale import PORT, uptime, url

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
ITEM = "syn5-0004242"
FILTER = "date_start >= DATE('2017-06-01') AND zone_status = 'inside'"
# name: (this service's query, the peers' query or None where they cannot express it)
QUERIES: dict[str, tuple[str, str | None]] = {
    "small bbox": ("?bbox=38.5,33.4,38.7,33.6&limit=100", "?bbox=38.5,33.4,38.7,33.6&limit=100"),
    "datetime interval": ("?datetime=2017-06-01/2017-06-30&limit=100",  # tipg takes RFC 3339 only
                          "?datetime=2017-06-01T00:00:00Z/2017-06-30T23:59:59Z&limit=100"),
    "item by id": (f"/{ITEM}", f"/{ITEM}"),
    "limit=1000": ("?limit=1000", "?limit=1000"),
    "offset=2000": ("?offset=2000&limit=100", "?offset=2000&limit=100"),
    "offset=100000": ("?offset=100000&limit=100", "?offset=100000&limit=100"),
    # The page at 100000 as a client following next links asks for it: ours carries the previous
    # page's last id (keyset; filled in by ``run``), the peers' next links carry the offset alone.
    "next link at 100000": ("?offset=100000&limit=100&after={after}", "?offset=100000&limit=100"),
    "near 30 km": ("?near=38.2,33.75&within_km=30&limit=100", None),
    "in_zone": ("?in_zone=inside&limit=100", "?zone_status=inside&limit=100"),
    "CQL2 filter": (f"?filter={FILTER}&limit=100", f"?filter={FILTER}&filter-lang=cql2-text&limit=100"),
}  # fmt: skip
GPKG_CANNOT = {"CQL2 filter"}  # pygeoapi's SQLiteGPKG provider has no CQL2


@dataclass
class Server:
    name: str
    base: str  # the events collection's items URL
    suffix: str  # added to every query (the output format)
    pid: int = 0
    sorted_by: str = ""  # asks for this service's order (the check)
    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # [server ms, database ms]
    statuses: dict[str, set[int]] = field(default_factory=dict)


def _ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def _database_ticks(postmaster: int) -> int:
    total = 0
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        try:
            total += _ticks(int(child))
        except FileNotFoundError:
            pass
    return total


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        if proc.poll() is not None:
            raise RuntimeError(f"{base}: the server exited ({proc.returncode})")
        try:
            if httpx.get(base.rsplit("/collections", 1)[0] + "/", timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base}: not up after 10 minutes")


def _gpkg(size: int, work: Path) -> Path:
    """The events exported to a GeoPackage by ``ogr2ogr`` (kept beside the cluster), with an index
    on ``id`` as a GeoPackage for serving by id would have."""
    from tests.perf.pg_scale import HOME

    gpkg = HOME / f"events-{size}.gpkg"
    if not gpkg.exists():
        started = time.perf_counter()
        part = work / "events.gpkg"
        source = f"PG:host=127.0.0.1 port={PORT} user=postgres dbname=n{size}"
        subprocess.run(["ogr2ogr", "-f", "GPKG", part, source, "events", "-nln", "events"], check=True)
        subprocess.run(["ogrinfo", part, "-sql", "CREATE UNIQUE INDEX events_id ON events (id)"],
                       check=True, capture_output=True)  # fmt: skip
        part.rename(gpkg)
        print(f"ogr2ogr: {gpkg.stat().st_size / 2**20:.0f} MB in {time.perf_counter() - started:.0f} s")
    return gpkg


PYGEOAPI = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: 'http://127.0.0.1/{{z}}/{{x}}/{{y}}.png', attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                   terms_of_service: none, url: 'http://127.0.0.1'}}
  license: {{name: none, url: 'http://127.0.0.1'}}
  provider: {{name: bench, url: 'http://127.0.0.1'}}
  contact: {{name: bench}}
resources:
  events:
    type: collection
    title: events
    description: events
    keywords: [events]
    extents: {{spatial: {{bbox: [-180, -90, 180, 90], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: 127.0.0.1, port: {pg_port}, dbname: n{size}, user: postgres, password: '',
               search_path: [public]}}
        id_field: id
        table: events
        geom_field: geom
        time_field: date_start
  events_gpkg:
    type: collection
    title: events (GeoPackage)
    description: events
    keywords: [events]
    extents: {{spatial: {{bbox: [-180, -90, 180, 90], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}}}
    providers:
      - type: feature
        name: SQLiteGPKG
        data: {gpkg}
        id_field: id
        table: events
"""


def start_servers(size: int, venv: Path, work: Path) -> tuple[list[Server], list[subprocess.Popen[bytes]]]:
    database = url(size)
    env = {**os.environ, "AT_TANF_ALLOWED_HOSTS": "127.0.0.1"}
    ours = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "18501", "--database-url", database,
         "--workers", "1", "--answer-cache-mb", "0", "--tile-url", ""], env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    tipg_env = {
        **os.environ, "DATABASE_URL": database, "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_TABLE_CONFIG__public_events__pk": "id",
        "TIPG_TABLE_CONFIG__public_events__datetimecol": "date_start",
        "TIPG_TABLE_CONFIG__public_events__geomcol": "geom",
    }  # fmt: skip
    uvicorn = [
        str(venv / "bin" / "uvicorn"),
        "--host",
        "127.0.0.1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    tipg = subprocess.Popen([*uvicorn, "--port", "18502", "tipg.main:app"], env=tipg_env)
    config, openapi = work / "pygeoapi.yml", work / "openapi.yml"
    config.write_text(PYGEOAPI.format(port=18503, pg_port=PORT, size=size, gpkg=_gpkg(size, work)))
    geo_env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    try:
        subprocess.run([venv / "bin" / "pygeoapi", "openapi", "generate", config, "--output-file", openapi],
                       env=geo_env, check=True, capture_output=True)  # fmt: skip
    except subprocess.CalledProcessError as exc:
        for proc in (ours, tipg):
            proc.terminate()
        raise RuntimeError(exc.stderr.decode()[-2000:]) from exc
    pygeoapi = subprocess.Popen([*uvicorn, "--port", "18503", "pygeoapi.starlette_app:APP"], env=geo_env)
    procs = [ours, tipg, pygeoapi]
    servers = [
        Server("this service", "http://127.0.0.1:18501/api/collections/events/items", "", ours.pid),
        Server("tipg", "http://127.0.0.1:18502/collections/public.events/items", "&f=geojson", tipg.pid,
               "&sortby=date_start,id"),
        Server("pygeoapi PostgreSQL", "http://127.0.0.1:18503/collections/events/items", "&f=json",
               pygeoapi.pid, "&sortby=date_start,id"),
        Server("pygeoapi GeoPackage", "http://127.0.0.1:18503/collections/events_gpkg/items", "&f=json",
               pygeoapi.pid, "&sortby=date_start,id"),
    ]  # fmt: skip
    for server, proc in zip(servers, [*procs, pygeoapi], strict=True):
        _wait(server.base, proc)
    return servers, procs


def request(server: Server, name: str, sort: bool = False) -> str | None:
    ours, theirs = QUERIES[name]
    query = ours if server.name == "this service" else theirs
    if query is None or (server.name.endswith("GeoPackage") and name in GPKG_CANNOT):
        return None
    if query.startswith("/"):
        return server.base + query + "?" + server.suffix.lstrip("&")
    return server.base + query + server.suffix + (server.sorted_by if sort else "")


def check(servers: list[Server], clients: list[httpx.Client]) -> None:
    """Each server's numberMatched and page ids against this service's, in this service's order."""
    print("\n### Same features? (numberMatched; ids of the page, in this service's order)\n")
    print("| query | " + " | ".join(s.name for s in servers) + " |")
    print("|---|" + "---|" * len(servers))
    for name in QUERIES:
        cells, reference = [], None
        for server, client in zip(servers, clients, strict=True):
            target = request(server, name, sort=True)
            if target is None:
                cells.append("cannot express")
                continue
            r = client.get(target)
            if r.status_code != 200:
                cells.append(f"HTTP {r.status_code}: {r.text[:80]!r}")
                continue
            body = r.json()
            ids = [f["id"] for f in body.get("features", [body])]
            matched = body.get("numberMatched", "absent")
            if reference is None:
                reference = (matched, ids)
                cells.append(f"{matched} matched, {len(ids)} returned")
                continue
            same = "same ids" if ids == reference[1] else (
                "same ids, other order" if sorted(ids) == sorted(reference[1])
                else f"{len(set(ids) & set(reference[1]))} of {len(reference[1])} ids in common")  # fmt: skip
            cells.append(f"{matched} matched, {len(ids)} returned, {same}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def run(size: int, rounds: int, venv: Path) -> None:
    postmaster = int((Path(__file__).resolve().parents[2] / "test-artifacts" / "bench" / "pg-scale"
                      / "cluster" / "postmaster.pid").read_text().split()[0])  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        servers, procs = start_servers(size, venv, Path(tmp))
        clients = [httpx.Client(timeout=300) for _ in servers]
        try:
            print(f"\n## {size} incidents, {rounds} rounds; before: {uptime()}")
            if "next link at 100000" in QUERIES:
                before = clients[0].get(f"{servers[0].base}?offset=99900&limit=100").json()
                after = next(link["href"] for link in before["links"] if link["rel"] == "next")
                after = after.split("after=")[1]
                ours, theirs = QUERIES["next link at 100000"]
                QUERIES["next link at 100000"] = (ours.replace("{after}", after), theirs)
            check(servers, clients)
            for name in QUERIES:
                targets = [request(s, name) for s in servers]
                slow = False
                for target, client in zip(targets, clients, strict=True):
                    if target is not None:
                        t = time.perf_counter()
                        client.get(target)  # warm-up
                        slow = slow or time.perf_counter() - t > 2
                for k in range(3 if slow else rounds):
                    turns = list(zip(servers, clients, targets, strict=True))
                    for server, client, target in turns[k % len(turns) :] + turns[: k % len(turns)]:
                        if target is None:
                            continue
                        cpu0, db0 = _ticks(server.pid), _database_ticks(postmaster)
                        t = time.perf_counter()
                        r = client.get(target)
                        server.times.setdefault(name, []).append((time.perf_counter() - t) * 1000)
                        cpu = [
                            (_ticks(server.pid) - cpu0) * TICK_MS,
                            (_database_ticks(postmaster) - db0) * TICK_MS,
                        ]
                        server.cpu.setdefault(name, []).append(cpu)  # type: ignore[arg-type]
                        server.statuses.setdefault(name, set()).add(r.status_code)
            report(servers)
            print(f"\nafter: {uptime()}")
        finally:
            for client in clients:
                client.close()
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(30)


def report(servers: list[Server]) -> None:
    print("\n### Latency over HTTP, p50 / p95 ms (ratio: the peer's p50 over this service's); "
          "CPU per request, ms: server process + PostgreSQL\n")  # fmt: skip
    print("| query | " + " | ".join(s.name for s in servers) + " |")
    print("|---|" + "---:|" * len(servers))
    for name in QUERIES:
        cells = []
        ours = statistics.median(servers[0].times[name])
        for server in servers:
            times = server.times.get(name)
            if not times:
                cells.append("—")
                continue
            p50 = statistics.median(times)
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 3 else max(times)
            app = statistics.fmean(c[0] for c in server.cpu[name])
            db = statistics.fmean(c[1] for c in server.cpu[name])
            ratio = "" if server is servers[0] else f" (×{p50 / ours:.2f})"
            bad = sorted(server.statuses[name] - {200})
            status = f" HTTP {bad}" if bad else ""
            cells.append(f"{p50:.1f} / {p95:.1f}{ratio}; CPU {app:.0f} + {db:.0f}{status}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) > 3:
        only = args[3].split(",")
        unknown = sorted(set(only) - QUERIES.keys())
        assert not unknown, f"no such queries: {unknown}; known: {list(QUERIES)}"
        for name in set(QUERIES) - set(only):
            del QUERIES[name]
    run(int(args[0]) if args else 1_000_000, int(args[1]) if len(args) > 1 else 20,
        Path(args[2] if len(args) > 2 else "/tmp/peers-venv2"))  # fmt: skip
