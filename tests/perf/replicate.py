"""A larger store from a derived one, for timing the store where deriving the data is too slow
(run by hand; not a dataset anyone serves).

    python -m tests.perf.replicate ENTRY TIMES OUT

``ENTRY`` is a cache entry (``served.json`` and ``<collection>.arrow``, ``app.served``); ``OUT``
gets an entry (``OUT/entry``) of the same stores with their
incidents and regions repeated ``TIMES`` times, each copy's ids renamed (``syn-``
becomes ``synK-`` from the second copy on, in the ids, the owners and the features' JSON), in
collection order. The geometry, dates and statuses are the original's, so every filter is as
selective as on the original: a query's matches and its work grow with ``TIMES``.

    python -m tests.perf.replicate --measure OUT/entry [cold]

The time to check and map the entry (``cold``: its files' pages dropped from the page cache
first, as after a reboot) (``cache.verify`` + ``served.load_saved``, as a start from
the cache does), the memory then (RSS) and after the queries (RSS, and of it the process's own,
``RssAnon``, and mapped file pages, ``RssFile``), and the server-side time of the benchmark's queries
(``tests.perf.bench.QUERIES``, p50 of 10 in-process, as the client saw it, gzip decoded, and
"(server)": as the request log timed it, the whole stack with gzip; "(CPU)": the process's CPU
time, client and server, which a loaded machine inflates less than the wall clock), with no
answer cache (every request computed).

    python -m tests.perf.replicate --compare OLD_TREE NEW_TREE OUT/entry [ROUNDS [cold]]

``--measure`` of two checkouts of the service (``git worktree add`` or ``git archive | tar -x``)
on the same entry, alternated in one run (old, new, old, new: ROUNDS each, 3 by default), each
in a fresh process; every round's figures, then the medians of each.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from app.data import cache, store_file
from app.served import in_collection_order


def renamed(table: pa.Table, k: int) -> pa.Table:
    """Copy ``k`` of the table (copy 0 keeps the original ids)."""
    if k == 0:
        return table
    new = f"syn{k}-"
    for name in ("id", "head", "csv", "owner", "text"):
        column = pc.replace_substring(table.column(name), "syn-", new)
        table = table.set_column(table.schema.get_field_index(name), table.schema.field(name), column)
    return table


def replicate(entry: Path, times: int, out: Path) -> None:
    (out / "entry").mkdir(parents=True)
    for cid in ("sites", "zones", "borders"):
        shutil.copy(entry / f"{cid}.arrow", out / "entry" / f"{cid}.arrow")
    events, regions = (store_file.read(entry / f"{cid}.arrow") for cid in ("events", "regions"))
    events = pa.concat_tables([renamed(events, k) for k in range(times)])
    regions = pa.concat_tables([renamed(regions, k) for k in range(times)])
    for cid, table in in_collection_order(events, regions).items():
        store_file.write(table, out / "entry" / f"{cid}.arrow")
    shutil.copy(entry / "served.json", out / "entry" / "served.json")
    cache.seal(out / "entry")


def measure(out: Path, cold: bool = False) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.served import load_saved
    from app.settings import Settings
    from tests.perf.bench import QUERIES, rss_now_mb

    for path in (
        p for p in out.parent.rglob("*") if p.is_file() and cold
    ):  # the pages dropped (clean: sealed)
        descriptor = os.open(path, os.O_RDONLY)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(descriptor)
    started = time.perf_counter()
    cache.verify(out)
    served = load_saved(out)
    result = {"start_s": time.perf_counter() - started, "serving_mb": rss_now_mb()}
    app = create_app(Settings(tile_url="", answer_cache_mb=0), served)
    logged: list[float] = []  # each request's time as the service logs it (``app.middleware``)
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.msg.fields["ms"])  # type: ignore[method-assign,union-attr]
    logging.getLogger("app.access").addHandler(handler)
    logging.getLogger("app.access").setLevel(logging.INFO)
    with TestClient(app, base_url="http://localhost") as client:
        for name, url in QUERIES.items():
            client.get(f"/api/collections/{url}")
            samples = []
            statuses = set()
            logged.clear()
            cpu = []
            for _ in range(10):
                t0, c0 = time.perf_counter(), time.process_time()
                statuses.add(client.get(f"/api/collections/{url}").status_code)
                samples.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            result[name] = statistics.median(samples)
            result[f"{name} (server)"] = statistics.median(logged)
            result[f"{name} (CPU)"] = statistics.median(cpu)
            if statuses != {200}:
                result[f"{name} statuses"] = float(max(statuses))
    result["after_mb"] = rss_now_mb()
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    for name in ("RssAnon", "RssFile"):  # the process's own memory, and mapped file pages
        result[f"after_{name}_mb"] = int(status[name].split()[0]) / 1024
    return result


def compare(trees: list[str], entry: Path, rounds: int, cold: list[str]) -> None:
    runs: dict[str, list[dict[str, float]]] = {tree: [] for tree in trees}
    for _ in range(rounds):
        for tree in trees:
            command = [sys.executable, "-m", "tests.perf.replicate", "--measure", str(entry.resolve()), *cold]
            env = os.environ | {"PYTHONPATH": tree}
            out = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
            runs[tree].append(json.loads(out.stdout.splitlines()[-1]))
            print(tree, os.getloadavg()[0], out.stdout.splitlines()[-1], flush=True)
    for tree, results in runs.items():
        print(tree, json.dumps({k: round(statistics.median(r[k] for r in results), 2) for k in results[0]}))


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2:4], Path(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 3, sys.argv[6:7])
    elif sys.argv[1] == "--measure":
        print(json.dumps(measure(Path(sys.argv[2]), sys.argv[3:4] == ["cold"])))
    else:
        replicate(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
        print(f"{sum(f.stat().st_size for f in Path(sys.argv[3]).rglob('*')) / 2**20:.0f} MB", os.getpid())
