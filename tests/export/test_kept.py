"""Kept drawings (``app.export.kept``): bounded, least recent out first, and one drawing for
identical requests that come while it is made (single-flight, issue 16)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from app.export import svg
from app.export.kept import Kept
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings


def test_the_kept_are_bounded_and_the_recent_stay() -> None:
    kept: Kept[bytes] = Kept(3)
    made: list[str] = []

    def make(name: str) -> bytes:
        made.append(name)
        return name.encode()

    for name in "abc":
        kept.get((name,), lambda n=name: make(n))
    kept.get(("a",), lambda: make("a"))  # a is now the most recent
    kept.get(("d",), lambda: make("d"))  # evicts b, the least recent
    assert len(kept) == 3 and made == ["a", "b", "c", "d"]
    assert kept.get(("a",), lambda: make("a")) == b"a" and made[-1] == "d"
    kept.get(("b",), lambda: make("b"))
    assert made[-1] == "b"


def test_identical_requests_under_way_share_one_making() -> None:
    kept: Kept[str] = Kept(8)
    made: list[int] = []
    started = threading.Event()

    def slow() -> str:
        made.append(1)
        started.set()
        time.sleep(0.3)
        return "drawing"

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(kept.get, "view", slow)
        started.wait(5)
        others = [pool.submit(kept.get, "view", slow) for _ in range(7)]
        answers = [first.result(10)] + [f.result(10) for f in others]
    assert answers == ["drawing"] * 8 and len(made) == 1


def test_a_failed_making_is_its_callers_and_a_waiter_makes_its_own() -> None:
    kept: Kept[str] = Kept(8)
    calls: list[str] = []
    started, go_on = threading.Event(), threading.Event()

    def fails() -> str:
        calls.append("first")
        started.set()
        go_on.wait(5)
        raise TimeoutError("over budget")

    def works() -> str:
        calls.append("second")
        return "drawing"

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(kept.get, "view", fails)
        started.wait(5)
        waiter = pool.submit(kept.get, "view", works)
        time.sleep(0.1)
        assert not waiter.done()  # it waits for the drawing under way
        go_on.set()
        with pytest.raises(TimeoutError):
            first.result(10)
        assert waiter.result(10) == "drawing"
    assert calls == ["first", "second"]


def test_eight_identical_cold_svg_requests_make_one_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the real route: eight clients ask at once for a view nobody asked for."""
    drawings: list[tuple[int, int]] = []
    real = svg.render_svg

    def counted(served: object, state: object, width: int, height: int) -> str:
        drawings.append((width, height))
        time.sleep(0.2)  # a drawing long enough for the others to arrive while it is made
        return real(served, state, width, height)  # type: ignore[arg-type]

    monkeypatch.setattr(svg, "render_svg", counted)
    monkeypatch.setattr(svg, "_drawings", Kept(svg.KEPT_DRAWINGS))
    settings = Settings(data_dir=BUNDLED_DATA, answer_cache_mb=0, tile_url="")
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(8) as pool:
        url = "/embed/map.svg?width=517&height=333&status=inside"
        answers = list(pool.map(lambda _: client.get(url), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.content for a in answers}) == 1 and answers[0].content.startswith(b"<svg")
    assert drawings == [(517, 333)]
