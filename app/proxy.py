"""What a request may say about where the service is: its ``Host`` header and a reverse proxy's
forwarded headers. Links (``app.urls``) are built only from what gets through here.

- With ``public_url`` (``--public-url https://maps.example.org/tanf/``) every request is taken as
  having come through that URL: its scheme, host and path prefix replace the request's own, so
  every link (and Starlette's own redirects) names it, whatever ``Host`` a client sends.
- Without it, the ``Host`` header must name one of ``allowed_hosts`` (default: this machine's
  loopback names), or the answer is 400 (problem+json, ``Cache-Control: no-store``), and answers
  carry ``Vary: Host``, so that a cache keyed without the host (nginx's default key) keeps
  each host's links apart. ``allowed_hosts`` also applies with ``public_url`` when it is given.
- ``X-Forwarded-Proto`` and ``X-Forwarded-For`` (uvicorn's ProxyHeadersMiddleware) and
  ``X-Forwarded-Prefix`` (the path the proxy serves the app under) are read only from the
  addresses in ``forwarded_allow_ips`` (default: none); ``public_url`` wins over them.

Host patterns follow Starlette's TrustedHostMiddleware: a name, ``*.example.org`` for its
subdomains, or ``*`` for any; ports are ignored. ``/healthz`` answers whatever the Host (load
balancers and probes ask by address), as it carries no link.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import header_lists
from app.errors import problem
from app.settings import Settings
from app.urls import scope_route_path

UNCHECKED_PATHS = ("/healthz",)
_PORT = re.compile(r":\d{1,5}")
_NAME = re.compile(r"[a-z0-9._-]+")
_IPV6 = re.compile(r"[0-9a-f:.]+")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)*/?$")  # the characters a public_url's path may hold


def host_name(header: str) -> str | None:
    """The host part of a ``Host`` header, lower case, without port or IPv6 brackets; None if
    it is not a host at all."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        rest = header[end + 1 :]
        if end < 0 or (rest and not _PORT.fullmatch(rest)) or not _IPV6.fullmatch(header[1:end]):
            return None
        return header[1:end]
    name, _, port = header.partition(":")
    if (port and not port.isdigit()) or not _NAME.fullmatch(name):
        return None
    return name


def host_allowed(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        pattern = pattern.lower().strip("[]")
        if pattern == "*" or pattern == name:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


def with_prefix(scope: Scope, prefix: str) -> Scope:
    """``scope`` served under the path ``prefix`` (``/tanf``): its ``root_path``, and its ``path``
    starting with it as ASGI has it (whether or not the proxy stripped the prefix)."""
    scope = dict(scope)
    scope["root_path"] = prefix
    path: str = scope["path"]
    if prefix and path != prefix and not path.startswith(prefix + "/"):
        scope["path"] = prefix + path
        if scope.get("raw_path") is not None:
            scope["raw_path"] = prefix.encode() + scope["raw_path"]
    return scope


class AllowedHosts:
    """400 problem+json for a ``Host`` that is not allowed; ``Vary: Host`` on the rest."""

    def __init__(self, app: ASGIApp, patterns: list[str], vary: bool) -> None:
        self.app = app
        self.patterns = patterns
        self.vary = vary
        self._verdicts: dict[str, bool] = {}  # Host header -> allowed (bounded below)

    def allowed(self, header: str) -> bool:
        verdict = self._verdicts.get(header)
        if verdict is None:
            name = host_name(header)
            verdict = name is not None and host_allowed(name, self.patterns)
            if len(self._verdicts) < 1024:  # Host headers are few; a flood of new ones is not kept
                self._verdicts[header] = verdict
        return verdict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope_route_path(scope) in UNCHECKED_PATHS:
            await self.app(scope, receive, send)
            return
        host = header_lists.get(scope["headers"], b"host")
        if not self.allowed(host.decode("latin-1") if host is not None else ""):
            response = problem(
                400, "this service does not answer to that Host (see --allowed-hosts)", scope["path"][:200]
            )
            _refusal_headers(response.headers)
            await response(scope, receive, send)
            return
        if not self.vary:
            await self.app(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                header_lists.add_vary(header_lists.writable(message), b"Host")
            await send(message)

        await self.app(scope, receive, send_varying)


class PublicOrigin:
    """Every request as if it came through ``public_url``: scheme, Host and path prefix."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.scheme = parts.scheme
        self.host = parts.netloc.encode("ascii")
        self.prefix = parts.path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = with_prefix(scope, self.prefix)
        scope["scheme"] = self.scheme
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + [(b"host", self.host)]
        await self.app(scope, receive, send)


class ForwardedHeaders(ProxyHeadersMiddleware):
    """uvicorn's ``X-Forwarded-Proto``/``-For`` handling, plus ``X-Forwarded-Prefix``, all only
    from the trusted addresses. An unusable prefix from a trusted proxy is a 400 (its setup is
    wrong; guessing would build wrong links)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        client = scope.get("client")
        if scope["type"] == "http" and client and client[0] in self.trusted_hosts:
            prefix = Headers(scope=scope).get("x-forwarded-prefix")
            if prefix is not None:
                if not _PREFIX.match(prefix) or "/../" in prefix + "/" or "/./" in prefix + "/":
                    response = problem(400, "header 'X-Forwarded-Prefix' must be a path", scope["path"][:200])
                    _refusal_headers(response.headers)
                    await response(scope, receive, send)
                    return
                scope = with_prefix(scope, prefix.rstrip("/"))
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]


def install(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` behind the Host check, the public URL or the trusted forwarded headers, as
    ``settings`` say (the outermost layer a request meets after the request log)."""
    if settings.public_url:
        app = PublicOrigin(app, settings.public_url)
    elif settings.forwarded_allow_ips:
        app = ForwardedHeaders(app, trusted_hosts=settings.forwarded_allow_ips)  # type: ignore[arg-type]
    hosts = settings.effective_allowed_hosts()
    if hosts is not None:
        app = AllowedHosts(app, hosts, vary=not settings.public_url)
    return app


def _refusal_headers(headers: MutableHeaders) -> None:
    """What every error carries (``app.web.headers``): these refusals are made before that layer."""
    headers["Cache-Control"] = "no-store"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
