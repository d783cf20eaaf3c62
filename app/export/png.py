"""The PNG preview of a map view: ``render_svg``'s drawing rasterised by resvg (resvg-py).

For link previews (Open Graph and Twitter cards want PNG or JPEG, not SVG) and oEmbed
thumbnails. Drawing and rasterising take about 0.8 s at 1200 x 630 px on the build machine, so previews are
kept in a small in-memory LRU cache keyed by dataset version, view state and size, and a preview
under way is shared (``app.export.kept``). Text uses the
system's sans-serif font (``fonts-dejavu-core`` in the Docker image); without any font the text
is left out and the map is still drawn.
"""

from __future__ import annotations

import resvg_py

from app.export.kept import Kept
from app.export.svg import render_svg
from app.served import Served
from app.web.state import MapState

PREVIEW_SIZE = (1200, 630)  # the Open Graph size Facebook and X recommend (1.91:1), pixels
MAX_SIDE = 1600  # the largest PNG side served, pixels
CACHE_ENTRIES = 32  # about 200 KB each at the preview size


CACHE: Kept[bytes] = Kept(CACHE_ENTRIES)


def render_png(served: Served, state: MapState, width: int, height: int) -> bytes:
    """PNG bytes of the view, ``width`` x ``height`` pixels (each 1 to MAX_SIDE)."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ValueError(f"PNG sides are 1 to {MAX_SIDE} px, not {width} x {height}")
    svg = render_svg(served, state, width, height)
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, width=width, height=height))


def cached_png(served: Served, state: MapState, width: int, height: int) -> bytes:
    """``render_png``, remembered for the last CACHE_ENTRIES distinct views of any dataset."""
    key = (served.version, state, width, height)
    return CACHE.get(key, lambda: render_png(served, state, width, height))
