"""The symbols of a static map image (``app.export.svg``): the zone's colour, and each
incident's marker, its shape by event type and its fill by zone status, as the map draws them
(static/js/markers.js; tests/web/test_state_contract.py holds the two equal)."""

from __future__ import annotations

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
