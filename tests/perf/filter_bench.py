"""What a CQL2 ``filter`` costs, against the plain parameter that selects the same kind of rows.

Run by hand (not part of the test run):

    python -m tests.perf.filter_bench [sizes...]     # default: 0 (the bundled data) and 10000

Size 0 is the bundled dataset; any other size is a synthetic one (tests/perf/synthetic.py) written
under ``test-artifacts/bench/filter-N`` and served from a cache there. Server-side time, in
process (no network), p50 / p95 of 50 requests after one warm-up, ``limit=100``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.perf.synthetic import write_dataset

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"
PAIRS = [
    ("in_zone=inside", "filter=zone_status = 'inside'"),
    ("datetime=2017-06-01/..", "filter=date_start >= DATE('2017-06-01')"),
    ("datetime=2017-06-01/2017-06-30",
     "filter=T_INTERSECTS(INTERVAL(date_start, date_end), INTERVAL('2017-06-01', '2017-06-30'))"),
    ("bbox=38.5,33.4,38.7,33.6", "filter=S_INTERSECTS(geometry, BBOX(38.5, 33.4, 38.7, 33.6))"),
    ("q=strike", "filter=title LIKE '%strike%'"),
    ("in_zone=inside", "in_zone=inside&filter=p_inside >= 0.9999 AND title LIKE '%a%'"),
]  # fmt: skip


def timed(client: TestClient, query: str, repeats: int = 50) -> tuple[float, float, int]:
    url = f"/api/collections/events/items?{query}&limit=100"
    first = client.get(url)
    assert first.status_code == 200, first.text[:300]
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], first.json()["numberMatched"]


def main(sizes: list[int]) -> None:
    for size in sizes:
        if size == 0:
            settings = Settings(data_dir=BUNDLED_DATA, tile_url="")
        else:
            data = ARTIFACTS / f"filter-{size}"
            if not (data / "incidents").exists():
                write_dataset(data, size)
            settings = Settings(data_dir=data, tile_url="", cache_dir=ARTIFACTS / f"filter-{size}-cache")
        with TestClient(create_app(settings)) as client:
            print(f"\n{size or 'bundled'} incidents: query | matched | p50 ms | p95 ms")
            for plain, with_filter in PAIRS:
                for query in (plain, with_filter):
                    p50, p95, n = timed(client, query)
                    print(f"  {query} | {n} | {p50:.1f} | {p95:.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [0, 10_000])
