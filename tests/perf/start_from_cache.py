"""Start-up from the cache, with the entry's integrity check (issue 17), by hand:

    PYTHONPATH=$PWD python -m tests.perf.start_from_cache 100000 [runs]

Writes the synthetic dataset (``tests/perf/synthetic.py``) under ``test-artifacts/bench/`` if it
is missing, makes the cache entry once (a cold start), then measures, each in a fresh process:

- ``load_served``: what a worker does before it answers (scan and hash the data files, find the
  entry, map it and check every file's CRC-32), with the entry's pages in the page cache (warm)
  and dropped from it first (``posix_fadvise(DONTNEED)``: read back from disk);
- ``at-tanf-map serve --workers 1`` from its launch to the first 200 of ``/healthz`` (Python's
  imports included), warm.

Prints the median, minimum and maximum of each and the machine's ``uptime`` before and after.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.live_server import free_port
from tests.perf.bench import evict

ARTIFACTS = Path("test-artifacts/bench")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def load_once(data: Path, cache: Path) -> float:
    """Runs in a child process: seconds ``load_served`` takes."""
    from app.served import load_served
    from app.settings import Settings

    settings = Settings(data_dir=data, tile_url="", cache_dir=cache)
    started = time.perf_counter()
    load_served(settings)
    return time.perf_counter() - started


def child_load(data: Path, cache: Path) -> float:
    code = (
        "import json, sys; from pathlib import Path; from tests.perf.start_from_cache import load_once; "
        "print(json.dumps(load_once(Path(sys.argv[1]), Path(sys.argv[2]))))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(data), str(cache)], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": os.getcwd()})  # fmt: skip
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def serve_to_healthz(data: Path, cache: Path) -> float:
    port = free_port()
    argv = [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "1",
            "--data-dir", str(data), "--cache-dir", str(cache)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - started
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("the server stopped") from None
                time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(timeout=30)


def summary(name: str, samples: list[float]) -> str:
    return (f"{name}: median {statistics.median(samples):.2f} s, min {min(samples):.2f} s, "
            f"max {max(samples):.2f} s ({len(samples)} runs)")  # fmt: skip


def main(size: int, runs: int) -> None:
    from tests.perf.synthetic import write_dataset

    data, cache = ARTIFACTS / f"data-{size}", ARTIFACTS / f"cache-data-{size}"
    if not (data / "zone.yaml").exists():
        write_dataset(data, size)
    print(f"before: {uptime()}")
    started = time.perf_counter()
    child_load(data, cache)  # makes the entry if it is missing (or stale)
    print(f"first load (makes the entry if missing): {time.perf_counter() - started:.1f} s")
    entry_mb = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) / 2**20
    warm = [child_load(data, cache) for _ in range(runs)]
    cold = []
    for _ in range(runs):
        evict(cache)
        cold.append(child_load(data, cache))
    served = [serve_to_healthz(data, cache) for _ in range(runs)]
    print(f"{size:,} incidents, cache entry {entry_mb:,.0f} MB")
    print(summary("load_served, entry in the page cache", warm))
    print(summary("load_served, entry read from disk", cold))
    print(summary("serve --workers 1 to the first /healthz 200", served))
    print(f"after: {uptime()}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5)
