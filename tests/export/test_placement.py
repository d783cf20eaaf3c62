"""Markers moved aside so that none covers another (app.export.placement; the map's rule, compared
with static/js/markers.js in tests/web/test_state_contract.py)."""

from __future__ import annotations

import math
import random

import pytest

from app.export.placement import GAP, RINGS, placement


def place_markers(*args: object, **kwargs: object) -> list[tuple[float, float]]:
    """The map's rule (placement's places)."""
    return placement(*args, **kwargs)[0]  # type: ignore[arg-type]


def in_ring(ring: list[tuple[float, float]], x: float, y: float) -> bool:
    inside = False
    for i in range(len(ring)):
        (xi, yi), (xj, yj) = ring[i], ring[i - 1]
        if (yi > y) != (yj > y) and x < ((xj - xi) * (y - yi)) / (yj - yi) + xi:
            inside = not inside
    return inside


def ring_distance2(ring: list[tuple[float, float]], x: float, y: float) -> float:
    best = math.inf
    for i in range(len(ring)):
        (ax, ay), (bx, by) = ring[i - 1], ring[i]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = min(1, max(0, ((x - ax) * dx + (y - ay) * dy) / length2)) if length2 > 0 else 0
        ex, ey = x - (ax + t * dx), y - (ay + t * dy)
        best = min(best, ex * ex + ey * ey)
    return best


def crosses(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], h: float) -> bool:
    """Whether the segment a-b passes through the inside of the square of centre c, half side h."""
    t0, t1 = 0.0, 1.0
    for p, q, m in ((a[0], b[0], c[0]), (a[1], b[1], c[1])):
        d = q - p
        if d == 0:
            if abs(p - m) >= h:
                return False
            continue
        ta, tb = (m - h - p) / d, (m + h - p) / d
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    return t0 < t1


def place_by_pairs(
    points: list[tuple[float, float]],
    sizes: list[float],
    first: int = -1,
    obstacles: tuple = (),
    bounds: tuple[float, float, float, float] | None = None,
    zone: list[tuple[float, float]] | None = None,
    margins: list[float] | None = None,
    hide_out_of_view: bool = False,
) -> tuple[list[tuple[float, float]], list[int]]:
    """The rule stated directly, every candidate compared with every marker placed, every
    obstacle, every point, every leader line and every edge of the zone, one by one (no grid,
    no numpy)."""
    n = len(points)
    cell = max(sizes) + GAP
    margin = margins or [s * math.sqrt(0.5) for s in sizes]  # half the diagonal: the box wholly on its side

    def meets(x: float, y: float, s: float, qx: float, qy: float, qs: float) -> bool:
        return abs(x - qx) < (s + qs) / 2 + GAP and abs(y - qy) < (s + qs) / 2 + GAP

    def crowd_of(i: int) -> int:
        return sum(1 for j in range(n) if j != i and meets(*points[i], sizes[i], *points[j], sizes[j]))

    crowd = [crowd_of(i) for i in range(n)]
    order = sorted(range(n), key=lambda i: (i != first, crowd[i], i))
    side = [zone is not None and in_ring(zone, *p) for p in points]
    placed: list[int] = []
    leaders: list[tuple[tuple[float, float], tuple[float, float]]] = []
    out = list(points)
    stuck = []

    def covers_point(i: int, x: float, y: float, s: float) -> bool:
        h = s / 2 + GAP
        return any(j != i and abs(points[j][0] - x) < h and abs(points[j][1] - y) < h for j in range(n))

    def clear(x: float, y: float, s: float) -> bool:
        h = s / 2 + GAP
        return not any(meets(x, y, s, *out[j], sizes[j]) for j in placed) and not any(
            x - h < x1 and x0 < x + h and y - h < y1 and y0 < y + h for x0, y0, x1, y1 in obstacles
        )

    def free(x: float, y: float, s: float) -> bool:
        h = s / 2 + GAP
        return (
            not any(meets(x, y, s, *out[j], sizes[j]) for j in placed)
            and not any(
                x - h < x1 and x0 < x + h and y - h < y1 and y0 < y + h for x0, y0, x1, y1 in obstacles
            )
            and not any(crosses(a, b, (x, y), s / 2) for a, b in leaders)
        )

    def on_side(i: int, x: float, y: float) -> bool:
        return zone is None or (
            in_ring(zone, x, y) == side[i] and ring_distance2(zone, x, y) >= margin[i] ** 2
        )

    def sided(i: int, x: float, y: float, s: float) -> bool:
        """Wholly on its side, meeting no marker placed and no leader line (obstacles allowed)."""
        return (
            on_side(i, x, y)
            and not any(meets(x, y, s, *out[j], sizes[j]) for j in placed)
            and not any(crosses(a, b, (x, y), s / 2) for a, b in leaders)
        )

    def fits(i: int, x: float, y: float, s: float) -> bool:
        if covers_point(i, x, y, s) or not on_side(i, x, y):
            return False
        return not any(crosses(points[i], (x, y), out[j], sizes[j] / 2) for j in placed)

    def on_rings(i: int, away: float, first_ring: int, tier: str) -> tuple[float, float] | None:
        test = {
            "strict": lambda p: free(*p, s) and fits(i, *p, s),
            "sided": lambda p: sided(i, *p, s),
            "loose": lambda p: clear(*p, s),
        }[tier]
        x, y = points[i]
        s = sizes[i]
        h = s / 2
        on_map = bounds is not None and (
            x - h >= bounds[0] and y - h >= bounds[1] and x + h <= bounds[2] and y + h <= bounds[3]
        )
        for box in (None,) if bounds is None else (bounds,) if on_map else (bounds, None):
            for k in range(first_ring, RINGS + 1):
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
                    if within and test(p):
                        return p
        return None

    def out_of_view(x: float, y: float, s: float) -> bool:
        h = s / 2
        return (
            hide_out_of_view
            and bounds is not None
            and not (bounds[0] < x + h and x - h < bounds[2] and bounds[1] < y + h and y - h < bounds[3])
        )

    for i in order:
        x, y = points[i]
        s = sizes[i]
        # on its point where free there and at least its margin from the zone's line
        near_line = zone is not None and ring_distance2(zone, x, y) < margin[i] ** 2
        stays = free(x, y, s) and not covers_point(i, x, y, s) and not near_line
        found = (x, y) if out_of_view(x, y, s) or stays else None
        relaxed = False
        if found is None:
            around = [p for p in points if math.hypot(p[0] - x, p[1] - y) < 3 * cell]
            cx, cy = sum(p[0] for p in around) / len(around), sum(p[1] for p in around) / len(around)
            away = -math.pi / 2 if math.hypot(x - cx, y - cy) < 0.5 else math.atan2(y - cy, x - cx)
            for tier in ("strict", "sided", "loose") if zone is not None else ("strict", "loose"):
                relaxed = tier != "strict"
                first_ring = max(1, math.ceil((crowd[i] + 1) / math.pi)) if tier == "strict" else 1
                found = on_rings(i, away, first_ring, tier)
                if found:
                    break
        if found is None or relaxed:
            stuck.append(i)
        if found is not None and found != (x, y):
            leaders.append(((x, y), found))
        out[i] = found or (x, y)
        placed.append(i)
    return out, sorted(stuck)


def crowds(
    seed: int, scattered: int = 120, crowd: int = 40, one_point: int = 12
) -> tuple[list[tuple[float, float]], list[float]]:
    rng = random.Random(seed)
    points = [(rng.uniform(0, 800), rng.uniform(0, 600)) for _ in range(scattered)]
    points += [(400 + rng.gauss(0, 10), 300 + rng.gauss(0, 10)) for _ in range(crowd)]  # a crowd
    points += [(200.0, 200.0)] * one_point  # many incidents on one point (the garrison)
    rng.shuffle(points)
    return points, [22.0] * len(points)


def overlap(a: tuple[float, float], sa: float, b: tuple[float, float], sb: float) -> float:
    """How far two markers' boxes (of side sa, sb) cover each other, px (<= 0: they do not)."""
    reach = (sa + sb) / 2
    return min(reach - abs(a[0] - b[0]), reach - abs(a[1] - b[1]))


def zone_ring(cx: float, cy: float, r: float, n: int = 96) -> list[tuple[float, float]]:
    return [
        (cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n)) for k in range(n)
    ]


@pytest.mark.parametrize("seed", range(4))
def test_no_marker_covers_another_a_point_or_a_leader(seed: int) -> None:
    """No marker covers another (one stuck goes to the nearest place clear of the others); every
    marker not stuck covers no other incident's point, its leader line crosses no other marker,
    and one moved aside lies on its point's side of the zone's line."""
    points, sizes = crowds(seed)
    zone = zone_ring(400.0, 300.0, 150.0)
    at, stuck = placement(points, sizes, zone=zone)
    assert len(stuck) < len(points) // 4
    for i in range(len(at)):
        for j in range(len(at)):
            if j != i:
                assert overlap(at[i], sizes[i], at[j], sizes[j]) <= -GAP + 1e-9, (i, j)
        if i in stuck:
            continue
        for j in range(len(at)):
            if j == i or j in stuck:
                continue
            h = sizes[i] / 2 + GAP
            assert not (abs(points[j][0] - at[i][0]) < h and abs(points[j][1] - at[i][1]) < h), (i, j)
            if at[i] != points[i]:
                assert not crosses(points[i], at[i], at[j], sizes[j] / 2), (i, j)
        if at[i] != points[i]:
            assert in_ring(zone, *at[i]) == in_ring(zone, *points[i]), i
            assert ring_distance2(zone, *at[i]) >= (sizes[i] / 2) ** 2, i


@pytest.mark.parametrize("seed", range(3))
def test_the_grid_places_as_comparing_every_pair(seed: int) -> None:
    points, sizes = crowds(seed, 60, 24, 10)
    sizes[5] = 28.0  # the selected marker, larger, placed first
    obstacles = ((190.0, 190.0, 210.0, 210.0), (395.0, 295.0, 405.0, 305.0))
    bounds = (0.0, 0.0, 800.0, 600.0)
    zone = zone_ring(380.0, 290.0, 120.0 + 20 * seed)
    margins = [s / 2 for s in sizes]
    margins[7] = 2.0
    got, got_stuck = placement(points, sizes, 5, obstacles, bounds, zone, margins)
    want, want_stuck = place_by_pairs(points, sizes, 5, obstacles, bounds, zone, margins)
    assert [c for p in got for c in p] == pytest.approx([c for p in want for c in p], abs=1e-6)
    assert got_stuck == want_stuck


def test_a_lone_marker_and_the_selected_one_stay_on_their_points() -> None:
    points = [(100.0, 100.0), (120.0, 100.0), (100.0, 112.0), (400.0, 100.0)]
    at = place_markers(points, [22.0, 28.0, 22.0, 22.0], first=1)
    assert at[1] == points[1]  # selected: first, on its point (it covers no other point)
    assert at[3] == points[3]  # alone: untouched
    assert at[0] != points[0] and at[2] != points[2]
    # moved the least: on the first ring that has room (within a marker and a half)
    assert all(math.dist(at[k], points[k]) <= 1.5 * (28 + GAP) for k in (0, 2))


def test_markers_on_one_point_all_move_off_it() -> None:
    """No marker stays on a point others share: each leader line starts on a point left clear."""
    at = place_markers([(200.0, 200.0)] * 6, [22.0] * 6)
    for x, y in at:
        assert max(abs(x - 200), abs(y - 200)) >= 11 + GAP
    # close round it, as a spider: on the first rings tried (long enough to hold them)
    assert max(math.dist(p, (200.0, 200.0)) for p in at) <= 3 * (22 + GAP) / 2 + 1e-9


def test_a_marker_moved_aside_keeps_its_side_of_the_zone_line() -> None:
    """Markers on a point just inside the zone's line are fanned inside it, wholly; those on a
    point just outside, outside; where there is no room on the point's side, they are stuck."""
    zone = zone_ring(300.0, 300.0, 100.0)
    at, stuck = placement([(300.0, 215.0)] * 4 + [(300.0, 385.0 + 30)] * 4, [22.0] * 8, zone=zone)
    assert stuck == []
    for x, y in at[:4]:
        assert math.hypot(x - 300, y - 300) <= 100 - 11
    for x, y in at[4:]:
        assert math.hypot(x - 300, y - 300) >= 100 + 11 - 1e-9
    small = zone_ring(300.0, 300.0, 20.0)
    at, stuck = placement([(300.0, 300.0)] * 3, [22.0] * 3, zone=small)
    assert stuck == [0, 1, 2]  # moved clear of one another all the same (the SVG draws them so)
    assert all(overlap(at[i], 22.0, at[j], 22.0) <= -GAP for i in range(3) for j in range(i + 1, 3))


def test_a_lone_marker_near_the_zone_line_is_moved_off_it_to_its_side() -> None:
    """Session 27: a lone outside marker 7 px from the line, on its point, reached 4 px inside it.
    One nearer the line than its half diagonal is moved aside, wholly onto its point's side, and
    so is one inside; one further stays on its point."""
    zone = zone_ring(300.0, 300.0, 100.0)
    points = [(300.0, 193.0), (407.0, 300.0), (300.0, 395.0), (170.0, 300.0)]
    at, stuck = placement(points, [22.0] * 4, zone=zone)
    assert stuck == []
    assert at[3] == points[3]  # 30 px out: wholly outside on its point
    for k in range(3):
        assert at[k] != points[k]
        assert in_ring(zone, *at[k]) == in_ring(zone, *points[k]), k
        assert ring_distance2(zone, *at[k]) >= 11 * 11 * 2, k


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
    assert at[0][0] < points[0][0] and at[-1][0] > 300


def test_a_marker_moved_aside_stays_within_the_bounds() -> None:
    """Two markers on one point at the map's left edge: both moved off it, not off the map."""
    at = place_markers([(12.0, 100.0), (12.0, 100.0)], [22.0, 22.0], bounds=(0.0, 0.0, 400.0, 300.0))
    assert all(p != (12.0, 100.0) for p in at)
    assert all(x - 11 >= 0 for x, _ in at)
    # one whose own point is off the map stays there (it is not pulled in)
    assert place_markers([(-50.0, 100.0)], [22.0], bounds=(0.0, 0.0, 400.0, 300.0)) == [(-50.0, 100.0)]


def test_a_marker_whose_point_is_out_of_view_is_not_drawn_in_it() -> None:
    """On the map (hide_out_of_view): markers whose points lie past its edge stay on them, out
    of view (not drawn), however crowded: they were pulled to the map's edge with leader lines
    across it (650 px at 375 px, zoomed in), saying "here" of places the map does not show.
    Their crowd is no numbered circle in view either. Those in view, even in part, are placed as
    before; a fixed drawing (the server's) still pulls a crowd in."""
    bounds = (0.0, 0.0, 375.0, 600.0)
    off = [(-250.0, 100.0), (-254.0, 93.0), (-640.0, 300.0), (200.0, 900.0), (204.0, 903.0), (206.0, 898.0)]
    on = [(100.0, 300.0), (104.0, 303.0), (0.0, 50.0), (3.0, 52.0)]
    at, stuck = placement(off + on, [22.0] * len(off + on), bounds=bounds, hide_out_of_view=True)
    assert (at, stuck) == place_by_pairs(
        off + on, [22.0] * len(off + on), bounds=bounds, hide_out_of_view=True
    )
    assert at[: len(off)] == off and stuck == []
    assert all(0 <= x <= 375 and 0 <= y <= 600 for x, y in at[len(off) :])
    assert at[len(off)] != on[0] or at[len(off) + 1] != on[1]  # the crowd in view moved apart
    from app.export.stacks import arrange

    at, stacks, stack_at = arrange(
        off + on, [22.0] * len(off + on), bounds=bounds, reach=0.0, hide_out_of_view=True
    )
    assert at[: len(off)] == off
    assert all(i >= len(off) for g in stacks for i in g), stacks
    assert all(0 <= x <= 375 and 0 <= y <= 600 for x, y in stack_at)
    pulled, _ = placement(off + on, [22.0] * len(off + on), bounds=bounds)
    assert all(0 <= x <= 375 and 0 <= y <= 600 for x, y in pulled[:2])  # the crowd west of it


def test_a_leader_line_keeps_its_side_of_the_zone_line() -> None:
    """A phone's open legend (an obstacle over the zone's east half and beyond it) left markers
    just east of the zone no free place on the east but west of the zone: they were drawn there,
    outside as they are, with their leader lines across the zone. A leader line stays on its
    marker's side too (checked with shapely): these go round the legend on the east side."""
    from shapely.geometry import LineString, Point, Polygon

    zone = zone_ring(200.0, 200.0, 60.0)
    legend = (150.0, 40.0, 380.0, 330.0)
    points = [(265.0, 200.0), (262.0, 180.0), (257.0, 165.0), (268.0, 215.0), (200.0, 200.0), (204.0, 203.0)]
    at, _ = placement(points, [22.0] * 6, obstacles=[legend], bounds=(0.0, 0.0, 400.0, 400.0), zone=zone)
    inside = Polygon(zone)
    for (px, py), (x, y) in zip(points, at, strict=True):
        leader = LineString([(px, py), (x, y)])
        if inside.contains(Point(px, py)):
            assert inside.buffer(1e-6).contains(leader), ((px, py), (x, y))
        else:
            assert not leader.intersects(inside.buffer(-1e-6)), ((px, py), (x, y))
            assert x >= 200, f"{(px, py)}, east of the zone, drawn west of it at {(x, y)}"
