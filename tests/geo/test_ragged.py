"""Geometries kept as flat int32 arrays come back as the same shapes, within the 1 cm grid."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Point, box

from app.geo import ragged
from app.geo.shapes import annular_sector, annulus, circle

GRID_DEG = 0.71 / ragged.SCALE  # the 1e-7 degree grid moves a vertex up to half a step on each axis


def regions() -> np.ndarray:
    garrison = (38.61778, 33.50583)
    shapes = [
        annulus(*garrison, 30_000, 40_000, 10.0),  # a polygon with a hole
        None,
        shapely.union_all([circle(38.0, 33.0, 5_000, 10.0), circle(39.5, 34.0, 5_000, 10.0)]),  # two parts
        annular_sector(*garrison, 0, 20_000, 300, 30, 10.0),
        shapely.Polygon(),  # empty: stored as none
        circle(38.63331, 33.37167, 100, 1.0),
    ]
    out = np.empty(len(shapes), dtype=object)
    out[:] = shapes
    return out


def same(a: object, b: object) -> bool:
    if a is None or b is None or shapely.is_empty(b):
        return a is None
    return bool(shapely.get_type_id(a) == shapely.get_type_id(b) and shapely.equals_exact(a, b, GRID_DEG))


def test_geometries_come_back_with_their_type_rings_and_holes() -> None:
    original = regions()
    stored = ragged.encode(original)
    assert stored.coords.dtype == np.int32
    back = ragged.geometries(stored, np.arange(len(original)))
    assert all(same(b, a) for a, b in zip(original, back, strict=True))
    assert shapely.get_num_interior_rings(back[0]) == 1
    assert shapely.get_num_geometries(back[2]) == 2


def test_bounds_are_those_of_the_stored_shapes() -> None:
    original = regions()
    stored = ragged.encode(original)
    expected = shapely.bounds(ragged.geometries(stored, np.arange(len(original))))
    np.testing.assert_array_equal(ragged.bounds(stored), expected)  # NaN rows match NaN rows
    present = ~np.isnan(expected[:, 0])
    np.testing.assert_allclose(
        expected[present], shapely.bounds(original[present].astype(object)), atol=GRID_DEG
    )


def test_taking_and_joining_keeps_each_geometry_with_its_row() -> None:
    first, second = regions(), regions()[::-1].copy()
    joined = ragged.concat([ragged.encode(first), ragged.encode(second)], np.array([11, 0, 5, 6, 2]))
    expected = np.concatenate([first, second])[[11, 0, 5, 6, 2]]
    back = ragged.geometries(joined, np.arange(5))
    assert all(same(b, a) for a, b in zip(expected, back, strict=True))
    picked = ragged.geometries(ragged.take(joined, np.array([4, 4, 1])), np.arange(3))
    assert same(picked[0], expected[4]) and same(picked[1], expected[4]) and same(picked[2], expected[1])


def test_a_store_without_geometries_joins_one_with_them() -> None:
    nothing = ragged.empty(3)
    joined = ragged.concat([nothing, ragged.encode(regions())])
    back = ragged.geometries(joined, np.arange(len(joined)))
    assert list(back[:3]) == [None, None, None]
    assert same(back[3], regions()[0])


def test_lines_are_kept_too() -> None:
    lines = np.array(
        [LineString([(38, 33), (39, 34)]), MultiLineString([[(38, 33), (38.5, 33)], [(39, 34), (39, 35)]])]
    )
    back = ragged.geometries(ragged.encode(lines), np.arange(2))
    assert all(same(b, a) for a, b in zip(lines, back, strict=True))


@pytest.mark.parametrize(
    "mixed",
    [[box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])], [shapely.GeometryCollection([Point(0, 0)]), None]],
)
def test_mixed_families_are_refused_by_name(mixed: list[object]) -> None:
    geoms = np.empty(len(mixed), dtype=object)
    geoms[:] = mixed
    with pytest.raises(ValueError, match="cannot store geometry types"):
        ragged.encode(geoms)


def test_multi_part_rows_stay_multi_and_single_rows_single() -> None:
    geoms = np.array([MultiPolygon([box(0, 0, 1, 1)]), box(2, 2, 3, 3)], dtype=object)
    back = ragged.geometries(ragged.encode(geoms), np.arange(2))
    assert [g.geom_type for g in back] == ["MultiPolygon", "Polygon"]
