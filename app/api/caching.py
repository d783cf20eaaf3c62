"""HTTP caching: dataset version, ETag per content coding, 304, Vary, Cache-Control (pure ASGI).

Every API answer is a pure function of the dataset version, the URL and the negotiated format,
so its ETag is computed from those, before the handler runs: a revalidation costs no query at
all. The rules are RFC 9110's:

- §13.1.2: ``If-None-Match`` matches when it lists the ETag of the representation that would be
  sent; ``*`` matches only when there is one (a 200): a 404 or a 400 is never a 304;
- §8.8.3: a validator names one representation, so a gzip body and an identity body have
  different ETags (``-gzip`` is added to the ETag of a compressed body, whoever set it: the API
  or the static files);
- §15.4.5: a 304 carries the ``Vary`` (and ``ETag``, ``Cache-Control``) the 200 would have;
  ``Vary: Accept-Encoding`` goes on every answer the gzip layer could have compressed.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from starlette.middleware.gzip import GZipMiddleware, GZipResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from zlib_ng import zlib_ng

from app import header_lists
from app.header_lists import RawHeaders, put
from app.urls import scope_route_path

CACHED_PREFIXES = ("/api",)
VERSION_HEADER = "X-Dataset-Version"
GZIP_SUFFIX = "-gzip"


def etag_for(path: str, query: bytes, accept: str, version: str) -> str:
    key = b"\n".join((path.encode(), query, accept.encode()))
    return f'"{version}-{hashlib.sha256(key).hexdigest()[:16]}"'


def listed_etags(if_none_match: str) -> set[str]:
    """The entity tags of an ``If-None-Match`` value, weak ones compared as strong (§13.1.2:
    the weak comparison)."""
    return {tag.strip().removeprefix("W/") for tag in if_none_match.split(",") if tag.strip()}


def _with_coding(etag: str) -> str:
    weak = "W/" if etag.startswith("W/") else ""
    bare = etag.removeprefix("W/")
    return f'{weak}{bare[:-1]}{GZIP_SUFFIX}"' if bare.endswith('"') else etag


@functools.lru_cache(maxsize=256)  # clients send few distinct values; a flood of new ones is parsed
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows a gzip body (RFC 9110 §12.5.3): ``gzip`` (or
    ``x-gzip``, §8.4.1.3), in any case, with a weight above 0; else ``*`` with a weight above 0.
    ``gzip;q=0`` rules it out (a substring test, as Starlette's GZipMiddleware makes, did not)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0  # not a weight (§12.4.2): not a yes
        weights.setdefault(coding.lower(), weight)
    for coding in ("gzip", "x-gzip"):
        if coding in weights:
            return weights[coding] > 0
    return weights.get("*", 0.0) > 0


def _accepts_gzip(headers: RawHeaders) -> bool:
    value = header_lists.get(headers, b"accept-encoding")
    return accepts_gzip(value.decode("latin-1")) if value is not None else False


class NegotiatedGZip(GZipMiddleware):
    """Starlette's gzip layer, deciding by ``accepts_gzip`` rather than by a substring."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not _accepts_gzip(scope["headers"]):
            # Nothing to compress: straight through (Starlette's identity responder only adds
            # ``Vary: Accept-Encoding``, which HttpCaching adds to every answer it could vary).
            await self.app(scope, receive, send)
            return
        responder = GZipNgResponder(
            self.app,
            self.minimum_size,
            compresslevel=self.compresslevel,
            thread_minimum_size=self.thread_minimum_size,
            exclude_content_types=self.exclude_content_types,
        )
        await responder(scope, receive, send)


class GZipNgResponder(GZipResponder):
    """Starlette's gzip responder deflating with zlib-ng: the same format, and within a few per
    cent of zlib's bytes at a level, in half its CPU or less (``tests/perf/gzip_levels.py``)."""

    _ng: Any = None

    @property
    def compressor(self) -> Any:  # made when the first body is compressed, as Starlette's
        if self._ng is None:
            self._ng = zlib_ng.compressobj(self.compresslevel, zlib_ng.DEFLATED, 16 + zlib_ng.MAX_WBITS)
        return self._ng


def _add_vary(headers: RawHeaders, name: bytes) -> None:
    """``name`` added to the (first) ``Vary`` unless it is listed there, or ``*`` is."""
    listed = [v.strip() for v in (header_lists.get(headers, b"vary") or b"").split(b",") if v.strip()]
    present = [v.lower() for v in listed]
    if name.lower() not in present and b"*" not in present:
        put(headers, b"vary", b", ".join([*listed, name]))


class HttpCaching:
    """Validators and caching headers, in one layer outside the gzip layer.

    API answers (``/api``): the ETag computed from the request before the handler runs, a 304
    without running it when ``If-None-Match`` lists it (or lists ``*`` and the answer is a 200),
    ``Cache-Control``, ``Vary`` and the dataset version on a 200, ``no-store`` on anything else.
    Every answer: the dataset version; and the coding's own ETag (``-gzip`` on a compressed
    body's, whoever set it: the API or the static files) with ``Vary: Accept-Encoding``.

    What the layers inside see is the identity ETags: a listed ``"x-gzip"`` stands for ``"x"``
    when the request accepts gzip (the same body would be compressed again) and is dropped when
    it does not (that representation cannot be selected)."""

    def __init__(self, app: ASGIApp, max_age_s: int) -> None:
        self.app = app
        self.max_age_s = max_age_s
        self.cache_control = f"public, max-age={max_age_s}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = accept_encoding = if_none_match = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers reads them
            if name == b"accept":
                accept = value if accept is None else accept
            elif name == b"accept-encoding":
                accept_encoding = value if accept_encoding is None else accept_encoding
            elif name == b"if-none-match":
                if_none_match = value if if_none_match is None else if_none_match
        gzip = accept_encoding is not None and accepts_gzip(accept_encoding.decode("latin-1"))
        asked = listed_etags(if_none_match.decode("latin-1")) if if_none_match else set()  # as listed
        inner_asked = asked
        if any(tag.endswith(GZIP_SUFFIX + '"') for tag in asked):
            inner_asked = {
                tag.replace(GZIP_SUFFIX + '"', '"') if gzip else tag
                for tag in asked
                if gzip or not tag.endswith(GZIP_SUFFIX + '"')
            }
            raw = [(k, v) for k, v in scope["headers"] if k != b"if-none-match"]
            if inner_asked:
                raw.append((b"if-none-match", ", ".join(inner_asked).encode("latin-1")))
            scope = {**scope, "headers": raw}

        async def send_coded(message: Message) -> None:
            if message["type"] == "http.response.start":
                _code_etag(message, gzip, asked)
            await send(message)

        served = getattr(scope["app"].state, "served", None)
        version: str = served.version if served is not None else ""
        extra: RawHeaders = [(VERSION_KEY, version.encode("latin-1"))] if version else []
        path: str = scope["path"]  # with the public prefix, if any (app.proxy)
        if not scope_route_path(scope).startswith(CACHED_PREFIXES):
            await self.app(scope, receive, _adding(send_coded, extra))
            return
        accept_text = accept.decode("latin-1") if accept is not None else ""
        etag = etag_for(path, scope["query_string"], accept_text, version)
        cached: RawHeaders = [
            (b"etag", etag.encode("latin-1")),
            (b"cache-control", self.cache_control),
            (b"vary", b"Accept, Accept-Encoding"),
            *extra,
        ]
        if etag in inner_asked:  # no need to run the handler: the answer is a function of the ETag
            await _not_modified(send_coded, cached)
            return
        unchanged = False

        async def send_with_headers(message: Message) -> None:
            nonlocal unchanged
            if message["type"] == "http.response.start":
                if message["status"] == 200 and "*" in inner_asked:  # a current representation exists
                    unchanged = True
                    await _not_modified(send_coded, cached)
                    return
                response_headers = header_lists.writable(message)
                if message["status"] == 200:
                    for name, value in cached:
                        put(response_headers, name, value)
                else:
                    for name, value in extra:
                        put(response_headers, name, value)
                    put(response_headers, b"cache-control", b"no-store")
                _code_etag_of(response_headers, message["status"], gzip, asked)  # as send_coded does
            elif unchanged:
                return  # the 200's body: not sent after a 304
            await send(message)

        await self.app(scope, receive, send_with_headers)


VERSION_KEY = VERSION_HEADER.lower().encode()


def _code_etag(message: Message, gzip: bool, asked: set[str]) -> None:
    """The ETag of the representation sent (``-gzip`` for a compressed body, or for a 304 to a
    client that holds the compressed one) and ``Vary: Accept-Encoding`` (RFC 9110 §8.8.3)."""
    _code_etag_of(header_lists.writable(message), message["status"], gzip, asked)


def _code_etag_of(out: RawHeaders, status: int, gzip: bool, asked: set[str]) -> None:
    """``_code_etag`` on the headers ``out`` (a list of the message's own) of an answer of ``status``."""
    raw_etag = header_lists.get(out, b"etag")
    etag = raw_etag.decode("latin-1") if raw_etag else ""
    if etag and header_lists.get(out, b"content-encoding") == b"gzip":
        put(out, b"etag", _with_coding(etag).encode("latin-1"))
    elif etag and status == 304 and gzip and _with_coding(etag).removeprefix("W/") in asked:
        put(out, b"etag", _with_coding(etag).encode("latin-1"))  # the representation the client holds
    if etag or status in (200, 304):
        _add_vary(out, b"Accept-Encoding")


async def _not_modified(send: Send, headers: RawHeaders) -> None:
    await send({"type": "http.response.start", "status": 304, "headers": list(headers)})
    await send({"type": "http.response.body", "body": b""})


def _adding(send: Send, headers: RawHeaders) -> Send:
    async def send_with(message: Message) -> None:
        if message["type"] == "http.response.start" and headers:
            out = header_lists.writable(message)
            for name, value in headers:
                put(out, name, value)
        await send(message)

    return send_with
