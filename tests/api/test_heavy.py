"""Heavy pages (app.heavy): CSV, HTML and polygon pages are made by a forked worker process at a
lower priority, not by the server's process (whose event loop and GIL they held, issue 16); they
answer exactly as the thread pool did; a job stops when its client leaves and at its deadline."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import budget, heavy
from app.data.store_api import Store
from app.main import create_app
from app.served import build_served
from app.settings import BUNDLED_DATA, Settings

PAGES = [
    "/api/collections/events/items?f=csv&limit=50",
    "/api/collections/regions/items?f=csv&limit=100",
    "/api/collections/events/items?f=html&limit=50",
    "/api/collections/regions/items?f=html&limit=20",
    "/api/collections/regions/items?limit=100",
    "/api/collections/regions/items?limit=100&simplify_m=50",
    "/api/collections/zones/items",
]


def where(store: Store) -> tuple[int, int, int]:
    """In a job: this process's id and nice value, and the store's size."""
    return os.getpid(), os.nice(0), len(store)


def spin(store: Store, seconds: float) -> int:  # noqa: ARG001 (every job takes its store)
    """In a job: check the budget every 10 ms for ``seconds``."""
    checks, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        budget.check()
        checks += 1
        time.sleep(0.01)
    return checks


def in_a_loop(scenario: Callable[[], Any]) -> Any:
    """Run ``scenario()`` on an event loop of its own thread (a test may have one running here)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = asyncio.run(scenario())
        except BaseException as error:  # handed to the test
            out["error"] = error

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(60)
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.fixture(scope="module")
def work() -> Iterator[heavy.HeavyWork]:
    served = build_served(Settings(data_dir=BUNDLED_DATA, tile_url=""))
    started = heavy.HeavyWork.start(served.stores, 1)
    assert started is not None
    yield started
    started.stop()


def test_a_job_runs_in_another_process_at_a_lower_priority(work: heavy.HeavyWork) -> None:
    pid, nice, size = in_a_loop(lambda: work.run(where, "events"))
    assert pid != os.getpid()
    assert nice >= min(os.nice(0) + heavy.NICE, 19)
    assert size == len(work.stores["events"])


def test_a_job_stops_when_its_client_leaves(work: heavy.HeavyWork) -> None:
    async def scenario() -> float:
        own = budget.Budget(time.monotonic() + 60, 60)
        budget.current.set(own)
        asyncio.get_running_loop().call_later(0.3, setattr, own, "gone", True)
        started = time.monotonic()
        with pytest.raises(budget.ClientGone):
            await work.run(spin, "events", 30.0)
        return time.monotonic() - started

    assert in_a_loop(scenario) < 0.3 + 2 * heavy.POLL_S + 0.5


def test_a_job_ends_at_the_requests_deadline(work: heavy.HeavyWork) -> None:
    async def scenario() -> None:
        budget.current.set(budget.Budget(time.monotonic() + 0.2, 0.2))
        with pytest.raises(budget.OverBudget):
            await work.run(spin, "events", 30.0)

    in_a_loop(scenario)


def test_a_slot_is_free_again_once_its_job_ends(work: heavy.HeavyWork) -> None:
    async def scenario() -> list[int]:
        return list(await asyncio.gather(*(work.run(spin, "events", 0.0) for _ in range(heavy.SLOTS + 5))))

    assert len(in_a_loop(scenario)) == heavy.SLOTS + 5
    assert sorted(work.free) == list(range(heavy.SLOTS))


@pytest.fixture(scope="module")
def threads() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, heavy_workers=0, answer_cache_mb=0))) as c:
        yield c


@pytest.fixture(scope="module")
def workers() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, answer_cache_mb=0))) as c:
        yield c


def test_the_service_starts_its_workers(workers: TestClient, threads: TestClient) -> None:
    assert isinstance(workers.app.state.heavy, heavy.HeavyWork)  # type: ignore[attr-defined]
    assert threads.app.state.heavy is None  # type: ignore[attr-defined]


def counting_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The collections of the jobs given to workers from now on."""
    runs: list[str] = []
    run = heavy.HeavyWork.run

    async def counted(self: heavy.HeavyWork, make: Any, collection: str, *args: Any) -> Any:
        runs.append(collection)
        return await run(self, make, collection, *args)

    monkeypatch.setattr(heavy.HeavyWork, "run", counted)
    return runs


@pytest.mark.parametrize("url", PAGES)
def test_pages_made_by_workers_are_those_the_thread_pool_made(
    workers: TestClient, threads: TestClient, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heavy, "MIN_ROWS", 1)  # the bundled pages are small: every one to a worker
    runs = counting_runs(monkeypatch)
    made, expected = workers.get(url), threads.get(url)
    assert runs  # made by a worker
    assert made.status_code == expected.status_code == 200
    assert made.headers == expected.headers
    assert made.content == expected.content


def test_small_pages_stay_in_the_thread_pool(workers: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = counting_runs(monkeypatch)
    assert workers.get("/api/collections/events/items?f=csv&limit=10").status_code == 200
    assert runs == []
    monkeypatch.setattr(heavy, "MIN_ROWS", 10)
    assert workers.get("/api/collections/events/items?f=csv&limit=10&offset=1").status_code == 200
    assert runs == ["events"]
