"""Which gzip level: CPU and bytes of levels 1, 5, 6 and 9 on the API's real answers, with zlib
and with zlib-ng (what the service deflates with, ``app.api.caching.GZipNgResponder``).

    python -m tests.perf.gzip_levels

Compresses the items page (100 events), a regions page (100 polygons) and the events CSV
(limit 1000) of the bundled data 200 times at each level in this process and prints the CPU per
body (``time.process_time``) and the compressed size. Figures in ``app.main`` (``GZIP_LEVEL``).
"""

from __future__ import annotations

import subprocess
import time
import zlib

from fastapi.testclient import TestClient
from zlib_ng import zlib_ng

from app.main import create_app

URLS = {
    "items page (100 events)": "/api/collections/events/items?limit=100&in_zone=inside,uncertain",
    "regions page (100 polygons)": "/api/collections/regions/items?limit=100",
    "events CSV (limit 1000)": "/api/collections/events/items?limit=1000&f=csv",
}


def main(repeat: int = 200) -> None:
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        bodies = {
            name: client.get(url, headers={"Accept-Encoding": "identity"}).content
            for name, url in URLS.items()
        }
    print("| body | bytes | library | level | gzip bytes | CPU µs |\n|---|---:|---|---:|---:|---:|")
    for name, body in bodies.items():
        for library in (zlib, zlib_ng):
            for level in (1, 5, 6, 9):
                started = time.process_time()
                for _ in range(repeat):
                    packer = library.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                    packed = packer.compress(body) + packer.flush()
                cpu = (time.process_time() - started) / repeat * 1e6
                print(f"| {name} | {len(body)} | {library.__name__} | {level} | {len(packed)} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
