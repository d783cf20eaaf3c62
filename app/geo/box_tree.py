"""A packed R-tree over boxes, as flat numpy arrays (the layout of Flatbush).

The boxes are sorted once (by the Hilbert index of their centres, unless a key is given) and
packed NODE_SIZE to a node, level by level up to one root. They are kept as four float32 rows
(minx, miny, maxx, maxy), rounded outwards, so a search reads contiguous, compact columns and a
box never shrinks. A search walks down the levels,
keeping only the nodes whose box meets the query's, so it reads about as many boxes as it
finds, not all of them. Everything is a numpy array, so a saved tree is read back as memory
maps like the rest of a store. Boxes are (minx, miny, maxx, maxy) in any one unit; a box with a
NaN is left out (a feature without geometry, an undated incident).
"""

from __future__ import annotations

import numpy as np

from app.geo.ragged import ranges

NODE_SIZE = 16
COLUMNS = ("boxes", "order", "levels")
_HILBERT_MAX = 0xFFFF  # centres are placed on a 65,536 x 65,536 grid


def hilbert(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position along the Hilbert curve of each cell (x, y) of a 2**16 grid (uint32 in, uint32
    out; the branch-free algorithm of rawrunprotected.com, as in Flatbush)."""
    x = np.asarray(x, dtype=np.uint32)
    y = np.asarray(y, dtype=np.uint32)
    a = x ^ y
    b = 0xFFFF ^ a
    c = 0xFFFF ^ (x | y)
    d = x & (y ^ 0xFFFF)
    big_a = a | (b >> 1)
    big_b = (a >> 1) ^ a
    big_c = ((c >> 1) ^ (b & (d >> 1))) ^ c
    big_d = ((a & (c >> 1)) ^ (d >> 1)) ^ d
    for shift in (2, 4):
        a, b, c, d = big_a, big_b, big_c, big_d
        big_a = (a & (a >> shift)) ^ (b & (b >> shift))
        big_b = (a & (b >> shift)) ^ (b & ((a ^ b) >> shift))
        big_c = big_c ^ ((a & (c >> shift)) ^ (b & (d >> shift)))
        big_d = big_d ^ ((b & (c >> shift)) ^ ((a ^ b) & (d >> shift)))
    a, b, c, d = big_a, big_b, big_c, big_d
    big_c = big_c ^ ((a & (c >> 8)) ^ (b & (d >> 8)))
    big_d = big_d ^ ((b & (c >> 8)) ^ ((a ^ b) & (d >> 8)))
    a = big_c ^ (big_c >> 1)
    b = big_d ^ (big_d >> 1)
    i0 = x ^ y
    i1 = b | (0xFFFF ^ (i0 | a))
    index: np.ndarray = (_spread(i1) << 1) | _spread(i0)
    return index


def _spread(v: np.ndarray) -> np.ndarray:
    """The 16 low bits of ``v`` moved to the even bit positions."""
    v = (v | (v << 8)) & 0x00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F
    v = (v | (v << 2)) & 0x33333333
    spread: np.ndarray = (v | (v << 1)) & 0x55555555
    return spread


def build(boxes: np.ndarray, key: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The tree of ``boxes`` (n x 4), leaves sorted by ``key`` (default: the Hilbert index of
    the box centres). Columns: ``boxes`` (4 x every level's node boxes, leaves first), ``order``
    (the item of each leaf) and ``levels`` (where each level starts, and the end)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    valid = np.flatnonzero(~np.isnan(boxes).any(axis=1))
    if key is None:
        key = _hilbert_of_centres(boxes[valid])
    else:
        key = np.asarray(key)[valid]
    order = valid[np.argsort(key, kind="stable")]
    level = boxes[order]
    levels = [level]
    while len(level) > 1:
        starts = np.arange(0, len(level), NODE_SIZE)
        level = np.column_stack([
            np.minimum.reduceat(level[:, 0], starts), np.minimum.reduceat(level[:, 1], starts),
            np.maximum.reduceat(level[:, 2], starts), np.maximum.reduceat(level[:, 3], starts),
        ])  # fmt: skip
        levels.append(level)
    return {
        "boxes": _outward_float32(np.concatenate(levels)),
        "order": order.astype(np.int64),
        "levels": np.cumsum([0] + [len(lv) for lv in levels]).astype(np.int64),
    }


def _outward_float32(boxes: np.ndarray) -> np.ndarray:
    """(n x 4) float64 boxes as (4 x n) float32, each edge rounded away from the box."""
    out = boxes.T.astype(np.float32)
    for row, away in ((0, -np.inf), (1, -np.inf), (2, np.inf), (3, np.inf)):
        moved = out[row] != boxes[:, row]  # rounded, perhaps inwards: one step outwards
        out[row, moved] = np.nextafter(out[row, moved], np.float32(away))
    return np.ascontiguousarray(out)


def _hilbert_of_centres(boxes: np.ndarray) -> np.ndarray:
    if not len(boxes):
        return np.zeros(0, dtype=np.uint32)
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    grid = []
    for v in (cx, cy):
        low, span = v.min(), v.max() - v.min()
        grid.append(np.floor((v - low) / (span or 1.0) * _HILBERT_MAX).astype(np.uint32))
    return hilbert(grid[0], grid[1])


def search(tree: dict[str, np.ndarray], minx: float, miny: float, maxx: float, maxy: float) -> np.ndarray:
    """The items whose box meets the query box (edges included), in no particular order."""
    boxes, levels = tree["boxes"], tree["levels"]

    def meeting(b: np.ndarray) -> np.ndarray:
        hit: np.ndarray = (b[0] <= maxx) & (b[2] >= minx) & (b[1] <= maxy) & (b[3] >= miny)
        return hit

    top = len(levels) - 2
    nodes = levels[top] + np.flatnonzero(meeting(boxes[:, levels[top] : levels[top + 1]]))
    for level in range(top, 0, -1):
        start, end = levels[level - 1], levels[level]
        first_child = start + (nodes - levels[level]) * NODE_SIZE
        counts = np.minimum(NODE_SIZE, end - first_child)
        if 4 * counts.sum() > end - start:
            # Most of the level: reading all of it in place beats gathering the children (a
            # node that meets the query box lies in a parent that does, so none is missed).
            nodes = start + np.flatnonzero(meeting(boxes[:, start:end]))
        else:
            children = ranges(first_child, counts)
            nodes = children[meeting(boxes[:, children])]
    found: np.ndarray = tree["order"][nodes - levels[0]]
    return found
