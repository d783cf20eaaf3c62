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


async def cpu_per_request(app: Any, url: str, n: int, gzip: bool = False) -> float:
    status, _ = await ask(app, url, gzip)
    assert status == 200, (url, status)
    batches = []
    for _ in range(5):
        t = time.process_time()
        for _ in range(n // 5):
            await ask(app, url, gzip)
        batches.append((time.process_time() - t) / (n // 5) * 1e6)
    return statistics.median(batches)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--profile")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
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
