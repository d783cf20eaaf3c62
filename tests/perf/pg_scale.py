"""PostGIS at 100,000 and 1,000,000 incidents: how the databases are made, and the store's
per-query server time on them (issue 19, part 1). Run by hand, never in CI.

    nice -n 15 python -m tests.perf.pg_scale build      # the cluster and databases (once; long)
    python -m tests.perf.pg_scale bench 100000 1000000   # per-query server time, p50 / p95
    python -m tests.perf.pg_scale grid 1000000           # the same for the grid (``GRID_QUERIES``)
    python -m tests.perf.pg_scale pages 1000000          # the map page, the embed and its SVG (``PAGES``)
    python -m tests.perf.pg_scale edit                   # one incident of 100k edited: served when?
    python -m tests.perf.pg_scale rehash 100000          # after a model change: hashes, not derived
    python -m tests.perf.pg_scale url 1000000            # the database's URL (tests/perf/peers.py)
    python -m tests.perf.pg_scale stop                   # stop the cluster (it is kept between runs)

**How the sizes are made.** Deriving claim regions is the slow part of a load (10,000 synthetic
incidents take minutes on this machine), so only a base of ``BASE`` synthetic incidents
(``tests/perf/synthetic.py``) is loaded the real way, with ``at-tanf-map load``. The 100k and 1M
databases are copies of it in which the base's events and regions are repeated ``size / BASE``
times inside the database, every copy's ids renamed (``syn-`` becomes ``synK-`` in the id, the
owning incident, the sort key, the GeoJSON, the properties and the search text), as
``tests/perf/replicate.py`` does for the embedded store. Geometry, dates, types and zone statuses
are the base's: every filter is exactly as selective as on the base (a small bbox matching 1 % of
the base matches 1 % of the copy, with ``size / BASE`` times as many features, each location
repeated). The 100k database also gets a data directory holding the same renamed incidents and
the records' keys a real load would have stored, so ``edit`` runs a real incremental
``at-tanf-map load`` on it; the 1M database has no data directory (and no ``record`` rows: a load
into it would derive everything again).

**What ``bench`` measures**: the service's answer time in process (``TestClient``, no network, the
answer cache off, so every request queries the database), p50 and p95 of 30 requests after one
warm-up (3 when the warm-up took over 2 s; the p95 is then their maximum), for the queries
in ``QUERIES`` (``limit=100`` unless named). The machine's load
(``uptime``) is printed with the figures, and each answer's ``numberMatched`` and ``ids``: the first
12 hex digits of the SHA-256 of its features' ids joined by newlines, so that two runs (old code
and new) can be seen to give the same answers. The cluster runs as in the tests (``fsync=off``), with
PostgreSQL's default settings otherwise (``shared_buffers`` 128 MB).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from app.data import files
from app.data.cache import code_fingerprint
from app.data.derive import record_keys
from app.data.loader import load_dataset
from app.data.pg_schema import DDL, SCHEMA_VERSION
from tests.perf import pg_bench
from tests.perf.synthetic import write_dataset
from tests.postgres import _bin_dir, _run_as

HOME = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench" / "pg-scale"
PORT = 54329
BASE = 10_000
SIZES = (100_000, 1_000_000)
# The side-by-side's queries (tests/perf/pg_bench.py), and a deep offset.
# A deep offset inside both sizes (100k's offset=100000 was past its end), and the same page by the
# next link of the page before it (keyset: ``after``, the previous page's last id).
DEEP = f"{pg_bench.ITEMS}?offset=90000&limit=100"
QUERIES = {**pg_bench.QUERIES, "offset=90000": DEEP, "next link at 90000": DEEP + "&after={after}"}
# The map's grid, counted in the database (``Store.tally``, ``cells``). The map's first view asks
# level 0 (the dataset in a few numbers), then the view's cells: at 1440x900 the zone at zoom 8.5
# (static/js/view-data.js: level 10, the view's bbox grown by a quarter to whole tiles).
GRID = "/api/collections/events/grid?level="
GRID_QUERIES = {
    "grid level 0 (first view)": f"{GRID}0",
    "grid level 10, first view's bbox": f"{GRID}10&bbox=35.156250,30.751278,42.187500,36.597889",
    "grid small bbox": f"{GRID}8&bbox=38.5,33.4,38.7,33.6",
    "grid one month": f"{GRID}4&datetime=2017-06-01/2017-06-30",
    "grid in_zone": f"{GRID}4&in_zone=inside",
}
# The pages whose words count what the view shows (the summary sentence, the key) and the
# server's drawing of the first view (``Store.tally``, ``cells``, a page of the frame's markers).
PAGES = {"map page /": "/", "embed page": "/embed", "embed SVG (first view)": "/embed/map.svg",
         "embed SVG, zoom 9, inside": "/embed/map.svg?v=33.5,38.6,9&status=inside"}  # fmt: skip
# Every column whose text holds an incident's id (renamed in each copy).
RENAMED = ("id", "incident", "sort_id", "head", "text")


def url(size: int) -> str:
    return f"postgresql://postgres@127.0.0.1:{PORT}/n{size}"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def start() -> None:
    """The kept cluster under ``HOME`` running on ``PORT`` (made on first use)."""
    bin_dir = _bin_dir()
    assert bin_dir is not None, "apt-get install postgresql postgis"
    user = "nobody" if os.geteuid() == 0 else None
    as_user = _run_as(user)
    data = HOME / "cluster"
    if not data.exists():
        HOME.mkdir(parents=True, exist_ok=True)
        data.mkdir()
        if user is not None:
            for path in (HOME.parent.parent, HOME.parent, HOME, data):
                os.chmod(path, 0o755)
            shutil.chown(data, user)
        subprocess.run([bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, capture_output=True, **as_user)  # type: ignore[call-overload]  # fmt: skip
    if subprocess.run([bin_dir / "pg_ctl", "-D", data, "status"], capture_output=True, **as_user).returncode:  # type: ignore[call-overload]
        options = f"-h 127.0.0.1 -p {PORT} -k /tmp -c fsync=off -c full_page_writes=off"
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", data / "log", "-w", "start"],
                       check=True, capture_output=True, **as_user)  # type: ignore[call-overload]  # fmt: skip


def stop() -> None:
    bin_dir = _bin_dir()
    assert bin_dir is not None
    user = "nobody" if os.geteuid() == 0 else None
    subprocess.run([bin_dir / "pg_ctl", "-D", HOME / "cluster", "-m", "fast", "stop"], **_run_as(user))  # type: ignore[call-overload]


def _admin(sql: str) -> None:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{PORT}/postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # names made here


def build_base() -> None:
    """``BASE`` synthetic incidents loaded the real way (``at-tanf-map load``), timed."""
    data = write_dataset(HOME / f"data-{BASE}", BASE)
    _admin(f"DROP DATABASE IF EXISTS n{BASE}")
    _admin(f"CREATE DATABASE n{BASE}")
    with psycopg.connect(url(BASE), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    print(uptime(), flush=True)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "app", "load", str(data), "--database-url", url(BASE)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    print(f"base {BASE}: {run.stdout.strip()} in {time.perf_counter() - started:.0f} s; {uptime()}")


def replicated_data(size: int) -> Path:
    """The base's data directory with its incidents repeated, ids renamed as in the database."""
    base, target = HOME / f"data-{BASE}", HOME / f"data-{size}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target)
    lines = (base / "incidents" / "synthetic-000.jsonl").read_bytes().splitlines(keepends=True)
    with (target / "incidents" / "synthetic-000.jsonl").open("wb") as out:
        for k in range(size // BASE):
            new = b"syn-" if k == 0 else f"syn{k}-".encode()
            out.writelines(line.replace(b'"syn-', b'"' + new) for line in lines)
    return target


def build_size(size: int) -> None:
    """The ``size`` database: a copy of the base with its features repeated in SQL (see above)."""
    times = size // BASE
    started = time.perf_counter()
    _admin(f"DROP DATABASE IF EXISTS n{size}")
    _admin(f"CREATE DATABASE n{size} TEMPLATE n{BASE}")
    with psycopg.connect(url(size)) as conn, conn.transaction():
        columns = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'feature'::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attname <> 'fid' ORDER BY attnum").fetchall()]  # fmt: skip
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'feature' "
            "AND indexname <> 'feature_pkey'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")  # type: ignore[arg-type]  # names from the catalogue
        select = ", ".join(
            f"replace({c}, 'syn-', 'syn' || k || '-')" if c in RENAMED
            else f"replace({c}::text, 'syn-', 'syn' || k || '-')::jsonb" if c == "props" else c
            for c in columns
        )  # fmt: skip
        conn.execute(
            f"INSERT INTO feature ({', '.join(columns)}) SELECT {select} FROM feature, "  # type: ignore[arg-type]
            f"generate_series(1, {times - 1}) AS k WHERE incident IS NOT NULL"
        )
        copied = time.perf_counter() - started
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("UPDATE dataset SET version = %s", (f"replicated-{times}x",))
        conn.execute("DELETE FROM record")  # a load into it would read and derive every record
        if size <= 100_000:  # a data directory to load edits from, with its records' keys
            replicated_data(size)
            _rehash(conn, size)
    with psycopg.connect(url(size), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        rows = conn.execute("SELECT collection, count(*) FROM feature GROUP BY 1 ORDER BY 1").fetchall()
        mb = conn.execute("SELECT pg_database_size(current_database()) / 2^20").fetchone()
    indexed = time.perf_counter() - started - copied
    print(f"n{size}: {rows}, {mb[0] if mb else 0:.0f} MB; copied in {copied:.0f} s, "
          f"indexed and analysed in {indexed:.0f} s; {uptime()}", flush=True)  # fmt: skip


def _rehash(conn: psycopg.Connection[Any], size: int) -> None:
    """The records a real load of ``data-SIZE`` would store (table ``record``), without deriving:
    the rows are the base's, renamed."""
    data = HOME / f"data-{size}"
    scan = files.scan(data, 1)
    dataset = load_dataset(data, scan)
    incident_of = {chunk: incident for incident, chunk in dataset.incident_chunks.items()}
    cited = {inc.id: sorted({c.source for c in inc.sources}) for inc in dataset.incidents}
    conn.execute("DELETE FROM record")
    with conn.cursor().copy("COPY record (key, incident, cited) FROM STDIN") as copy:
        chunks = [chunk for part in scan.parts for chunk in part.chunks]
        for key, chunk in dict(zip(record_keys(scan, code_fingerprint()), chunks, strict=True)).items():
            copy.write_row((key, incident_of.get(chunk), cited.get(incident_of.get(chunk, ""), [])))
    conn.execute("UPDATE dataset SET version = %s, schema = %s", (scan.version, SCHEMA_VERSION))


def rehash(size: int) -> None:
    """After a change of the incident model or of the load's schema, the records of the ``size``
    database again those of its data directory, so that ``edit`` re-derives one incident, not all
    of them (the derived rows are kept: they lack what a new field adds, which no bench reads)."""
    with psycopg.connect(url(size)) as conn, conn.transaction():
        conn.execute("DROP TABLE IF EXISTS incident_hash, chunk")  # schema 4's
        conn.execute(DDL)  # the tables a newer schema adds
        _rehash(conn, size)


def bench(size: int, queries: dict[str, str] = QUERIES) -> None:
    from fastapi.testclient import TestClient

    from app.export import svg
    from app.main import create_app
    from app.settings import Settings

    os.environ.setdefault("AT_TANF_ALLOWED_HOSTS", "testserver")
    logging.getLogger("app.access").disabled = True
    svg._drawings.max_entries = 0  # every drawing drawn, none kept
    with TestClient(create_app(Settings(database_url=url(size), answer_cache_mb=0))) as client:
        print(f"\n## PostGIS, {size} incidents; {uptime()}")
        print("| query | p50 (ms) | p95 (ms) | numberMatched | ids |")
        print("|---|---:|---:|---:|---|")
        some_id = "syn5-0004242" if size > BASE else "syn-0004242"
        # The next link of the page before offset=100000 (keyset): its page must be offset's.
        before = client.get(f"{pg_bench.ITEMS}?offset=89900&limit=100").json()
        after = next(link["href"] for link in before["links"] if link["rel"] == "next").split("after=")[1]
        pages = [client.get(url).json()["features"] for url in (DEEP, f"{DEEP}&after={after}")]
        assert [f["id"] for f in pages[0]] == [f["id"] for f in pages[1]], "keyset and offset pages differ"
        for name, path in queries.items():
            path = path.replace("{id}", some_id).replace("{after}", after)
            t = time.perf_counter()
            r = client.get(path)
            slow = time.perf_counter() - t > 2  # a slow query: 3 timed requests, not 30
            times, statuses = [], set()
            for _ in range(3 if slow else 30):
                t = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                statuses.add(r.status_code)
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 3 else max(times)
            if r.status_code == 200 and "json" not in r.headers["content-type"]:  # a page or a drawing
                digest = hashlib.sha256(r.content).hexdigest()[:12]
                size = f"{len(r.content)} B"
                print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {size} | {digest} |")
                continue
            body = r.json() if r.status_code == 200 else {}
            matched = (body.get("numberMatched", "not counted") if "features" in body else 1) if body else (
                f"HTTP {sorted(statuses)}")  # fmt: skip
            ids = "\n".join(f["id"] for f in body.get("features", [body])) if body else ""
            digest = hashlib.sha256(ids.encode()).hexdigest()[:12]
            p50 = statistics.median(times)
            print(f"| {name} | {p50:.1f} | {p95:.1f} | {matched} | {digest} |", flush=True)


def edit() -> None:
    """One incident of the 100k data directory edited; ``at-tanf-map load`` while a service runs
    (its usual 2 s poll); the time from the command's start to the service answering the edit."""
    import threading

    import httpx
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    size = 100_000
    data = HOME / f"data-{size}"
    os.environ.setdefault("AT_TANF_ALLOWED_HOSTS", "127.0.0.1")
    logging.getLogger("app.access").disabled = True
    app = create_app(Settings(database_url=url(size)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=18419, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    item = "http://127.0.0.1:18419/api/collections/events/items/syn7-0000005"
    jsonl = data / "incidents" / "synthetic-000.jsonl"
    stamp = f"edited {time.time():.0f}"
    body = jsonl.read_bytes()
    old = b'"id":"syn7-0000005","title":"Synthetic incident 5'
    assert body.count(old) == 1
    jsonl.write_bytes(body.replace(old, old + f" ({stamp})".encode(), 1))
    print(f"\n## editing one incident of {size}; {uptime()}")
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "app", "load", str(data), "--database-url", url(size)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    loaded = time.perf_counter() - started
    while stamp not in httpx.get(item).text:
        time.sleep(0.05)
    served = time.perf_counter() - started
    print(
        f"`at-tanf-map load`: {run.stdout.strip()} in {loaded:.1f} s; the edit served "
        f"{served:.1f} s after the command started; {uptime()}"
    )
    server.should_exit = True


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["bench"]
    if command == "stop":
        stop()
        sys.exit()
    start()
    if command == "build":
        build_base()
        for n in SIZES:
            build_size(n)
    elif command == "build-size":
        build_size(int(args[0]))
    elif command == "bench":
        for n in [int(a) for a in args] or SIZES:
            bench(n)
    elif command == "grid":
        for n in [int(a) for a in args] or SIZES:
            bench(n, GRID_QUERIES)
    elif command == "pages":
        for n in [int(a) for a in args] or SIZES:
            bench(n, PAGES)
    elif command == "edit":
        edit()
    elif command == "rehash":
        rehash(int(args[0]))
    elif command == "url":
        print(url(int(args[0])))
