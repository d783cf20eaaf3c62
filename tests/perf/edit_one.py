"""Editing one incident of a large dataset on the embedded store, as a deployment does it: a server
runs with ``--cache-dir``, one incident's title is edited, ``at-tanf-map load --cache-dir`` is run,
and the time until the server answers with the new title is measured (run by hand; not part of
the test run).

    python -m tests.perf.edit_one ENTRY OUT [TIMES]   # OUT kept: a second run edits again

``ENTRY`` is a derived entry of the 10,000 synthetic incidents of ``tests/perf/synthetic.py``
(``write_dataset(..., 10_000)``, its cache entry). Deriving
100,000 incidents takes hours on the shared build machine, so ``OUT`` gets a data directory of
those records repeated ``TIMES`` times (10), each copy renamed as ``tests/perf/replicate.py``
renames it (``syn-`` becomes ``synK-``), and a cache whose entry stands for their derivation: the
entry's stores, renamed the same way, and ``records.json`` naming each record by its key
(``derive.record_keys``). The load and the server then do exactly what they do on derived
data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
import pyarrow as pa

from app.data import cache, store_file
from app.data.cache import code_fingerprint
from app.data.derive import record_keys
from app.data.files import read_chunk
from app.served import in_collection_order, load_into_cache, scan_data
from app.settings import Settings
from tests.live_server import free_port
from tests.perf.replicate import renamed
from tests.perf.synthetic import write_dataset


def stand_in(entry: Path, out: Path, times: int) -> Settings:
    """The data directory and the cache's stand-in entry (see the module's docstring)."""
    source = write_dataset(out / "data-10k", 10_000)
    data = out / "data"
    shutil.copytree(source, data)
    lines = (source / "incidents" / "synthetic-000.jsonl").read_bytes().splitlines(keepends=True)
    with (data / "incidents" / "synthetic-000.jsonl").open("wb") as bulk:
        for k in range(times):
            bulk.writelines(
                lines if k == 0 else [line.replace(b"syn-", f"syn{k}-".encode()) for line in lines]
            )
    settings = Settings(data_dir=data, cache_dir=out / "cache", tile_url="")
    scan = scan_data(settings)
    chunks = [chunk for part in scan.parts for chunk in part.chunks]
    records = []  # each record's key, incident id and sources cited (what records.json holds)
    for chunk, key in zip(chunks, record_keys(scan, code_fingerprint()), strict=True):
        record = orjson.loads(read_chunk(data, chunk))
        records.append([key, record["id"], sorted({cite["source"] for cite in record["sources"]})])
    stand_in = settings.cache_dir / "stand-in-entry"  # type: ignore[operator]
    stand_in.mkdir(parents=True)
    copies = {
        cid: pa.concat_tables([renamed(store_file.read(entry / f"{cid}.arrow"), k) for k in range(times)])
        for cid in ("events", "regions")
    }
    for cid, table in in_collection_order(copies["events"], copies["regions"]).items():
        store_file.write(table, stand_in / f"{cid}.arrow")
    for name in ("sites.arrow", "zones.arrow", "borders.arrow", "served.json"):
        shutil.copy(entry / name, stand_in / name)
    (stand_in / "records.json").write_bytes(orjson.dumps(records))
    cache.seal(stand_in)
    return settings


def edit_one(data: Path) -> tuple[str, str]:
    """The title of the middle incident of the bulk file, changed in place; its id and title."""
    path = data / "incidents" / "synthetic-000.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    record = orjson.loads(lines[len(lines) // 2])
    record["title"] = f"{record['title'].split(' (edited')[0]} (edited {time.time():.0f})"
    lines[len(lines) // 2] = orjson.dumps(record) + b"\n"
    path.write_bytes(b"".join(lines))
    return str(record["id"]), str(record["title"])


def title(port: int, incident: str) -> str:
    url = f"http://127.0.0.1:{port}/api/collections/events/items/{incident}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(orjson.loads(answer.read())["properties"]["title"])


def main(entry: Path, out: Path, times: int = 10) -> None:
    started = time.perf_counter()
    if (out / "cache").is_dir():  # made by an earlier run
        settings = Settings(data_dir=out / "data", cache_dir=out / "cache", tile_url="")
    else:
        settings = stand_in(entry, out, times)
        print(f"stand-in of {times * 10_000:,} incidents written in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    print(
        "first load (nothing to derive):", load_into_cache(settings), f"{time.perf_counter() - started:.1f} s"
    )
    port = free_port()
    env = os.environ | {"AT_TANF_DATABASE_POLL_S": "0.5"}
    command = [sys.executable, "-m", "app", "serve", "--workers", "1", "--port", str(port), "--tile-url", "",
               "--data-dir", str(settings.data_dir), "--cache-dir", str(settings.cache_dir)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        started = time.perf_counter()
        while True:
            try:
                title(port, "syn-0000000")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        print(f"server ready in {time.perf_counter() - started:.1f} s")
        incident, edited = edit_one(settings.data_dir)
        started = time.perf_counter()
        load = [
            sys.executable,
            "-m",
            "app",
            "load",
            str(settings.data_dir),
            "--cache-dir",
            str(settings.cache_dir),
        ]
        done = subprocess.run(load, capture_output=True, text=True, check=True)
        loaded = time.perf_counter() - started
        while title(port, incident) != edited:
            assert time.perf_counter() - started < 300, "the edit was not served within 5 minutes"
            time.sleep(0.05)
        served = time.perf_counter() - started
        print(done.stdout.strip())
        print(f"load command: {loaded:.1f} s; the edit served {served:.1f} s after the command started")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), *(int(a) for a in sys.argv[3:4]))
