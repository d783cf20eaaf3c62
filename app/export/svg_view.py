"""Where things go in a static map image: the Web Mercator view (centre, zoom, size in pixels)
of ``app.export.svg``, fitting a view to bounds, and polygons as SVG path data in its pixels."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


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

    def lonlat_arrays(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Degrees (lon, lat) of arrays of pixels: the inverse of ``xy_arrays``."""
        wx = px - self.width / 2 + self.cx
        wy = py - self.height / 2 + self.cy
        lon = wx / self.world * 360.0 - 180.0
        lat = np.degrees(np.arctan(np.sinh(math.pi * (1 - 2 * wy / self.world))))
        return lon, lat

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


def path_data(v: Viewport, geom: BaseGeometry) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.geom_type == "GeometryCollection":
            parts.append(path_data(v, poly))
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


def frame_bounds(v: Viewport) -> tuple[float, float, float, float]:
    def lonlat(px: float, py: float) -> tuple[float, float]:
        wx = px - v.width / 2 + v.cx
        wy = py - v.height / 2 + v.cy
        lon = wx / v.world * 360.0 - 180.0
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * wy / v.world))))
        return lon, lat

    west, north = lonlat(0, 0)
    east, south = lonlat(v.width, v.height)
    return west, south, east, north


ZONE_VERTICES = 128  # the zone's line as the placement sees it (the map's incident-layers.js)


def ring_px(v: Viewport, polygon: BaseGeometry) -> list[tuple[float, float]]:
    """A polygon's outer ring in the view's pixels, at most about ``ZONE_VERTICES`` vertices (every
    k-th, as the map takes them): the zone's line for ``app.export.stacks.arrange``."""
    coords = shapely.get_coordinates(polygon.exterior)
    coords = coords[:: max(1, math.ceil(len(coords) / ZONE_VERTICES))]
    xs, ys = v.xy_arrays(coords[:, 0], coords[:, 1])
    return list(zip(xs.tolist(), ys.tolist(), strict=True))
