"""A static SVG image of a map view, drawn on the server from the served geometry.

For readers without JavaScript (the embed's ``<noscript>``), oEmbed thumbnails and print. Web
Mercator like the interactive map, so a view (centre and zoom) frames the same area. All text is
XML-escaped; the image carries its summary as ``<title>`` and ``<desc>``.

Its cost is bounded whatever the dataset's size: beyond ``MAX_MARKERS`` markers those outside the
frame are skipped; up to ``MAX_MARKERS`` are drawn one by one (moved aside where they would
cover one another or a site, with a leader line to their point: ``app.export.placement``, the
map's rule, found through a grid, not by comparing every pair); beyond that
they are counted per cell of the grid the map and the API use (``app.data.grid``, cells 64 px
wide at the view's zoom), one numbered circle per cell, as the map draws them. Claim outlines are drawn up
to ``MAX_REGIONS`` (beyond that, only the selected incident's: hundreds of overlapping outlines
say nothing), the ``<desc>`` names at most ``MAX_NAMED`` incidents. Long loops call
``app.budget.check()``, so a drawing stops when its client has gone or its time is up. Finished
drawings are kept (``cached_svg``).

This module draws what the view holds (borders, regions, markers, clusters) and keeps drawings;
where things go is ``app.export.svg_view``, the symbols ``app.export.svg_symbols``, the words
(legend, names, scale bar) ``app.export.svg_labels``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app import budget
from app.api.features import COMMON_SUFFIX
from app.data.grid import MAX_LEVEL, Cells
from app.data.store_api import STATUS_CODES, STATUS_NAMES, Attributes, ItemQuery, Store, Tally, features
from app.export.kept import Kept
from app.export.regions import drawn, region_style, svg_attributes
from app.export.stacks import OVERVIEW_ZOOM, STACK_REACH, arrange, stack_size
from app.export.svg_labels import (
    KEY_FROM,
    TEXT_PX,
    Box,
    _text_box,
    country_names,
    country_places,
    key,
    key_height,
    names,
    scale_bar,
    scale_bar_box,
)
from app.export.svg_labels import LABEL_SIDE as LABEL_SIDE
from app.export.svg_labels import _boxes as _boxes
from app.export.svg_labels import _meets as _meets
from app.export.svg_labels import _overlaps as _overlaps
from app.export.svg_symbols import STATUS_COLOURS as STATUS_COLOURS
from app.export.svg_symbols import TYPE_SHAPES as TYPE_SHAPES
from app.export.svg_symbols import ZONE_COLOUR as ZONE_COLOUR
from app.export.svg_symbols import marker_svg as marker_svg
from app.export.svg_symbols import stack_svg
from app.export.svg_view import Viewport as Viewport
from app.export.svg_view import fit_view as fit_view
from app.export.svg_view import frame_bounds, path_data, ring_px
from app.served import Served
from app.web.state import MapState, selected_row, summary_text, visible_query

NEAR_PX = 14
Marked = tuple[np.ndarray, Attributes] | Cells  # what the markers draw (``_shown_markers``)
MAX_MARKERS = 300  # markers drawn one by one; beyond, counts per cell (as the map: view-data.js)
MAX_REGIONS = 400  # claim outlines drawn; beyond, the selected incident's only
MAX_NAMED = 60  # incidents named in <desc>
KEPT_DRAWINGS = 64  # finished SVGs kept (about 20-200 KB each)

CREDIT = "At Tanf zone map · Borders: Natural Earth (approximate) · sources in the data"
CREDIT_NARROW = "Borders: Natural Earth (approximate)"  # under 480 px the whole line is cut off
CREDIT_FROM_PX = 480


def render_svg(served: Served, state: MapState, width: int = 800, height: int = 600) -> str:
    zone = served.zone
    events = served.stores["events"]
    query = visible_query(state)
    shown = events.tally(query)  # counted by the store: nothing read per incident
    # The key under the map, in every image with room for a map above it: the map is the rest.
    strip = key_height(shown, width) if width >= KEY_FROM[0] and height >= KEY_FROM[1] else 0.0
    map_h = max(1, round(height - strip))
    if state.view:
        lat, lon, zoom = state.view
    else:
        minx, miny, maxx, maxy = zone.polygon.bounds
        pad_x, pad_y = (maxx - minx) * 0.08, (maxy - miny) * 0.08
        lat, lon, zoom = fit_view((minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y), width, map_h)
    v = Viewport(lat, lon, zoom, width, map_h)
    # Simplify to a third of a pixel: invisible, and it keeps the file small.
    tol = v.lonlat_per_pixel() / 3
    frame = shapely.box(*frame_bounds(v)).buffer(tol * 20)

    def clip(geom: BaseGeometry) -> BaseGeometry:
        # Douglas-Peucker without topology repair: a drawing needs no valid polygon, and the
        # repairing variant cost ten times as much.
        return shapely.simplify(shapely.intersection(geom, frame), tol, preserve_topology=False)

    summary = summary_text(served, state, shown)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d" '
        # The view drawn (Web Mercator centre and zoom) and the map's height above the key, px.
        f'data-view="{lat:.6f},{lon:.6f},{zoom:g}" data-map-height="{map_h}">',
        f'<title id="t">{escape(summary)}</title>',
        f'<desc id="d">{escape(_description(served, query, shown.matched, state.sel))}</desc>',
        f'<rect width="{width}" height="{height}" fill="#f2efe9"/>',
    ]
    countries = [
        (str((c.get("properties") or {}).get("name") or ""), shape(c["geometry"]))
        for c in served.borders.get("features", [])
        if c.get("geometry")
    ]
    for _, geometry in countries:
        d = path_data(v, clip(geometry))
        if d:
            out.append(
                f'<path d="{d}" fill="#fbfaf7" stroke="#555" stroke-width="1" stroke-dasharray="6 3"/>'
            )
    if zone.variant_band is not None:
        band = path_data(v, clip(zone.variant_band))
        style = 'fill-opacity="0.12" fill-rule="evenodd" stroke="none"'
        out.append(f'<path d="{band}" fill="{ZONE_COLOUR}" {style}/>')
    sel_row = selected_row(served, state)
    for geom, owner, status, region_id in _shown_regions(served, query, shown, sel_row):
        budget.check()
        if status is None:
            continue
        # The map's rule (app.export.regions): the selected incident's regions drawn, the
        # others' a faint footprint; the region all sources share, for the selected one only.
        look = region_style(
            status, region_id.endswith(COMMON_SUFFIX), "selected" if owner == sel_row else "footprint"
        )
        if drawn(look):
            out.append(f'<path d="{path_data(v, clip(geom))}" {svg_attributes(look)}/>')
    outline = path_data(v, clip(zone.polygon))
    out.append(f'<path d="{outline}" fill="none" stroke="{ZONE_COLOUR}" stroke-width="2.5"/>')
    out = [line for line in out if 'd=""' not in line]
    # Markers first, then the names, placed where each reads as its own place's (clear of the
    # markers, their leader lines and one another; a name with no free place is left out, but
    # the garrison's), then the countries' names where they cover nothing.
    taken: list[Box] = []
    for site in served.sites.values():
        x, y = v.xy(site.lon, site.lat)
        garrison = site.kind == "garrison"
        out.append(f'<circle class="site" cx="{x:.1f}" cy="{y:.1f}" r="{6 if garrison else 3.5}" '
                   f'fill="{"#111" if garrison else "#fff"}" stroke="#111" stroke-width="2"/>')  # fmt: skip
        taken.append((x - 6, y - 6, x + 6, y + 6))
    first_marker = len(taken)
    # The credit line and the scale bar are text a name may not cover (the static embed at
    # 320-420 px put a site's name over the credit line).
    credit = CREDIT if width >= CREDIT_FROM_PX else CREDIT_NARROW
    credit_box = _text_box(width - 6, map_h - 6, credit, "end")  # a 12 px box: room for either
    ring = ring_px(v, zone.polygon)
    # Where the garrison's name cannot read as its own (a crowd fanned out all round its dot) in
    # an overview, every crowd that spreads is drawn as its numbered circle instead, and the
    # names placed again (the map's rule, static/js/incident-layers.js layoutLabels).
    marked = _shown_markers(v, events, query, shown)
    for reach in (STACK_REACH, 0.0) if zoom < OVERVIEW_ZOOM else (STACK_REACH,):
        drawn_taken = list(taken)
        lines: list[tuple[float, float]] = []
        symbols = _markers(v, events, marked, sel_row, drawn_taken, lines, ring, reach)
        boxes = _boxes(drawn_taken)  # from here on, the boxes taken as one array
        markers = boxes[first_marker:]
        boxes = np.vstack([boxes, credit_box, scale_bar_box(v, lat, lon)])
        placed, boxes, clear = names(served, v, boxes, markers, np.array(lines, dtype=float).reshape(-1, 2))
        if clear:
            break
    out.extend(symbols)
    centre = v.xy(*zone.centre)
    out.extend(country_names(country_places(v, [c for c in countries if c[0]], boxes, centre, zone.polygon)))
    out.extend(placed)
    out.append(scale_bar(v, lat, lon))
    out.append(
        f'<text x="{width - 6}" y="{map_h - 6}" text-anchor="end" font-size="{TEXT_PX}" '
        'font-family="sans-serif" '
        'fill="#333" paint-order="stroke" stroke="#fff" stroke-width="3" stroke-opacity="0.85">'
        f"{credit}</text>"
    )
    if strip:
        out.append(key(shown, width, map_h))
    out.append("</svg>")
    return "\n".join(out)


def _shown_regions(
    served: Served, query: ItemQuery, shown: Tally, sel_row: int | None
) -> list[tuple[BaseGeometry, int, str | None, str]]:
    """The claim regions of the shown incidents (the selected one's only, beyond MAX_REGIONS):
    geometry, incident row, zone status, region id. Every located incident has a region (its
    point is one of it), so more located than MAX_REGIONS are more regions: not looked up."""
    regions = served.stores["regions"]
    selected = np.array([] if sel_row is None else [sel_row], dtype=np.int64)
    many = shown.located_count > MAX_REGIONS
    drawn, owner = regions.regions_of(selected if many else served.stores["events"].query(query))
    if len(drawn) > MAX_REGIONS:
        keep = owner == sel_row if sel_row is not None else np.zeros(len(drawn), dtype=bool)
        drawn, owner = drawn[keep], owner[keep]
    geoms = regions.geometries(drawn)
    statuses = [STATUS_NAMES.get(code) for code in regions.attributes(drawn).status.tolist()]
    ids = regions.ids(drawn)
    return [
        (g, int(o), s, i) for g, o, s, i in zip(geoms, owner, statuses, ids, strict=True) if g is not None
    ]


def _frame(v: Viewport, margin: float) -> tuple[float, float, float, float]:
    """The view's frame and ``margin`` px around it as a box in degrees (its pixels clip latitude
    at ±85°: beyond, to the pole), within -180..180: the image does not wrap the world."""
    (west, east), (south, north) = v.lonlat_arrays(np.array([-margin, v.width + margin]),
                                                   np.array([v.height + margin, -margin]))  # fmt: skip
    south, north = (-90.0 if south <= -85 else south), (90.0 if north >= 85 else north)
    return max(-180.0, float(west)), float(south), min(180.0, float(east)), float(north)


def _shown_markers(v: Viewport, events: Store, query: ItemQuery, shown: Tally) -> Marked:
    """What ``_markers`` draws, read once for its layouts: the shown incidents' rows and their
    attributes, or beyond MAX_MARKERS located only those in the frame (a page of them), and
    beyond MAX_MARKERS there their counts per cell (the store's, at the level the map asks)."""
    if shown.located_count > MAX_MARKERS:  # many: those outside the view are skipped, then gathered
        framed = dataclasses.replace(query, bbox=_frame(v, 3 * NEAR_PX))
        rows = events.page(framed, 0, MAX_MARKERS + 1)[1]
        if len(rows) > MAX_MARKERS:
            return events.cells(framed, min(MAX_LEVEL, max(0, math.floor(v.zoom) + 2)))
    else:
        rows = events.query(query)
    return rows, events.attributes(rows)


def _markers(
    v: Viewport,
    events: Store,
    marked: Marked,
    sel_row: int | None,
    taken: list[Box] | None = None,
    lines: list[tuple[float, float]] | None = None,
    zone: list[tuple[float, float]] | None = None,
    reach: float = STACK_REACH,
) -> list[str]:
    """The shown incidents' markers within the frame (the selected one last, on top): one by one
    up to MAX_MARKERS, else numbered clusters (``marked``: ``_shown_markers``). One by one, as
    the map draws them (``app.export.stacks.arrange``): a marker moved aside stays on its point's
    side of ``zone`` (the zone's line, px), and a crowd with no room there, or that would spread
    further than ``reach`` of the frame's smaller side, is one numbered circle on that side. Each
    marker's or circle's box goes into ``taken`` and points along each leader line into ``lines``
    (names keep clear of both)."""
    taken = [] if taken is None else taken
    lines = [] if lines is None else lines
    if isinstance(marked, Cells):
        return _clusters(v, events, marked, sel_row, taken)
    rows, shown_at = marked
    x, y = v.xy_arrays(shown_at.lon, shown_at.lat)
    at = np.flatnonzero(np.isfinite(x))  # the located (indices into ``rows``)
    rows, x, y, marked_at = rows[at], x[at], y[at], shown_at.take(at)
    points = list(zip(x.tolist(), y.tolist(), strict=True))
    sizes = [22.0 if int(i) == sel_row else 16.0 for i in rows]
    selected = [k for k in range(len(rows)) if int(rows[k]) == sel_row]
    bounds = (0.0, 0.0, float(v.width), float(v.height))
    positions, stacks, stack_at = arrange(
        points, sizes, selected[0] if selected else -1, list(taken), bounds, zone,
        reach * min(v.width, v.height),
    )  # fmt: skip
    stacked = {k for g in stacks for k in g}
    alone = [k for k in range(len(rows)) if k not in stacked]
    types, statuses, ids = marked_at.event_type.tolist(), _status_names(marked_at.status), events.ids(rows)
    out = [leader_lines([points[k] for k in alone], [positions[k] for k in alone])]
    for k in alone:
        (x0, y0), (x1, y1) = points[k], positions[k]
        if abs(x1 - x0) >= 0.5 or abs(y1 - y0) >= 0.5:
            steps = max(2, math.ceil(math.hypot(x1 - x0, y1 - y0) / 4))
            lines.extend((x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(steps + 1))
    for k in sorted(alone, key=lambda k: int(rows[k]) == sel_row):
        budget.check()
        if int(rows[k]) == sel_row:  # the selected one on top of the numbered circles too
            for g, (cx, cy) in zip(stacks, stack_at, strict=True):
                out.append(_stack(g, cx, cy, statuses, ids, taken))
        px, py = positions[k]
        size = sizes[k]
        body = marker_svg(round(px, 1), round(py, 1), types[k], statuses[k], size)
        out.append(f'<g class="incident" data-id={quoteattr(ids[k])}>{body}</g>')
        taken.append((px - size / 2, py - size / 2, px + size / 2, py + size / 2))
    if not selected:
        for g, (cx, cy) in zip(stacks, stack_at, strict=True):
            out.append(_stack(g, cx, cy, statuses, ids, taken))
    return out


def _stack(
    group: list[int], cx: float, cy: float, statuses: list[str], ids: list[str], taken: list[Box]
) -> str:
    """The numbered circle of the markers ``group`` (indices into ``statuses`` and ``ids``),
    centred on (cx, cy) px, naming its incidents (``data-ids``, space-separated); its box goes
    into ``taken``."""
    counts: dict[str, int] = {}
    for k in group:
        counts[statuses[k]] = counts.get(statuses[k], 0) + 1
    size = stack_size(len(group))
    taken.append((cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2))
    return stack_svg(round(cx, 1), round(cy, 1), size, counts, [ids[k] for k in group])


def leader_lines(points: list[tuple[float, float]], positions: list[tuple[float, float]]) -> str:
    """A thin line from each marker moved aside to its point, and a dot on the point (as the
    map draws them: static/js/incident-layers.js)."""
    parts = [
        f'<path d="M{x:.1f},{y:.1f}L{px:.1f},{py:.1f}"/><circle cx="{x:.1f}" cy="{y:.1f}" r="1.5"/>'
        for (x, y), (px, py) in zip(points, positions, strict=True)
        if abs(px - x) >= 0.5 or abs(py - y) >= 0.5
    ]
    if not parts:
        return ""
    return f'<g class="leaders" stroke="#333" stroke-opacity="0.8" fill="#333">{"".join(parts)}</g>'


def _clusters(v: Viewport, events: Store, cells: Cells, sel_row: int | None, taken: list[Box]) -> list[str]:
    """One circle per cell of the map's grid (``app.data.grid`` at the view's zoom + 2, the level
    the map asks the API for) at its incidents' mean position, with their number, and a
    ``<title>`` counting them by zone status; a cell of one incident keeps its own marker. Each
    circle's or marker's box goes into ``taken``: what is drawn, a few hundred boxes at most
    whatever the number of incidents (a box per incident cost 60 ms of the drawing at 100k).
    ``cells``: the store's counts of the incidents in the frame (``Store.cells``); the selected
    incident (``sel_row``, shown) is drawn on top where it lies in the frame. Work in Python is per cell."""
    cx_all, cy_all = v.xy_arrays(cells.mean_lon, cells.mean_lat)
    lone = np.flatnonzero(cells.count == 1)
    looks = events.attributes(cells.member[lone])  # a cell of one: its incident's look
    look_of = dict(zip(lone.tolist(), range(len(lone)), strict=True))
    out = []
    for c in range(len(cells)):
        budget.check()
        n = int(cells.count[c])
        cx, cy = round(float(cx_all[c]), 1), round(float(cy_all[c]), 1)
        if n == 1:
            out.append(marker_svg(cx, cy, *_look(looks, look_of[c]), 16))
            taken.append((cx - 8, cy - 8, cx + 8, cy + 8))
            continue
        words = ", ".join(
            f"{int(cells.by_status[c, STATUS_CODES[s]])} {s}"
            for s in STATUS_COLOURS
            if cells.by_status[c, STATUS_CODES[s]]
        )
        r = round(12 + 4 * math.log10(n), 1)  # the map's cells.js: 24 + 8 log10(n) px across
        taken.append((cx - r, cy - r, cx + r, cy + r))
        out.append(
            f'<g><title>{n} incidents: {words}</title><circle cx="{cx}" cy="{cy}" r="{r}" fill="#fff" '
            f'fill-opacity="0.9" stroke="#333" stroke-width="2"/><text x="{cx}" y="{cy + 4}" '
            f'text-anchor="middle" font-size="12" font-weight="600" font-family="sans-serif" '
            f'fill="#111">{n}</text></g>'
        )
    selected = events.attributes(np.array([] if sel_row is None else [sel_row], dtype=np.int64))
    x, y = v.xy_arrays(selected.lon, selected.lat)
    m = 3 * NEAR_PX
    if len(x) and -m <= x[0] <= v.width + m and -m <= y[0] <= v.height + m:  # NaN: not located
        px, py = round(float(x[0]), 1), round(float(y[0]), 1)
        out.append(marker_svg(px, py, *_look(selected, 0), 22))
        taken.append((px - 11, py - 11, px + 11, py + 11))
    return out


def _look(attrs: Attributes, k: int) -> tuple[str, str]:
    """What a marker shows of the ``k``th row: its event type and zone status name ("": none)."""
    return str(attrs.event_type[k]), STATUS_NAMES.get(int(attrs.status[k]), "")


def _status_names(codes: np.ndarray) -> list[str]:
    """Each zone status code's name ("" where there is none)."""
    return [STATUS_NAMES.get(code, "") for code in codes.tolist()]


def _description(served: Served, query: ItemQuery, matched: int, selected: str | None) -> str:
    """The incidents shown (the first MAX_NAMED named, of ``matched``), and the selected one's
    answer in the words every view uses."""
    events = served.stores["events"]
    named = features(events, events.page(query, 0, MAX_NAMED)[1])
    names: Iterable[str] = (str(f["properties"]["title"]) for f in named)
    text = "Incidents in this view (those no source locates are listed, not drawn): " + "; ".join(names)
    if matched > MAX_NAMED:
        text += f"; and {matched - MAX_NAMED} more"
    row = events.get(selected) if selected else None
    if row is not None:
        props = features(events, [row])[0]["properties"]
        more = " ".join(str(w) for w in (props.get("zone_share_text"), props.get("place_note")) if w)
        text += f". Selected: {props['title']}. {props['zone_answer']}" + (f" {more}" if more else "")
    return text


_drawings: Kept[str] = Kept(KEPT_DRAWINGS)


def cached_svg(served: Served, state: MapState, width: int = 800, height: int = 600) -> str:
    """``render_svg``, kept for the last KEPT_DRAWINGS distinct views; identical requests while a
    view is drawn share its drawing (``app.export.kept``)."""
    key = (served.version, state, width, height)
    return _drawings.get(key, lambda: render_svg(served, state, width, height))
