"""The bundled borders as lines for the server's drawings: the map's rule (``borderLines`` in
static/js/layers.js), held equal to it by tests/web/test_state_contract.py.

``geodata/borders.geojson`` holds the countries clipped to the region's box (``at-tanf-map
borders``); drawn as polygons, the clipped edges would read as straight borders across the map.
The lines are the countries' outlines less the edges that run along that box.
"""

from __future__ import annotations

import itertools
from typing import Any

EDGE_DEG = 0.01  # within 1 km of the box's side (under the borders' error): simplifying moves it


def _rings(collection: dict[str, Any]) -> list[list[list[float]]]:
    rings: list[list[list[float]]] = []
    for feature in collection.get("features", []):
        geometry = feature.get("geometry") or {}
        kind, coords = geometry.get("type"), geometry.get("coordinates") or []
        polygons: list[Any] = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
        for polygon in polygons:
            rings.extend(polygon)
    return rings


def border_lines(collection: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Feature (MultiLineString, lon/lat degrees) of the countries' outlines in a
    FeatureCollection of (Multi)Polygons, less the edges along the collection's bounding box."""
    rings = _rings(collection)
    points = [p for ring in rings for p in ring]
    if not points:
        return {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "MultiLineString", "coordinates": []},
        }
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)

    def along(a: list[float], b: list[float], i: int, edges: tuple[float, float]) -> bool:
        return any(abs(a[i] - e) < EDGE_DEG and abs(b[i] - e) < EDGE_DEG for e in edges)

    lines = []
    for ring in rings:
        line = [ring[0]]
        for a, b in itertools.pairwise(ring):
            if along(a, b, 0, (west, east)) or along(a, b, 1, (south, north)):
                if len(line) > 1:
                    lines.append(line)
                line = [b]
            else:
                line.append(b)
        if len(line) > 1:
            lines.append(line)
    return {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "MultiLineString", "coordinates": lines},
    }
