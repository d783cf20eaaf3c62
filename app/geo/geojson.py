"""RFC 7946 output of lon/lat shapely geometries.

Coordinates are WGS84 longitude, latitude (in that order), rounded to ``COORD_DECIMALS``
decimals: 6 decimals is 0.11 m of latitude and 0.09 m of longitude here, well inside the
zone's 1 m budget. Polygon exteriors are counter-clockwise and holes clockwise (RFC 7946 §3.1.6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

COORD_DECIMALS = 6


def rounded(geometry: BaseGeometry, decimals: int = COORD_DECIMALS) -> BaseGeometry:
    """The geometry with every coordinate rounded, polygons oriented per RFC 7946."""
    out = shapely.transform(geometry, lambda xy: np.round(xy, decimals))
    return shapely.orient_polygons(out, exterior_cw=False)


def to_geojson(geometry: BaseGeometry | None, decimals: int = COORD_DECIMALS) -> dict[str, Any] | None:
    """A GeoJSON geometry object (a plain dict) for a lon/lat geometry; None stays None."""
    if geometry is None or geometry.is_empty:
        return None
    # GEOS writes the JSON (in C); twice as fast as shapely.mapping() for rings of 1000 vertices.
    result: dict[str, Any] = orjson.loads(shapely.to_geojson(rounded(geometry, decimals)))
    return result


def to_geojson_fragment(
    geometry: BaseGeometry | None, decimals: int = COORD_DECIMALS
) -> orjson.Fragment | None:
    """The same GeoJSON, kept as JSON text for orjson to embed as is.

    Large polygons as nested Python lists cost about 70 bytes per coordinate pair; as text, about
    20, and nothing needs to parse them until a client asks for one.
    """
    if geometry is None or geometry.is_empty:
        return None
    return orjson.Fragment(shapely.to_geojson(rounded(geometry, decimals)))
