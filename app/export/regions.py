"""How a claim region is drawn, by its incident's mode: the map's rule (``regionStyle`` in
static/js/layers.js), held equal to it by tests/web/test_state_contract.py, for the server's
drawings (the SVG and the standalone export).

Modes: ``"selected"`` (the selected incident: each source's region outlined, filled where it does
not straddle the zone's edge, dashed where it does, and the region all its sources share filled
darker), ``"hover"`` (the incident under the pointer: its sources' outlines only) and
``"footprint"`` (every other incident: a faint grey wash with no outline, so that a view of many
incidents stays calm instead of drawing dozens of concentric rings).

A style is a dict of Leaflet path options (``stroke``, ``color``, ``weight``, ``opacity``,
``dashArray``, ``fill``, ``fillColor``, ``fillOpacity``); ``svg_attributes`` turns one into SVG
presentation attributes.
"""

from __future__ import annotations

from typing import Any

from app.export.svg_symbols import STATUS_COLOURS

MODES = ("selected", "hover", "footprint")
FOOTPRINT_GREY = "#6b6b6b"
OTHER_COLOUR = "#444"  # a region with no zone status

Style = dict[str, Any]


def region_style(status: str | None, common: bool, mode: str) -> Style:
    """The style of a region of zone ``status`` (``None``: none), ``common`` for the region all of
    an incident's sources share, drawn in ``mode`` (one of ``MODES``)."""
    colour = STATUS_COLOURS.get(status or "", OTHER_COLOUR)
    selected = mode == "selected"
    if common:
        return {"stroke": selected, "color": colour, "weight": 2, "opacity": 1, "fill": selected,
                "fillColor": colour, "fillOpacity": 0.35}  # fmt: skip
    if mode == "footprint":
        return {"stroke": False, "fill": True, "fillColor": FOOTPRINT_GREY, "fillOpacity": 0.015}
    uncertain = status == "uncertain"
    return {
        "stroke": True,
        "color": colour,
        "weight": 2.5 if selected else 2,
        "opacity": 0.95,
        "dashArray": "5 4" if uncertain else None,
        "fill": selected and not uncertain,
        "fillColor": colour,
        "fillOpacity": 0.2,
    }


def drawn(style: Style) -> bool:
    """Whether a region in this style shows at all (a common region is hidden unless selected)."""
    return bool(style.get("stroke")) or bool(style.get("fill"))


def svg_attributes(style: Style) -> str:
    """SVG presentation attributes for a style (Leaflet's defaults where it leaves one out)."""
    parts = []
    if style.get("fill"):
        parts.append(f'fill="{style["fillColor"]}" fill-opacity="{style.get("fillOpacity", 0.2):g}"')
    else:
        parts.append('fill="none"')
    parts.append('fill-rule="evenodd"')
    if style.get("stroke"):
        parts.append(
            f'stroke="{style["color"]}" stroke-opacity="{style.get("opacity", 1):g}" '
            f'stroke-width="{style.get("weight", 3):g}"'
        )
        if style.get("dashArray"):
            parts.append(f'stroke-dasharray="{style["dashArray"]}"')
    else:
        parts.append('stroke="none"')
    return " ".join(parts)
