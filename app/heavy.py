"""Pages that cost CPU in proportion to their rows (CSV, HTML, polygons written from WKB) made in
a separate worker process, at a lower priority, so that neither the event loop's GIL nor its
core waits behind them (issue 16: two clients looping on 1,000-region CSV pages raised a cheap
request's p50 from 3 to 15-19 ms when they ran in the thread pool).

``HeavyWork`` forks its workers when the service starts, once its data is loaded and before it
answers anything: they hold the same stores (the mapped files and frozen objects, shared with
the server process until written) and are niced by ``NICE`` (the kernel lets the server run
first). A job names its collection and runs a module-level function over that collection's
store; its answer comes back pickled. The work stays bounded as in the server (``app.budget``):
each job has the request's deadline, and a flag in shared memory that the server sets when the
client leaves, which the job's ``budget.check()`` reads at every row; at most ``SLOTS`` jobs are
under way or queued at once per server process (more wait for a slot).

Pages of fewer than ``MIN_ROWS`` rows, pages of stores that wait on a server (PostGIS:
``blocking``, not forked) and every page of an app started without its lifespan (no workers)
are made in the thread pool as before.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import math
import multiprocessing
import os
import signal
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from app import budget
from app.data.store_api import Store

NICE = 10  # added to a worker's nice value: the server process runs first when both can
SLOTS = 32  # jobs under way or queued at once, per server process
POLL_S = 0.05  # how often a waiting server looks whether the client has left
# Smaller pages are made in the thread pool: a few milliseconds of work, less than a worker's
# turn costs when the machine is busy (a worker runs niced; 50 clients asking at once for a
# 36-row CSV queued behind one worker for seconds, wrk -c50 under a load of 7).
MIN_ROWS = 200
T = TypeVar("T")
log = logging.getLogger("app.heavy")

# What the forked workers read: the stores and the flags, as they were when they were forked.
_stores: Mapping[str, Store] = {}
_gone: Any = None  # a shared array of c_bool, one per slot


class SharedBudget(budget.Budget):
    """A job's budget in a worker: the request's deadline, and the flag its server sets when the
    client leaves."""

    def __init__(self, deadline: float, seconds: float, slot: int) -> None:
        super().__init__(deadline, seconds)
        self.slot = slot

    def check(self) -> None:
        if _gone[self.slot]:
            raise budget.ClientGone
        super().check()


def _job(
    slot: int, deadline: float, seconds: float, make: Callable[..., T], collection: str, *args: Any
) -> T:
    """In a worker: ``make(store, *args)`` under the request's budget."""
    budget.current.set(SharedBudget(deadline, seconds, slot))
    return make(_stores[collection], *args)


_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when the thread that forked it ends


def _lower_priority(server: int) -> None:
    """A worker's start: a lower priority, Ctrl-C left to the server (which stops it), and an
    end with the server's: a server stopped by SIGTERM or SIGKILL left its workers running (and
    holding its stderr open, so whoever waited for the server's output waited forever)."""
    os.nice(NICE)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the server's handler, inherited by fork
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != server:  # the server ended before the line above
        os._exit(0)


class HeavyWork:
    """``workers`` forked processes that make heavy pages from ``stores``."""

    def __init__(self, stores: Mapping[str, Store], workers: int) -> None:
        global _stores, _gone
        self.stores = stores
        self.gone = multiprocessing.RawArray(ctypes.c_bool, SLOTS)
        _stores, _gone = stores, self.gone
        context = multiprocessing.get_context("fork")
        self.pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_lower_priority, initargs=(os.getpid(),)
        )
        self.pool.submit(int).result()  # fork them now, before the server has other work under way
        self.free = list(range(SLOTS))
        self.admitted: asyncio.Semaphore | None = None
        self.broken = False

    @classmethod
    def start(cls, stores: Mapping[str, Store], workers: int) -> HeavyWork | None:
        """Workers for ``stores`` (None when ``workers`` is 0 or a store waits on a server)."""
        if workers <= 0 or any(store.blocking for store in stores.values()):
            return None
        return cls(stores, workers)

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, make: Callable[..., T], collection: str, *args: Any) -> T:
        """``make(store, *args)`` in a worker, for the request whose budget is current; raises what
        the job raised (``ClientGone``, ``OverBudget``...)."""
        if self.admitted is None:
            self.admitted = asyncio.Semaphore(SLOTS)
        await self.admitted.acquire()
        slot = self.free.pop()
        self.gone[slot] = False
        own = budget.current.get()
        deadline, seconds = (own.deadline, own.seconds) if own is not None else (math.inf, math.inf)
        try:
            job = self.pool.submit(_job, slot, deadline, seconds, make, collection, *args)
        except BrokenProcessPool:
            self._release(slot)
            raise
        waiting = asyncio.wrap_future(job)
        waiting.add_done_callback(lambda _: self._release(slot))  # when the job ends, not before
        try:
            while not waiting.done():
                await asyncio.wait([waiting], timeout=POLL_S)
                if own is not None and own.gone:
                    self.gone[slot] = True  # the job stops at its next row
        except asyncio.CancelledError:
            self.gone[slot] = True
            raise
        return waiting.result()

    def _release(self, slot: int) -> None:
        self.free.append(slot)
        assert self.admitted is not None
        self.admitted.release()


async def made(
    heavy: HeavyWork | None, store: Store, make: Callable[..., T], collection: str, rows: int, *args: Any
) -> T:
    """``make(store, *args)``, a page of ``rows`` rows: in a worker where there are workers for
    ``store`` and the page has ``MIN_ROWS`` rows or more, else (and once a worker has died: the
    pool is then given up, with a warning) in the thread pool."""
    if heavy is not None and rows >= MIN_ROWS and not heavy.broken and heavy.stores.get(collection) is store:
        try:
            return await heavy.run(make, collection, *args)
        except BrokenProcessPool:
            heavy.broken = True
            log.warning("a heavy-page worker died; heavy pages are made in threads from now on")
    return await run_in_threadpool(make, store, *args)
