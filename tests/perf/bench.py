"""Benchmarks: how start-up, memory and query time grow with the number of incidents.

Run by hand (not part of the test run):

    python -m tests.perf.bench [sizes...]          # default: 1000 10000 100000
    python -m tests.perf.bench --table             # the table of every size measured so far

For each size it writes a synthetic dataset (tests/perf/synthetic.py, the real geodata format)
under ``test-artifacts/bench/data-N`` once, then, in a fresh process each time:

- cold start: load + validate + derive (on every core) + write the cache, with an empty cache,
  and the peak memory of the main process and of the largest worker;
- start from that cache (the app's own lifespan), the memory a serving process then holds, and
  its peak;
- server-side time (p50/p95 over repeated in-process requests, so no network, after one
  request to read the pages it needs from disk) of the item queries below, and of a
  pre-serialised body of the same size as the 100-feature page, the limit to compare against;
- HTTP throughput of two queries and of that pre-serialised body through the real server
  (uvicorn, one worker, wrk -c20 for 5 s on loopback).

Where this machine lets it (a writable memory cgroup, ``tests/perf/memory_limit.py``), the cold
start (with its workers) and the serving process each run under a hard 4 GB limit, page cache
included: their results are then also the proof of the memory budget, with the most memory the
cgroup ever held and the number of OOM kills (a run killed at the limit is repeated without it,
so the other figures are still there).

Results: ``test-artifacts/bench/results.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.perf import memory_limit

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"
MEMORY_BUDGET = 4 * 2**30  # the budget for a million incidents
QUERIES = {
    "in_zone=inside&limit=100": "events/items?in_zone=inside&limit=100",
    "small bbox": "events/items?bbox=38.5,33.4,38.7,33.6&limit=100",
    "near 30 km": "events/items?near=38.2,33.7&within_km=30&limit=100",
    "datetime interval": "events/items?datetime=2017-06-01/2017-06-30&limit=100",
    "combined": "events/items?in_zone=inside,uncertain&datetime=2017-01-01/2018-12-31"
    "&bbox=38,33,39,34&limit=100",
    "item by id": "events/items/syn-0000042",
    "limit=1000 GeoJSON": "events/items?limit=1000",
    "limit=1000 CSV": "events/items?limit=1000&f=csv",
    "regions limit=100 (polygons)": "regions/items?limit=100",
}


def cache_of(data_dir: Path) -> Path:
    return data_dir.parent / f"cache-{data_dir.name}"


def cold_start(data_dir: Path) -> dict[str, float]:
    """Runs in a child process: a start with an empty cache (load, validate, derive on every
    core, write the cache), the peak memory of this process and of the largest worker."""
    from app.served import load_served
    from app.settings import Settings

    shutil.rmtree(cache_of(data_dir), ignore_errors=True)
    started = time.perf_counter()
    load_served(Settings(data_dir=data_dir, tile_url="", cache_dir=cache_of(data_dir)))
    return {
        "cold_startup_s": time.perf_counter() - started,
        "cold_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cold_worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def rss_parts_mb() -> dict[str, float]:
    """This process's resident memory by kind: anonymous (its own) and file-backed (mapped
    store files, in the page cache: shared with other workers, dropped under pressure)."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {
        kind: int(status[key].split()[0]) / 1024 for kind, key in (("anon", "RssAnon"), ("file", "RssFile"))
    }


def entry_mb(data_dir: Path) -> float:
    """Size on disk of the cache entry (what a serving process maps)."""
    return sum(f.stat().st_size for f in cache_of(data_dir).rglob("*") if f.is_file()) / 2**20


def rss_now_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_in_process(data_dir: Path, repeats: int) -> dict[str, object]:
    """Runs in a child process: a start from the cache, memory and server-side query times."""
    from fastapi import Response
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(data_dir=data_dir, tile_url="", cache_dir=cache_of(data_dir)))
    started = time.perf_counter()
    with TestClient(app, base_url="http://localhost") as client:  # a Host the app answers to
        startup_s = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        serving_mb = rss_now_mb()
        page = client.get(f"/api/collections/{QUERIES['in_zone=inside&limit=100']}").content

        @app.get("/bench/baseline", include_in_schema=False)
        def baseline() -> Response:  # the same bytes, with nothing to compute
            return Response(page, media_type="application/geo+json")

        times: dict[str, dict[str, float]] = {}
        for name, url in [*QUERIES.items(), ("pre-serialised body (limit=100 size)", None)]:
            full = "/bench/baseline" if url is None else f"/api/collections/{url}"
            client.get(full)  # once first: the store's pages it reads come from disk the first time
            samples = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                response = client.get(full)
                samples.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (full, response.text[:200])
            samples.sort()
            times[name] = {
                "p50_ms": statistics.median(samples),
                "p95_ms": samples[int(len(samples) * 0.95) - 1],
            }
        after = rss_parts_mb()
    return {"startup_s": startup_s, "peak_rss_mb": rss_mb, "serving_rss_mb": serving_mb, "server_ms": times,
            "page_bytes": len(page), "after_queries_anon_mb": after["anon"],
            "after_queries_file_mb": after["file"], "cache_entry_mb": entry_mb(data_dir)}  # fmt: skip


def http_throughput(data_dir: Path) -> dict[str, float]:
    if shutil.which("wrk") is None:
        return {}
    from tests.live_server import free_port

    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.perf.bench", "--serve", str(data_dir), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx2

        for _ in range(6000):  # start-up of a large dataset takes a while
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        out = {}
        for name, path in [
            ("in_zone=inside&limit=100", f"/api/collections/{QUERIES['in_zone=inside&limit=100']}"),
            ("item by id", f"/api/collections/{QUERIES['item by id']}"),
            ("pre-serialised body", "/bench/baseline"),
        ]:
            text = subprocess.run(["wrk", "-t1", "-c20", "-d5s", f"{base}{path}"],
                                  capture_output=True, text=True, check=True).stdout  # fmt: skip
            out[name] = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
        return out
    finally:
        child.terminate()
        child.wait(timeout=30)


def serve(data_dir: Path, port: int) -> None:
    import uvicorn
    from fastapi import Response
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.served import load_served
    from app.settings import Settings

    settings = Settings(data_dir=data_dir, tile_url="", cache_dir=cache_of(data_dir))
    app = create_app(settings, load_served(settings))
    with TestClient(app, base_url="http://localhost") as client:  # a Host the app answers to
        page = client.get(f"/api/collections/{QUERIES['in_zone=inside&limit=100']}").content

    @app.get("/bench/baseline", include_in_schema=False)
    def baseline() -> Response:
        return Response(page, media_type="application/geo+json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def evict(directory: Path) -> None:
    """Drop the files' pages from the page cache: pages already cached stay charged to the
    cgroup that read them first, and a later limited run would not be charged for them."""
    for path in directory.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def child(args: list[str]) -> tuple[dict[str, Any], dict[str, float] | None]:
    """This module run with ``args`` in a child process (under the memory budget when the
    machine allows): its JSON result, and what the limited run used."""
    argv = [sys.executable, "-m", "tests.perf.bench", *args]
    limited = None
    if memory_limit.available():
        run = memory_limit.run(argv, MEMORY_BUDGET)
        limited = {"limit_mb": run.limit_mb, "max_usage_mb": run.max_usage_mb, "oom_kills": run.oom_kills,
                   "exit": run.returncode}  # fmt: skip
        if run.returncode == 0:
            return json.loads(run.stdout.strip().splitlines()[-1]), limited
        print(f"{args[0]} under {run.limit_mb:.0f} MB: exit {run.returncode}, repeated without the limit",
              file=sys.stderr)  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), limited


def main(sizes: list[int]) -> None:
    from tests.perf.synthetic import write_dataset

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, object]] = {}
    for size in sizes:
        data = ARTIFACTS / f"data-{size}"
        if not (data / "zone.yaml").exists():
            write_dataset(data, size)
        repeats = 30 if size <= 100_000 else 10
        cold, cold_limit = child(["--cold", str(data)])
        evict(cache_of(data))  # so the limited server reads (and is charged for) every page it maps
        result, serving_limit = child(["--measure", str(data), str(repeats)])
        result |= cold | {"cold_under_limit": cold_limit, "serving_under_limit": serving_limit}
        result["http_rps"] = http_throughput(data)
        results[size] = result
        print(f"{size}: {json.dumps(result)}", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    saved = ARTIFACTS / "results.json"
    earlier = json.loads(saved.read_text())["results"] if saved.exists() else {}  # other sizes stay
    merged = earlier | {str(size): result for size, result in results.items()}
    saved.write_text(json.dumps({"machine": machine, "results": merged}, indent=1))
    print_table(machine, results)


def print_table(machine: str, results: dict[int, dict[str, Any]]) -> None:
    """The results as a Markdown table, a column per size (``--table``: every size saved)."""
    sizes = sorted(results)
    print(f"{machine}\n")
    print("| incidents | " + " | ".join(f"{s:,}" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    rows = [
        ("cold start, empty cache (s)", "cold_startup_s", ".1f"),
        ("cold start peak memory, main / largest worker (MB)", None, ""),
        ("start from the cache (s)", "startup_s", ".1f"),
        ("serving memory after start (MB)", "serving_rss_mb", ".0f"),
        ("peak memory, start from the cache (MB)", "peak_rss_mb", ".0f"),
        ("memory after the queries: own / mapped files (MB)", None, ""),
        ("cache entry on disk (MB)", "cache_entry_mb", ".0f"),
    ]
    for title, key, fmt in rows:
        if key is None and title.startswith("cold"):
            cells = [f"{results[s]['cold_peak_rss_mb']:.0f} / {results[s]['cold_worker_peak_rss_mb']:.0f}"
                     for s in sizes]  # fmt: skip
        elif key is None:
            cells = [f"{results[s]['after_queries_anon_mb']:.0f} / {results[s]['after_queries_file_mb']:.0f}"
                     for s in sizes]  # fmt: skip
        else:
            cells = [format(results[s][key], fmt) for s in sizes]
        print(f"| {title} | " + " | ".join(cells) + " |")
    for title, key in (("cold start under a 4 GB cgroup: most held (MB) / OOM kills", "cold_under_limit"),
                       ("serving + queries under a 4 GB cgroup: most held (MB) / OOM kills",
                        "serving_under_limit")):  # fmt: skip
        cells = []
        for s in sizes:
            run = results[s].get(key)
            cells.append("not run" if not run else f"{run['max_usage_mb']:.0f} / {run['oom_kills']:.0f}")
        print(f"| {title} | " + " | ".join(cells) + " |")
    for name in [*QUERIES, "pre-serialised body (limit=100 size)"]:
        timing = [results[s]["server_ms"][name] for s in sizes]
        cells = [f"{t['p50_ms']:.1f} / {t['p95_ms']:.1f}" for t in timing]
        print(f"| {name} p50 / p95 (ms) | " + " | ".join(cells) + " |")
    for name in ("in_zone=inside&limit=100", "item by id", "pre-serialised body"):
        cells = [f"{results[s]['http_rps'].get(name, float('nan')):.0f}" for s in sizes]
        print(f"| HTTP {name} (req/s) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure_in_process(Path(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1:2] == ["--cold"]:
        print(json.dumps(cold_start(Path(sys.argv[2]))))
    elif sys.argv[1:2] == ["--serve"]:
        serve(Path(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["--table"]:
        saved = json.loads((ARTIFACTS / "results.json").read_text())
        print_table(saved["machine"], {int(size): result for size, result in saved["results"].items()})
    else:
        main([int(s) for s in sys.argv[1:]] or [1000, 10_000, 100_000])
