"""Measure the map page's first view: bytes transferred (gzip) and time to ready.

Run by hand (not part of the test run): ``python -m tests.perf.first_view [runs]``. Starts the app
on a free localhost port with no tile layer, loads ``/`` in Debian's Chromium ``runs`` times with
a cold cache, and prints the median and worst times and the transferred bytes of each resource.
"""

from __future__ import annotations

import statistics
import sys

from playwright.sync_api import sync_playwright

from app.main import create_app
from app.settings import Settings
from tests.live_server import serve
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS


def main(runs: int = 10) -> None:
    with serve(create_app(Settings(tile_url=""))) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        times, sizes = [], {}
        for _ in range(runs):
            context = browser.new_context()  # a cold cache each time
            page = context.new_page()
            finished = []
            page.on("requestfinished", lambda r, into=finished: into.append(r))
            page.goto(f"{base}/")
            page.wait_for_selector("body[data-ready='true']")
            times.append(page.evaluate("window.__atTanfMap.readyMs"))
            page.wait_for_load_state("networkidle")
            sizes = {r.url.replace(base, ""): r.sizes()["responseBodySize"] for r in finished}
            context.close()
        browser.close()
    for url, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"{size:>8} B  {url}")
    print(
        f"first view: {sum(sizes.values()) / 1000:.1f} KB transferred; "
        f"ready in {statistics.median(times):.0f} ms median, {max(times):.0f} ms worst of {runs}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
