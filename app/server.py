"""The HTTP server's own bounds, for a service that may face clients with no proxy in front.

uvicorn's httptools protocol buffers a request's headers without limit and waits for them without
a deadline: three sockets sending endless headers took a worker from 93 MB to 545 MB, and a
request whose headers never end stayed open. ``BoundedHttpToolsProtocol`` adds:

- a header size bound: more than ``max_header_bytes`` (request line and headers) before the
  headers end is answered ``431 Request Header Fields Too Large`` and the connection closed,
  before the parser buffers any more;
- a header deadline: a connection must finish a request's headers within ``header_timeout_s``
  of opening (or of its previous response), give or take a quarter of it; otherwise ``408
  Request Timeout`` (if it sent anything) and the connection is closed. Between requests,
  uvicorn's keep-alive timeout closes an idle connection. The deadlines are kept in one table per
  event loop and swept by one timer (``HeadDeadlines``), not by a timer per request: those
  (armed at every response, cancelled at every request's headers, and left in the loop's heap
  until they would have run) cost about a tenth of a cheap request's CPU (py-spy, issue 16).

The values come from the settings (``AT_TANF_MAX_HEADER_BYTES``, ``AT_TANF_HEADER_TIMEOUT_S``,
``AT_TANF_IDLE_TIMEOUT_S``); ``at-tanf-map serve`` always uses this protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings


def _plain_response(status: bytes, text: bytes) -> bytes:
    """An answer made before the app sees the request, with the headers every error of the app
    carries (``app.web.headers``, CORS): a cross-origin caller reads the status, not a network
    error."""
    return (
        b"HTTP/1.1 " + status + b"\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"cache-control: no-store\r\n"
        b"x-content-type-options: nosniff\r\n"
        b"referrer-policy: strict-origin-when-cross-origin\r\n"
        b"access-control-allow-origin: *\r\n"
        b"connection: close\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\n\r\n" + text
    )


TOO_LARGE = _plain_response(b"431 Request Header Fields Too Large", b"request header fields too large\n")
TIMED_OUT = _plain_response(b"408 Request Timeout", b"request headers took too long\n")


class HeadDeadlines:
    """The connections of one event loop that are reading a request's headers, each with its
    deadline (the loop's clock), swept every ``tick`` seconds by one timer while any waits."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tick: float) -> None:
        self._loop = weakref.ref(loop)  # the table is kept by its loop (_deadlines), not the reverse
        self.tick = tick
        self.waiting: dict[BoundedHttpToolsProtocol, float] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    def arm(self, connection: BoundedHttpToolsProtocol, seconds: float) -> None:
        self.waiting[connection] = connection.loop.time() + seconds
        if self._sweeper is None:
            self._sweeper = connection.loop.call_later(self.tick, self._sweep)

    def disarm(self, connection: BoundedHttpToolsProtocol) -> None:
        self.waiting.pop(connection, None)

    def _sweep(self) -> None:
        loop = self._loop()
        if loop is None:
            return
        now = loop.time()
        late = [connection for connection, deadline in self.waiting.items() if deadline <= now]
        for connection in late:
            del self.waiting[connection]
            connection.head_timed_out()
        self._sweeper = loop.call_later(self.tick, self._sweep) if self.waiting else None


_deadlines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, HeadDeadlines] = weakref.WeakKeyDictionary()


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Nagle's algorithm off on a TCP connection (``TCP_NODELAY``), as asyncio sets it on the
    sockets it creates. With ``--workers N`` uvicorn binds the listening socket itself, as
    ``socket.socket(family)`` (protocol 0), and asyncio then leaves the accepted sockets alone:
    an answer's last small write waited for the client's delayed ACK, 40 ms, on every answer
    (wrk: p50 44 ms and 220 requests/s on any URL with two workers, 0.8 ms with one)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header size bound and a header deadline."""

    max_header_bytes = 32 * 1024
    header_timeout_s = 10.0

    @classmethod
    def configure(cls, settings: Settings) -> None:
        cls.max_header_bytes = settings.max_header_bytes
        cls.header_timeout_s = settings.header_timeout_s

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        deadlines = _deadlines.get(self.loop)
        if deadlines is None:
            deadlines = _deadlines[self.loop] = HeadDeadlines(self.loop, min(1.0, self.header_timeout_s / 4))
        self._deadlines = deadlines

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        no_delay(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._in_head, self._head_bytes = True, 0
        self._deadlines.arm(self, self.header_timeout_s)

    def _disarm(self) -> None:
        self._deadlines.disarm(self)

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """A request the parser refuses (uvicorn's answer, with the headers of ``_plain_response``)."""
        self._disarm()
        self.transport.write(_plain_response(b"400 Bad Request", msg.encode("ascii", "replace") + b"\n"))
        self.transport.close()

    def head_timed_out(self) -> None:
        """Called by ``HeadDeadlines`` once this connection's deadline has passed."""
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its headers were complete
        if self._head_bytes:
            self._refuse(TIMED_OUT)
        elif not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(TOO_LARGE)
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # a pipelined request: its headers count afresh
            self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()
