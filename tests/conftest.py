from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from app.data.loader import Dataset, load_dataset
from app.settings import BUNDLED_DATA, Settings
from tests.postgres import Cluster, cluster

# Starlette's TestClient sends "Host: testserver"; the service answers only to the Hosts it is
# told (app.proxy), so the tests allow that name beside the loopback defaults. Tests of the
# defaults pass allowed_hosts themselves (tests/test_proxy.py).
os.environ.setdefault("AT_TANF_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1,::1")

TESTS = Path(__file__).resolve().parent
RESEARCH = TESTS / "data" / "research"


@cache
def bundled() -> Dataset:
    """The bundled dataset, loaded once: tests that count or date it read it from here."""
    return load_dataset(BUNDLED_DATA)


def located_count() -> int:
    """How many bundled incidents have a region (the markers on the map)."""
    from app.data.catalog import build_catalog

    return sum(1 for derived in build_catalog(bundled()).incidents if derived.region is not None)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled data directory (without the raw inputs)."""
    target = tmp_path / "geodata"
    shutil.copytree(BUNDLED_DATA, target, ignore=shutil.ignore_patterns("raw"))
    return target


# The stores the API suite runs against (README, "Tests"): the embedded one, and PostGIS loaded by
# ``at-tanf-map load``'s code into a real PostgreSQL cluster started for the session.
STORES = ("embedded", "postgis")
ServedBy = Callable[[Path], Settings]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    with cluster() as running:
        yield running


@pytest.fixture(scope="session", params=STORES)
def served_by(request: pytest.FixtureRequest) -> ServedBy:
    """Settings that serve a data directory from this store (PostGIS: loaded into a fresh database)."""
    if request.param == "embedded":
        return lambda data_dir: Settings(data_dir=data_dir)
    running: Cluster = request.getfixturevalue("postgres")
    return lambda data_dir: Settings(data_dir=data_dir, database_url=running.loaded(data_dir))
