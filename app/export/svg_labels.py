"""The words on a static map image (``app.export.svg``): the legend, the zone's and sites' names
placed clear of the markers and of one another, and the scale bar. Placement tests a candidate
box against all taken boxes at once (numpy), not one by one."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

import numpy as np

from app.data.store_api import STATUS_CODES
from app.export.legend import STATUS_SHORT, TYPE_WORDS
from app.export.svg_symbols import TYPE_SHAPES, ZONE_COLOUR, marker_svg
from app.export.svg_view import Viewport
from app.geo.geodesy import destination, distance_m
from app.served import Served

# Where a site's name goes (as in static/js/layers.js), so that neighbouring names do not collide.
LABEL_SIDE = {"garrison": "left", "al-tanf-crossing": "bottom", "rukban-camp": "left"}


def scale_bar(v: Viewport, lat: float, lon: float) -> str:
    """A bar of a round geodesic length, about a fifth of the width, bottom left."""
    km_per_px = distance_m(lon, lat, lon + v.lonlat_per_pixel(), lat) / 1000
    target = km_per_px * v.width / 5
    nice = max((n for n in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500) if n <= target), default=1)
    end_lon, end_lat = destination(lon, lat, 90.0, nice * 1000)
    x0, _ = v.xy(lon, lat)
    x1, _ = v.xy(end_lon, end_lat)
    length = x1 - x0
    y = v.height - 16
    return (
        '<g font-size="11" font-family="sans-serif">'
        f'<rect x="8" y="{y - 16}" width="{length + 16:.1f}" height="22" fill="#fff" fill-opacity="0.85"/>'
        f'<path d="M16,{y - 4}V{y}H{16 + length:.1f}V{y - 4}" fill="none" '
        f'stroke="#111" stroke-width="1.5"/><text x="{16 + length / 2:.1f}" y="{y - 6}" text-anchor="middle">'
        f"{nice} km</text></g>"
    )


Box = tuple[float, float, float, float]
CHAR_PX = 7.4  # the width of a 12 px sans-serif character, bold, on average (a little to spare)


def _text_box(x: float, y: float, text: str, anchor: str) -> Box:
    """The box a 12 px label takes, from its anchor point (baseline)."""
    w = len(text) * CHAR_PX
    x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    return (x0 - 2, y - 12, x0 + w + 2, y + 4)


def _label_place(x: float, y: float, text: str, side: str, gap: float) -> tuple[float, float, str, Box]:
    """Where a site's name goes on ``side`` of the point x, y, ``gap`` px further out."""
    if side == "left":
        lx, ly, anchor = x - 10 - gap, y + 4, "end"
    elif side == "right":
        lx, ly, anchor = x + 9 + gap, y + 4, "start"
    elif side == "top":
        lx, ly, anchor = x, y - 9 - gap, "middle"
    else:
        lx, ly, anchor = x, y + 18 + gap, "middle"
    return lx, ly, anchor, _text_box(lx, ly, text, anchor)


OTHER_DOT_PX = 28  # the garrison's name keeps this far from another place's dot (its centre)
LEADER_FROM_PX = 14  # the garrison's name further than this from its dot gets a leader line
REACH_PX = 220  # how far from its dot the garrison's name may go
STEP_PX = 4  # the grid of places tried for it


def _garrison_place(
    x: float, y: float, text: str, boxes: np.ndarray, width: int, height: int
) -> tuple[float, float, Box]:
    """Where the garrison's name goes: of the places on a grid around its dot (x, y) that lie in
    the image, the one nearest the dot that meets none of ``boxes``; where none is free, the one
    that meets the fewest (in an image too small for it, beside the dot). Returns the text's
    anchor (start, baseline) and its box. All places are tried at once (numpy)."""
    w = len(text) * CHAR_PX
    xs = np.arange(x - REACH_PX - w, x + REACH_PX, STEP_PX)
    ys = np.arange(y - REACH_PX, y + REACH_PX + 12, STEP_PX)
    lx, ly = (a.ravel() for a in np.meshgrid(xs, ys))
    b = np.stack([lx - 2, ly - 12, lx + w + 2, ly + 4], axis=1)
    inside = (b[:, 0] >= 0) & (b[:, 1] >= 0) & (b[:, 2] <= width) & (b[:, 3] <= height)
    b, lx, ly = b[inside], lx[inside], ly[inside]
    if not len(b):  # an image smaller than the name: beside the dot, as it comes
        lx0, ly0, _, box = _label_place(x, y, text, "right", 0)
        return lx0, ly0, box
    hits = (
        (b[:, None, 0] < boxes[None, :, 2])
        & (boxes[None, :, 0] < b[:, None, 2])
        & (b[:, None, 1] < boxes[None, :, 3])
        & (boxes[None, :, 1] < b[:, None, 3])
    ).sum(axis=1)
    near = np.hypot(np.clip(x, b[:, 0], b[:, 2]) - x, np.clip(y, b[:, 1], b[:, 3]) - y)
    k = int(np.lexsort((near, hits))[0])  # the fewest covered (none where it can), then the nearest
    return float(lx[k]), float(ly[k]), (float(b[k, 0]), float(b[k, 1]), float(b[k, 2]), float(b[k, 3]))


def _leader(x: float, y: float, box: Box) -> str:
    """A thin line from the point x, y to the nearest point of a name's box."""
    nx, ny = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])
    return f'<path d="M{x:.1f},{y:.1f}L{nx:.1f},{ny:.1f}" stroke="#111" stroke-width="1.2"/>'


def _meets(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _overlaps(box: Box, taken: np.ndarray) -> int:
    """How many of ``taken`` (an (n, 4) array of boxes) ``box`` meets: ``_meets`` for all at once.
    Placing a name or the legend against every marker's box one by one cost 150-250 ms per
    drawing at 10k incidents (issue 16)."""
    if not len(taken):
        return 0
    hits = (box[0] < taken[:, 2]) & (taken[:, 0] < box[2]) & (box[1] < taken[:, 3]) & (taken[:, 1] < box[3])
    return int(np.count_nonzero(hits))


def _boxes(taken: list[Box]) -> np.ndarray:
    return np.array(taken, dtype=float).reshape(-1, 4)


def _inside(box: Box, width: int, height: int) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height


def legend(
    out: list[str], served: Served, shown: np.ndarray, width: int, height: int, taken: np.ndarray
) -> Box | None:
    """A legend box (from 400 px wide) in the first corner where it covers no marker and no site
    (``taken``, an (n, 4) array of boxes), or none where every corner would: the shapes and fills
    on the image, the zone and the places, in the words of static/js/legend-body.js. Returns the
    box it takes."""
    if width < 400:
        return None
    events = served.stores["events"]
    types = sorted(set(events.types(shown[events.located(shown)])))
    shown_codes = set(events.statuses(shown).tolist())
    statuses = [s for s in STATUS_SHORT if STATUS_CODES[s] in shown_codes]
    rows: list[tuple[str, str]] = [("", "Each marker is an incident:")]
    rows += [(marker_svg(0, 0, t, "inside", 12), TYPE_WORDS.get(t, t)) for t in types if t in TYPE_SHAPES]
    rows += [(marker_svg(0, 0, "Explosions/Remote violence", s, 12), STATUS_SHORT[s]) for s in statuses]
    rows += [
        (f'<path d="M-7,0H7" stroke="{ZONE_COLOUR}" stroke-width="2.5"/>', "the 55 km zone"),
        ('<circle r="4.5" fill="#111"/>', "At Tanf garrison"),
        ('<path d="M-7,0H7" stroke="#555" stroke-dasharray="4 2"/>', "borders (approximate)"),
    ]
    line = 15
    box_w = 16 + 22 + max(len(words) for _, words in rows) * 6.0
    box_h = len(rows) * line + 8
    corners = [
        (width - box_w - 6, 6.0),
        (6.0, 6.0),
        (width - box_w - 6, height - box_h - 24),
        (6.0, height - box_h - 40),
    ]
    free = [c for c in corners if not _overlaps((c[0], c[1], c[0] + box_w, c[1] + box_h), taken)]
    if not free:  # a legend over the markers would hide what it explains
        return None
    x0, y0 = free[0]
    parts = [
        f'<g class="legend" font-size="11" font-family="sans-serif" fill="#111"><rect x="{x0:.1f}" y="{y0}" '
        f'width="{box_w:.1f}" height="{box_h}" fill="#fff" fill-opacity="0.92" stroke="#999"/>'
    ]
    for n, (symbol, words) in enumerate(rows):
        cy = y0 + 4 + line * n + line / 2
        if symbol:
            parts.append(f'<g transform="translate({x0 + 14:.1f},{cy:.1f})">{symbol}</g>')
        weight = ' font-weight="bold"' if not symbol else ""
        parts.append(
            f'<text x="{x0 + (28 if symbol else 8):.1f}" y="{cy + 4:.1f}"{weight}>{escape(words)}</text>'
        )
    parts.append("</g>")
    out.append("".join(parts))
    return (x0, y0, x0 + box_w, y0 + box_h)


def _text(x: float, y: float, text: str, anchor: str = "start", weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="{weight}" font-size="12" '
        f'font-family="sans-serif" paint-order="stroke" stroke="#fff" stroke-width="3" fill="#111">'
        f"{escape(text)}</text>"
    )


def names(served: Served, v: Viewport, boxes: np.ndarray) -> list[str]:
    """The zone's name above its northernmost point, then the sites' names (the garrison's
    first), each on the first side of its point, nearest first, where it meets none of ``boxes``
    (an (n, 4) array: markers, sites, legend) nor a name placed before it and stays inside the
    image; a name with no free side is left out. The garrison's is never left out: it goes to
    the free place nearest its dot (``_garrison_place``), with a leader line when it stands away."""
    zone = served.zone
    out = []
    north = max(zone.polygon.exterior.coords, key=lambda p: p[1])
    nx, ny = v.xy(*north)
    zone_name = f"{zone.radius_m / 1000:g} km de-confliction zone"
    out.append(_text(nx, ny - 6, zone_name, "middle", "bold"))
    boxes = np.vstack([boxes, _text_box(nx, ny - 6, zone_name, "middle")])
    sites = sorted(served.sites.values(), key=lambda s: s.kind != "garrison")
    for site in sites:
        x, y = v.xy(site.lon, site.lat)
        garrison = site.kind == "garrison"
        first = LABEL_SIDE.get(site.id, "right")
        sides = [first, *(s for s in ("left", "right", "top", "bottom") if s != first)]
        if garrison:
            # Not beside another place's dot, where the name would seem to be that place's.
            others = [v.xy(s.lon, s.lat) for s in sites if s is not site]
            near = [
                (ox - OTHER_DOT_PX, oy - OTHER_DOT_PX, ox + OTHER_DOT_PX, oy + OTHER_DOT_PX)
                for ox, oy in others
            ]
            lx, ly, box = _garrison_place(x, y, site.name, np.vstack([boxes, *near]), v.width, v.height)
            if math.hypot(min(max(x, box[0]), box[2]) - x, min(max(y, box[1]), box[3]) - y) > LEADER_FROM_PX:
                out.append(_leader(x, y, box))
            out.append(_text(lx, ly, site.name, "start", "bold"))
            boxes = np.vstack([boxes, box])
            continue
        places = [_label_place(x, y, site.name, side, gap) for gap in (0, 14, 28, 42, 56) for side in sides]
        free = [p for p in places if not _overlaps(p[3], boxes) and _inside(p[3], v.width, v.height)]
        if free:
            lx, ly, anchor, box = free[0]
            out.append(_text(lx, ly, site.name, anchor))
            boxes = np.vstack([boxes, box])
    return out
