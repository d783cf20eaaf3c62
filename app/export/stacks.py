"""Crowds drawn as one numbered circle: the map's ``arrange`` (static/js/markers.js), held equal
to it by tests/web/test_state_contract.py, for the server's drawings (the SVG, the export).

Markers are placed by ``app.export.placement`` (each moved aside on its point's side of the
zone's line); a crowd (markers that meet on their points, through a chain of neighbours on the
same side of the line) with no room on its side, or that would spread further than ``reach`` px,
becomes one numbered circle at the mean of its points, wholly on the same side. With the crowds stacked
the rest are placed again, and a crowd still without room is stacked too (three rounds at most).
The selected marker is never stacked. Units are pixels of the drawing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from app.export.placement import GAP, HALF_DIAGONAL, Box, Ring, _in_ring, out_of, placement

STACK_REACH = 0.3  # a crowd spreading further than this share of the frame's smaller side is stacked
STACK_ROUNDS = 3
# How far a numbered circle's ring keeps from the zone's line, px: half the line's 2.5 px stroke and
# a gap (at the circle's own radius from it the ring touched the line: "28" at 375 px).
RING_CLEAR = 3.5
# Below this zoom (an overview) every crowd that spreads may be stacked so that the garrison's name
# reads as its own; from it (zoomed in to see the markers) crowds spread as ``arrange`` says.
OVERVIEW_ZOOM = 10


def stack_size(n: int) -> int:
    """The side of a numbered circle of ``n`` incidents, px (24 + 8 log10 n, rounded half up as
    JavaScript's Math.round: the map's cells.js)."""
    return math.floor(24 + 8 * math.log10(n) + 0.5)


def crowds(
    points: Sequence[tuple[float, float]], sizes: Sequence[float], zone: Ring | None
) -> list[list[int]]:
    """The groups of markers (indices, ascending; groups by their first index) that meet on their
    points, directly or through a chain of neighbours on the same side of the zone's line
    (``zone`` a ring of (x, y) px, or None). Groups of one are left out."""
    n = len(points)
    if n < 2:
        return []
    xy = np.array(points, dtype=float).reshape(-1, 2)
    s = np.array(sizes, dtype=float)
    side = (
        _in_ring(np.array(zone, dtype=float).reshape(-1, 2), xy[:, 0], xy[:, 1])
        if zone is not None
        else np.zeros(n, dtype=bool)
    )
    reach = (s[:, None] + s[None, :]) / 2 + GAP
    meets = (
        (np.abs(xy[:, None, 0] - xy[None, :, 0]) < reach)
        & (np.abs(xy[:, None, 1] - xy[None, :, 1]) < reach)
        & (side[:, None] == side[None, :])
    )
    group = list(range(n))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(meets, 1)), strict=True):
        group[root(int(j))] = root(int(i))
    out: dict[int, list[int]] = {}
    for i in range(n):
        out.setdefault(root(i), []).append(i)
    return [g for g in out.values() if len(g) > 1]


def arrange(
    points: Sequence[tuple[float, float]],
    sizes: Sequence[float],
    first: int = -1,
    obstacles: Sequence[Box] = (),
    bounds: Box | None = None,
    zone: Ring | None = None,
    reach: float = math.inf,
    hide_out_of_view: bool = False,
) -> tuple[list[tuple[float, float]], list[list[int]], list[tuple[float, float]]]:
    """Where each marker is drawn, the crowds stacked (each a list of marker indices) and where
    each one's numbered circle is drawn (its centre), all (x, y) px. Arguments as ``placement``'s,
    and ``reach``, px. A stacked marker's own place is placement's (not drawn)."""
    placed, stuck_first = placement(points, sizes, first, obstacles, bounds, zone, None, hide_out_of_view)
    at = list(placed)
    stack_at: list[tuple[float, float]] = []
    # A crowd is of the markers in view: those out of it stay there (placement), in no circle.
    seen = [
        not hide_out_of_view or bounds is None or not out_of(bounds, x, y, s)
        for (x, y), s in zip(points, sizes, strict=True)
    ]
    groups = [
        g
        for g in ([i for i in c if i != first and seen[i]] for c in crowds(points, sizes, zone))
        if len(g) > 1
    ]

    def far(g: list[int]) -> bool:
        return len(g) > 2 and any(
            math.hypot(at[i][0] - points[i][0], at[i][1] - points[i][1]) > reach for i in g
        )

    stuck = set(stuck_first)
    stacks = [g for g in groups if far(g) or any(i in stuck for i in g)]
    for _ in range(STACK_ROUNDS):
        if not stacks:
            break
        in_stack = {i for g in stacks for i in g}
        alone = [i for i in range(len(points)) if i not in in_stack]
        means = [
            (sum(points[i][0] for i in g) / len(g), sum(points[i][1] for i in g) / len(g)) for g in stacks
        ]
        again, again_stuck = placement(
            [points[i] for i in alone] + means,
            [sizes[i] for i in alone] + [float(stack_size(len(g))) for g in stacks],
            alone.index(first) if first in alone else -1,
            obstacles,
            bounds,
            zone,
            [sizes[i] * HALF_DIAGONAL for i in alone] + [stack_size(len(g)) / 2 + RING_CLEAR for g in stacks],
            hide_out_of_view,
        )
        at = list(placed)
        for k, i in enumerate(alone):
            at[i] = again[k]
        stack_at = again[len(alone) :]
        stuck = {alone[k] for k in again_stuck if k < len(alone)}
        more = [g for g in groups if g not in stacks and any(i in stuck for i in g)]
        if not more:
            break
        stacks.extend(more)
    return at, stacks, stack_at
