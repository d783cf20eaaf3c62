"""A store's file: the typed schema, GeoArrow WKB geometry, and every geometry back as it was."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pytest
import shapely
from shapely import MultiPolygon, Point

from app.data import store, store_file
from app.data.schema import SCHEMA, Columns, Row
from app.geo.shapes import annular_sector, annulus, circle
from app.settings import Settings

GARRISON = (38.61778, 33.50583)
SHAPES = [
    annulus(*GARRISON, 30_000, 40_000, 10.0),  # a polygon with a hole
    None,
    MultiPolygon([circle(38.0, 33.0, 5_000, 10.0), circle(39.5, 34.0, 5_000, 10.0)]),  # two parts
    annular_sector(*GARRISON, 0, 20_000, 300, 30, 10.0),
    Point(38.2, 33.7),
    circle(38.63331, 33.37167, 100, 1.0),
    shapely.Polygon(),  # empty: served as no geometry
]


def rows() -> list[Row]:
    out = []
    for i, shape in enumerate(SHAPES):
        feature = {"type": "Feature", "id": f"f{i}", "properties": {"n": i}}
        inner = None if shape is None or shape.is_empty else shape.representative_point()
        point = None if inner is None else (inner.x, inner.y)
        out.append(Row(feature, shape, text=f"Feature {i}", point=point, event_type="T" if i % 2 else "U"))
    return out


def test_every_geometry_comes_back_exactly_from_the_file(tmp_path: Path) -> None:
    """Holes, several parts, points (written into the feature) and none: the body's geometry is
    the row's, rounded to 6 decimals as every body is, from memory and from the mapped file."""
    built = store.from_rows(rows())
    store_file.write(built.columns.table(), tmp_path / "events.arrow")
    read = store.load(tmp_path / "events.arrow")
    for kept in (built, read):
        for i, shape in enumerate(SHAPES):
            body = orjson.loads(kept.body(i))
            assert body["id"] == f"f{i}" and body["properties"] == {"n": i}
            if shape is None or shape.is_empty:
                assert body["geometry"] is None
                continue
            back = shapely.from_geojson(orjson.dumps(body["geometry"]))
            assert shapely.get_type_id(back) == shapely.get_type_id(shape)
            assert shapely.equals_exact(back, shape, 1e-6)
        polygons = kept.geometries(np.arange(len(SHAPES)))
        assert shapely.get_num_interior_rings(polygons[0]) == 1 and len(polygons[2].geoms) == 2
        assert polygons[1] is None and polygons[4] is None  # a point lives in its body
        np.testing.assert_array_equal(
            kept.columns.bounds[[0, 2, 3, 5], 0], shapely.bounds(polygons[[0, 2, 3, 5]])[:, 0]
        )
    assert [read.body(i) for i in range(len(SHAPES))] == [built.body(i) for i in range(len(SHAPES))]


def test_the_file_is_arrow_of_the_one_schema_with_geoarrow_geometry(tmp_path: Path) -> None:
    store_file.write(store_file.columns_of(rows()).table(), tmp_path / "s.arrow")
    with pa.memory_map(str(tmp_path / "s.arrow")) as source:
        table = pa.ipc.open_file(source).read_all()
    assert table.schema.equals(SCHEMA) and table.num_rows == len(SHAPES)
    geometry = table.schema.field("geometry")
    assert geometry.metadata[b"ARROW:extension:name"] == b"geoarrow.wkb"
    wkb = table.column("geometry").to_pylist()
    assert shapely.equals_exact(shapely.from_wkb(wkb[0]), SHAPES[0], 0.0)  # WKB: lossless
    assert table.column("event_type").type == pa.dictionary(pa.int32(), pa.large_string())
    columns = Columns.of(table)
    assert columns.event_type.of(np.array([0, 1])) == ["U", "T"]
    assert columns.text.to_pylist()[3] == "feature 3"


def test_for_postgis_the_columns_only_the_embedded_store_reads_are_left_empty() -> None:
    """A PostGIS load (``embedded=False``) gets every column the embedded store's build gets, but
    near's bounds and discs and the CSV lines, which the embedded store alone reads: not derived."""
    full, lean = (store_file.columns_of(rows(), embedded).table() for embedded in (True, False))
    only = ["near", "csv", "csv_head"]
    np.testing.assert_equal(lean.drop_columns(only).to_pydict(), full.drop_columns(only).to_pydict())
    assert np.isnan(Columns.of(lean).near).all() and not np.isnan(Columns.of(full).near).all()
    assert lean.column("csv").null_count == len(SHAPES) > full.column("csv").null_count
    assert Columns.of(lean).csv_head.names == [""]


def test_a_table_of_another_schema_is_refused() -> None:
    import pytest

    table = store_file.columns_of(rows()).table().drop_columns(["text"])
    with pytest.raises(ValueError, match="schema"):
        Columns.of(table)


def test_a_store_is_read_and_queried_without_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas (60 MB, seconds) on its first numpy conversion; a store never makes
    one: its columns are numpy views of Arrow's buffers."""
    import subprocess
    import sys

    store_file.write(store_file.columns_of(rows()).table(), tmp_path / "s.arrow")
    script = (
        "import sys; from pathlib import Path; from app.data import store; "
        "from app.data.store import ItemQuery; "
        f"s = store.load(Path({str(tmp_path / 's.arrow')!r})); "
        "assert s.query(ItemQuery(q='feature 3', bbox=(38, 33, 39, 34))).tolist() == [3]; "
        "assert s.get('f2') == 2 and s.body(0) and s.ids([1]) == ['f1']; "
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize("hostile", [False, True])
def test_a_csv_joined_from_stored_lines_is_what_the_csv_writer_writes(tmp_path: Path, hostile: bool) -> None:
    """The CSV lines kept per point feature at build, joined, are byte for byte what
    ``features_csv`` writes from the served bodies: quoting, the formula guard, numbers, WKT; on
    the bundled data and on data whose every text carries quotes, markup and formula starts."""
    from app.api.formats import features_csv
    from app.data.store_api import ItemQuery, features
    from app.served import build_served
    from app.settings import BUNDLED_DATA
    from tests.hostile import hostile_data

    data = hostile_data(BUNDLED_DATA, tmp_path / "data") if hostile else BUNDLED_DATA
    served = build_served(Settings(data_dir=data), records_per_part=10)  # lines from several parts
    joined = 0
    for collection in served.stores.values():
        rows = collection.query(ItemQuery())
        for page in (rows, rows[3:9], rows[::-2]):
            kept = collection.csv(page)
            if kept is not None:
                joined += 1
                assert kept == features_csv(features(collection, page)).encode()
    assert joined >= 6  # events and sites, each page
    regions = served.stores["regions"]
    assert regions.csv(regions.query(ItemQuery())) is None  # polygons: written on request
