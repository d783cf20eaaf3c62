"""Every link the service builds comes from here: the public base URL of a request.

``app.proxy`` has already settled what a request may say about where the service is (the
configured public URL, else an allowed ``Host`` and the forwarded headers of a trusted proxy),
so the base is the request's scheme, host and path prefix as they stand after it, e.g.
``https://maps.example.org/tanf``. Paths given here are the app's own (``/api/collections``),
never prefixed: the prefix is added here.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.types import Scope


def base(request: Request) -> str:
    """The public base URL, without a trailing slash: ``https://maps.example.org/tanf``.

    Starlette's ``request.base_url`` (copying the scope, parsing the Host, building a URL) cost
    a tenth of a first items request; it is a function of the scope's scheme, first ``Host``,
    server address and root paths, so it is made once for each such combination (few: the
    Host rules refuse the rest) and kept, at most ``MAX_BASES`` of them."""
    scope = request.scope
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
            break
    server = scope.get("server")
    key = (scope.get("scheme", "http"), host, tuple(server) if server else None, scope.get("root_path", ""),
           scope.get("app_root_path"))  # fmt: skip
    found = _bases.get(key)
    if found is None:
        found = str(request.base_url).rstrip("/")
        if len(_bases) < MAX_BASES:
            _bases[key] = found
    return found


MAX_BASES = 1024
_bases: dict[tuple[object, ...], str] = {}


def root(request: Request) -> str:
    """The path prefix the app is served under (``/tanf``, or ``""``): for same-site links."""
    prefix: str = request.scope.get("root_path", "")
    return prefix.rstrip("/")


def link(request: Request, path: str, query: Mapping[str, str] | str | None = None) -> str:
    """The absolute public URL of the app's ``path`` (starting with ``/``) with ``query`` (a
    mapping, encoded here, or an already encoded string)."""
    encoded = urlencode(query) if isinstance(query, Mapping) else (query or "")
    return base(request) + path + (f"?{encoded}" if encoded else "")


def route_path(request: Request) -> str:
    """The app's own path of the request (``/api/collections``), without the public prefix."""
    return scope_route_path(request.scope)


def scope_route_path(scope: Scope) -> str:
    """``route_path`` for middleware, from the ASGI scope (whose ``path`` includes the prefix)."""
    path: str = scope["path"]
    prefix: str = scope.get("root_path", "").rstrip("/")
    return path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path


def own_url(request: Request) -> str:
    """The public URL of this very request (its path and query)."""
    return link(request, route_path(request), request.scope.get("query_string", b"").decode("latin-1"))
