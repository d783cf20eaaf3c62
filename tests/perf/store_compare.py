"""Two versions of the store side by side on one dataset, alternated in one run (run by hand).

    python -m tests.perf.store_compare DATA_DIR OLD_CODE:OLD_CACHE NEW_CODE:NEW_CACHE [rounds]

Each ``CODE`` is a checkout of the service (``git archive COMMIT | tar -x -C DIR``), each
``CACHE`` its cache directory, already written for ``DATA_DIR`` (a first start writes it). Every
round starts each version in a fresh process from its cache (old, new, old, new...): the start-up
time (``create_app`` to ready), the resident memory then, and the server-side time of the
benchmark's queries (``tests.perf.bench.QUERIES``, in-process, p50 of 30 after one warm-up), with
no answer cache (``answer_cache_mb=0``: every request is computed).
Prints the medians over the rounds as a Markdown table; writes ``store-compare.json`` beside the
data directory.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, os, statistics, sys, time
from pathlib import Path
from fastapi.testclient import TestClient
from app.main import create_app
from app.settings import Settings
from tests.perf.bench import QUERIES

def rss_mb():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

data, cache = Path(sys.argv[1]), Path(sys.argv[2])
app = create_app(Settings(data_dir=data, tile_url="", cache_dir=cache, answer_cache_mb=0))
started = time.perf_counter()
with TestClient(app, base_url="http://localhost") as client:
    out = {"start_s": time.perf_counter() - started}
    out["serving_mb"] = rss_mb()
    for name, url in QUERIES.items():
        client.get(f"/api/collections/{url}")
        samples = []
        for _ in range(30):
            t0 = time.perf_counter()
            response = client.get(f"/api/collections/{url}")
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.text[:200])
        out[name] = statistics.median(samples)
    out["after_mb"] = rss_mb()
print(json.dumps(out))
"""


def run(code: Path, data: Path, cache: Path) -> dict[str, float]:
    env = os.environ | {"PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(data), str(cache)], cwd=code, env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    data = Path(sys.argv[1])
    pairs = zip(("old", "new"), sys.argv[2:4], strict=True)
    versions = {name: tuple(map(Path, arg.split(":"))) for name, arg in pairs}
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    results: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    for _ in range(rounds):
        for name, (code, cache) in versions.items():
            results[name].append(run(code, data, cache))
    (data.parent / "store-compare.json").write_text(json.dumps(results, indent=1))
    print("| measure | old | new |\n|---|---:|---:|")
    for key in results["old"][0]:
        cells = [statistics.median(r[key] for r in results[name]) for name in versions]
        print(f"| {key} | {cells[0]:.2f} | {cells[1]:.2f} |")


if __name__ == "__main__":
    main()
