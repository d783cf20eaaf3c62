"""A static SVG image of a map view, drawn on the server from the served geometry.

For readers without JavaScript (the embed's ``<noscript>``), oEmbed thumbnails and print. Web
Mercator like the interactive map, so a view (centre and zoom) frames the same area. All text is
XML-escaped; the image carries its summary as ``<title>`` and ``<desc>``.

Its cost is bounded whatever the dataset's size: beyond ``MAX_MARKERS`` markers those outside the
frame are skipped; up to ``MAX_MARKERS`` are drawn one by one (those closer than ``NEAR_PX``
fanned out, found through a grid of ``NEAR_PX`` cells, not by comparing every pair); beyond that
they are counted per cell of the grid the map and the API use (``app.data.grid``, cells 64 px
wide at the view's zoom), one numbered circle per cell, as the map draws them. Claim outlines are drawn up
to ``MAX_REGIONS`` (beyond that, only the selected incident's: hundreds of overlapping outlines
say nothing), the ``<desc>`` names at most ``MAX_NAMED`` incidents. Long loops call
``app.budget.check()``, so a drawing stops when its client has gone or its time is up. Finished
drawings are kept (``cached_svg``).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from xml.sax.saxutils import escape

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app import budget
from app.api.features import COMMON_SUFFIX
from app.data.grid import MAX_LEVEL, cell_of, count_cells
from app.data.store_api import STATUS_CODES, STATUS_NAMES, Store, features
from app.export.legend import STATUS_SHORT, TYPE_WORDS
from app.geo.geodesy import destination, distance_m
from app.served import Served
from app.web.state import MapState, summary_text, visible_incidents

# The same colours and fills as the map's markers (static/js/markers.js); a contract test holds them equal.
STATUS_COLOURS = {"inside": "#b2182b", "outside": "#2166ac", "uncertain": "#6b4c00", "contested": "#b35806"}
TYPE_SHAPES = {
    "Explosions/Remote violence": "circle",
    "Battles": "triangle",
    "Strategic developments": "square",
    "Violence against civilians": "diamond",
}
ZONE_COLOUR = "#7b3294"
# Where a site's name goes (as in static/js/layers.js), so that neighbouring names do not collide.
LABEL_SIDE = {"garrison": "left", "al-tanf-crossing": "bottom", "rukban-camp": "left"}
NEAR_PX = 14
MAX_MARKERS = 300  # markers drawn one by one; beyond, counts per cell (as the map: view-data.js)
MAX_REGIONS = 400  # claim outlines drawn; beyond, the selected incident's only
MAX_NAMED = 60  # incidents named in <desc>
KEPT_DRAWINGS = 64  # finished SVGs kept (about 20-200 KB each)


class Viewport:
    """Web Mercator pixels of a ``width`` x ``height`` view centred on lat/lon at ``zoom``."""

    def __init__(self, lat: float, lon: float, zoom: float, width: int, height: int) -> None:
        self.world = 256 * 2**zoom
        self.zoom = zoom
        self.cx, self.cy = self._world_xy(lon, lat)
        self.width, self.height = width, height

    def _world_xy(self, lon: float, lat: float) -> tuple[float, float]:
        x = (lon + 180.0) / 360.0 * self.world
        s = math.sin(math.radians(max(-85.0, min(85.0, lat))))
        y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * self.world
        return x, y

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._world_xy(lon, lat)
        return x - self.cx + self.width / 2, y - self.cy + self.height / 2

    def xy_arrays(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``xy`` for arrays of degrees (NaN stays NaN)."""
        x = (lon + 180.0) / 360.0 * self.world
        s = np.sin(np.radians(np.clip(lat, -85.0, 85.0)))
        y = (0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)) * self.world
        return x - self.cx + self.width / 2, y - self.cy + self.height / 2

    def lonlat_per_pixel(self) -> float:
        return 360.0 / self.world


def fit_view(
    bounds: tuple[float, float, float, float], width: int, height: int
) -> tuple[float, float, float]:
    """Centre and the largest half-step zoom at which ``bounds`` fits (as Leaflet's fitBounds)."""
    minx, miny, maxx, maxy = bounds
    lat, lon = (miny + maxy) / 2, (minx + maxx) / 2
    zoom = 18.0
    while zoom > 1:
        v = Viewport(lat, lon, zoom, width, height)
        (x0, y0), (x1, y1) = v.xy(minx, maxy), v.xy(maxx, miny)
        if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
            break
        zoom -= 0.5
    return lat, lon, zoom


def _path(v: Viewport, geom: BaseGeometry) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.geom_type == "GeometryCollection":
            parts.append(_path(v, poly))
            continue
        if poly.geom_type != "Polygon":
            continue
        if poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            coords = shapely.get_coordinates(ring)
            if len(coords) >= 3:
                xs, ys = v.xy_arrays(coords[:, 0], coords[:, 1])
                points = zip(xs.tolist(), ys.tolist(), strict=True)
                parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def marker_svg(x: float, y: float, event_type: str, status: str, size: float = 16) -> str:
    colour = STATUS_COLOURS.get(status, "#444")
    solid = status == "inside"
    style = (
        f'fill="{colour if solid else "#fff"}" stroke="{"#fff" if solid else colour}" '
        f'stroke-width="{1.5 if solid else 2.5}"'
        + (' stroke-dasharray="3 2"' if status == "uncertain" else "")
    )
    h = size / 2
    shape_name = TYPE_SHAPES.get(event_type, "circle")
    if shape_name == "triangle":
        body = f'<polygon points="{x},{y - h} {x + h},{y + h * 0.8} {x - h},{y + h * 0.8}" {style}/>'
    elif shape_name == "square":
        body = f'<rect x="{x - h * 0.8}" y="{y - h * 0.8}" width="{h * 1.6}" height="{h * 1.6}" {style}/>'
    elif shape_name == "diamond":
        body = f'<polygon points="{x},{y - h} {x + h},{y} {x},{y + h} {x - h},{y}" {style}/>'
    else:
        body = f'<circle cx="{x}" cy="{y}" r="{h * 0.85}" {style}/>'
    if status == "uncertain":
        body += f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>'
    if status == "contested":  # sources on both sides: split by a bar down the middle
        top, bottom = y - h * 0.65, y + h * 0.65
        body += f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="{colour}" stroke-width="3"/>'
    return body


def _scale_bar(v: Viewport, lat: float, lon: float) -> str:
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


def _legend(
    out: list[str], served: Served, shown: np.ndarray, width: int, height: int, taken: np.ndarray
) -> Box | None:
    """A legend box (from 400 px wide) in the corner where it covers the fewest markers and sites
    (``taken``, an (n, 4) array of boxes): the shapes and fills on the image, the zone and the
    places, in the words of static/js/legend-body.js. Returns the box it takes."""
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
    x0, y0 = min(corners, key=lambda c: _overlaps((c[0], c[1], c[0] + box_w, c[1] + box_h), taken))
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


def render_svg(served: Served, state: MapState, width: int = 800, height: int = 600) -> str:
    zone = served.zone
    events = served.stores["events"]
    if state.view:
        lat, lon, zoom = state.view
    else:
        minx, miny, maxx, maxy = zone.polygon.bounds
        pad_x, pad_y = (maxx - minx) * 0.08, (maxy - miny) * 0.08
        lat, lon, zoom = fit_view((minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y), width, height)
    v = Viewport(lat, lon, zoom, width, height)
    # Simplify to a third of a pixel: invisible, and it keeps the file small.
    tol = v.lonlat_per_pixel() / 3
    frame = shapely.box(*_frame_bounds(v)).buffer(tol * 20)

    def clip(geom: BaseGeometry) -> BaseGeometry:
        # Douglas-Peucker without topology repair: a drawing needs no valid polygon, and the
        # repairing variant cost ten times as much.
        return shapely.simplify(shapely.intersection(geom, frame), tol, preserve_topology=False)

    summary = summary_text(served, state)
    shown = visible_incidents(served, state)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d">',
        f'<title id="t">{escape(summary)}</title>',
        f'<desc id="d">{escape(_description(served, shown, state.sel))}</desc>',
        f'<rect width="{width}" height="{height}" fill="#f2efe9"/>',
    ]
    for country in served.borders.get("features", []):
        d = _path(v, clip(shape(country["geometry"])))
        if d:
            out.append(
                f'<path d="{d}" fill="#fbfaf7" stroke="#555" stroke-width="1" stroke-dasharray="6 3"/>'
            )
    if zone.variant_band is not None:
        out.append(f'<path d="{_path(v, clip(zone.variant_band))}" fill="{ZONE_COLOUR}" fill-opacity="0.12" '
                   'fill-rule="evenodd" stroke="none"/>')  # fmt: skip
    sel_row = events.get(state.sel) if state.sel else None
    for geom, owner, status, region_id in _shown_regions(served, shown, sel_row):
        budget.check()
        selected = owner == sel_row
        if status is None:
            continue
        colour = STATUS_COLOURS[status]
        if region_id.endswith(COMMON_SUFFIX):  # where all sources can be right: selected only
            if selected:
                out.append(f'<path d="{_path(v, clip(geom))}" fill="{colour}" fill-opacity="0.35" '
                           f'fill-rule="evenodd" stroke="{colour}" stroke-width="2"/>')  # fmt: skip
            continue
        if not selected:  # a faint footprint, as on the map (static/js/layers.js)
            out.append(
                f'<path d="{_path(v, clip(geom))}" fill="#6b6b6b" fill-opacity="0.015" stroke="none"/>'
            )
            continue
        fill = f'fill="{colour}" fill-opacity="0.2"' if status != "uncertain" else 'fill="none"'
        dash = ' stroke-dasharray="5 4"' if status == "uncertain" else ""
        stroke = f'stroke="{colour}" stroke-opacity="0.95" stroke-width="2.5"{dash}'
        out.append(f'<path d="{_path(v, clip(geom))}" {fill} fill-rule="evenodd" {stroke}/>')
    out.append(
        f'<path d="{_path(v, clip(zone.polygon))}" fill="none" stroke="{ZONE_COLOUR}" stroke-width="2.5"/>'
    )
    out = [line for line in out if 'd=""' not in line]
    # Markers first, then the names, placed clear of the markers and of one another (a name with
    # no free side is left out, but the garrison's, which goes where it covers the fewest).
    taken: list[Box] = []
    for site in served.sites.values():
        x, y = v.xy(site.lon, site.lat)
        garrison = site.kind == "garrison"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{6 if garrison else 3.5}" '
                   f'fill="{"#111" if garrison else "#fff"}" stroke="#111" stroke-width="2"/>')  # fmt: skip
        taken.append((x - 6, y - 6, x + 6, y + 6))
    out.extend(_markers(v, events, shown, sel_row, taken))
    boxes = _boxes(taken)  # from here on, the boxes taken as one array (names placed against all)
    legend_box = _legend(out, served, shown, width, height, boxes)
    if legend_box:
        boxes = np.vstack([boxes, legend_box])
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
        places = [_label_place(x, y, site.name, side, gap) for gap in (0, 14, 28, 42, 56) for side in sides]
        hits = [_overlaps(p[3], boxes) for p in places]
        free = [p for p, n in zip(places, hits, strict=True) if not n and _inside(p[3], width, height)]
        if free or garrison:
            lx, ly, anchor, box = free[0] if free else places[hits.index(min(hits))]
            out.append(_text(lx, ly, site.name, anchor, "bold" if garrison else "normal"))
            boxes = np.vstack([boxes, box])
    out.append(_scale_bar(v, lat, lon))
    out.append(
        f'<text x="{width - 6}" y="{height - 6}" text-anchor="end" font-size="10" font-family="sans-serif" '
        'fill="#333">At Tanf zone map · Borders: Natural Earth (approximate) · sources in the data</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def _shown_regions(
    served: Served, shown: np.ndarray, sel_row: int | None
) -> list[tuple[BaseGeometry, int, str | None, str]]:
    """The claim regions of the shown incidents (the selected one's only, beyond MAX_REGIONS):
    geometry, incident row, zone status, region id."""
    regions = served.stores["regions"]
    drawn, owner = regions.regions_of(shown)
    if len(drawn) > MAX_REGIONS:
        keep = owner == sel_row if sel_row is not None else np.zeros(len(drawn), dtype=bool)
        drawn, owner = drawn[keep], owner[keep]
    geoms = regions.geometries(drawn)
    statuses = [STATUS_NAMES.get(code) for code in regions.statuses(drawn).tolist()]
    ids = regions.ids(drawn)
    return [
        (g, int(o), s, i) for g, o, s, i in zip(geoms, owner, statuses, ids, strict=True) if g is not None
    ]


def _markers(
    v: Viewport, events: Store, shown: np.ndarray, sel_row: int | None, taken: list[Box] | None = None
) -> list[str]:
    """The shown incidents' markers within the frame (the selected one last, on top): one by one
    up to MAX_MARKERS, else numbered clusters. Each marker's box goes into ``taken`` (names keep
    clear of them)."""
    taken = [] if taken is None else taken
    lon, lat = events.points(shown)
    x, y = v.xy_arrays(lon, lat)
    located = np.isfinite(x)
    rows, x, y = shown[located], x[located], y[located]
    if len(rows) > MAX_MARKERS:  # many: those outside the view are skipped, and then gathered
        margin = 3 * NEAR_PX
        inside = (x >= -margin) & (x <= v.width + margin) & (y >= -margin) & (y <= v.height + margin)
        rows, x, y = rows[inside], x[inside], y[inside]
        if len(rows) > MAX_MARKERS:
            taken.extend(
                (cx - 14, cy - 14, cx + 14, cy + 14) for cx, cy in zip(x.tolist(), y.tolist(), strict=True)
            )
            return _clusters(v, events, rows, x, y, sel_row)
    positions = _spread(list(zip(x.tolist(), y.tolist(), strict=True)))
    order = sorted(range(len(rows)), key=lambda k: int(rows[k]) == sel_row)
    types, statuses = events.types(rows), _status_names(events, rows)
    out = []
    for k in order:
        budget.check()
        i = int(rows[k])
        px, py = positions[k]
        size = 22 if i == sel_row else 16
        out.append(marker_svg(round(px, 1), round(py, 1), types[k], statuses[k], size))
        taken.append((px - size / 2, py - size / 2, px + size / 2, py + size / 2))
    return out


def _clusters(
    v: Viewport, events: Store, rows: np.ndarray, x: np.ndarray, y: np.ndarray, sel_row: int | None
) -> list[str]:
    """One circle per cell of the map's grid (``app.data.grid`` at the view's zoom + 2, the level
    the map asks the API for) at its incidents' mean position, with their number, and a
    ``<title>`` counting them by zone status; a cell of one incident keeps its own marker."""
    level = min(MAX_LEVEL, max(0, math.floor(v.zoom) + 2))
    lon, lat = events.points(rows)
    starts, ends = events.days(rows)
    cells = count_cells(level, lon, lat, events.statuses(rows), starts, ends)
    cx_all, cy_all = v.xy_arrays(cells.mean_lon, cells.mean_lat)
    col, row = cell_of(lon, lat, level)
    lone = {(c, r): int(i) for c, r, i in zip(col.tolist(), row.tolist(), rows.tolist(), strict=True)}
    out = []
    for c in range(len(cells)):
        budget.check()
        n = int(cells.count[c])
        cx, cy = round(float(cx_all[c]), 1), round(float(cy_all[c]), 1)
        if n == 1:
            i = np.array([lone[(int(cells.col[c]), int(cells.row[c]))]])
            out.append(marker_svg(cx, cy, events.types(i)[0], _status_names(events, i)[0], 16))
            continue
        words = ", ".join(
            f"{int(cells.by_status[c, STATUS_CODES[s]])} {s}"
            for s in STATUS_COLOURS
            if cells.by_status[c, STATUS_CODES[s]]
        )
        r = round(12 + 4 * math.log10(n), 1)  # the map's cells.js: 24 + 8 log10(n) px across
        out.append(
            f'<g><title>{n} incidents: {words}</title><circle cx="{cx}" cy="{cy}" r="{r}" fill="#fff" '
            f'fill-opacity="0.9" stroke="#333" stroke-width="2"/><text x="{cx}" y="{cy + 4}" '
            f'text-anchor="middle" font-size="12" font-weight="600" font-family="sans-serif" '
            f'fill="#111">{n}</text></g>'
        )
    if sel_row is not None and sel_row in rows:
        k = int(np.flatnonzero(rows == sel_row)[0])
        px, py = round(float(x[k]), 1), round(float(y[k]), 1)
        sel = np.array([sel_row])
        out.append(marker_svg(px, py, events.types(sel)[0], _status_names(events, sel)[0], 22))
    return out


def _status_names(events: Store, rows: np.ndarray) -> list[str]:
    """Each row's zone status name ("" where it has none)."""
    return [STATUS_NAMES.get(code, "") for code in events.statuses(rows).tolist()]


def _spread(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Fan markers closer than NEAR_PX out on a small ring, as the interactive map does.

    Greedy in order: each marker not yet placed gathers the later unplaced ones within NEAR_PX
    of it. Candidates come from the 3 x 3 grid cells of side NEAR_PX around it, so the cost
    follows the markers' crowding, not the square of their number.
    """
    out = list(points)
    cells: dict[tuple[int, int], list[int]] = {}
    for i, (x, y) in enumerate(points):
        cells.setdefault((math.floor(x / NEAR_PX), math.floor(y / NEAR_PX)), []).append(i)
    done = [False] * len(points)
    for i, (xi, yi) in enumerate(points):
        if done[i]:
            continue
        budget.check()
        cx, cy = math.floor(xi / NEAR_PX), math.floor(yi / NEAR_PX)
        near = sorted(
            j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in cells.get((cx + dx, cy + dy), ())
            if j > i and not done[j] and math.dist((xi, yi), points[j]) < NEAR_PX
        )  # fmt: skip
        group = [i, *near]
        if len(group) > 1:
            radius = max(NEAR_PX, len(group) * 18 / (2 * math.pi))
            for n, k in enumerate(group):
                angle = 2 * math.pi * n / len(group) - math.pi / 2
                out[k] = (xi + radius * math.cos(angle), yi + radius * math.sin(angle))
        for k in group:
            done[k] = True
    return out


def _frame_bounds(v: Viewport) -> tuple[float, float, float, float]:
    def lonlat(px: float, py: float) -> tuple[float, float]:
        wx = px - v.width / 2 + v.cx
        wy = py - v.height / 2 + v.cy
        lon = wx / v.world * 360.0 - 180.0
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * wy / v.world))))
        return lon, lat

    west, north = lonlat(0, 0)
    east, south = lonlat(v.width, v.height)
    return west, south, east, north


def _description(served: Served, shown: np.ndarray, selected: str | None) -> str:
    """The incidents shown, and the selected one's answer in the words every view uses."""
    events = served.stores["events"]
    names: Iterable[str] = (str(f["properties"]["title"]) for f in features(events, shown[:MAX_NAMED]))
    text = "Incidents in this view (those no source locates are listed, not drawn): " + "; ".join(names)
    if len(shown) > MAX_NAMED:
        text += f"; and {len(shown) - MAX_NAMED} more"
    row = events.get(selected) if selected else None
    if row is not None:
        props = features(events, [row])[0]["properties"]
        more = " ".join(str(w) for w in (props.get("zone_share_text"), props.get("place_note")) if w)
        text += f". Selected: {props['title']}. {props['zone_answer']}" + (f" {more}" if more else "")
    return text


class _Drawings:
    """The last KEPT_DRAWINGS finished SVGs, by dataset version, state and size (thread-safe: the
    route runs in the thread pool)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, served: Served, state: MapState, width: int, height: int) -> str:
        key = (served.version, state, width, height)
        with self._lock:
            svg = self._kept.get(key)
            if svg is not None:
                self._kept.move_to_end(key)
                return svg
        svg = render_svg(served, state, width, height)  # outside the lock: a slow drawing blocks no one
        with self._lock:
            self._kept[key] = svg
            while len(self._kept) > KEPT_DRAWINGS:
                self._kept.popitem(last=False)
        return svg


_drawings = _Drawings()


def cached_svg(served: Served, state: MapState, width: int = 800, height: int = 600) -> str:
    """``render_svg``, kept for the last KEPT_DRAWINGS distinct views."""
    return _drawings.get(served, state, width, height)
