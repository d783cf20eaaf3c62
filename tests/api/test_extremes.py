"""Every input to every route is a 4xx naming the parameter or a correct answer, extremes included.

Property-based (hypothesis, fixed seed): the map state of the embed page, its SVG image and oEmbed
(routes the OpenAPI fuzzing does not reach), and the items' parameters with the values schema
fuzzing rarely makes: years 1 and 9999, offsets of ±23:59, leap seconds, 1e308, NaN, huge lists.
"""

from __future__ import annotations

import datetime as dt
import os
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.api.conftest import assert_problem

EVENTS = "/api/collections/events/items"
EXAMPLES = int(os.environ.get("AT_TANF_FUZZ_EXAMPLES", "40"))
SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=SLOW)

EXTREME_NUMBERS = ["0", "-0", "1e308", "-1e308", "1e309", "1e-320", "NaN", "nan", "inf", "-Infinity",
                   "1_0", "0x10", "٣", "", " ", "1" * 400, "9" * 30, "-1", "85.0000001"]  # fmt: skip
numbers = st.one_of(
    st.sampled_from(EXTREME_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
)
offsets = st.sampled_from(["Z", "z", "+00:00", "-00:00", "+23:59", "-23:59", "+24:00", "+05:30", ""])
times = st.sampled_from(["00:00:00", "23:59:59", "23:59:60", "12:00:00.123456789", "24:00:00", "23:60:00"])
years = st.sampled_from([1, 2, 1969, 2016, 2017, 9998, 9999])
days = st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", years, st.integers(1, 12), st.integers(1, 31))
instants = st.one_of(days, st.builds(lambda d, t, o: f"{d}T{t}{o}", days, times, offsets), st.just(".."),
                     st.text(max_size=30))  # fmt: skip
words = st.one_of(st.text(max_size=50), st.sampled_from(["inside", "outside", "uncertain", "Battles", ""]))
lists = st.one_of(st.lists(words, max_size=30).map(",".join), st.just(",".join(["inside"] * 2_000)))


def _state() -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "v": st.one_of(st.lists(numbers, min_size=0, max_size=4).map(",".join), st.text(max_size=20)),
            "from": instants,
            "to": instants,
            "types": lists,
            "status": lists,
            "sel": st.one_of(words, st.just("x" * 5000)),
            "list": st.sampled_from(["1", "0", "yes", "<b>"]),
            "theme": st.sampled_from(["dark", "light", "\x00"]),
        },
    )


def assert_4xx_or_answer(response: object, allowed: set[int]) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, response.text  # type: ignore[attr-defined]
    assert status in allowed, (status, response.text)  # type: ignore[attr-defined]
    if status >= 400:
        body = assert_problem(response, status)  # type: ignore[arg-type]
        assert body.get("parameter") is None or body["parameter"] in body["detail"]


@SETTINGS
@given(state=_state())
@example(state={"v": "0,0,1e308"})
@example(state={"v": "85,180,-1e308", "from": "9999-12-31", "to": "0001-01-01"})
def test_the_embed_page_answers_any_state(client: TestClient, state: dict[str, str]) -> None:
    response = client.get("/embed?" + urlencode(state))
    assert_4xx_or_answer(response, {200})
    assert response.headers["content-type"].startswith("text/html")


@SETTINGS
@given(state=_state(), width=st.one_of(st.none(), numbers), height=st.one_of(st.none(), numbers))
@example(state={"v": "0,0,1e308"}, width=None, height=None)
@example(state={"v": "33.5,38.6,1e308"}, width="4000", height="4000")
def test_the_svg_image_is_well_formed_for_any_state(
    client: TestClient, state: dict[str, str], width: str | None, height: str | None
) -> None:
    query = {k: v for k, v in state.items() if k not in ("list", "theme")}
    query |= {k: v for k, v in (("width", width), ("height", height)) if v is not None}
    response = client.get("/embed/map.svg?" + urlencode(query))
    assert_4xx_or_answer(response, {200, 400})
    if response.status_code == 200:
        ET.fromstring(response.content)  # well-formed XML, whatever the state
    else:
        assert response.json()["parameter"] in ("width", "height")


@SETTINGS
@given(state=_state(), maxwidth=st.one_of(st.none(), numbers))
@example(state={"v": "0,0,1e308"}, maxwidth=None)
def test_oembed_answers_any_state(client: TestClient, state: dict[str, str], maxwidth: str | None) -> None:
    params = {"url": "http://testserver/embed?" + urlencode(state)}
    if maxwidth is not None:
        params["maxwidth"] = maxwidth
    response = client.get("/oembed?" + urlencode(params))
    assert_4xx_or_answer(response, {200, 400})
    if response.status_code == 200:
        assert response.json()["type"] == "rich"


@SETTINGS
@given(start=instants, end=instants)
@example(start="9999-12-31T23:59:59-23:59", end="..")
@example(start="0001-01-01T00:00:00+23:59", end="..")
@example(start="2016-12-31T23:59:60Z", end="2017-01-01")
def test_any_datetime_is_a_named_400_or_an_answer(client: TestClient, start: str, end: str) -> None:
    for value in (start, f"{start}/{end}"):
        response = client.get(f"{EVENTS}?datetime={quote(value)}")
        assert_4xx_or_answer(response, {200, 400})
        if response.status_code == 400:
            assert response.json()["parameter"] == "datetime"


@SETTINGS
@given(name=st.sampled_from(["bbox", "near", "within_km", "min_p_inside", "limit", "offset", "in_zone",
                             "event_type", "q", "simplify_m"]),
       value=st.one_of(numbers, lists, st.lists(numbers, max_size=6).map(",".join)))  # fmt: skip
def test_any_item_parameter_is_a_named_400_or_an_answer(client: TestClient, name: str, value: str) -> None:
    params = {name: value}
    if name == "near":
        params["within_km"] = "10"
    if name == "within_km":
        params["near"] = "38.6,33.5"
    response = client.get(f"{EVENTS}?{urlencode(params)}")
    assert_4xx_or_answer(response, {200, 400})


@pytest.mark.parametrize(
    "url",
    ["/embed?v=0,0,1e308", "/embed/map.svg?v=0,0,1e308", "/oembed?url=" + quote("http://testserver/?v=0,0,1e308"),
     f"{EVENTS}?datetime=9999-12-31T23:59:59-23:59", f"{EVENTS}?datetime=0001-01-01T00:00:00%2B23:59"],
)  # fmt: skip
def test_the_reported_overflows_are_answered(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_problem(response, 400, "datetime")


def test_the_leap_second_is_accepted(client: TestClient) -> None:
    leap = client.get(f"{EVENTS}?datetime=2016-12-31T23:59:60Z")
    assert leap.status_code == 200
    day = client.get(f"{EVENTS}?datetime=2016-12-31")
    assert leap.json()["numberMatched"] == day.json()["numberMatched"]
    # 23:59:60 at +01:00 is 22:59:60 UTC, the same day; ..60 at 00:00 is no time at all.
    assert client.get(f"{EVENTS}?datetime=2016-12-31T23:59:60%2B01:00").status_code == 200
    assert_problem(client.get(f"{EVENTS}?datetime=2016-12-31T23:58:61Z"), 400, "datetime")


@pytest.mark.parametrize(
    "interval",
    [
        "2017-06-08T18:00:00Z/2017-06-08T06:00:00Z",
        "2017-06-08T10:00:00%2B02:00/2017-06-08T09:00:00%2B02:00",
        "2017-06-08T12:00:00Z/2017-06-08T13:00:00%2B02:00",  # 11:00Z: an hour before the start
    ],
)
def test_an_interval_ending_before_it_starts_on_the_same_day_is_a_400(
    client: TestClient, interval: str
) -> None:
    assert_problem(client.get(f"{EVENTS}?datetime={interval}"), 400, "datetime")


@pytest.mark.parametrize(
    "interval",
    ["2017-06-08T06:00:00Z/2017-06-08T18:00:00Z", "2017-06-08/2017-06-08T00:00:00Z",
     "2017-06-08T23:00:00Z/2017-06-08", "2017-06-08T12:00:00Z/2017-06-08T13:00:00%2B01:00"],
)  # fmt: skip
def test_an_ordered_interval_on_one_day_finds_that_day(client: TestClient, interval: str) -> None:
    response = client.get(f"{EVENTS}?datetime={interval}")
    assert response.status_code == 200
    assert (
        response.json()["numberMatched"]
        == client.get(f"{EVENTS}?datetime=2017-06-08").json()["numberMatched"]
    )


def test_utc_day_is_what_filters_with_an_offset(client: TestClient) -> None:
    """23:30 on the 7th at -01:00 is 00:30 UTC on the 8th."""
    shifted = client.get(f"{EVENTS}?datetime=2017-06-07T23:30:00-01:00").json()["numberMatched"]
    assert shifted == client.get(f"{EVENTS}?datetime=2017-06-08").json()["numberMatched"]
    assert dt.datetime.fromisoformat("2017-06-07T23:30:00-01:00").astimezone(dt.UTC).day == 8


@SETTINGS
@given(state=_state())
@example(state={"v": "0,0,1e308", "from": "9999-12-31", "to": "0001-01-01"})
def test_the_map_page_answers_any_state(client: TestClient, state: dict[str, str]) -> None:
    """The map page reads its state in the browser; the server must still answer any query."""
    response = client.get("/?" + urlencode(state))
    assert_4xx_or_answer(response, {200})


@SETTINGS
@given(lon=numbers, lat=numbers, f=st.sampled_from(["json", "html", "csv", "xml"]))
@example(lon="1e308", lat="NaN", f="json")
@example(lon="180", lat="90", f="html")
def test_locate_answers_any_point(client: TestClient, lon: str, lat: str, f: str) -> None:
    response = client.get("/api/locate?" + urlencode({"lon": lon, "lat": lat, "f": f}))
    assert_4xx_or_answer(response, {200, 400})


@SETTINGS
@given(name=st.sampled_from(["bbox", "datetime", "limit", "offset", "in_zone", "q"]),
       value=st.one_of(numbers, lists, instants))  # fmt: skip
def test_the_html_view_of_items_answers_any_parameter(client: TestClient, name: str, value: str) -> None:
    response = client.get(f"{EVENTS}?{urlencode({name: value, 'f': 'html'})}")
    assert_4xx_or_answer(response, {200, 400})
