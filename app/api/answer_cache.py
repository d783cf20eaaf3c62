"""Finished answers kept and replayed in front of everything else (pure ASGI): the fast path.

An API answer is a pure function of the dataset version (fixed while a dataset is served) and what
the request says: scheme, ``Host``, path prefix, path and query, the request headers that
negotiate, decorate or condition it (``Accept``, ``Accept-Encoding``, whether an ``Origin`` is sent,
``If-None-Match``), and, from a trusted proxy, its forwarded headers. This layer is the outermost
one but the front error layer (``app.main``): it keys each request on exactly those, as raw bytes,
and replays a kept answer's status, headers and body as the whole stack sent them (the security
headers, CORS, ``Vary``, the ETag of the coding, identity or gzip), writing the request log line
itself, without running any other layer. A miss runs the whole stack (request log, Host and proxy
rules, the framework) and keeps what it answered.

What is kept: answers to ``GET`` requests for ``/api`` whose status is 200 or 304 and that the
caching layer marked cacheable (an ``ETag`` and no ``no-store``), whose body arrived whole within
``max_entry_bytes``; a 304 is kept under the ``If-None-Match`` that earned it, so a revalidation
is replayed as the 304 the stack made for it. ``/healthz`` (no links, no validators, the same for
every Host) is kept per dataset version in a small table of its own, also with the cache off:
it is answered here, never by the framework after its first time; but served from a database
(``keep_health`` False) it is never kept: each one asks whether the database answers.

Never answered from here: other methods; requests whose ``Host`` the Host rules would refuse
(``app.proxy``: the stack answers them, with its 400, which is never kept), that carry no or
several ``Host`` headers, or repeat a header the key reads (which copy counts is the stack's
business); requests with other conditional or range headers (``If-Modified-Since``, ``Range``...).
``HEAD`` is answered from a ``GET`` entry without the body.

Bounded: entries are dropped least recently used first when their bodies, headers and keys exceed
``max_bytes``. One cache per worker process; nothing is shared or written anywhere.

An answer under way is shared (``app.api.flights``): an identical ``GET`` or ``HEAD`` that comes
while the first ``GET`` of its key is being answered waits for that answer, kept or not (errors
too), also with the cache off (``max_bytes`` 0: nothing kept, answers under way still shared).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import middleware
from app.api.caching import CACHED_PREFIXES
from app.api.flights import MAX_WAITERS, Flight, replaying
from app.budget import CLIENT_CLOSED_REQUEST
from app.errors import problem
from app.proxy import AllowedHosts, ForwardedHeaders
from app.settings import Settings

HEALTH_PATH = "/healthz"
# Request headers an answer depends on (the key) and those that make a request bypass the cache.
_HOST, _ACCEPT, _ENCODING, _ORIGIN, _IF_NONE_MATCH = range(5)
_KEYED = {b"host": _HOST, b"accept": _ACCEPT, b"accept-encoding": _ENCODING, b"origin": _ORIGIN,
          b"if-none-match": _IF_NONE_MATCH}  # fmt: skip
_BYPASS = frozenset({b"if-match", b"if-modified-since", b"if-unmodified-since", b"if-range", b"range"})
_FORWARDED = (b"x-forwarded-", b"forwarded")
DEFAULT_MAX_BYTES = 64 * 2**20
ENTRY_OVERHEAD = 256  # bytes counted for each entry's key and bookkeeping, beyond its body and headers
MAX_HEALTH_ANSWERS = 64
SHARED_MAX_BYTES = 8 * 2**20  # the largest answer under way given to the requests waiting for it
DEFAULT_WAIT_S = 11.0  # how long an identical request waits for an answer under way (budget + 1 s)
_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}  # a GET's one message


class Trusted(Protocol):
    """The addresses whose forwarded headers the proxy rules read (uvicorn's ``_TrustedHosts``)."""

    def __contains__(self, host: str | None, /) -> bool: ...


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


Key = tuple[object, ...]


class AnswerStore:
    """A least-recently-used map of keys to answers, bounded by their sizes (by default the bytes
    of their bodies)."""

    def __init__(self, max_bytes: int, max_entry_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.held_bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Key, tuple[Answer, int]] = OrderedDict()

    def get(self, key: Key) -> Answer | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: Key, answer: Answer, size: int | None = None) -> None:
        """Keep ``answer``, counted as ``size`` bytes (default: its body's), unless its body alone
        is larger than ``max_entry_bytes``."""
        if len(answer.body) > self.max_entry_bytes:
            return
        size = len(answer.body) if size is None else size
        old = self._entries.pop(key, None)
        if old is not None:
            self.held_bytes -= old[1]
        self._entries[key] = (answer, size)
        self.held_bytes += size
        while self.held_bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.held_bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)


def _keepable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status not in (200, 304):
        return False
    etag = False
    for name, value in headers:
        if name == b"etag":
            etag = True
        elif name == b"cache-control" and b"no-store" in value:
            return False
    return etag


class AnswerCache:
    """The ASGI layer: replay a kept answer (or ``/healthz``'s), or run ``app``, the whole stack
    behind it, and keep what it answered.

    ``hosts`` is the Host rules' layer (None where Host is not checked: ``public_url`` without
    ``allowed_hosts``); with ``trusted`` (the proxy rules' addresses, as uvicorn reads them) a
    request's forwarded headers and whether its client is trusted are part of the key; with
    ``public_url`` the ``Host`` a request carries does not change its answer."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = DEFAULT_MAX_BYTES,
        hosts: AllowedHosts | None = None,
        trusted: Trusted = (),
        host_in_answer: bool = True,
        wait_s: float = DEFAULT_WAIT_S,
        keep_health: bool = True,
    ) -> None:
        self.app = app
        self.keep_health = keep_health  # False: /healthz asks the database every time
        self.store = AnswerStore(max_bytes, max_entry_bytes=max(max_bytes // 8, 1))
        self.enabled = max_bytes > 0
        self.hosts = hosts
        self.trusted = trusted
        self.host_in_answer = host_in_answer
        self.health: dict[Key, Answer] = {}
        self.flights: dict[Key, Flight] = {}  # answers under way (app.api.flights)
        self.wait_s = wait_s
        self.shared = 0  # answers sent to a request that waited for them

    @classmethod
    def in_front_of(cls, app: ASGIApp, settings: Settings) -> AnswerCache:
        """The layer in front of ``app`` (built by ``app.proxy.install`` and the layers before it),
        with the Host and proxy rules of ``settings``."""
        hosts = settings.effective_allowed_hosts()
        allowed = AllowedHosts(app, hosts, vary=False) if hosts is not None else None
        trusted: Trusted = ()
        if settings.forwarded_allow_ips and not settings.public_url:  # uvicorn's reading of the list
            trusted = ForwardedHeaders(app, trusted_hosts=settings.forwarded_allow_ips).trusted_hosts  # type: ignore[arg-type]
        return cls(app, settings.answer_cache_mb * 2**20, allowed, trusted, not settings.public_url,
                   wait_s=settings.request_budget_s + 1, keep_health=not settings.database_url)  # fmt: skip

    def request_key(self, scope: Scope) -> Key | None:
        """The key of a GET/HEAD request for ``/api`` or ``/healthz``, or None where it must not
        be answered from here."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        route = path.removeprefix(root) if root else path
        health = route == HEALTH_PATH
        if (health and not self.keep_health) or (not health and not route.startswith(CACHED_PREFIXES)):
            return None
        found: list[bytes | None] = [None, None, None, None, None]
        forwarded: list[tuple[bytes, bytes]] | None = None
        for name, value in scope["headers"]:
            slot = _KEYED.get(name)
            if slot is not None:
                if found[slot] is not None:
                    return None  # a repeated header: let the stack decide what it means
                found[slot] = value
            elif name in _BYPASS:
                return None
            elif self.trusted and name.startswith(_FORWARDED):
                forwarded = [*(forwarded or ()), (name, value)]
        host, accept, encoding, origin, if_none_match = found
        believed: tuple[object, ...] | None = None
        if forwarded is not None:  # read by the proxy rules if the client is trusted
            client = scope.get("client")
            believed = (client[0] if client else None) in self.trusted, *forwarded
        if host is None:
            return None  # the Host rules' business (HTTP/1.0 without one, or a 400)
        if health:
            host = None  # /healthz: any Host, no links
        else:
            if self.hosts is not None and not self.hosts.allowed(host.decode("latin-1")):
                return None  # refused by the stack (a 400 never kept); never served from here
            if not self.host_in_answer:
                host = None  # public_url: every link names it, whatever the Host
        version = getattr(getattr(scope["app"].state, "served", None), "version", None)
        if version is None:
            return None
        return (version, scope["scheme"], root, path, scope["query_string"], host, accept, encoding,
                origin is not None, if_none_match, believed, health)  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.request_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        started = middleware.clock()
        health = key[-1] is True
        answer = self.health.get(key) if health else self.store.get(key) if self.enabled else None
        if answer is not None:
            await self._replay(answer, scope, send, started)
            return
        flight = self.flights.get(key)
        if flight is not None and flight.waiters < MAX_WAITERS:
            await self._wait_for(flight, key, scope, receive, send, started)
            return
        if scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        await self._run_and_keep(key, health, scope, receive, send)

    @staticmethod
    async def _replay(answer: Answer, scope: Scope, send: Send, started: float) -> None:
        # A fresh list: the server may add to the message's headers.
        start = {"type": "http.response.start", "status": answer.status, "headers": list(answer.headers)}
        await send(start)
        body = b"" if scope["method"] == "HEAD" else answer.body
        await send({"type": "http.response.body", "body": body, "more_body": False})
        middleware.log_request(scope, answer.status, started)

    async def _wait_for(
        self, flight: Flight, key: Key, scope: Scope, receive: Receive, send: Send, started: float
    ) -> None:
        """Send the answer under way for ``key`` once it is made (``app.api.flights``)."""
        outcome = await flight.wait(receive, self.wait_s)
        if outcome == "gone":
            middleware.log_request(scope, CLIENT_CLOSED_REQUEST, started)
        elif outcome == "late":
            detail = (f"the same request, asked just before by another client, was not answered "
                      f"within {self.wait_s:g} s; try again later")  # fmt: skip
            response = problem(503, detail, scope["path"][: middleware.MAX_LOGGED_QUERY])
            response.headers.update(middleware.ERROR_HEADERS)
            if key[8]:  # an Origin was sent
                response.headers.update(middleware.CORS_HEADERS)
            await response(scope, receive, send)
            middleware.log_request(scope, 503, started)
        elif isinstance(flight.answer, Answer):  # complete (even if an error came after it)
            self.shared += 1
            await self._replay(flight.answer, scope, send, started)
        elif flight.error is not None:
            raise flight.error  # the front error layer's 500, as for the first request
        else:  # nothing replayable: made again, as if alone
            await self.app(scope, replaying(_REQUEST, receive), send)

    def _keep(self, key: Key, health: bool, scope: Scope, answer: Answer) -> None:
        version = getattr(getattr(scope["app"].state, "served", None), "version", None)
        if version != key[0]:
            return  # a new dataset was published while this was answered
        if health:
            if answer.status == 200:
                if len(self.health) >= MAX_HEALTH_ANSWERS:
                    self.health.clear()  # older versions, odd headers: made again when asked
                self.health[key] = answer
            return
        size = len(answer.body) + ENTRY_OVERHEAD + len(scope["query_string"]) + len(scope["path"])
        size += sum(len(name) + len(value) for name, value in answer.headers)
        size += sum(len(part) for part in key[5:10] if isinstance(part, bytes))
        self.store.put(key, answer, size)

    async def _run_and_keep(self, key: Key, health: bool, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the stack; keep its answer if it may be kept, and give it to the identical requests
        that came meanwhile (``flight``), whether kept or not."""
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0
        collecting = True  # the answer so far is replayable (to waiters, or from the cache)
        keeping = False
        # (the store itself refuses a body beyond its largest entry)
        limit = max(self.store.max_entry_bytes, SHARED_MAX_BYTES) if not health else 2**16
        flight = Flight()
        if not health:  # /healthz is made in microseconds: nothing to share
            self.flights[key] = flight
            receive = flight.first_receive(receive)

        async def send_and_keep(message: Message) -> None:
            nonlocal status, headers, size, keeping, collecting
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))  # as the whole stack sends them
                keeping = (health and status == 200) or (self.enabled and _keepable(status, headers))
                collecting = status != CLIENT_CLOSED_REQUEST and not message.get("trailers", False)
            elif kind == "http.response.body" and collecting:
                body = message.get("body", b"")
                size += len(body)
                if size > limit:
                    collecting, chunks[:] = False, []
                else:
                    chunks.append(body)
                    if not message.get("more_body", False):
                        answer = Answer(status, tuple(headers), b"".join(chunks))
                        flight.answer = answer
                        if keeping:
                            self._keep(key, health, scope, answer)
            elif kind != "http.response.body":
                collecting = False  # trailers, pathsend, early hints: not replayable
            await send(message)

        try:
            await self.app(scope, receive, send_and_keep)
        except Exception as error:
            flight.error = error
            raise
        finally:
            if self.flights.get(key) is flight:
                del self.flights[key]
            flight.finish()
