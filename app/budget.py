"""Every request's work is bounded: it stops when the client has gone, or when it has run longer
than its time budget (a 503 problem+json, instead of a 200 that took a minute).

``WorkGuard`` (pure ASGI) gives each request a ``Budget`` in a context variable, which the
thread pool's workers inherit (AnyIO runs them in a copy of the caller's context), and watches
the connection for ``http.disconnect`` while the app runs, from ``WATCH_AFTER_S`` on: most
requests are answered before then, and a watching task per request cost more CPU than the rest
of a cheap request's layers (tests/perf/path_profile.py). Long loops (the SVG drawing, CSV and
HTML rows, polygons) call ``check()`` as they go; it costs a context-variable read and a clock
read. Python cannot stop a thread from outside, so work that never calls ``check()`` runs to its
end; everything that scales with the data does call it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ApiError

WATCH_AFTER_S = 0.05  # a request still working after this starts watching for its client leaving
CLIENT_CLOSED_REQUEST = 499  # nginx's status for the log line of a request whose client left


class ClientGone(Exception):
    """The client closed the connection: nobody will read the answer."""


class OverBudget(ApiError):
    status = 503


class Budget:
    """A deadline (``time.monotonic()`` seconds) and whether the client has gone."""

    def __init__(self, deadline: float, seconds: float) -> None:
        self.deadline = deadline
        self.seconds = seconds
        self.gone = False

    def check(self) -> None:
        if self.gone:
            raise ClientGone
        if time.monotonic() > self.deadline:
            raise OverBudget(
                f"this request needed more than its {self.seconds:g} s of work; "
                "ask for a smaller page or view, or try again later"
            )


current: ContextVar[Budget | None] = ContextVar("at_tanf_budget", default=None)


def check() -> None:
    """Raise ``ClientGone`` or ``OverBudget`` if this request's work should stop; else nothing."""
    budget = current.get()
    if budget is not None:
        budget.check()


class Watchlist:
    """The requests that start watching their client once they have worked ``WATCH_AFTER_S``:
    one timer of the loop for all of them, set for the earliest (a timer per request, made and
    cancelled, cost more than the rest of the guard)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: dict[int, tuple[float, Callable[[], None]]] = {}  # in the order they are due
        self.timer: asyncio.TimerHandle | None = None
        self.added = 0

    def add(self, start: Callable[[], None]) -> int:
        """Call ``start`` ``WATCH_AFTER_S`` from now (unless discarded before); its key."""
        key = self.added
        self.added += 1
        self.due[key] = (self.loop.time() + WATCH_AFTER_S, start)
        if self.timer is None:
            self.timer = self.loop.call_later(WATCH_AFTER_S, self.tick)
        return key

    def discard(self, key: int) -> None:
        self.due.pop(key, None)

    def tick(self) -> None:
        self.timer = None
        now = self.loop.time()
        while self.due:
            key, (at, start) = next(iter(self.due.items()))
            if at > now:
                self.timer = self.loop.call_at(at, self.tick)
                return
            del self.due[key]
            start()


class WorkGuard:
    """A budget of ``seconds`` per request, and the client's disconnect noticed while it runs."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.watchlist: Watchlist | None = None  # of the running loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        budget = Budget(time.monotonic() + self.seconds, self.seconds)
        request = await receive()  # a GET's one (empty) request message
        if request["type"] != "http.request":
            return  # the client left before the app began: there is nothing to answer
        gone = asyncio.Event()

        async def watch() -> None:
            message = await receive()  # blocks until the client leaves or the answer is complete
            if message["type"] == "http.disconnect":
                budget.gone = True
                gone.set()

        delivered = False

        async def receive_after_watch() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return request
            await gone.wait()
            return {"type": "http.disconnect"}

        loop = asyncio.get_running_loop()
        watcher: asyncio.Task[None] | None = None

        def start_watching() -> None:
            nonlocal watcher
            watcher = loop.create_task(watch())

        watchlist = self.watchlist
        if watchlist is None or watchlist.loop is not loop:
            watchlist = self.watchlist = Watchlist(loop)
        later = watchlist.add(start_watching)
        token = current.set(budget)
        try:
            await self.app(scope, receive_after_watch, send)
        except ClientGone:
            # Nobody reads this; it gives the request log its line (nginx's 499).
            await send({"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        finally:
            current.reset(token)
            watchlist.discard(later)
            if watcher is not None:
                watcher.cancel()
