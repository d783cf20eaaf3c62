"""The symbols of a static map image (``app.export.svg``): the zone's colour, and each
incident's marker, its shape by event type and its fill by zone status, as the map draws them
(static/js/markers.js; tests/web/test_state_contract.py holds the two equal)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from app.export.legend import STATUSES, cell_words

# The same colours and fills as the map's markers (static/js/markers.js); a contract test holds them equal.
STATUS_COLOURS = {"inside": "#b2182b", "outside": "#2166ac", "uncertain": "#6b4c00", "contested": "#b35806"}
TYPE_SHAPES = {
    "Explosions/Remote violence": "circle",
    "Battles": "triangle",
    "Strategic developments": "square",
    "Violence against civilians": "diamond",
}
ZONE_COLOUR = "#7b3294"


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


def stack_svg(x: float, y: float, size: float, counts: dict[str, int], ids: Sequence[str] = ()) -> str:
    """A crowd drawn as one numbered circle of side ``size`` px centred on (x, y), as the map draws
    it (static/js/incident-layers.js ``stackMarker``, map.css ``.stack-icon``): white, its count
    in the middle, its 4 px ring coloured by its incidents' zone status in the legend's order
    (clockwise from the top, each status's share of the ring), named with its counts; ``ids``,
    its incidents' ids, go in ``data-ids`` (space-separated) where given."""
    n = sum(counts.values())
    r = size / 2 - 2  # the middle of the ring
    ring = []
    start = 0.0
    for status in STATUSES:
        if not counts.get(status):
            continue
        end = start + 360 * counts[status] / n
        colour = STATUS_COLOURS[status]
        if end - start >= 359.999:
            ring.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="none" stroke="{colour}" stroke-width="4"/>')
        else:
            (x0, y0), (x1, y1) = (
                (x + r * math.sin(math.radians(a)), y - r * math.cos(math.radians(a))) for a in (start, end)
            )
            big = 1 if end - start > 180 else 0
            ring.append(
                f'<path d="M{x0:.2f},{y0:.2f}A{r},{r} 0 {big} 1 {x1:.2f},{y1:.2f}" fill="none" '
                f'stroke="{colour}" stroke-width="4"/>'
            )
        start = end
    named = f" data-ids={quoteattr(' '.join(ids))}" if ids else ""
    return (
        f'<g class="stack"{named}>'
        f"<title>{escape(cell_words(counts))}</title>"
        f'<circle cx="{x}" cy="{y}" r="{size / 2}" fill="#fff"/>{"".join(ring)}'
        f'<text x="{x}" y="{y + 4}" text-anchor="middle" font-size="12" font-weight="600" '
        f'font-family="sans-serif" fill="#111">{n}</text></g>'
    )
