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
    result: dict[str, Any] = orjson.loads(texts(np.array([rounded(geometry, decimals)]))[0])
    return result


TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


def texts(geoms: np.ndarray) -> list[bytes]:
    """GeoJSON geometry texts of non-empty geometries of one kind (points, lines or polygons,
    single or multi), their coordinates as they are: shapely's ragged arrays written by orjson,
    each number in its shortest form (GEOS's writer gave 17 digits to some: 33.472410000000004),
    in a third of GEOS's time. Points (an incident's marker) by their coordinates alone, which is
    what the ragged arrays of points are, without their checks (a tenth of the time)."""
    kinds = shapely.get_type_id(geoms)
    if (kinds == 0).all():
        kind, xy, offsets = 0, shapely.get_coordinates(geoms), ()
    else:
        kind, xy, offsets = shapely.to_ragged_array(geoms)

    def nested(level: int, k: int) -> Any:  # item k of the offsets at ``level`` (-1: the points)
        if level < 0:
            return xy[k]
        parts = range(offsets[level][k], offsets[level][k + 1])
        return xy[parts.start : parts.stop] if level == 0 else [nested(level - 1, i) for i in parts]

    out = []
    for k, single in enumerate(kinds.tolist()):
        coordinates = nested(len(offsets) - 1, k)
        if single != kind:  # a single geometry among multi ones: its one part
            coordinates = coordinates[0]
        geometry = {"type": TYPES[single], "coordinates": coordinates}
        out.append(orjson.dumps(geometry, option=orjson.OPT_SERIALIZE_NUMPY))
    return out


def to_geojson_fragment(
    geometry: BaseGeometry | None, decimals: int = COORD_DECIMALS
) -> orjson.Fragment | None:
    """The same GeoJSON, kept as JSON text for orjson to embed as is.

    Large polygons as nested Python lists cost about 70 bytes per coordinate pair; as text, about
    20, and nothing needs to parse them until a client asks for one.
    """
    if geometry is None or geometry.is_empty:
        return None
    return orjson.Fragment(texts(np.array([rounded(geometry, decimals)]))[0])
