"""The indexed filters (bbox, datetime, and near with others) pick exactly what testing every
feature picks: the features' own GeoJSON read back and tested with shapely and dates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import orjson
import pytest
import shapely

from app.data.store import FeatureStore, ItemQuery
from app.served import Served, build_served
from app.settings import Settings
from tests.perf.synthetic import write_dataset


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    data = write_dataset(tmp_path_factory.mktemp("filters") / "data", 600, seed=5)
    return build_served(Settings(data_dir=data, tile_url=""), records_per_part=250)  # merged parts


def features(store: FeatureStore) -> list[dict]:
    return [orjson.loads(store.body(i)) for i in range(len(store))]


def in_box(store: FeatureStore, bbox: tuple[float, float, float, float]) -> set[int]:
    minx, miny, maxx, maxy = bbox
    boxes = [shapely.box(minx, miny, maxx, maxy)] if minx <= maxx else [
        shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]  # fmt: skip
    hit = set()
    for i, feature in enumerate(features(store)):
        geometry = feature["geometry"] and shapely.from_geojson(orjson.dumps(feature["geometry"]))
        if geometry is not None and any(shapely.intersects(geometry, box) for box in boxes):
            hit.add(i)
    return hit


def in_dates(store: FeatureStore, start: dt.date | None, end: dt.date | None) -> set[int]:
    hit = set()
    for i, feature in enumerate(features(store)):
        props = feature["properties"]
        if not props.get("date_start"):
            continue
        first, last = dt.date.fromisoformat(props["date_start"]), dt.date.fromisoformat(props["date_end"])
        if (end is None or first <= end) and (start is None or last >= start):
            hit.add(i)
    return hit


BOXES = [
    (38.5, 33.4, 38.7, 33.6),
    (38.0, 33.0, 39.0, 34.0),
    (37.2, 32.4, 37.4, 32.5),  # the edge of the scatter: few features
    (38.61, 33.5, 38.61, 33.5),  # a point
    (170.0, 33.0, 38.3, 34.0),  # across the antimeridian
    (0.0, 0.0, 1.0, 1.0),  # nothing there
]
INTERVALS = [
    (dt.date(2017, 6, 1), dt.date(2017, 6, 30)),
    (dt.date(2017, 6, 6), dt.date(2017, 6, 6)),
    (None, dt.date(2016, 3, 1)),
    (dt.date(2018, 9, 1), None),
    (dt.date(1990, 1, 1), dt.date(1990, 12, 31)),
]


@pytest.mark.parametrize("collection", ["events", "regions"])
@pytest.mark.parametrize("bbox", BOXES)
def test_bbox_equals_testing_every_geometry(served: Served, collection: str, bbox: tuple) -> None:
    store = served.stores[collection]
    found = store.query(ItemQuery(bbox=bbox))
    assert found.tolist() == sorted(found.tolist())  # collection order
    assert set(found.tolist()) == in_box(store, bbox)


@pytest.mark.parametrize("collection", ["events", "regions"])
@pytest.mark.parametrize(("start", "end"), INTERVALS)
def test_datetime_equals_comparing_every_date(served: Served, collection: str, start, end) -> None:
    store = served.stores[collection]
    found = store.query(ItemQuery(start=start, end=end, has_time_filter=True))
    assert found.tolist() == sorted(found.tolist())
    assert set(found.tolist()) == in_dates(store, start, end)


def test_the_filters_combine_as_their_intersection(served: Served) -> None:
    """Each filter alone, then together: the indexed ones first, the columns on what they leave,
    near on the rows still in."""
    events = served.stores["events"]
    alone = {
        "bbox": ItemQuery(bbox=(38.0, 33.0, 39.0, 34.0)),
        "dates": ItemQuery(start=dt.date(2016, 6, 1), end=dt.date(2017, 12, 31), has_time_filter=True),
        "zone": ItemQuery(in_zone=frozenset({"inside", "uncertain"})),
        "type": ItemQuery(event_type="battles"),
        "near": ItemQuery(near=(38.3, 33.6), within_m=25_000.0),
    }
    found = {name: set(events.query(q).tolist()) for name, q in alone.items()}
    assert all(found.values())  # every filter keeps some and drops some
    assert all(len(rows) < len(events) for rows in found.values())
    combinations = [("bbox", "dates"), ("dates", "zone"), ("bbox", "near"), ("zone", "type", "near")]
    for names in [*combinations, tuple(alone)]:
        merged = {}
        for name in names:
            merged |= {k: v for k, v in vars(alone[name]).items() if v != vars(ItemQuery())[k]}
        both = events.query(ItemQuery(**merged))
        assert both.tolist() == sorted(both.tolist())
        assert set(both.tolist()) == set.intersection(*(found[name] for name in names)), names


def test_a_page_is_the_slice_of_every_match(served: Served) -> None:
    """``page`` counts the matches and gives the slice of them that listing them all gives,
    whatever filters (or none) kept them."""
    events = served.stores["events"]
    for query in [
        ItemQuery(),
        ItemQuery(in_zone=frozenset({"inside"})),
        ItemQuery(in_zone=frozenset({"outside"}), event_type="battles"),
        ItemQuery(bbox=(38.0, 33.0, 39.0, 34.0), in_zone=frozenset({"uncertain"})),
        ItemQuery(q="no such text"),
        ItemQuery(event_type="battles"),  # a category's run, taken as it is
        ItemQuery(event_type="battles", q="synthetic"),  # a run, then a search over it
        ItemQuery(in_zone=frozenset({"inside"}), near=(38.3, 33.6), within_m=25_000.0),
    ]:
        every = events.query(query)
        for offset, limit in [(0, 10), (3, 100), (95, 20), (0, 1000), (len(every), 5), (10_000, 5)]:
            matched, page = events.page(query, offset, limit)
            assert matched == len(every)
            assert page.tolist() == every[offset : offset + limit].tolist()


@pytest.mark.parametrize("collection", ["events", "regions"])
def test_zone_and_type_filters_equal_reading_every_feature(served: Served, collection: str) -> None:
    """One status or type (read from the column's runs), several, and one after another."""
    store = served.stores[collection]
    props = [f["properties"] for f in features(store)]
    status_key = "zone_status"
    for statuses in ({"inside"}, {"outside"}, {"uncertain"}, {"inside", "uncertain"}):
        want = {i for i, p in enumerate(props) if p.get(status_key) in statuses}
        assert set(store.query(ItemQuery(in_zone=frozenset(statuses))).tolist()) == want
    types = {p["event_type"] for p in props}
    assert len(types) > 1
    for event_type in types:
        want = {i for i, p in enumerate(props) if p["event_type"] == event_type}
        assert set(store.query(ItemQuery(event_type=event_type.upper())).tolist()) == want
        both = store.query(ItemQuery(event_type=event_type, in_zone=frozenset({"outside"})))
        assert set(both.tolist()) == {i for i in want if props[i].get(status_key) == "outside"}


def test_an_id_is_found_by_a_binary_search_of_an_index_made_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every id finds its own row and nothing else does; a lookup is a binary search of the
    store's sorted ids, built once per store: after the first, no lookup reads the id column (it
    hashed the whole column per lookup: at 100,000 incidents, milliseconds, issue 16)."""
    for collection in ("events", "regions"):
        store = served.stores[collection]
        assert isinstance(store, FeatureStore)
        ids = [orjson.loads(store.head(row))["id"] for row in range(len(store))]
        assert store.get(ids[0]) == 0
        monkeypatch.setattr(store, "columns", dataclasses.replace(store.columns, id=None))  # not read again
        for row, fid in enumerate(ids):
            assert store.get(fid) == row
        for missing in ("", "zzz", ids[0] + "x", ids[0][:-1], "\u00e9v\u00e9nement", "a/b"):
            if missing not in ids:
                assert store.get(missing) is None
