"""Serve a cache entry directly (no data directory), for the benchmarks' largest datasets:
``tests/perf/replicate.py`` makes such entries (100k incidents from a derived 10k one) where
deriving them would take hours. One process, the app as ``serve`` builds it.

    python -m tests.perf.serve_entry ENTRY --port PORT [--loop asyncio|uvloop]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from app.data import cache
from app.main import create_app
from app.served import load_saved
from app.server import BoundedHttpToolsProtocol
from app.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entry", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", default="asyncio")
    args = parser.parse_args()
    cache.verify(args.entry)
    settings = Settings(tile_url="")
    BoundedHttpToolsProtocol.configure(settings)
    app = create_app(settings, load_saved(args.entry))
    uvicorn.run(app, host="127.0.0.1", port=args.port, http=BoundedHttpToolsProtocol, loop=args.loop,
                access_log=False, log_level="warning")  # fmt: skip


if __name__ == "__main__":
    main()
