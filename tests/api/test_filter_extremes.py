"""The CQL2 ``filter`` under the kinds issue 17 fixed for ``bbox`` and ``datetime``: a box crossing
the antimeridian, a box upside down or off the globe, the leap second, an interval that ends before
it starts, and extreme numbers and dates anywhere in an expression (hypothesis, fixed seed). A
filter says what the parameters say, or it is a 400 naming ``filter``; never a 5xx."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from tests.api.conftest import assert_problem
from tests.api.test_extremes import SETTINGS, assert_4xx_or_answer, instants, numbers

EVENTS = "/api/collections/events/items"


def ids(client: TestClient, **params: str) -> set[str]:
    response = client.get(EVENTS, params={"limit": "1000", **params})
    assert response.status_code == 200, response.text
    return {feature["id"] for feature in response.json()["features"]}


def inside(lon: float, lat: float, west: float, south: float, east: float, north: float) -> bool:
    """The bbox rule (OGC 17-069r4 7.15.3), written out: west above east crosses ±180°."""
    across = lon >= west or lon <= east if west > east else west <= lon <= east
    return across and south <= lat <= north


@pytest.mark.parametrize(
    "box",
    [(170, 30, -170, 40), (30, 30, 20, 40), (38.7, 33, 38.6, 34), (-180, -90, 180, 90), (38, 33, 39, 34)],
)
def test_a_filter_bbox_is_the_bbox_parameter(client: TestClient, box: tuple[float, ...]) -> None:
    # Before: BBOX(170,30,-170,40), a box across the antimeridian far from any incident, matched
    # all 35 located incidents (shapely.box turned it into 170°W-170°E).
    west, south, east, north = box
    located = client.get(EVENTS, params={"limit": "1000"}).json()["features"]
    expected = {f["id"] for f in located if f["geometry"] and inside(*f["geometry"]["coordinates"], *box)}
    as_text = ids(client, filter=f"S_INTERSECTS(geometry, BBOX({west}, {south}, {east}, {north}))")
    as_json = ids(client, **{"filter-lang": "cql2-json", "filter": json.dumps(
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(box)}]})})  # fmt: skip
    assert as_text == as_json == ids(client, bbox=",".join(map(str, box))) == expected


@pytest.mark.parametrize(
    ("box", "words"),
    [("30, 40, 40, 30", "southern edge above"), ("-1e308, -90, 1e308, 90", "out of range"),
     ("0, 0, 181, 1", "out of range"), ("0, -91, 1, 1", "out of range")],
)  # fmt: skip
def test_a_filter_bbox_upside_down_or_off_the_globe_is_a_400(
    client: TestClient, box: str, words: str
) -> None:
    response = client.get(EVENTS, params={"filter": f"S_INTERSECTS(geometry, BBOX({box}))"})
    assert words in assert_problem(response, 400, "filter")["detail"]


def test_the_leap_second_is_a_timestamp_in_a_filter_too(client: TestClient) -> None:
    # Before: "'2016-12-31T23:59:60Z' is not a valid date or timestamp" (400); ``datetime`` takes it.
    before = ids(client, filter="date_start <= TIMESTAMP('2016-12-31T23:59:60Z')")
    assert before == ids(client, filter="date_start <= TIMESTAMP('2016-12-31T23:59:59Z')")
    assert before == ids(client, datetime="../2016-12-31")


@pytest.mark.parametrize(
    "interval",
    ["INTERVAL('2017-06-06T20:00:00Z', '2017-06-06T10:00:00Z')", "INTERVAL('2017-06-07', '2017-06-06')",
     "INTERVAL('2017-06-06T20:00:00+00:00', '2017-06-06T16:00:00+05:00')",
     "INTERVAL(TIMESTAMP('2017-06-06T00:00:00Z'), DATE('2017-06-05'))"],
)  # fmt: skip
def test_a_filter_interval_ending_before_it_starts_is_a_400(client: TestClient, interval: str) -> None:
    # Before: accepted (200), while the same interval as ``datetime`` is a 400.
    response = client.get(
        EVENTS, params={"filter": f"T_INTERSECTS(INTERVAL(date_start, date_end), {interval})"}
    )
    assert "ends before it starts" in assert_problem(response, 400, "filter")["detail"]


def test_a_same_instant_interval_is_accepted(client: TestClient) -> None:
    same = ids(
        client, filter="T_INTERSECTS(INTERVAL(date_start, date_end), INTERVAL('2017-06-06', '2017-06-06'))"
    )
    assert same and same == ids(client, datetime="2017-06-06")


NUMBER_PROPERTIES = ["p_inside", "uncertainty_km2", "sources_inside", "common_area_km2", "point_distance_km"]
COMPARE = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
expressions = st.one_of(
    st.builds(lambda p, op, n: f"{p} {op} {n}", st.sampled_from(NUMBER_PROPERTIES), COMPARE, numbers),
    st.builds(
        lambda p, a, b: f"{p} BETWEEN {a} AND {b}", st.sampled_from(NUMBER_PROPERTIES), numbers, numbers
    ),
    st.builds(
        lambda p, ns: f"{p} IN ({', '.join(ns)})",
        st.sampled_from(NUMBER_PROPERTIES),
        st.lists(numbers, min_size=1, max_size=50),
    ),
    st.builds(lambda op, t: f"date_start {op} TIMESTAMP('{t}')", COMPARE, instants),
    st.builds(lambda op, t: f"date_end {op} DATE('{t}')", COMPARE, instants),
    st.builds(
        lambda a, b: f"T_INTERSECTS(INTERVAL(date_start, date_end), INTERVAL('{a}', '{b}'))",
        instants,
        instants,
    ),
    st.builds(
        lambda ns: f"S_INTERSECTS(geometry, BBOX({', '.join(ns)}))", st.lists(numbers, min_size=4, max_size=6)
    ),
    st.builds(lambda x, y: f"S_INTERSECTS(geometry, POINT({x} {y}))", numbers, numbers),
)
json_numbers = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**400), 10**400))
json_filters = st.one_of(
    st.builds(
        lambda p, n: {"op": ">", "args": [{"property": p}, n]},
        st.sampled_from(NUMBER_PROPERTIES),
        json_numbers,
    ),
    st.builds(
        lambda ns: {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": ns}]},
        st.lists(json_numbers, min_size=4, max_size=4),
    ),
    st.builds(
        lambda a, b: {"op": "t_intersects", "args": [{"property": "date_start"}, {"interval": [a, b]}]},
        instants,
        instants,
    ),
)


@SETTINGS
@given(expression=expressions)
@example(expression="S_INTERSECTS(geometry, BBOX(170, 30, -170, 40))")
@example(expression="date_start > TIMESTAMP('0001-01-01T00:00:00+23:59')")
@example(expression="date_start > TIMESTAMP('9999-12-31T23:59:59-23:59')")
@example(expression=f"p_inside > {'9' * 400}")
def test_any_filter_text_is_a_named_400_or_an_answer(client: TestClient, expression: str) -> None:
    assert_4xx_or_answer(client.get(f"{EVENTS}?{urlencode({'filter': expression})}"), {200, 400})


@SETTINGS
@given(tree=json_filters)
@example(
    tree={"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [1e308, 1e308, -1e308, -1e308]}]}
)
def test_any_filter_json_is_a_named_400_or_an_answer(client: TestClient, tree: dict[str, object]) -> None:
    query = urlencode({"filter": json.dumps(tree), "filter-lang": "cql2-json"})
    assert_4xx_or_answer(client.get(f"{EVENTS}?{query}"), {200, 400})
