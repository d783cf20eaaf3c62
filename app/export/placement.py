"""Where each incident marker is drawn so that none covers another: the rule of the map's
``placement`` (static/js/markers.js), held equal to it by tests/web/test_state_contract.py.

A marker stays on its point where it meets no marker placed before it, no obstacle (a site's dot)
and no leader line, and covers no other incident's point. Else it goes to the nearest free place
on rings around its point, half a marker apart (the first one tried long enough to hold its crowd
side by side, as a spider), first on the side away from its crowd (the mean of
the points within three markers of it), and the drawing joins it to its point with a leader line.
A place is free for a marker moved aside when its box meets no marker placed, no obstacle and no
leader line, covers no other incident's point, its leader line crosses no marker placed, and
(given the zone's line as a ring) it lies wholly on the same side of that line as its point, its
leader line too: a marker drawn inside the zone is an incident inside it (the cartographer's rule
that a displaced symbol keeps its topology; an open legend on a phone sent markers east of the
zone to its west side, their leader lines across it). The selected marker is placed first, then
those with the fewest neighbours (a lone marker stays put), ties in the order given. A marker with
no free place stays on its point and is "stuck" (the map then draws its crowd as one numbered
circle). A marker (or numbered circle) stays on its point only where it keeps its margin from the
zone's line there too: one nearer is moved aside, onto its side of the line, with a leader line.

Units are pixels of the drawing. Each ring's candidates are tried at once with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from app import budget

GAP = 2.0  # px kept between two markers' boxes
RINGS = 40  # rings tried around a point; a marker with no free place on them stays on its point
NO_WALLS = np.zeros((0, 4))
HALF_DIAGONAL = math.sqrt(0.5)  # per side of a square: the margin that keeps it wholly on its side

Box = tuple[float, float, float, float]
Ring = Sequence[tuple[float, float]]


def placement(
    points: Sequence[tuple[float, float]],
    sizes: Sequence[float],
    first: int = -1,
    obstacles: Sequence[Box] = (),
    bounds: Box | None = None,
    zone: Ring | None = None,
    margins: Sequence[float] | None = None,
    hide_out_of_view: bool = False,
) -> tuple[list[tuple[float, float]], list[int]]:
    """Where each marker is drawn: ``points`` (x, y) px, ``sizes`` each marker's box side in px,
    ``first`` the index placed before all (the selected marker, or -1), ``obstacles`` boxes
    (x0, y0, x1, y1) no marker may meet, ``bounds`` a box (x0, y0, x1, y1) where a marker moved
    aside must lie whole (one left on its point stays where it is; one whose box on its point
    crosses their edge goes anywhere when they have no room), ``zone`` the zone's line as a
    ring of (x, y) px, or None, ``margins`` for each marker how far from that line a marker moved
    aside keeps its centre, px (by default half its diagonal: its box lies wholly on its side),
    ``hide_out_of_view`` (the map's: ``bounds`` are a view the reader pans) a marker wholly out of
    ``bounds`` on its point stays there, out of view (pulled to the map's edge with a leader line
    across it, it said "here" of a place the view does not show; a fixed drawing keeps pulling
    it in). Returns
    one (x, y) per point and the indices of the markers stuck on their points (no free place).
    The crowds of stuck markers are drawn as numbered circles by ``app.export.stacks.arrange``.

    Neighbours are found through a grid of cells one marker (and the gap) wide, so the cost
    follows the crowding, not the square of the number of markers."""
    n = len(points)
    if n == 0:
        return [], []
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
    ring = None if zone is None else np.array(zone, dtype=float).reshape(-1, 2)
    side = [None if ring is None else bool(_in_ring(ring, np.array([x]), np.array([y]))[0]) for x, y in xy]
    order = sorted(range(n), key=lambda i: (i != first, crowd[i], i))
    walls = np.array(obstacles, dtype=float).reshape(-1, 4)
    margin = [float(m) for m in margins] if margins is not None else [float(s) * HALF_DIAGONAL for s in sizes]
    place = _Placing(cell, xy, sizes, grid, walls, ring, side, margin)
    stuck = []
    for i in order:
        budget.check()
        x, y = xy[i]
        s = float(sizes[i])
        at: tuple[float, float] | None = None
        if (hide_out_of_view and bounds is not None and out_of(bounds, x, y, s)) or (
            place.free(i, np.array([x]), np.array([y]), s, 1, moved=False)[0] and place.clear_of_line(i, x, y)
        ):
            at = (x, y)  # on its point: free there and clear of the zone's line, or out of view (not drawn)
        else:
            cx, cy = centre[i]
            away = -math.pi / 2 if math.hypot(x - cx, y - cy) < 0.5 else math.atan2(y - cy, x - cx)
            # Within the bounds; for a marker whose box on its point crosses their edge, where they
            # have no room, anywhere.
            # A marker stuck (no such place) goes to the nearest place wholly on its side of the
            # zone's line clear of the markers and leader lines (under an obstacle if it must),
            # else to the nearest clear of markers and obstacles, as the server's drawings need.
            for tier in ("strict", "sided", "loose") if ring is not None else ("strict", "loose"):
                for box in _boxes(bounds, x, y, s):
                    # anywhere after the bounds: those within them were tried already
                    tried = bounds if box is None else None
                    at = _on_rings(i, away, place, box, tried, crowd[i] if tier == "strict" else -1, tier)
                    if at is not None:
                        break
                if at is not None:
                    if tier != "strict":
                        stuck.append(i)
                    break
        if at is None:
            stuck.append(i)
        place.put(i, at or (x, y))
    return place.out, sorted(stuck)


class _Placing:
    """The markers placed so far, and what a new place must keep clear of."""

    def __init__(
        self,
        cell: float,
        xy: list[tuple[float, float]],
        sizes: Sequence[float],
        points: _Grid,
        walls: np.ndarray,
        ring: np.ndarray | None,
        side: list[bool | None],
        margin: list[float],
    ) -> None:
        self.cell, self.xy, self.sizes, self.points = cell, xy, sizes, points
        self.walls, self.ring, self.side, self.margin = walls, ring, side, margin
        self.grid = _Grid(cell)
        self.out = list(xy)
        self.leaders = np.zeros((0, 4))  # (x0, y0, x1, y1) of each marker placed away from its point
        # For a marker inside the zone: the radius past which a ring lies wholly outside it (its
        # furthest vertex, and a pixel); no bound otherwise.
        self.furthest = [
            float(np.hypot(ring[:, 0] - x, ring[:, 1] - y).max()) + 1
            if ring is not None and side[k]
            else math.inf
            for k, (x, y) in enumerate(xy)
        ]

    def put(self, i: int, at: tuple[float, float]) -> None:
        self.out[i] = at
        self.grid.add(i, *at)
        if at != self.xy[i]:
            self.leaders = np.vstack([self.leaders, [[*self.xy[i], *at]]])

    def free(self, i: int, px: np.ndarray, py: np.ndarray, s: float, reach: int, moved: bool) -> np.ndarray:
        """For each candidate centre (px, py) of marker i (side ``s``): whether it meets no marker
        placed, no obstacle and no leader line and covers no other point; if ``moved``, also on
        its point's side of the zone's line and with a leader line through no marker placed.
        ``reach``: the cells around marker i's point that hold every candidate, and one more."""
        x, y = self.xy[i]
        placed = self.grid.rows(x, y, reach, self.out, self.sizes)
        ok: np.ndarray = _free(px, py, s, placed, self.walls) & ~self.crosses_leader(px, py, s)
        others = np.array([self.xy[j] for j in self.points.near(x, y, reach) if j != i], dtype=float).reshape(
            -1, 2
        )
        h = s / 2 + GAP
        ok &= ~(
            (np.abs(others[None, :, 0] - px[:, None]) < h) & (np.abs(others[None, :, 1] - py[:, None]) < h)
        ).any(axis=1)
        if not moved:
            return ok
        ok &= self.on_side(i, px, py)
        ok &= ~_crosses(
            x, y, px[:, None], py[:, None], placed[None, :, 0], placed[None, :, 1], placed[None, :, 2] / 2
        ).any(axis=1)
        return ok

    def crosses_leader(self, px: np.ndarray, py: np.ndarray, s: float) -> np.ndarray:
        """For each candidate centre: whether a box of side ``s`` there meets a leader line."""
        lead = self.leaders
        if not len(lead):
            return np.zeros(len(px), dtype=bool)
        boxes = px[:, None], py[:, None], s / 2
        return np.asarray(
            _crosses(lead[None, :, 0], lead[None, :, 1], lead[None, :, 2], lead[None, :, 3], *boxes).any(
                axis=1
            )
        )

    def clear_of_line(self, i: int, x: float, y: float) -> bool:
        """Whether marker i on (x, y) keeps its margin from the zone's line (True without a zone):
        on its point, an outside marker 7 px from the line reached 4 px inside it."""
        if self.ring is None:
            return True
        m = self.margin[i]
        return bool(_ring_distance2(self.ring, np.array([x]), np.array([y]))[0] >= m * m)

    def on_side(self, i: int, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """For each candidate centre of marker i: on its point's side of the zone's line, at
        least its margin from it, and its leader line across no part of that line (all True
        without a zone)."""
        if self.ring is None:
            return np.ones(len(px), dtype=bool)
        m = self.margin[i]
        sided: np.ndarray = (
            (_in_ring(self.ring, px, py) == self.side[i])
            & (_ring_distance2(self.ring, px, py) >= m * m)
            & ~_crosses_ring(self.ring, *self.xy[i], px, py)
        )
        return sided


def _on_rings(
    i: int,
    away: float,
    place: _Placing,
    box: Box | None,
    tried: Box | None,
    crowd: int,
    tier: str,
) -> tuple[float, float] | None:
    """The first free place for marker i on the rings around its point, starting ``away``
    (radians) and going both ways round; within ``box`` if given. The first ring tried is long
    enough to hold marker i and its ``crowd`` (the markers that meet it) side by side, as a
    spider does. ``tier`` "strict": a free place that fits; "sided": one wholly on its point's side
    of the zone's line that meets no marker and no leader line (obstacles allowed), from the
    first ring; "loose": one that only meets no marker and no obstacle, from the first ring.
    Places within ``tried`` (a box) are passed over. None when no ring has one."""
    x, y = place.xy[i]
    s = float(place.sizes[i])
    for k in range(max(1, math.ceil((crowd + 1) / math.pi)), RINGS + 1):
        r = (k * place.cell) / 2
        if tier != "loose" and r > place.furthest[i]:
            break  # wholly outside the zone, for a marker inside it: no place there fits
        m = max(6, math.ceil(2 * math.pi * k))
        t = np.arange(m)
        j = np.where(t % 2 == 1, (t + 1) / 2, -t / 2)
        a = away + (j * 2 * math.pi) / m
        px, py = x + r * np.cos(a), y + r * np.sin(a)
        ok = np.ones(m, dtype=bool)
        h = s / 2
        if box is not None:
            ok &= (px - h >= box[0]) & (py - h >= box[1]) & (px + h <= box[2]) & (py + h <= box[3])
        if tried is not None:
            ok &= ~((px - h >= tried[0]) & (py - h >= tried[1]) & (px + h <= tried[2]) & (py + h <= tried[3]))
        reach = math.ceil(r / place.cell) + 1
        if tier == "strict":
            ok &= place.free(i, px, py, s, reach, moved=True)
        else:
            near = place.grid.rows(x, y, reach, place.out, place.sizes)
            if tier == "sided":
                ok &= (
                    _free(px, py, s, near, NO_WALLS)
                    & ~place.crosses_leader(px, py, s)
                    & place.on_side(i, px, py)
                )
            else:
                ok &= _free(px, py, s, near, place.walls)
        free = np.flatnonzero(ok)
        if len(free):
            return float(px[free[0]]), float(py[free[0]])
    return None


def _in_ring(ring: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """For each point (px, py): whether it lies inside ``ring`` (rows x, y; ray casting)."""
    inside = np.zeros(len(px), dtype=bool)
    n = len(ring)
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[i - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            across = px < ((xj - xi) * (py - yi)) / (yj - yi) + xi
        inside ^= ((yi > py) != (yj > py)) & across
    return inside


def _crosses_ring(ring: np.ndarray, ax: float, ay: float, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """For each segment (ax, ay)-(bx, by): whether it crosses the ring's line (rows x, y): an edge's
    ends on both sides of the segment's line and the segment's ends on both sides of the edge's
    (a point on a line counts with the side to its right, so a crossing at a vertex counts once)."""
    p = np.roll(ring, 1, axis=0)  # each edge from the vertex before to the vertex
    x1, y1, x2, y2 = p[None, :, 0], p[None, :, 1], ring[None, :, 0], ring[None, :, 1]
    dx, dy = (bx - ax)[:, None], (by - ay)[:, None]
    ex, ey = x2 - x1, y2 - y1
    across_segment = (dx * (y1 - ay) - dy * (x1 - ax) > 0) != (dx * (y2 - ay) - dy * (x2 - ax) > 0)
    across_edge = (ex * (ay - y1) - ey * (ax - x1) > 0) != (
        ex * (by[:, None] - y1) - ey * (bx[:, None] - x1) > 0
    )
    crosses: np.ndarray = (across_segment & across_edge).any(axis=1)
    return crosses


def _ring_distance2(ring: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """For each point (px, py): the square of its distance to the ring's line, px²."""
    a = np.roll(ring, 1, axis=0)  # each edge from the vertex before to the vertex
    d = ring - a
    length2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (
            (px[:, None] - a[None, :, 0]) * d[None, :, 0] + (py[:, None] - a[None, :, 1]) * d[None, :, 1]
        ) / length2
    t = np.where(length2 > 0, np.minimum(1, np.maximum(0, t)), 0)
    ex = px[:, None] - (a[None, :, 0] + t * d[None, :, 0])
    ey = py[:, None] - (a[None, :, 1] + t * d[None, :, 1])
    distance2: np.ndarray = (ex * ex + ey * ey).min(axis=1)
    return distance2


def _crosses(
    ax: np.ndarray | float,
    ay: np.ndarray | float,
    bx: np.ndarray | float,
    by: np.ndarray | float,
    cx: np.ndarray | float,
    cy: np.ndarray | float,
    h: np.ndarray | float,
) -> np.ndarray:
    """Whether each segment (ax, ay)-(bx, by) passes through the inside of the square of centre
    (cx, cy) and half side h (Liang-Barsky; touching its edge does not count); broadcast."""
    shape = np.broadcast(ax, ay, bx, by, cx, cy, h).shape
    t0 = np.zeros(shape)
    t1 = np.ones(shape)
    hit = np.ones(shape, dtype=bool)
    for p, q, c in ((ax, bx, cx), (ay, by, cy)):
        d = np.subtract(q, p)
        flat = d == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (np.subtract(c, h) - p) / d
            tb = (np.add(c, h) - p) / d
        hit &= ~(flat & (np.abs(np.subtract(p, c)) >= h))
        t0 = np.maximum(t0, np.where(flat, -np.inf, np.minimum(ta, tb)))
        t1 = np.minimum(t1, np.where(flat, np.inf, np.maximum(ta, tb)))
    crosses: np.ndarray = hit & (t0 < t1)
    return crosses


def _boxes(bounds: Box | None, x: float, y: float, s: float) -> tuple[Box | None, ...]:
    """Where a marker of side ``s`` on (x, y) is looked for a place: within ``bounds``, and then
    anywhere if its box on its point is not wholly within them (or anywhere, without bounds)."""
    if bounds is None:
        return (None,)
    h = s / 2
    on_map = x - h >= bounds[0] and y - h >= bounds[1] and x + h <= bounds[2] and y + h <= bounds[3]
    return (bounds,) if on_map else (bounds, None)


def out_of(bounds: Box, x: float, y: float, s: float) -> bool:
    """Whether a marker of side ``s`` on (x, y) lies wholly out of ``bounds`` (x0, y0, x1, y1):
    none of it in view (one that shows in part is placed as the others, so none covers another
    there)."""
    h = s / 2
    return x + h <= bounds[0] or y + h <= bounds[1] or x - h >= bounds[2] or y - h >= bounds[3]


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
