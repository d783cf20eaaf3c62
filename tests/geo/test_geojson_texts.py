"""GeoJSON texts (app.geo.geojson.texts): points written from their coordinates alone are the
texts of shapely's ragged arrays, each number in its shortest form, and parse to what
``shapely.to_geojson`` says of the same geometries."""

from __future__ import annotations

import numpy as np
import orjson
import shapely

from app.geo.geojson import texts, to_geojson_fragment

POINTS = np.array(
    [shapely.Point(38.61778, 33.50583), shapely.Point(33.472410000000004, -0.0), shapely.Point(1e-7, 89.5)]
)


def test_points_are_written_as_their_ragged_arrays_are() -> None:
    _kind, xy, _offsets = shapely.to_ragged_array(POINTS)
    ragged = [
        orjson.dumps({"type": "Point", "coordinates": p}, option=orjson.OPT_SERIALIZE_NUMPY) for p in xy
    ]
    assert texts(POINTS) == ragged
    assert texts(POINTS)[1] == b'{"type":"Point","coordinates":[33.47241,-0.0]}'  # shortest form


def test_points_and_polygons_read_as_shapely_writes_them() -> None:
    disc = shapely.buffer(shapely.Point(38.6, 33.5), 0.1)
    for geometry in [*POINTS, disc, shapely.MultiPolygon([disc])]:
        ours = orjson.loads(orjson.dumps({"g": to_geojson_fragment(geometry)}))["g"]
        theirs = orjson.loads(shapely.to_geojson(shapely.orient_polygons(geometry, exterior_cw=False)))
        assert ours["type"] == theirs["type"]
        assert np.allclose(
            np.asarray(shapely.get_coordinates(shapely.from_geojson(orjson.dumps(ours)))),
            np.round(shapely.get_coordinates(shapely.from_geojson(orjson.dumps(theirs))), 6),
            rtol=0,
            atol=1e-12,
        )
