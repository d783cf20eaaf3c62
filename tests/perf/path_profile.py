"""Where a request's CPU goes, in-process (issue 16): the whole ASGI path, no socket, no server.

    python -m tests.perf.path_profile [--n 2000] [--profile URL] [--top 25]

Each URL is asked ``n`` times of the app built as ``serve`` builds it, with the answer cache off
(every request does all of its work: a *first* request) and on (a *repeated* one); the figure is
process CPU time per request (``time.process_time``), median of 5 batches. ``--profile URL`` then
runs cProfile over that URL's first requests and prints the ``--top`` functions by own time, so
that each step of the path can be compared with the framework's floor (the ``/bare`` line: a
plain ASGI function returning the same bytes as the items page, and ``/floor``: a FastAPI route
that takes only the Request and returns them).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import time
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from app.main import create_app
from app.settings import Settings

os.environ.setdefault("AT_TANF_ALLOWED_HOSTS", "localhost")
ITEMS = "/api/collections/events/items?limit=100&in_zone=inside,uncertain"
FEATURE = "/api/collections/events/items/2016-06-16-russian-strikes-new-syrian-army"
URLS = (ITEMS, "/healthz", FEATURE, "/api/collections", "/api/locate?lon=38.5&lat=33.4", "/floor")


def scope_for(url: str, gzip: bool = False) -> dict[str, Any]:
    path, _, query = url.partition("?")
    headers = [(b"host", b"localhost"), (b"accept", b"*/*")]
    if gzip:
        headers.append((b"accept-encoding", b"gzip"))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": query.encode(), "headers": headers, "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000)}  # fmt: skip


async def ask(app: Any, url: str, gzip: bool = False) -> tuple[int, bytes]:
    status, chunks = 0, []
    delivered = False
    forever = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await forever.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope_for(url, gzip), receive, send)
    return status, b"".join(chunks)


lifespans: list[asyncio.Task[None]] = []  # kept: a task nobody holds may be collected


async def started(cache_mb: int) -> Any:
    app = create_app(Settings(answer_cache_mb=cache_mb, allowed_hosts=["localhost"]))
    page = {}

    @app.get("/floor", include_in_schema=False)
    async def floor(request: Request) -> Response:  # noqa: ARG001 (as every route takes it)
        return Response(page["body"], media_type="application/geo+json")

    messages = iter([{"type": "lifespan.startup"}])
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        try:
            return next(messages)
        except StopIteration:
            await done.wait()
            return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started_event.set()

    started_event = asyncio.Event()
    lifespan = app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    lifespans.append(asyncio.get_running_loop().create_task(lifespan))
    await started_event.wait()
    page["body"] = (await ask(app, ITEMS))[1]
    return app


async def cpu_per_request(app: Any, url: str, n: int, gzip: bool = False, batches: int = 5) -> float:
    status, _ = await ask(app, url, gzip)
    assert status == 200, (url, status)
    times = []
    for _ in range(batches):
        t = time.process_time()
        for _ in range(n // batches):
            await ask(app, url, gzip)
        times.append((time.process_time() - t) / (n // batches) * 1e6)
    return statistics.median(times)


def without(app: Any, name: str) -> None:
    """Leave the layer called ``name`` out of ``app``: a middleware, or a layer in front."""
    kept = [m for m in app.user_middleware if m.cls.__name__ != name]
    if len(kept) < len(app.user_middleware):
        app.user_middleware[:] = kept
        app.middleware_stack = app.lean = None  # built again on the next request
        return
    outer, layer = app, app.front
    while type(layer).__name__ != name:
        outer, layer = layer, layer.app
    if outer is app:
        app.front = layer.app
    else:
        outer.app = layer.app


def layer_names(app: Any) -> list[str]:
    names, layer = [], app.front
    while hasattr(layer, "app"):
        names.append(type(layer).__name__)
        layer = layer.app
    return names + [m.cls.__name__ for m in app.user_middleware]


async def layers(n: int) -> None:
    """Each layer's CPU per request: the whole path with it against the path without it, asked
    alternately (A B A B) so that the machine's load weighs on both alike. The framework's floor:
    FastAPI alone (no layer of ours) answering a route that takes only the Request."""
    base = await started(0)
    names = layer_names(base)
    print(f"load {os.getloadavg()[0]:.1f}; µs CPU per request, {ROUNDS} alternated batches of {n // ROUNDS}")
    bare = await started(0)
    for name in names:
        without(bare, name)
    bare.front = None
    for url in ("/floor", ITEMS):
        print(f"\n{url}; each layer: the median difference with and without it")
        whole, floor, _ = await alternated(base, bare, url, n)
        print(f"  whole path {whole:6.0f}; FastAPI alone (the framework's floor on this route) {floor:6.0f}")
        for name in names:
            less = await started(0)
            without(less, name)
            print(f"  {name:26} {(await alternated(base, less, url, n))[2]:6.0f}")


ROUNDS = 25


async def alternated(a: Any, b: Any, url: str, n: int) -> tuple[float, float, float]:
    """CPU per request of ``a`` and of ``b`` (medians), and the median of their paired differences,
    over ``ROUNDS`` alternated small batches (on a loaded machine the pairs share its state)."""
    xs, ys = [], []
    for _ in range(ROUNDS):
        xs.append(await cpu_per_request(a, url, max(n // ROUNDS, 1), batches=1))
        ys.append(await cpu_per_request(b, url, max(n // ROUNDS, 1), batches=1))
    differences = [x - y for x, y in zip(xs, ys, strict=True)]
    return statistics.median(xs), statistics.median(ys), statistics.median(differences)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--layers", action="store_true", help="the cost of each layer, by leaving it out")
    args = parser.parse_args()
    if args.layers:
        await layers(args.n)
        return
    first, repeated = await started(0), await started(64)
    print(f"load: {os.getloadavg()[0]:.1f}; CPU µs per request, in-process (median of 5 batches)")
    print(f"{'url':60} {'first':>8} {'first gz':>9} {'repeated':>9}")
    for url in URLS:
        a = await cpu_per_request(first, url, args.n)
        b = await cpu_per_request(first, url, args.n // 4, gzip=True)
        c = await cpu_per_request(repeated, url, args.n)
        print(f"{url[:60]:60} {a:8.0f} {b:9.0f} {c:9.0f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.n):
            await ask(first, args.profile)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    asyncio.run(main())
