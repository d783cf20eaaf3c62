"""The work guard's one timer (app.budget.Watchlist): a request still working after
``WATCH_AFTER_S`` starts watching its client, one that ended before does not, in the order they
came; one timer at a time, set for the earliest. Driven by a loop whose clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.budget import WATCH_AFTER_S, Watchlist


class Clock:
    """What a Watchlist uses of an event loop: ``time``, ``call_later``, ``call_at``."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, at: float, callback: Callable[[], None]) -> Any:
        self.timers.append((at, callback))
        return object()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        return self.call_at(self.now + delay, callback)

    def run_until(self, t: float) -> None:
        self.now = t
        while self.timers and min(at for at, _ in self.timers) <= t:
            timer = min(self.timers, key=lambda timer: timer[0])
            self.timers.remove(timer)
            timer[1]()


def test_requests_still_working_start_watching_in_turn_and_ended_ones_never() -> None:
    clock, started = Clock(), []
    watchlist = Watchlist(clock)  # type: ignore[arg-type]
    watchlist.add(lambda: started.append("first"))
    ended = watchlist.add(lambda: started.append("ended early"))
    clock.run_until(100 + WATCH_AFTER_S / 2)
    watchlist.add(lambda: started.append("later"))
    watchlist.discard(ended)
    assert len(clock.timers) == 1  # one timer, for the earliest
    clock.run_until(100 + WATCH_AFTER_S * 1.25)
    assert started == ["first"] and len(clock.timers) == 1
    clock.run_until(100 + WATCH_AFTER_S * 2)
    assert started == ["first", "later"]
    assert not watchlist.due and not clock.timers and watchlist.timer is None
    watchlist.add(lambda: started.append("next"))  # a new request sets the timer again
    clock.run_until(100 + WATCH_AFTER_S * 3.5)
    assert started == ["first", "later", "next"]
