"""Raw ASGI header lists read and edited in place, as Starlette's ``Headers``/``MutableHeaders``
read and edit them, without building those objects (issue 16).

Each layer of the serving path built a ``MutableHeaders`` over the answer's headers and set a
few by name: each set encoded and lower-cased the name and walked the whole list, and a first
request's answer passed seven such layers (``python -m tests.perf.path_profile --profile``:
Starlette's header classes were the largest item after the handler). Here names are given as
the lower-case bytes ASGI servers and Starlette send, and values as bytes, so a set is one walk.

Semantics kept (Starlette 1.x): ``get`` is the first value of a name; ``put`` replaces the first
and drops the others, or appends; a message's headers are copied to a list of its own before any
edit (``writable``), as ``MutableHeaders(scope=message)`` does.
"""

from __future__ import annotations

from starlette.types import Message

RawHeaders = list[tuple[bytes, bytes]]


def writable(message: Message) -> RawHeaders:
    """The headers of an ``http.response.start`` message, as a list of its own put in it."""
    headers = message["headers"] = list(message.get("headers", ()))
    return headers


def get(headers: RawHeaders | tuple[tuple[bytes, bytes], ...], name: bytes) -> bytes | None:
    """The first value of ``name`` (lower-case), or None."""
    for key, value in headers:
        if key == name:
            return value
    return None


def get_all(headers: RawHeaders, name: bytes) -> list[bytes]:
    return [value for key, value in headers if key == name]


def put(headers: RawHeaders, name: bytes, value: bytes) -> None:
    """Set ``name`` (lower-case) to ``value``: in place of its first occurrence (the others
    dropped), else at the end."""
    found = -1
    at = 0
    while at < len(headers):
        if headers[at][0] == name:
            if found < 0:
                found = at
                headers[at] = (name, value)
            else:
                del headers[at]
                continue
        at += 1
    if found < 0:
        headers.append((name, value))


def add_vary(headers: RawHeaders, name: bytes) -> None:
    """``MutableHeaders.add_vary_header``: every ``Vary`` value and ``name`` joined in one."""
    put(headers, b"vary", b", ".join([*get_all(headers, b"vary"), name]))
