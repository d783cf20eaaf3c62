"""HTTP caching: dataset version, ETag per content coding, 304, Vary, Cache-Control (pure ASGI).

Every API answer is a pure function of the dataset version, the URL and the negotiated format,
so its ETag is computed from those, before the handler runs: a revalidation costs no query at
all. The rules are RFC 9110's:

- §13.1.2: ``If-None-Match`` matches when it lists the ETag of the representation that would be
  sent; ``*`` matches only when there is one (a 200): a 404 or a 400 is never a 304;
- §8.8.3: a validator names one representation, so a gzip body and an identity body have
  different ETags (``CodingETags`` adds ``-gzip`` to the ETag of a compressed body, whoever set
  it: the API or the static files);
- §15.4.5: a 304 carries the ``Vary`` (and ``ETag``, ``Cache-Control``) the 200 would have;
  ``Vary: Accept-Encoding`` goes on every answer the gzip layer could have compressed.
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def _accepts_gzip(headers: Headers) -> bool:
    return "gzip" in headers.get("accept-encoding", "")  # as Starlette's GZipMiddleware decides


def _add_vary(headers: MutableHeaders, name: str) -> None:
    present = [v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()]
    if name.lower() not in present and "*" not in present:
        headers["Vary"] = ", ".join(
            [*(v.strip() for v in headers.get("vary", "").split(",") if v.strip()), name]
        )


class CodingETags:
    """A distinct ETag per content coding, and ``Vary: Accept-Encoding`` (outside the gzip layer).

    Inside, validators see the identity ETags: a listed ``"x-gzip"`` stands for ``"x"`` when
    the request accepts gzip (the same body would be compressed again) and is dropped when it
    does not (that representation cannot be selected)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        gzip = _accepts_gzip(headers)
        asked = listed_etags(headers.get("if-none-match", ""))
        inner_scope = scope
        if any(tag.endswith(GZIP_SUFFIX + '"') for tag in asked):
            inner = [
                tag.replace(GZIP_SUFFIX + '"', '"') if gzip else tag
                for tag in asked
                if gzip or not tag.endswith(GZIP_SUFFIX + '"')
            ]
            raw = [(k, v) for k, v in scope["headers"] if k != b"if-none-match"]
            if inner:
                raw.append((b"if-none-match", ", ".join(inner).encode("latin-1")))
            inner_scope = {**scope, "headers": raw}

        async def send_coded(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                etag = out.get("etag")
                if etag and out.get("content-encoding") == "gzip":
                    out["ETag"] = _with_coding(etag)
                elif (
                    etag
                    and message["status"] == 304
                    and gzip
                    and _with_coding(etag).removeprefix("W/") in asked
                ):
                    out["ETag"] = _with_coding(etag)  # the representation the client holds
                if etag or message["status"] in (200, 304):
                    _add_vary(out, "Accept-Encoding")
            await send(message)

        await self.app(inner_scope, receive, send_coded)


class CachingMiddleware:
    def __init__(self, app: ASGIApp, max_age_s: int) -> None:
        self.app = app
        self.max_age_s = max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        served = getattr(scope["app"].state, "served", None)
        version = served.version if served is not None else ""
        path: str = scope["path"]  # with the public prefix, if any (app.proxy)
        cacheable = scope["method"] in ("GET", "HEAD") and scope_route_path(scope).startswith(CACHED_PREFIXES)
        extra: dict[str, str] = {VERSION_HEADER: version} if version else {}
        if not cacheable:
            await self.app(scope, receive, _adding(send, extra))
            return
        headers = Headers(scope=scope)
        etag = etag_for(path, scope["query_string"], headers.get("accept", ""), version)
        cached = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={self.max_age_s}",
            "Vary": "Accept, Accept-Encoding",
            **extra,
        }
        asked = listed_etags(headers.get("if-none-match", ""))
        if etag in asked:  # no need to run the handler: the answer is a function of the ETag
            await _not_modified(send, cached)
            return
        unchanged = False

        async def send_with_headers(message: Message) -> None:
            nonlocal unchanged
            if message["type"] == "http.response.start":
                if message["status"] == 200 and "*" in asked:  # a current representation exists
                    unchanged = True
                    await _not_modified(send, cached)
                    return
                response_headers = MutableHeaders(scope=message)
                if message["status"] == 200:
                    response_headers.update(cached)
                else:
                    response_headers.update(extra)
                    response_headers["Cache-Control"] = "no-store"
            elif unchanged:
                return  # the 200's body: not sent after a 304
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _not_modified(send: Send, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": 304, "headers": raw})
    await send({"type": "http.response.body", "body": b""})


def _adding(send: Send, headers: dict[str, str]) -> Send:
    async def send_with(message: Message) -> None:
        if message["type"] == "http.response.start" and headers:
            MutableHeaders(scope=message).update(headers)
        await send(message)

    return send_with
