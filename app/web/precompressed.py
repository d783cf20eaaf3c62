"""Static files served gzip-compressed once, not per request.

A client that accepts gzip gets a text asset (JavaScript, CSS, SVG, JSON, HTML, plain text)
compressed at level 9 the first time it is asked for, then the same bytes from memory; the
entry is tied to the file's modification time and size, so an edited file is compressed afresh.
The gzip variant has its own ETag (the file's with ``-gz``), as RFC 9110 §8.8.3 asks of a
different representation, and says ``Vary: Accept-Encoding``; ``If-None-Match`` and
``If-Modified-Since`` are answered as Starlette answers them for the plain file.
Everything else (other types, small files, ranges, clients without gzip) is Starlette's own
``FileResponse``. The gzip layer outside leaves a response with ``Content-Encoding`` alone.
"""

from __future__ import annotations

import gzip
import os
import threading
from os import PathLike

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from app.api.caching import accepts_gzip

COMPRESSIBLE = (".js", ".mjs", ".css", ".svg", ".json", ".geojson", ".html", ".txt", ".map")
MIN_SIZE = 500  # bytes; below this gzip's own header outweighs the saving
LEVEL = 9  # paid once per file and process


class PrecompressedStaticFiles(StaticFiles):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._gzipped: dict[str, tuple[tuple[float, int], bytes]] = {}
        self._lock = threading.Lock()

    def _gzip_of(self, full_path: str, stat_result: os.stat_result) -> bytes:
        signature = (stat_result.st_mtime, stat_result.st_size)
        with self._lock:
            kept = self._gzipped.get(full_path)
        if kept is not None and kept[0] == signature:
            return kept[1]
        with open(full_path, "rb") as file:
            data = gzip.compress(file.read(), compresslevel=LEVEL, mtime=0)
        with self._lock:
            self._gzipped[full_path] = (signature, data)
        return data

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request_headers = Headers(scope=scope)
        path = os.fspath(full_path)
        if (
            status_code != 200
            or not accepts_gzip(request_headers.get("accept-encoding", ""))
            or "range" in request_headers
            or stat_result.st_size < MIN_SIZE
            or not path.endswith(COMPRESSIBLE)
        ):
            return super().file_response(full_path, stat_result, scope, status_code)
        plain = FileResponse(full_path, stat_result=stat_result)
        headers = {
            "etag": plain.headers["etag"][:-1] + '-gz"',
            "last-modified": plain.headers["last-modified"],
            "content-type": plain.headers["content-type"],
            "content-encoding": "gzip",
            "vary": "Accept-Encoding",
        }
        response = Response(self._gzip_of(path, stat_result), headers=headers)
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response
