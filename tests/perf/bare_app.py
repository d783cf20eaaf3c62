"""The limit the items page is measured against (tests/perf/serving.py): a bare ASGI app that
answers every request with the same bytes the real app sends, gzip-compressed when the request
accepts gzip. The bytes come from the files named by ``BARE_PLAIN`` and ``BARE_GZIP``.

    BARE_PLAIN=page.json BARE_GZIP=page.json.gz python -m uvicorn tests.perf.bare_app:app
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PLAIN = Path(os.environ.get("BARE_PLAIN", os.devnull)).read_bytes()
GZIP = Path(os.environ.get("BARE_GZIP", os.devnull)).read_bytes()
TYPE = (b"content-type", b"application/geo+json")
PLAIN_HEADERS = [TYPE, (b"content-length", str(len(PLAIN)).encode())]
GZIP_HEADERS = [TYPE, (b"content-length", str(len(GZIP)).encode()), (b"content-encoding", b"gzip"),
                (b"vary", b"Accept-Encoding")]  # fmt: skip


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    gz = any(name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"])
    await send(
        {"type": "http.response.start", "status": 200, "headers": GZIP_HEADERS if gz else PLAIN_HEADERS}
    )
    await send({"type": "http.response.body", "body": GZIP if gz else PLAIN})
