"""Where each incident marker is drawn so that none covers another: the rule of the map's
``placeMarkers`` (static/js/markers.js), held equal to it by tests/web/test_state_contract.py.

A marker stays on its point where it meets no marker placed before it and no obstacle (a site's
dot). Else it goes to the nearest free place on rings around its point, half a marker apart,
first on the side away from its crowd (the mean of the points within three markers of it), and
the drawing joins it to its point with a leader line. The selected marker is placed first, then
those with the fewest neighbours (a lone marker stays put), ties in the order given.

Units are pixels of the drawing. Each ring's candidates are tried at once with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from app import budget

GAP = 2.0  # px kept between two markers' boxes
RINGS = 40  # rings tried around a point; a marker with no free place on them stays on its point

Box = tuple[float, float, float, float]


def place_markers(
    points: Sequence[tuple[float, float]],
    sizes: Sequence[float],
    first: int = -1,
    obstacles: Sequence[Box] = (),
    bounds: Box | None = None,
) -> list[tuple[float, float]]:
    """Where each marker is drawn: ``points`` (x, y) px, ``sizes`` each marker's box side in px,
    ``first`` the index placed before all (the selected marker, or -1), ``obstacles`` boxes
    (x0, y0, x1, y1) no marker may meet, ``bounds`` a box (x0, y0, x1, y1) where a marker moved
    aside must lie whole (one left on its point stays where it is). Returns one (x, y) per point.

    Neighbours are found through a grid of cells one marker (and the gap) wide, so the cost
    follows the crowding, not the square of the number of markers."""
    n = len(points)
    if n == 0:
        return []
    xy = [(float(x), float(y)) for x, y in points]
    cell = max(1.0, *map(float, sizes)) + GAP
    grid = _Grid(cell)
    for i, (x, y) in enumerate(xy):
        grid.add(i, x, y)
    crowd = []
    centre = []
    for i, (x, y) in enumerate(xy):
        s = sizes[i]
        crowd.append(sum(
            1 for j in grid.near(x, y, 1)
            if j != i and _meets(x, y, s, xy[j][0], xy[j][1], sizes[j])
        ))  # fmt: skip
        around = [j for j in grid.near(x, y, 3) if math.hypot(xy[j][0] - x, xy[j][1] - y) < 3 * cell]
        centre.append(
            (sum(xy[j][0] for j in around) / len(around), sum(xy[j][1] for j in around) / len(around))
        )
    order = sorted(range(n), key=lambda i: (i != first, crowd[i], i))
    walls = np.array(obstacles, dtype=float).reshape(-1, 4)
    placed = _Grid(cell)
    out = list(xy)
    for i in order:
        budget.check()
        x, y = xy[i]
        s = float(sizes[i])
        at = (x, y)
        if not _free(np.array([x]), np.array([y]), s, placed.rows(x, y, 1, out, sizes), walls)[0]:
            cx, cy = centre[i]
            away = -math.pi / 2 if math.hypot(x - cx, y - cy) < 0.5 else math.atan2(y - cy, x - cx)
            # Within the bounds first; where they have no room (a point at or past the edge), anywhere.
            for box in (bounds, None) if bounds is not None else (None,):
                found = _on_rings(x, y, s, away, cell, placed, out, sizes, walls, box)
                if found is not None:
                    at = found
                    break
        out[i] = at
        placed.add(i, *at)
    return out


def _on_rings(
    x: float,
    y: float,
    s: float,
    away: float,
    cell: float,
    placed: _Grid,
    out: list[tuple[float, float]],
    sizes: Sequence[float],
    walls: np.ndarray,
    box: Box | None,
) -> tuple[float, float] | None:
    """The first free place on the rings around (x, y), starting ``away`` (radians) and going
    both ways round; within ``box`` if given. None when no ring has one."""
    for k in range(1, RINGS + 1):
        r = (k * cell) / 2
        m = max(6, math.ceil(2 * math.pi * k))
        t = np.arange(m)
        j = np.where(t % 2 == 1, (t + 1) / 2, -t / 2)
        a = away + (j * 2 * math.pi) / m
        px, py = x + r * np.cos(a), y + r * np.sin(a)
        ok = _free(px, py, s, placed.rows(x, y, math.ceil(r / cell) + 1, out, sizes), walls)
        if box is not None:
            h = s / 2
            ok &= (px - h >= box[0]) & (py - h >= box[1]) & (px + h <= box[2]) & (py + h <= box[3])
        free = np.flatnonzero(ok)
        if len(free):
            return float(px[free[0]]), float(py[free[0]])
    return None


def _meets(x: float, y: float, s: float, qx: float, qy: float, qs: float) -> bool:
    reach = (s + qs) / 2 + GAP
    return abs(x - qx) < reach and abs(y - qy) < reach


class _Grid:
    """Marker indices by square cell of side ``cell`` px."""

    def __init__(self, cell: float) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[int]] = {}

    def add(self, i: int, x: float, y: float) -> None:
        self.cells.setdefault((math.floor(x / self.cell), math.floor(y / self.cell)), []).append(i)

    def near(self, x: float, y: float, reach: int) -> list[int]:
        """The indices in the cells within ``reach`` cells of (x, y)'s, in the map's order."""
        cx, cy = math.floor(x / self.cell), math.floor(y / self.cell)
        return [
            j for a in range(cx - reach, cx + reach + 1) for b in range(cy - reach, cy + reach + 1)
            for j in self.cells.get((a, b), ())
        ]  # fmt: skip

    def rows(
        self, x: float, y: float, reach: int, at: list[tuple[float, float]], sizes: Sequence[float]
    ) -> np.ndarray:
        """(x, y, size) of the markers within ``reach`` cells, one row each."""
        near = self.near(x, y, reach)
        return np.array([(at[j][0], at[j][1], sizes[j]) for j in near], dtype=float).reshape(-1, 3)


def _free(px: np.ndarray, py: np.ndarray, s: float, placed: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """For each candidate centre (px, py) of a marker of side ``s``: whether it meets none of
    ``placed`` (rows x, y, size) and none of ``walls`` (rows x0, y0, x1, y1)."""
    reach = (s + placed[:, 2]) / 2 + GAP
    hit = (np.abs(px[:, None] - placed[None, :, 0]) < reach) & (
        np.abs(py[:, None] - placed[None, :, 1]) < reach
    )
    h = s / 2 + GAP
    wall = (
        (px[:, None] - h < walls[None, :, 2])
        & (walls[None, :, 0] < px[:, None] + h)
        & (py[:, None] - h < walls[None, :, 3])
        & (walls[None, :, 1] < py[:, None] + h)
    )
    free: np.ndarray = ~(hit.any(axis=1) | wall.any(axis=1))
    return free
