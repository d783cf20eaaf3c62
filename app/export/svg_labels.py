"""The words on a static map image (``app.export.svg``): the legend, the zone's and sites' names
placed clear of the markers and of one another, and the scale bar. Placement tests a candidate
box against all taken boxes at once (numpy), not one by one."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from app.data.model import Site
from app.data.store_api import STATUS_CODES, Tally
from app.export.legend import STATUS_SHORT, TYPE_WORDS
from app.export.svg_names import (
    _distance_to_boxes,
    _distance_to_points,
    nearest_on,
    place_name,
    reads_as_its_own,
    within,
)
from app.export.svg_symbols import TYPE_SHAPES, ZONE_COLOUR, marker_svg
from app.export.svg_view import Viewport
from app.geo.geodesy import destination, distance_m
from app.served import Served

# Where a site's name goes (as in static/js/layers.js), so that neighbouring names do not collide.
LABEL_SIDE = {
    "garrison": "left",
    "al-tanf-crossing": "bottom",
    "rukban-camp": "left",
    "al-waleed-crossing": "right",
}


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
        f'<g font-size="{TEXT_PX}" font-family="sans-serif">'
        f'<rect x="8" y="{y - 16}" width="{length + 16:.1f}" height="22" fill="#fff" fill-opacity="0.85"/>'
        f'<path d="M16,{y - 4}V{y}H{16 + length:.1f}V{y - 4}" fill="none" '
        f'stroke="#111" stroke-width="1.5"/><text x="{16 + length / 2:.1f}" y="{y - 6}" text-anchor="middle">'
        f"{nice} km</text></g>"
    )


def scale_bar_box(v: Viewport, lat: float, lon: float) -> Box:
    """The box ``scale_bar`` draws in (its length is at most 2/5 of the width)."""
    km_per_px = distance_m(lon, lat, lon + v.lonlat_per_pixel(), lat) / 1000
    target = km_per_px * v.width / 5
    nice = max((n for n in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500) if n <= target), default=1)
    length = nice / km_per_px
    return (8.0, v.height - 32.0, 24.0 + length, v.height - 10.0)


Box = tuple[float, float, float, float]
CHAR_PX = 7.4  # the width of a 12 px sans-serif character, bold, on average (a little to spare)


def _text_box(x: float, y: float, text: str, anchor: str) -> Box:
    """The box a 12 px label takes, from its anchor point (baseline)."""
    w = len(text) * CHAR_PX
    x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    return (x0 - 2, y - 12, x0 + w + 2, y + 4)


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


KEY_FROM = (200, 150)  # the smallest image (w, h) px with a key under its map
# Every word the server draws is TEXT_PX at every width: the key's, the scale bar's and the credit
# line's too, so that the static embed, which shows its image at its own size, reads 12 px on
# screen in any frame (at 720 px wide and more the key was 11 px and the credit 10: 10.3 and 9.3 px
# on screen in a full-width frame).
TEXT_PX = 12
KEY_ROW_PX = 17  # a row of the key
KEY_CHAR_EM = 0.52  # a character's mean width in ems (Chromium's sans-serif 0.43-0.49, DejaVu 0.53)
KEY_SYMBOL_PX = 18  # room for an item's symbol
KEY_GAP_PX = 14  # between two items in a row


Item = tuple[str, str]  # a key's item: symbol markup around 0,0, words
Row = list[tuple[float, str, str]]  # a row of the key: x of each item, its symbol and words


def _key_items(shown: Tally, width: int) -> tuple[list[Item], list[Item]]:
    """What the key explains, as (symbol markup drawn around 0,0, words), in the words of
    static/js/legend-body.js: first what it must (the shapes, from 400 px wide, and the fills on
    the image: inside from outside), then what it may where that adds no row (the zone, the
    garrison and the borders, which the image also names or credits)."""
    types = sorted(shown.by_type(located=True))
    shown_codes = set(shown.status.tolist())
    statuses = [s for s in STATUS_SHORT if STATUS_CODES[s] in shown_codes]
    must: list[tuple[str, str]] = []
    if width >= 400:
        must += [(marker_svg(0, 0, t, "inside", 12), TYPE_WORDS.get(t, t)) for t in types if t in TYPE_SHAPES]
    must += [(marker_svg(0, 0, "Explosions/Remote violence", s, 12), STATUS_SHORT[s]) for s in statuses]
    may = [
        (f'<path d="M-7,0H7" stroke="{ZONE_COLOUR}" stroke-width="2.5"/>', "the 55 km zone"),
        ('<circle r="4.5" fill="#111"/>', "At Tanf garrison"),
        ('<path d="M-7,0H7" stroke="#555" stroke-dasharray="4 2"/>', "borders (approximate)"),
    ]
    return must, may


def _key_rows(items: list[Item], width: int, char_px: float) -> list[Row]:
    """The items in rows that fit ``width``: (x of the item, symbol, words) per item."""
    rows: list[Row] = [[]]
    x = 8.0
    for symbol, words in items:
        w = KEY_SYMBOL_PX + len(words) * char_px
        if rows[-1] and x + w > width - 6:
            rows.append([])
            x = 8.0
        rows[-1].append((x, symbol, words))
        x += w + KEY_GAP_PX
    return rows


def _key_layout(shown: Tally, width: int) -> list[Row]:
    char = TEXT_PX * KEY_CHAR_EM
    must, may = _key_items(shown, width)
    rows = _key_rows(must, width, char)
    for item in may:
        more = _key_rows([*[(s, w) for row in rows for _, s, w in row], item], width, char)
        if len(more) == len(rows):
            rows = more
    return rows


def key_height(shown: Tally, width: int) -> float:
    """The height in px of the key strip under the map (``key``) for an image ``width`` wide."""
    return len(_key_layout(shown, width)) * KEY_ROW_PX + 6


def key(shown: Tally, width: int, top: float) -> str:
    """The key: a strip under the map from ``top`` (px) down, the symbols on the image with their
    meaning in rows that fit the width. Always drawn: it covers nothing (the map ends above it),
    so no frame is too crowded for it (a legend in a corner was left out wherever it would have
    covered a marker, as in the 600x450 frame the embed dialog suggests)."""
    rows = _key_layout(shown, width)
    row_px = KEY_ROW_PX
    height = len(rows) * row_px + 6
    parts = [
        f'<g class="legend" font-size="{TEXT_PX}" font-family="sans-serif" fill="#111">'
        f'<rect x="0" y="{top:.1f}" width="{width}" height="{height}" fill="#fff"/>'
        f'<path d="M0,{top:.1f}H{width}" stroke="#999"/>'
    ]
    for n, row in enumerate(rows):
        cy = top + 3 + row_px * n + row_px / 2
        for x, symbol, words in row:
            parts.append(f'<g transform="translate({x + 7:.1f},{cy:.1f})">{symbol}</g>')
            parts.append(f'<text x="{x + KEY_SYMBOL_PX:.1f}" y="{cy + 4:.1f}">{escape(words)}</text>')
    parts.append("</g>")
    return "".join(parts)


NAME_PX = 12
# The mean width of a 12 px character of a site's name, regular and bold: Chromium's sans-serif
# here 5.2-6.2 and 5.7-6.6 px, DejaVu Sans (resvg's PNG) 5.8-7.0 and 6.6-7.8. The text is fitted
# to that width (textLength), so its background holds it whatever the reader's font.
NAME_CHAR_PX = (5.9, 6.4)
PAD_PX = 3  # the name's background beyond its text, each side


def name_size(text: str, bold: bool = False) -> tuple[float, float]:
    """The box (w, h) in px of a 12 px name with its background."""
    return len(text) * NAME_CHAR_PX[bold] + 2 * PAD_PX, 16.0


def _name(box: Box, text: str, bold: bool, site_id: str) -> str:
    """A name centred in its box, on a light background (so that no border or leader line runs
    through its letters)."""
    x0, y0, x1, y1 = box
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<g class="name" data-site={quoteattr(site_id)}><rect x="{x0:.1f}" y="{y0:.1f}" '
        f'width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="3" fill="#fff" fill-opacity="0.88"/>'
        f'<text x="{(x0 + x1) / 2:.1f}" y="{y1 - 4:.1f}" text-anchor="middle"{weight} font-size="{NAME_PX}" '
        f'textLength="{x1 - x0 - 2 * PAD_PX:.1f}" lengthAdjust="spacingAndGlyphs" '
        f'font-family="sans-serif" fill="#111">{escape(text)}</text></g>'
    )


def _leader(x: float, y: float, box: Box) -> str:
    """A thin line from the point x, y to the nearest point of a name's box."""
    nx, ny = nearest_on(box, x, y)
    return (
        f'<path class="name-leader" d="M{x:.1f},{y:.1f}L{nx:.1f},{ny:.1f}" stroke="#111" stroke-width="1.2"/>'
    )


def names(
    served: Served,
    v: Viewport,
    boxes: np.ndarray,
    markers: np.ndarray,
    lines: np.ndarray,
) -> tuple[list[str], np.ndarray, bool]:
    """The places' names and the zone's, in the map's order of importance (static/js/labels.js):
    the garrison's, the zone's, then the other sites'. A site's name goes where it reads as that
    place's (``app.export.svg_names.place_name``): beside its dot, or out with a leader line,
    clear of ``boxes`` (an (n, 4) array: markers, sites, the credit line, the scale bar), of the
    incident ``markers`` (m, 4) and of the markers' leader ``lines`` (points along them, (p, 2)).
    The zone's goes just outside its line, above it where that is free, else around it. A name
    with no free place is left out, but the garrison's. Returns the markup, the boxes taken
    (the names' added) and whether the garrison's name reads as its own (``reads_as_its_own``;
    True without a garrison)."""
    frame = (0.0, 0.0, float(v.width), float(v.height))
    sites = sorted(served.sites.values(), key=lambda s: s.kind != "garrison")
    dots = {site.id: v.xy(site.lon, site.lat) for site in sites}
    out: list[str] = []
    leaders: list[str] = []
    clear = True
    for n, site in enumerate(sites):
        if n == 1 or (n == 0 and site.kind != "garrison"):
            zone_name, boxes = _zone_name(served, v, boxes, lines)
            out.extend(zone_name)
        garrison = site.kind == "garrison"
        placed = site_name(site, dots, 6 if garrison else 3.5, 6, boxes, markers, lines, frame)
        if placed is None:
            continue
        box, leader, lines = placed
        if garrison:
            clear = reads_as_its_own(box, leader, *dots[site.id], 6, markers)
        if leader:
            leaders.append(_leader(*dots[site.id], box))
        out.append(_name(box, site.name, garrison, site.id))
        boxes = np.vstack([boxes, box])
    if not sites:
        zone_name, boxes = _zone_name(served, v, boxes, lines)
        out.extend(zone_name)
    return leaders + out, boxes, clear


def site_name(
    site: Site,
    dots: dict[str, tuple[float, float]],
    radius: float,
    dot_half: float,
    taken: np.ndarray,
    markers: np.ndarray,
    lines: np.ndarray,
    frame: Box,
) -> tuple[Box, bool, np.ndarray] | None:
    """Where ``site``'s name goes (``app.export.svg_names.place_name``), for the SVG and the
    standalone export alike: ``dots`` every site's dot (x, y) px, ``radius`` its dot's radius px,
    ``dot_half`` half the side of the dot's box in ``taken`` (its own dot is no obstacle to its
    name; a marker on the same point still is), ``taken`` (n, 4), ``markers`` (m, 4), ``lines``
    (p, 2) points along leader lines, ``frame`` the box names must lie in. Returns the name's box,
    whether it stands away with a leader line, and ``lines`` with that leader line's points
    added; None where no place is free (never for the garrison's)."""
    x, y = dots[site.id]
    garrison = site.kind == "garrison"
    others = np.array([p for k, p in dots.items() if k != site.id], dtype=float).reshape(-1, 2)
    dot_box = np.array([x - dot_half, y - dot_half, x + dot_half, y + dot_half])
    own = np.all(np.abs(taken - dot_box) < 1e-6, axis=1)
    placed = place_name(
        x, y, radius, name_size(site.name, garrison),
        first_side=LABEL_SIDE.get(site.id, "right"), taken=taken[~own], markers=markers,
        other_dots=others, lines=lines, frame=frame, must=garrison,
    )  # fmt: skip
    if placed is None:
        return None
    box, leader = placed
    if leader:
        ex, ey = nearest_on(box, x, y)
        steps = np.linspace(0.0, 1.0, 12)[:, None]
        lines = np.vstack([lines, np.hstack([x + (ex - x) * steps, y + (ey - y) * steps])])
    return box, leader, lines


ZONE_NAME_ANGLES = (0, 45, -45, 90, -90, 135, -135, 180)  # degrees clockwise from north
ZONE_NAME_GAPS = (4, 28, 52)  # px out from the zone's line


def _zone_name(
    served: Served, v: Viewport, boxes: np.ndarray, lines: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """The zone's name just outside its line, above it where that is free, else around it (the
    map's rule, static/js/layers.js addZone), clear of ``boxes`` and ``lines``; left out where no
    place is free (the key names the zone's line too)."""
    zone = served.zone
    text = f"{zone.radius_m / 1000:g} km de-confliction zone"
    w, h = len(text) * CHAR_PX + 4, 16.0
    cx, cy = v.xy(*zone.centre)
    north = max(zone.polygon.exterior.coords, key=lambda p: p[1])
    r = cy - v.xy(*north)[1]
    for gap in ZONE_NAME_GAPS:
        for deg in ZONE_NAME_ANGLES:
            a = math.radians(deg)
            out = r + gap + abs(math.sin(a)) * w / 2 + abs(math.cos(a)) * h / 2
            mx, my = cx + out * math.sin(a), cy - out * math.cos(a)
            box = (mx - w / 2, my - h / 2, mx + w / 2, my + h / 2)
            cand = np.array([box])
            if not within(cand, (0.0, 0.0, float(v.width), float(v.height)))[0]:
                continue
            if _distance_to_boxes(cand, boxes)[0] < 2 or _distance_to_points(cand, lines)[0] < 2:
                continue
            return [_text(mx, my + 4, text, "middle", "bold")], np.vstack([boxes, box])
    return [], boxes


COUNTRY_PX = 12
COUNTRY_CHAR_PX = 9.6  # a 12 px bold capital with 0.12 em of letter spacing


def country_places(
    v: Viewport,
    countries: list[tuple[str, BaseGeometry]],
    boxes: np.ndarray,
    centre: tuple[float, float],
    zone: BaseGeometry | None = None,
) -> list[tuple[str, float, float, Box]]:
    """Where each country's name goes, as on the map (static/js/labels.js addCountries): on a
    grid over the image, the place whose name (in capitals) lies well inside the country, clear
    of ``boxes`` (markers, names, sites) and of the names placed before it, never across the
    ``zone``'s line (its middle and both ends on one side), farthest from the zone's busy
    ``centre`` (px). Returns (name, x, y, box) px per country named (the middle of its text); a
    country with no free place is left out."""
    out = []
    gx, gy, _ = _country_grid(v)
    far = np.hypot(gx - centre[0], gy - centre[1])
    taken = boxes
    for name, geometry in countries:
        cand, free = _country_free(v, name, geometry, taken, zone)
        if not free.any():
            continue
        k = int(np.flatnonzero(free)[np.argmax(far[free])])
        box = (float(cand[k, 0]), float(cand[k, 1]), float(cand[k, 2]), float(cand[k, 3]))
        out.append((name, float(gx[k]), float(gy[k]), box))
        taken = np.vstack([taken, box])
    return out


def country_candidates(
    v: Viewport, countries: list[tuple[str, BaseGeometry]], boxes: np.ndarray, zone: BaseGeometry, most: int
) -> dict[str, list[tuple[float, float]]]:
    """Every free place (``country_places``'s rule but the choice) for each country's name in
    ``v``, at most ``most`` spread evenly over the country (px, the middle of the text), for a
    page that chooses among them in the part of ``v`` its reader sees: country -> [(x, y)]."""
    out: dict[str, list[tuple[float, float]]] = {}
    gx, gy, step = _country_grid(v)
    for name, geometry in countries:
        free = np.flatnonzero(_country_free(v, name, geometry, boxes, zone)[1])
        spacing = step / 2
        while True:
            kept: list[int] = []
            for k in free:
                if all((gx[k] - gx[j]) ** 2 + (gy[k] - gy[j]) ** 2 >= spacing**2 for j in kept):
                    kept.append(int(k))
            if len(kept) <= most:
                break
            spacing *= 1.5
        if kept:
            out[name] = [(float(gx[k]), float(gy[k])) for k in kept]
    return out


def _country_grid(v: Viewport) -> tuple[np.ndarray, np.ndarray, float]:
    """The grid of places for countries' names over ``v``: x, y px and the grid's step."""
    step = max(40.0, min(v.width, v.height) / 8)
    xs = np.arange(step / 2, v.width, step / 4)  # a quarter step: room between names and markers
    ys = np.arange(step / 2, v.height, step / 4)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    return gx, gy, step


def _country_free(
    v: Viewport, name: str, geometry: BaseGeometry, taken: np.ndarray, zone: BaseGeometry | None
) -> tuple[np.ndarray, np.ndarray]:
    """The name's box at each place of ``_country_grid`` and whether it is free there: in the
    image, well inside the country (its middle and both ends), on one side of the ``zone``'s
    line, 4 px from every box ``taken``."""
    gx, gy, _ = _country_grid(v)
    w, h = len(name) * COUNTRY_CHAR_PX, 16.0
    cand = np.stack([gx - w / 2, gy - h / 2, gx + w / 2, gy + h / 2], axis=1)
    fits = within(cand, (4.0, 4.0, v.width - 4.0, v.height - 4.0))
    if not fits.any():
        return cand, fits
    sides = []
    for px in (gx, cand[:, 0], cand[:, 2]):
        lon, lat = v.lonlat_arrays(px, gy)
        fits &= shapely.contains_xy(geometry, lon, lat)
        if zone is not None:
            sides.append(shapely.contains_xy(zone, lon, lat))
    if sides:
        fits &= (sides[0] == sides[1]) & (sides[0] == sides[2])
    return cand, fits & (_distance_to_boxes(cand, taken) >= 4)


def country_names(places: list[tuple[str, float, float, Box]]) -> list[str]:
    """The countries' names where ``country_places`` puts them, as SVG text: capitals, grey, a
    light halo."""
    return [
        f'<text class="country" x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" '
        f'font-size="{COUNTRY_PX}" font-weight="600" letter-spacing="1.4" font-family="sans-serif" '
        f'fill="#5a5a5a" paint-order="stroke" stroke="#fff" stroke-width="3">{escape(name.upper())}</text>'
        for name, x, y, _ in places
    ]


def _text(x: float, y: float, text: str, anchor: str = "start", weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="{weight}" font-size="12" '
        f'font-family="sans-serif" paint-order="stroke" stroke="#fff" stroke-width="3" fill="#111">'
        f"{escape(text)}</text>"
    )
