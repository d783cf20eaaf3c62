"""Load test on loopback, bounded in time: the served app with its production settings.

Run by hand (not part of the test run; needs ``apt-get install wrk``):

    python -m tests.perf.load [seconds per endpoint, default 10] [connections, default 50]

Starts ``at-tanf-map serve --workers 2`` (as the README recommends for production) on a free
port, then drives each endpoint with wrk (1 thread, N connections) and prints requests/s,
p50/p99 latency and errors (socket errors plus non-2xx/3xx answers) as a Markdown table.
wrk and the server share the machine's cores, so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

import httpx2

from tests.live_server import free_port
from tests.perf import wrk


def endpoints(base: str) -> list[tuple[str, str, tuple[str, ...]]]:
    events = f"{base}/api/collections/events/items?in_zone=inside"
    etag = httpx2.get(events).headers["etag"]
    zone = httpx2.get(f"{base}/api/collections/zones/items").json()["features"][0]["id"]
    return [
        ("map page `/`", f"{base}/", ("Accept-Encoding: gzip",)),
        ("zone (GeoJSON)", f"{base}/api/collections/zones/items/{zone}", ("Accept-Encoding: gzip",)),
        ("`events?in_zone=inside`", events, ("Accept-Encoding: gzip",)),
        ("one event", f"{base}/api/collections/events/items/2017-06-08-strike-on-technical-vehicles", ()),
        (
            "events as CSV",
            f"{base}/api/collections/events/items?f=csv&limit=1000",
            ("Accept-Encoding: gzip",),
        ),
        ("oEmbed", f"{base}/oembed?url={base}/", ()),
        ("304 revalidation", events, (f"If-None-Match: {etag}",)),
    ]


def main(seconds: int = 10, connections: int = 50) -> None:
    wrk.require()
    port = free_port()
    env = {**os.environ, "AT_TANF_TILE_URL": ""}
    server = subprocess.Popen(  # this Python's own service: no activated venv needed
        [sys.executable, "-m", "app", "serve", "--workers", "2", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx2.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        rows = []
        for name, url, headers in endpoints(base):
            r = wrk.run(url, seconds, connections, headers)
            rows.append(
                f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']:.0f} |"
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"wrk -t1 -c{connections} -d{seconds}s, server: at-tanf-map serve --workers 2\n")  # fmt: skip
    print("| endpoint | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
