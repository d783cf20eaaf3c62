"""RFC 7946 output of lon/lat shapely geometries.

Coordinates are WGS84 longitude, latitude (in that order), rounded to ``COORD_DECIMALS``
decimals: 6 decimals is 0.11 m of latitude and 0.09 m of longitude here, well inside the
zone's 1 m budget. Polygon exteriors are counter-clockwise and holes clockwise (RFC 7946 §3.1.6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
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
    result: dict[str, Any] = _as_lists(mapping(rounded(geometry, decimals)))
    return result


def _as_lists(obj: Any) -> Any:
    # shapely's mapping() nests tuples; JSON encoders and equality checks want lists.
    if isinstance(obj, dict):
        return {key: _as_lists(value) for key, value in obj.items()}
    if isinstance(obj, tuple | list):
        return [_as_lists(value) for value in obj]
    return obj
