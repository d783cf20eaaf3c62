"""Where a place's name goes on a server drawing (the SVG and the standalone export) so that it
reads as that place's name and nothing else's.

A name goes beside its own dot where there is room: then its dot is the nearest symbol to it
(every incident marker is further from the name than the dot is). Where there is none, it goes
to the nearest place out in one of sixteen directions with a leader line to its dot; then no
marker comes within ``CLEAR_PX`` of it, and its leader line crosses no marker and no other name,
so a name never sits against a marker it could be taken for (the garrison's name beside the
contested strike of 6 June 2017). A name never covers a marker, another name, a leader line or
anything else taken, and keeps ``OTHER_DOT_PX`` from another place's dot. Where no place is
free, a name that must be shown (the garrison's) goes where it covers the fewest; any other is
left out, as on the map (static/js/labels.js).

All candidate places of one name are tested at once against all boxes with numpy: the cost is
(candidates x boxes), a few hundred boxes at most whatever the dataset (markers beyond
``app.export.svg.MAX_MARKERS`` are counted per cell). Units: pixels of the drawing, y down.
"""

from __future__ import annotations

import math

import numpy as np

Box = tuple[float, float, float, float]

BESIDE_PX = 6  # a name at most this far from its dot's edge stands beside it (no leader line)
CLEAR_PX = 12  # a name standing away keeps this far from every incident marker
OTHER_DOT_PX = 24  # a name keeps this far from another place's dot (as static/js/labels.js)
# Where no place is that clear (a crowded small image), the garrison's name tries again with less.
FAIR_CLEAR_PX = 8  # tried first: still clearly apart from any marker
LONG_LEADER_PX = 90  # a leader line longer than this, across the map, reads badly (labels.js)
RELAXED_CLEAR_PX = 3
RELAXED_OTHER_DOT_PX = 10
MARGIN_PX = 2  # air kept between a name and whatever it must not cover
GAPS_PX: tuple[int, ...] = (2, 6, 12, 20, 30, 42, 56, 72, 90, 110, 135, 160, 190, 220)  # from the dot's edge
NEAR_GAPS = GAPS_PX[:10]  # tried first: a leader line of 110 px at most
SHORT_GAPS = GAPS_PX[:8]  # a name that may be left out goes no further than 72 px
# Directions tried at each gap: the four sides, the corners, then the directions between them.
DIRECTIONS = (
    (1.0, 0.0), (-1.0, 0.0), (0.0, -1.0), (0.0, 1.0),
    (1.0, -1.0), (-1.0, -1.0), (1.0, 1.0), (-1.0, 1.0),
    (1.0, -0.5), (-1.0, -0.5), (1.0, 0.5), (-1.0, 0.5),
    (0.5, -1.0), (-0.5, -1.0), (0.5, 1.0), (-0.5, 1.0),
)  # fmt: skip
SIDE = {"right": (1.0, 0.0), "left": (-1.0, 0.0), "top": (0.0, -1.0), "bottom": (0.0, 1.0)}
FALLBACK_TRIES = 400  # places tried for a clear leader line where no place is free
LEADER_SAMPLES = 24  # points along a leader line tested against the markers, at least
LEADER_STEP_PX = 2.0  # and at most this far apart


def _distance_to_boxes(cand: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(k,) the distance from each candidate box (k, 4) to the nearest of ``boxes`` (n, 4); inf
    where there are none."""
    if not len(boxes):
        return np.full(len(cand), np.inf)
    dx = np.maximum(0, np.maximum(boxes[None, :, 0] - cand[:, None, 2], cand[:, None, 0] - boxes[None, :, 2]))
    dy = np.maximum(0, np.maximum(boxes[None, :, 1] - cand[:, None, 3], cand[:, None, 1] - boxes[None, :, 3]))
    near: np.ndarray = np.hypot(dx, dy).min(axis=1)
    return near


def _distance_to_points(cand: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(k,) the distance from each candidate box to the nearest of ``points`` (n, 2)."""
    if not len(points):
        return np.full(len(cand), np.inf)
    px, py = points[None, :, 0], points[None, :, 1]
    dx = np.maximum(0, np.maximum(cand[:, None, 0] - px, px - cand[:, None, 2]))
    dy = np.maximum(0, np.maximum(cand[:, None, 1] - py, py - cand[:, None, 3]))
    near: np.ndarray = np.hypot(dx, dy).min(axis=1)
    return near


def within(cand: np.ndarray, frame: Box) -> np.ndarray:
    """(k,) whether each box (k, 4) lies wholly in ``frame``."""
    x0, y0, x1, y1 = frame
    inside: np.ndarray = (cand[:, 0] >= x0) & (cand[:, 1] >= y0) & (cand[:, 2] <= x1) & (cand[:, 3] <= y1)
    return inside


def nearest_on(box: Box, x: float, y: float) -> tuple[float, float]:
    """The point of ``box`` nearest to (x, y): where a leader line from (x, y) meets the name."""
    return min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])


def segment_meets(x0: float, y0: float, x1: float, y1: float, boxes: np.ndarray) -> bool:
    """Whether the segment (x0, y0)-(x1, y1) passes through any of ``boxes`` (n, 4) (sampled
    every 2 px at most)."""
    if not len(boxes):
        return False
    t = np.linspace(
        0.0, 1.0, max(LEADER_SAMPLES, math.ceil(math.hypot(x1 - x0, y1 - y0) / LEADER_STEP_PX) + 1)
    )
    px, py = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
    inside = (
        (px[:, None] > boxes[None, :, 0])
        & (px[:, None] < boxes[None, :, 2])
        & (py[:, None] > boxes[None, :, 1])
        & (py[:, None] < boxes[None, :, 3])
    )
    return bool(inside.any())


def place_name(
    x: float,
    y: float,
    radius: float,
    size: tuple[float, float],
    *,
    first_side: str = "right",
    taken: np.ndarray,
    markers: np.ndarray,
    other_dots: np.ndarray,
    lines: np.ndarray,
    frame: Box,
    must: bool = False,
) -> tuple[Box, bool] | None:
    """Where a name of ``size`` (w, h) px goes for the dot of ``radius`` px at (x, y): its box
    and whether it needs a leader line, or None (no free place, and not ``must``).

    ``taken``: (n, 4) boxes it may not meet (markers, dots, names, legend, credit line);
    ``markers``: (m, 4) incident markers' boxes (the clearance rule); ``other_dots``: (d, 2) the
    other places' dots; ``lines``: (p, 2) points along the markers' leader lines, none of which
    it may cover; ``frame``: the box it must lie in."""
    w, h = size
    strict, relaxed = (CLEAR_PX, OTHER_DOT_PX), (RELAXED_CLEAR_PX, RELAXED_OTHER_DOT_PX)
    fair = (FAIR_CLEAR_PX, RELAXED_OTHER_DOT_PX)
    # Clear first (a name against a marker reads as its name), near first (a long leader
    # across the image reads badly); the relaxed clearances only for a name that must be shown.
    tries: list[tuple[tuple[int, ...], tuple[int, int]]] = [(SHORT_GAPS, strict)]  # no long leader
    if must:
        tries = [(NEAR_GAPS, strict), (GAPS_PX, strict)]
        tries += [(gaps, clear) for clear in (fair, relaxed) for gaps in (NEAR_GAPS, GAPS_PX)]
    for gaps, (clear, other_dot) in tries:
        found = _first_free(
            x, y, radius, w, h, first_side, taken, markers, other_dots, lines, frame, clear, other_dot, gaps
        )
        if found is not None:
            return found
    return _fewest_covered(x, y, radius, w, h, taken, frame) if must else None


def _first_free(
    x: float,
    y: float,
    radius: float,
    w: float,
    h: float,
    first_side: str,
    taken: np.ndarray,
    markers: np.ndarray,
    other_dots: np.ndarray,
    lines: np.ndarray,
    frame: Box,
    clear: float,
    other_dot: float,
    gap_list: tuple[int, ...] = GAPS_PX,
) -> tuple[Box, bool] | None:
    """``place_name``'s first free place with these clearances (px), nearest first."""
    order = [SIDE.get(first_side, SIDE["right"])]
    order += [d for d in DIRECTIONS if d not in order]
    ux = np.array([d[0] for d in order])
    uy = np.array([d[1] for d in order])
    gaps = np.repeat(np.array(gap_list, dtype=float), len(order))
    ux, uy = np.tile(ux, len(gap_list)), np.tile(uy, len(gap_list))
    cx = x + ux * (radius + gaps + w / 2)
    cy = y + uy * (radius + gaps + h / 2)
    cand = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    ok = within(cand, frame) & (_distance_to_boxes(cand, taken) >= MARGIN_PX)
    ok &= _distance_to_points(cand, other_dots) >= other_dot
    ok &= _distance_to_points(cand, lines) >= MARGIN_PX
    own = _distance_to_points(cand, np.array([[x, y]])) - radius
    near_marker = _distance_to_boxes(cand, markers)
    beside = own <= BESIDE_PX
    # Beside its dot: the dot is the nearest symbol. Away: no marker near, and a clear leader.
    ok &= np.where(beside, near_marker > own + 3, near_marker >= clear)
    blocking = _shrunk(np.vstack([markers, taken]) if len(markers) else taken)
    for k in np.flatnonzero(ok):
        box = (float(cand[k, 0]), float(cand[k, 1]), float(cand[k, 2]), float(cand[k, 3]))
        if beside[k]:
            return box, False
        ex, ey = nearest_on(box, x, y)
        length = math.hypot(ex - x, ey - y)
        if length <= radius:
            return box, False
        sx, sy = x + (ex - x) * (radius + 1) / length, y + (ey - y) * (radius + 1) / length
        if not segment_meets(sx, sy, ex, ey, blocking):
            return box, True
    return None


def reads_as_its_own(box: Box, leader: bool, x: float, y: float, radius: float, markers: np.ndarray) -> bool:
    """Whether a name at ``box`` reads as the name of the dot of ``radius`` px at (x, y): beside
    it (no ``leader``), its dot is nearer than every marker (``markers``, (m, 4)); away, with a
    leader line of at most ``LONG_LEADER_PX``, no marker comes within ``FAIR_CLEAR_PX``."""
    cand = np.array([box], dtype=float)
    near = float(_distance_to_boxes(cand, markers)[0])
    if leader:
        ex, ey = nearest_on(box, x, y)
        return near >= FAIR_CLEAR_PX and math.hypot(ex - x, ey - y) <= LONG_LEADER_PX
    return near > float(_distance_to_points(cand, np.array([[x, y]]))[0]) - radius


def _shrunk(boxes: np.ndarray, by: float = 1.0) -> np.ndarray:
    return boxes + np.array([by, by, -by, -by]) if len(boxes) else boxes


def _fewest_covered(
    x: float, y: float, radius: float, w: float, h: float, taken: np.ndarray, frame: Box
) -> tuple[Box, bool]:
    """Of places on a 4 px grid within 220 px of the dot that lie in the frame, the one that
    covers the fewest of ``taken``, then the nearest; beside the dot in a frame too small."""
    xs = np.arange(x - 220 - w, x + 220, 4.0)
    ys = np.arange(y - 220 - h, y + 220, 4.0)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    cand = np.stack([gx, gy, gx + w, gy + h], axis=1)
    cand = cand[within(cand, frame)]
    if not len(cand):
        box = (x + radius + 2, y - h / 2, x + radius + 2 + w, y + h / 2)
        return box, False
    if len(taken):
        hits = (
            (cand[:, None, 0] < taken[None, :, 2])
            & (taken[None, :, 0] < cand[:, None, 2])
            & (cand[:, None, 1] < taken[None, :, 3])
            & (taken[None, :, 1] < cand[:, None, 3])
        ).sum(axis=1)
    else:
        hits = np.zeros(len(cand))
    own = _distance_to_points(cand, np.array([[x, y]])) - radius
    order = np.lexsort((own, hits))
    # Of the places that cover the fewest, the nearest whose leader line crosses nothing taken.
    fewest = order[hits[order] == hits[order[0]]]
    blocking = _shrunk(taken)
    for k in fewest[:FALLBACK_TRIES]:
        box = (float(cand[k, 0]), float(cand[k, 1]), float(cand[k, 2]), float(cand[k, 3]))
        if own[k] <= BESIDE_PX:
            return box, False
        ex, ey = nearest_on(box, x, y)
        length = math.hypot(ex - x, ey - y)
        sx, sy = x + (ex - x) * (radius + 1) / length, y + (ey - y) * (radius + 1) / length
        if not segment_meets(sx, sy, ex, ey, blocking):
            return box, True
    k = int(order[0])
    box = (float(cand[k, 0]), float(cand[k, 1]), float(cand[k, 2]), float(cand[k, 3]))
    return box, bool(own[k] > BESIDE_PX)
