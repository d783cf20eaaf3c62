"""The map and the embed at the scale of the store: first view bytes (gzip, no tiles) and ready time.

Run by hand (not part of the test run):

    python -m tests.perf.map_scale [SIZE] [RUNS] [--cache-dir DIR]
    python -m tests.perf.map_scale 100000 [RUNS] --entry DIR   # a saved entry (tests/perf/replicate.py)

Writes ``SIZE`` synthetic incidents (tests/perf/synthetic.py; default 100,000), serves them on a
free localhost port with no tile layer (``--cache-dir`` keeps the derived store between runs),
then loads ``/`` at 1440x900 and ``/embed`` at 600x450 in Debian's Chromium ``RUNS`` times each
with a cold cache, and prints: bytes transferred (the sum of the response bodies, as the browser
received them), incidents received from the events collection, and time to ready
(``window.__atTanfMap.readyMs``: from navigation to the first view drawn, cells or markers).
Budgets (issue 19, DESIGN.md): the map < 300 KB and ready < 2 s at 100k; the embed < 100 KB.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from app.main import create_app
from app.served import load_saved, load_served
from app.settings import Settings
from tests.live_server import serve
from tests.perf.synthetic import write_dataset
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS


def measure(browser: Browser, url: str, width: int, height: int, runs: int) -> None:
    times, totals, incidents = [], [], []
    sizes: dict[str, int] = {}
    for _ in range(runs):
        context = browser.new_context(viewport={"width": width, "height": height})  # a cold cache
        page = context.new_page()
        finished: list = []
        received = [0]

        def on_response(response, into=received):  # type: ignore[no-untyped-def]
            if "/collections/events/items?" in response.url and response.ok:
                into[0] += len(response.json()["features"])

        page.on("requestfinished", lambda r, into=finished: into.append(r))
        page.on("response", on_response)
        page.goto(url)
        page.wait_for_selector("body[data-ready='true']", timeout=120_000)
        times.append(page.evaluate("window.__atTanfMap.readyMs"))
        page.wait_for_load_state("networkidle")
        sizes = {r.url.split("//", 1)[1].split("/", 1)[1]: r.sizes()["responseBodySize"] for r in finished}
        totals.append(sum(sizes.values()))
        incidents.append(received[0])
        context.close()
    for path, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:12]:
        print(f"{size:>8} B  /{path[:110]}")
    print(
        f"{url} at {width}x{height}: {statistics.median(totals) / 1000:.1f} KB transferred "
        f"(max {max(totals) / 1000:.1f}); {max(incidents)} incidents received; ready in "
        f"{statistics.median(times):.0f} ms median, {max(times):.0f} ms worst of {runs}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("size", nargs="?", type=int, default=100_000)
    parser.add_argument("runs", nargs="?", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None, help="an existing synthetic data directory")
    parser.add_argument("--entry", type=Path, default=None, help="serve a saved entry, no data directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        if args.entry:
            app = create_app(Settings(tile_url=""), load_saved(args.entry))
        else:
            data = args.data_dir or write_dataset(Path(tmp) / "geodata", args.size)
            settings = Settings(data_dir=data, tile_url="", cache_dir=args.cache_dir)
            app = create_app(settings, load_served(settings))  # derived (or mapped) before it listens
        with serve(app) as base, sync_playwright() as p:
            print(f"{args.size} incidents served after {time.perf_counter() - started:.1f} s\n")
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            measure(browser, f"{base}/", 1440, 900, args.runs)
            measure(browser, f"{base}/embed", 600, 450, args.runs)
            browser.close()


if __name__ == "__main__":
    main()
