"""Markers moved aside so that none covers another (app.export.placement; the map's rule, compared
with static/js/markers.js in tests/web/test_state_contract.py)."""

from __future__ import annotations

import math
import random

import pytest

from app.export.placement import GAP, RINGS, place_markers


def place_by_pairs(
    points: list[tuple[float, float]],
    sizes: list[float],
    first: int = -1,
    obstacles: tuple = (),
    bounds: tuple[float, float, float, float] | None = None,
) -> list[tuple[float, float]]:
    """The rule stated directly, every candidate compared with every marker placed and every
    obstacle, one by one (no grid, no numpy)."""
    n = len(points)
    cell = max(sizes) + GAP

    def meets(x: float, y: float, s: float, qx: float, qy: float, qs: float) -> bool:
        return abs(x - qx) < (s + qs) / 2 + GAP and abs(y - qy) < (s + qs) / 2 + GAP

    def crowd_of(i: int) -> int:
        return sum(1 for j in range(n) if j != i and meets(*points[i], sizes[i], *points[j], sizes[j]))

    crowd = [crowd_of(i) for i in range(n)]
    order = sorted(range(n), key=lambda i: (i != first, crowd[i], i))
    placed: list[int] = []
    out = list(points)

    def free(x: float, y: float, s: float) -> bool:
        h = s / 2 + GAP
        return not any(meets(x, y, s, *out[j], sizes[j]) for j in placed) and not any(
            x - h < x1 and x0 < x + h and y - h < y1 and y0 < y + h for x0, y0, x1, y1 in obstacles
        )

    for i in order:
        x, y = points[i]
        s = sizes[i]
        at = (x, y)
        if not free(x, y, s):
            around = [p for p in points if math.hypot(p[0] - x, p[1] - y) < 3 * cell]
            cx, cy = sum(p[0] for p in around) / len(around), sum(p[1] for p in around) / len(around)
            away = -math.pi / 2 if math.hypot(x - cx, y - cy) < 0.5 else math.atan2(y - cy, x - cx)
            found = None
            for box in (bounds, None) if bounds is not None else (None,):
                for k in range(1, RINGS + 1):
                    r = k * cell / 2
                    m = max(6, math.ceil(2 * math.pi * k))
                    for t in range(m):
                        j = (t + 1) / 2 if t % 2 else -t / 2
                        a = away + (j * 2 * math.pi) / m
                        p = (x + r * math.cos(a), y + r * math.sin(a))
                        h = s / 2
                        within = box is None or (
                            p[0] - h >= box[0]
                            and p[1] - h >= box[1]
                            and p[0] + h <= box[2]
                            and p[1] + h <= box[3]
                        )
                        if within and free(*p, s):
                            found = p
                            break
                    if found:
                        break
                if found:
                    break
            at = found or at
        out[i] = at
        placed.append(i)
    return out


def crowds(seed: int) -> tuple[list[tuple[float, float]], list[float]]:
    rng = random.Random(seed)
    points = [(rng.uniform(0, 800), rng.uniform(0, 600)) for _ in range(120)]
    points += [(400 + rng.gauss(0, 10), 300 + rng.gauss(0, 10)) for _ in range(40)]  # a crowd
    points += [(200.0, 200.0)] * 12  # many incidents on one point (the garrison)
    rng.shuffle(points)
    return points, [22.0] * len(points)


def overlap(a: tuple[float, float], sa: float, b: tuple[float, float], sb: float) -> float:
    """How far two markers' boxes (of side sa, sb) cover each other, px (<= 0: they do not)."""
    reach = (sa + sb) / 2
    return min(reach - abs(a[0] - b[0]), reach - abs(a[1] - b[1]))


@pytest.mark.parametrize("seed", range(4))
def test_no_marker_covers_another(seed: int) -> None:
    points, sizes = crowds(seed)
    at = place_markers(points, sizes)
    for i in range(len(at)):
        for j in range(i + 1, len(at)):
            assert overlap(at[i], sizes[i], at[j], sizes[j]) <= -GAP + 1e-9, (i, j)


@pytest.mark.parametrize("seed", range(4))
def test_the_grid_places_as_comparing_every_pair(seed: int) -> None:
    points, sizes = crowds(seed)
    sizes[5] = 28.0  # the selected marker, larger, placed first
    obstacles = ((190.0, 190.0, 210.0, 210.0), (395.0, 295.0, 405.0, 305.0))
    bounds = (0.0, 0.0, 800.0, 600.0)
    got = place_markers(points, sizes, 5, obstacles, bounds)
    want = place_by_pairs(points, sizes, 5, obstacles, bounds)
    assert [c for p in got for c in p] == pytest.approx([c for p in want for c in p], abs=1e-6)


def test_a_lone_marker_and_the_selected_one_stay_on_their_points() -> None:
    points = [(100.0, 100.0), (100.0, 100.0), (105.0, 100.0), (400.0, 100.0)]
    at = place_markers(points, [22.0, 28.0, 22.0, 22.0], first=1)
    assert at[1] == points[1]  # selected: first, on its point
    assert at[3] == points[3]  # alone: untouched
    assert at[0] != points[0] and at[2] != points[2]
    # moved the least: on the first ring that has room (within a marker and a half)
    assert all(math.dist(at[k], points[k]) <= 1.5 * (28 + GAP) for k in (0, 2))


def test_markers_keep_off_the_obstacles() -> None:
    garrison = (300.0, 300.0)
    box = (garrison[0] - 6, garrison[1] - 6, garrison[0] + 6, garrison[1] + 6)
    at = place_markers([garrison] * 5, [22.0] * 5, obstacles=[box])
    for x, y in at:
        assert not (x - 11 < box[2] and box[0] < x + 11 and y - 11 < box[3] and box[1] < y + 11)
    # each moved out on its own side of the dot: five distinct places
    assert len({(round(x), round(y)) for x, y in at}) == 5


def test_a_crowd_fans_out_away_from_its_middle() -> None:
    """The markers on the rim of a crowd go outwards, not across it."""
    points = [(300.0 + dx, 300.0) for dx in (-10, -5, 0, 5, 10)]
    at = place_markers(points, [22.0] * 5)
    assert at[0][0] <= points[0][0] and at[-1][0] >= points[-1][0]


def test_a_marker_moved_aside_stays_within_the_bounds() -> None:
    """Two markers on one point at the map's left edge: the one moved goes right, not off the map."""
    at = place_markers([(12.0, 100.0), (12.0, 100.0)], [22.0, 22.0], bounds=(0.0, 0.0, 400.0, 300.0))
    assert at[0] == (12.0, 100.0)
    assert all(x - 11 >= 0 for x, _ in at)
    # one whose own point is off the map stays there (it is not pulled in); two there are moved
    # apart there, the bounds having no room near them
    assert place_markers([(-50.0, 100.0)], [22.0], bounds=(0.0, 0.0, 400.0, 300.0)) == [(-50.0, 100.0)]
    a, b = place_markers([(-50.0, 100.0)] * 2, [22.0, 22.0], bounds=(0.0, 0.0, 400.0, 300.0))
    assert max(abs(a[0] - b[0]), abs(a[1] - b[1])) >= 22 + GAP
