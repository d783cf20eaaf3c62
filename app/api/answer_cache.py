"""Finished API answers kept and replayed before the framework runs (pure ASGI).

An API answer is a pure function of the dataset version (fixed for a process's life) and what
the request says: scheme, ``Host``, path prefix, path and query, and the request headers that
negotiate or decorate it (``Accept``, ``Accept-Encoding``, whether an ``Origin`` is sent). This
layer keys each finished answer on exactly those, as raw bytes, and replays status, headers and
body (identity or gzip, as the stack produced it) without running anything inside it.

What is kept: ``GET`` answers with status 200 that the caching layer marked cacheable (they carry
an ``ETag`` and no ``no-store``), whose body arrived whole within ``max_entry_bytes``. What is
never answered from here: other methods, requests with conditional or range headers (the
caching layer inside answers those, e.g. ``If-None-Match`` → 304), and requests that repeat a
header the key reads (which copy would count is the stack's business, not ours). ``HEAD`` is
answered from a ``GET`` entry without the body.

Bounded: entries are dropped least recently used first when the bodies exceed ``max_bytes``.
One cache per worker process; nothing is shared or written anywhere.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.caching import CACHED_PREFIXES

# Request headers an answer depends on (the key), and those that make a request bypass the cache.
_KEYED = {b"host": 0, b"accept": 1, b"accept-encoding": 2, b"origin": 3}
_BYPASS = frozenset(
    {b"if-none-match", b"if-match", b"if-modified-since", b"if-unmodified-since", b"if-range", b"range"}
)
DEFAULT_MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


Key = tuple[object, ...]


class AnswerStore:
    """A least-recently-used map of keys to answers, bounded by the bytes of their bodies."""

    def __init__(self, max_bytes: int, max_entry_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.held_bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Key, Answer] = OrderedDict()

    def get(self, key: Key) -> Answer | None:
        answer = self._entries.get(key)
        if answer is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return answer

    def put(self, key: Key, answer: Answer) -> None:
        size = len(answer.body)
        if size > self.max_entry_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.held_bytes -= len(old.body)
        self._entries[key] = answer
        self.held_bytes += size
        while self.held_bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.held_bytes -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._entries)


def request_key(scope: Scope) -> Key | None:
    """The key of a GET/HEAD API request, or None where it must not be answered from the cache."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return None
    root: str = scope.get("root_path", "")
    path: str = scope["path"]
    if not path.removeprefix(root).startswith(CACHED_PREFIXES):
        return None
    found: list[bytes | None] = [None, None, None, None]
    for name, value in scope["headers"]:
        slot = _KEYED.get(name)
        if slot is not None:
            if found[slot] is not None:
                return None  # a repeated header: let the stack decide what it means
            found[slot] = value
        elif name in _BYPASS:
            return None
    host, accept, encoding, origin = found
    version = getattr(getattr(scope["app"].state, "served", None), "version", None)
    if version is None:
        return None
    server = scope.get("server") if host is None else None  # Starlette's URL uses it without Host
    return (version, scope["scheme"], root, path, scope["query_string"], host, server, accept, encoding,
            origin is not None)  # fmt: skip


def _cacheable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status != 200:
        return False
    etag = False
    for name, value in headers:
        if name == b"etag":
            etag = True
        elif name == b"cache-control" and b"no-store" in value:
            return False
    return etag


class AnswerCache:
    """The ASGI layer: replay a kept answer, or run the app and keep what it answers."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.app = app
        self.store = AnswerStore(max_bytes, max_entry_bytes=max(max_bytes // 8, 1))
        self.enabled = max_bytes > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = request_key(scope) if self.enabled else None
        if key is None:
            await self.app(scope, receive, send)
            return
        answer = self.store.get(key)
        if answer is not None:
            # A fresh list: layers outside this one may add headers to the message in place.
            start = {"type": "http.response.start", "status": answer.status, "headers": list(answer.headers)}
            await send(start)
            body = b"" if scope["method"] == "HEAD" else answer.body
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        await self._run_and_keep(key, scope, receive, send)

    async def _run_and_keep(self, key: Key, scope: Scope, receive: Receive, send: Send) -> None:
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0
        keeping = True

        async def send_and_keep(message: Message) -> None:
            nonlocal status, headers, size, keeping
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))  # as sent by the stack, before outer layers
                keeping = _cacheable(status, headers) and not message.get("trailers", False)
            elif kind == "http.response.body" and keeping:
                body = message.get("body", b"")
                size += len(body)
                if size > self.store.max_entry_bytes:
                    keeping, chunks[:] = False, []
                else:
                    chunks.append(body)
                    if not message.get("more_body", False):
                        self.store.put(key, Answer(status, tuple(headers), b"".join(chunks)))
            elif kind != "http.response.body":
                keeping = False  # trailers, pathsend, early hints: not replayable as kept
            await send(message)

        await self.app(scope, receive, send_and_keep)
