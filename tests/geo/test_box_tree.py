"""The packed R-tree finds exactly the boxes a comparison with every box finds."""

from __future__ import annotations

import numpy as np
import pytest

from app.geo import box_tree


def brute(boxes: np.ndarray, minx: float, miny: float, maxx: float, maxy: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        hit = (boxes[:, 0] <= maxx) & (boxes[:, 2] >= minx) & (boxes[:, 1] <= maxy) & (boxes[:, 3] >= miny)
    return np.flatnonzero(hit)


def test_the_hilbert_index_walks_the_grid_one_cell_at_a_time() -> None:
    """On the first 256 x 256 cells the curve's positions are 0..65535, each next to the last."""
    x, y = (v.ravel() for v in np.meshgrid(np.arange(256), np.arange(256)))
    position = box_tree.hilbert(x, y)
    assert sorted(position.tolist()) == list(range(256 * 256))
    walk = np.argsort(position)
    steps = np.abs(np.diff(x[walk])) + np.abs(np.diff(y[walk]))
    assert (steps == 1).all()


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 257, 20_000])
def test_search_finds_exactly_the_meeting_boxes(n: int) -> None:
    rng = np.random.default_rng(n)
    centre = rng.uniform(0, 100, (n, 2))
    half = rng.exponential(0.5, (n, 2)) * (rng.random((n, 1)) < 0.9)  # a tenth are points
    boxes = np.column_stack([centre - half, centre + half])
    boxes[::13] = np.nan  # left out, like features without geometry
    tree = box_tree.build(boxes)
    queries = [(10, 10, 12, 13), (50, 50, 50, 50), (-5, -5, 200, 200), (99.9, 0, 140, 100)]
    queries += [(300, 300, 301, 301)]  # beyond every box
    queries += [tuple(c) for c in boxes[1:4:2] if not np.isnan(c).any()]  # a box's own edges meet it
    found_some = 0
    for query in queries:
        found = box_tree.search(tree, *query)
        assert len(found) == len(set(found.tolist()))  # each item once
        assert np.array_equal(np.sort(found), brute(boxes, *query))
        found_some += len(found) > 0
    assert n < 2 or found_some >= 3


def test_a_key_orders_the_leaves() -> None:
    """Intervals as boxes on a line, sorted by their start (how the time filter uses the tree)."""
    rng = np.random.default_rng(2)
    start = rng.integers(0, 3000, 5000).astype(np.float64)
    end = start + rng.choice([0, 0, 0, 3, 30, 900], 5000)
    boxes = np.column_stack([start, np.zeros(5000), end, np.zeros(5000)])
    tree = box_tree.build(boxes, key=start)
    assert np.array_equal(tree["order"], np.argsort(start, kind="stable"))
    for first, last in [(100, 130), (2999, 2999), (-np.inf, 10), (2500, np.inf)]:
        found = np.sort(box_tree.search(tree, first, -1, last, 1))
        assert np.array_equal(found, np.flatnonzero((start <= last) & (end >= first)))


def test_both_ways_down_the_tree_are_taken() -> None:
    """A small query gathers a few children per level; a large one reads whole levels."""
    rng = np.random.default_rng(4)
    points = rng.uniform(0, 100, (5000, 2))
    boxes = np.column_stack([points, points])
    tree = box_tree.build(boxes)
    small, large = (1, 1, 3, 3), (0, 0, 90, 90)
    for query in (small, large):
        assert np.array_equal(np.sort(box_tree.search(tree, *query)), brute(boxes, *query))
    gathered: list[int] = []
    original = box_tree.ranges

    def counting(first: np.ndarray, counts: np.ndarray) -> np.ndarray:
        gathered.append(int(counts.sum()))
        return original(first, counts)

    box_tree.ranges = counting  # type: ignore[assignment]
    try:
        box_tree.search(tree, *small)
        small_gathered = list(gathered)
        gathered.clear()
        box_tree.search(tree, *large)
    finally:
        box_tree.ranges = original  # type: ignore[assignment]
    assert small_gathered and sum(small_gathered) < 200  # read a few hundred boxes, not 5,000
    assert not gathered  # every level read whole
