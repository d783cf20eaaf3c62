"""The PostGIS load's cost: a full ``load`` of N synthetic incidents (``tests/perf/synthetic.py``),
then a load after one incident was edited; wall time and user CPU of this process and its
workers (the shared derivation, ``app.data.derive``, derives in parts on every core). Run by hand,
alternating two checkouts (A B A B), never in CI:

    python -m tests.perf.pg_load_time 2000

A PostgreSQL cluster is started for the run (``tests/postgres.py``); the machine's load
(``uptime``) is printed with the figures.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

from app.data.pg_load import load
from tests.perf.synthetic import write_dataset
from tests.postgres import cluster

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"


def _cpu_s() -> float:
    return sum(resource.getrusage(who).ru_utime for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def main(size: int) -> None:
    data = write_dataset(ARTIFACTS / f"pg-load-{size}", size)
    jsonl = data / "incidents" / "synthetic-000.jsonl"
    with cluster() as pg:
        url = pg.database()
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
        cpu, started = _cpu_s(), time.perf_counter()
        first = load(data, url)
        wall, cpu = time.perf_counter() - started, _cpu_s() - cpu
        jsonl.write_bytes(jsonl.read_bytes().replace(b'incident 5"', b'incident 5 (edited)"', 1))
        started = time.perf_counter()
        again = load(data, url)
        print(f"full load of {size}: {wall:.1f} s, {cpu:.1f} s user CPU ({first.derived} derived); "
              f"one edited: {time.perf_counter() - started:.2f} s ({again.derived} derived)")  # fmt: skip


if __name__ == "__main__":  # the derivation's workers are spawned: they import this module
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
