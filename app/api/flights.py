"""Answers under way, shared: identical requests that arrive while the first is being answered
wait for its answer instead of each making it again (single-flight, issue 16).

Fifty clients asking at once for a page nobody had asked for each made it (a 1,000-row CSV
fifty times over, queued behind one another: a p99 of 715 ms in ``tests.perf.load``). Now the
first request of a key (``app.api.answer_cache``: everything an answer depends on) makes it, and
every identical request that comes while it does waits for that answer and is sent the same
status, headers and body, errors included (a 500 or 503 problem+json is everybody's answer; an
exception raised in front of the framework is raised again for each, so each gets the front
layer's 500 problem+json).

Bounded: a request waits at most ``wait_s`` seconds (the request budget and a second: the first
request's own work stops at its budget, ``app.budget``), then gets a 503 problem+json; a flight
takes at most ``MAX_WAITERS`` waiters, and a request beyond them makes its own answer. A waiter
whose client leaves stops waiting (logged as 499). When the *first* client leaves, the work goes
on while anyone waits for it: its ``http.disconnect`` is held back from the work (``app.budget``
would stop it) until the last waiter has gone too. An answer that cannot be replayed (larger than
the largest shared, cut short, or the 499 of a first client that left before anybody
waited) is not shared: each waiter then makes its own. Answers up to ``SHARED_MAX_BYTES``
(``app.api.answer_cache``) are shared, whether the cache keeps them or not.
"""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive

MAX_WAITERS = 1000


class Flight:
    """One answer under way. ``answer`` (an ``app.api.answer_cache.Answer``) or ``error`` is set
    when it is over; ``done`` (made when the first waiter comes) is set then."""

    __slots__ = ("answer", "done", "error", "first_gone", "over", "waiters")

    def __init__(self) -> None:
        self.answer: object | None = None
        self.error: Exception | None = None
        self.done: asyncio.Event | None = None
        self.first_gone: asyncio.Event | None = None  # set when the first client and every waiter left
        self.waiters = 0
        self.over = False

    def finish(self) -> None:
        """The first request is over: wake the waiters, and let its held disconnect go."""
        self.over = True
        if self.done is not None:
            self.done.set()
        if self.first_gone is not None:
            self.first_gone.set()

    def first_receive(self, receive: Receive) -> Receive:
        """The first request's ``receive``: its client's disconnect is held back while others wait
        for its answer (and until they have all gone, or the answer is made)."""

        async def receive_while_shared() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and self.waiters and not self.over:
                self.first_gone = asyncio.Event()
                await self.first_gone.wait()
            return message

        return receive_while_shared

    async def wait(self, receive: Receive, timeout_s: float) -> str:
        """Wait for the answer: ``"done"``, ``"gone"`` (this waiter's client left) or ``"late"``
        (``timeout_s`` passed). ``receive`` is the waiter's own; its request message is read."""
        self.waiters += 1
        if self.done is None:
            self.done = asyncio.Event()
        done = asyncio.ensure_future(self.done.wait())
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((done, gone), timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            done.cancel()
            gone.cancel()
            self.waiters -= 1
            if not self.waiters and self.first_gone is not None:
                self.first_gone.set()  # the first client left, and now nobody waits: stop the work
        if self.over:
            return "done"
        return "gone" if gone.done() and not gone.cancelled() else "late"


async def _disconnected(receive: Receive) -> None:
    """Return when the client has gone (a GET's request message is read and dropped first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def replaying(first: Message, receive: Receive) -> Receive:
    """``receive`` with ``first`` (the request message a waiter already read) given again first."""
    given = False

    async def receive_again() -> Message:
        nonlocal given
        if not given:
            given = True
            return first
        return await receive()

    return receive_again
