"""A real uvicorn server on a free localhost port, in a background thread, for real clients."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its base URL; stop it afterwards."""
    port = free_port()
    # Forwarded headers are the app's business (app.proxy), as under `at-tanf-map serve`.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # start-up derives the bundled data: slow on a loaded machine
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def recording(app: ASGIApp, seen: list[str], path_end: str = "/items") -> ASGIApp:
    """``app`` behind a layer that appends to ``seen`` the query string of each request whose path
    ends with ``path_end``: what a real client sent, before any layer of the app could answer it."""

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(path_end):
            seen.append(scope["query_string"].decode("latin-1"))
        await app(scope, receive, send)

    return recorded
