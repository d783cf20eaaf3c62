"""The PostGIS load's cost: a full ``load`` of N synthetic incidents (``tests/perf/synthetic.py``),
then a load after one incident was edited; wall time and user CPU of this process and its
workers (the shared derivation, ``app.data.derive``, derives in parts on every core). With
``--cache``, the same of ``load --cache-dir`` (the embedded store's entry, in a fresh cache). Run
by hand, alternating two checkouts (A B A B), never in CI:

    python -m tests.perf.pg_load_time 2000 [--cache]

A PostgreSQL cluster is started for the run (``tests/postgres.py``); the machine's load
(``uptime``) is printed with the figures.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.data.derive import Loaded
from app.data.pg_load import load
from app.served import load_into_cache
from app.settings import Settings
from tests.perf.synthetic import write_dataset
from tests.postgres import cluster

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"


def _cpu_s() -> float:
    return sum(resource.getrusage(who).ru_utime for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


@contextmanager
def _loader(data: Path, cache: bool) -> Iterator[Callable[[], Loaded]]:
    """A load of ``data`` into a fresh database, or (``cache``) a fresh cache directory."""
    if cache:
        with tempfile.TemporaryDirectory() as cache_dir:
            yield lambda: load_into_cache(Settings(data_dir=data, cache_dir=Path(cache_dir)))
    else:
        with cluster() as pg:
            url = pg.database()
            yield lambda: load(data, url)


def main(size: int, cache: bool = False) -> None:
    data = write_dataset(ARTIFACTS / f"pg-load-{size}", size)
    jsonl = data / "incidents" / "synthetic-000.jsonl"
    with _loader(data, cache) as loads:
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
        cpu, started = _cpu_s(), time.perf_counter()
        first = loads()
        wall, cpu = time.perf_counter() - started, _cpu_s() - cpu
        jsonl.write_bytes(jsonl.read_bytes().replace(b'incident 5"', b'incident 5 (edited)"', 1))
        started = time.perf_counter()
        again = loads()
        print(f"full load{' --cache-dir' if cache else ''} of {size}: {wall:.1f} s, {cpu:.1f} s user CPU "
              f"({first.derived} derived); one edited: {time.perf_counter() - started:.2f} s "
              f"({again.derived} derived)")  # fmt: skip


if __name__ == "__main__":  # the derivation's workers are spawned: they import this module
    main(int(next((a for a in sys.argv[1:] if a.isdigit()), 2000)), "--cache" in sys.argv)
