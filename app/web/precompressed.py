"""Static files served gzip-compressed once, not per request.

A client that accepts gzip gets a text asset (JavaScript, CSS, SVG, JSON, HTML, plain text)
compressed at level 9 the first time it is asked for, then the same bytes from memory; the
entry is tied to the file's modification time and size, so an edited file is compressed afresh.
JavaScript and CSS are served without the comments and whitespace written for their readers
(``lean``, by rjsmin and rcssmin), compressed or not: a third of the map's own code, about 13 KB of
the embed's 100 KB budget.
The gzip variant has its own ETag (the file's with ``-gz``, to which ``app.api.caching`` adds the
``-gzip`` of every compressed body), as RFC 9110 §8.8.3 asks of a different representation,
and says ``Vary: Accept-Encoding``; ``If-None-Match`` and ``If-Modified-Since`` are answered
as Starlette answers them for the plain file.
Everything else (other types, small files, ranges, clients without gzip) is Starlette's own
``FileResponse``. The gzip layer outside leaves a response with ``Content-Encoding`` alone.

Every answer, 200 or 304, says how long it may be used unasked (``cache_control``, RFC 9111
§5.2.2): without it a browser guesses a freshness of a tenth of the file's age (§4.2.2), and
after an upgrade runs a page whose modules are half old, half new.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
from os import PathLike

import rcssmin
import rjsmin
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from app.api.caching import accepts_gzip

COMPRESSIBLE = (".js", ".mjs", ".css", ".svg", ".json", ".geojson", ".html", ".txt", ".map")
MIN_SIZE = 500  # bytes; below this gzip's own header outweighs the saving
LEVEL = 9  # paid once per file and process


_LICENCE = re.compile(rb"\s*/\*[^*]*?@(?:preserve|license)[\s\S]*?\*/")


def lean(path: str, data: bytes) -> bytes:
    """``data`` without what only its readers need: comments and whitespace, by ``rjsmin`` for
    JavaScript and ``rcssmin`` for CSS (well-kept minifiers that keep strings, template literals
    and regular expressions as they are; licence comments, ``/*! */`` and a heading
    ``/* @preserve */`` or ``@license``, stay); other files as they are. Not a renaming
    minifier: what runs is the code as written."""
    if path.endswith(".css"):
        css: bytes = rcssmin.cssmin(data, keep_bang_comments=True)
        return css
    if not path.endswith((".js", ".mjs")):
        return data
    licence = _LICENCE.match(data)  # Leaflet's ``/* @preserve */`` heading, which rjsmin drops
    start = licence.end() if licence else 0
    js: bytes = rjsmin.jsmin(data[start:], keep_bang_comments=True)
    return data[:start].strip() + b"\n" + js if start else js


LEAN = (".js", ".mjs", ".css")  # served lean (``lean``), compressed or not


# Files whose path names no version (the map's own): used only once revalidated (a 304 costs a
# round trip, no bytes). Files under a versioned path (Leaflet's): never change, used a year.
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


class PrecompressedStaticFiles(StaticFiles):
    def __init__(self, *args: object, cache_control: str = REVALIDATE, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cache_control = cache_control
        # path -> (modification time and size, the lean bytes, the same gzipped)
        self._kept: dict[str, tuple[tuple[float, int], bytes, bytes]] = {}
        self._lock = threading.Lock()

    def _bytes_of(self, full_path: str, stat_result: os.stat_result) -> tuple[bytes, bytes]:
        """The bytes served for the file (lean) and the same gzipped, made once per version."""
        signature = (stat_result.st_mtime, stat_result.st_size)
        with self._lock:
            kept = self._kept.get(full_path)
        if kept is not None and kept[0] == signature:
            return kept[1], kept[2]
        with open(full_path, "rb") as file:
            data = lean(full_path, file.read())
        zipped = gzip.compress(data, compresslevel=LEVEL, mtime=0)
        with self._lock:
            self._kept[full_path] = (signature, data, zipped)
        return data, zipped

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):  # a 304 carries what its 200 would (RFC 9110 §15.4.5)
            response.headers["cache-control"] = self.cache_control
        return response

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request_headers = Headers(scope=scope)
        path = os.fspath(full_path)
        zipped = accepts_gzip(request_headers.get("accept-encoding", ""))
        if (
            status_code != 200
            or stat_result.st_size < MIN_SIZE
            or not path.endswith(COMPRESSIBLE)
            or not (zipped or path.endswith(LEAN))
            or ("range" in request_headers and not path.endswith(LEAN))  # (lean: the whole file)
        ):
            return super().file_response(full_path, stat_result, scope, status_code)
        plain = FileResponse(full_path, stat_result=stat_result)
        headers = {
            "etag": plain.headers["etag"],
            "last-modified": plain.headers["last-modified"],
            "content-type": plain.headers["content-type"],
            "vary": "Accept-Encoding",
        }
        data, gzipped = self._bytes_of(path, stat_result)
        if zipped:
            headers |= {"etag": plain.headers["etag"][:-1] + '-gz"', "content-encoding": "gzip"}
        response = Response(gzipped if zipped else data, headers=headers)
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response
