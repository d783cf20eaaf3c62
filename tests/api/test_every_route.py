"""Every route, every parameter the service knows, extreme values (hypothesis, fixed seed).

The OpenAPI fuzzing (``test_fuzz.py``) reaches the API routes with the values their schemas
suggest, and ``test_extremes.py`` each route's own parameters; here any route gets any of the
service's parameter names (its own, another route's, an unknown one) with years 1 and 9999,
offsets ±23:59, leap seconds, 1e308, NaN, 400-digit numbers, NUL and other C0 characters, long
and right-to-left text, and path segments of the same kinds. The answer is never a 5xx; a 4xx
is problem+json (a 406 or 404 included) whose ``detail`` names the parameter it blames.

``/embed/map.png`` gets the same values in ``test_extremes.py``'s SVG test (it draws the same
picture; each PNG costs about a second to rasterise, too much for this many examples).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from tests.api.test_extremes import SETTINGS, assert_4xx_or_answer, instants, lists, numbers

# Every GET route of the app (``test_the_list_is_every_route`` keeps it whole).
ROUTES = [
    "/healthz", "/api", "/api/", "/api/conformance", "/api/collections",
    "/api/collections/{collectionId}/queryables", "/api/collections/{collectionId}",
    "/api/collections/{collectionId}/items", "/api/collections/{collectionId}/items/{featureId}",
    "/api/collections/{collectionId}/grid",
    "/api/locate", "/api/openapi.json", "/api/openapi-3.0.json", "/api/docs", "/",
    "/embed", "/embed/map.svg", "/embed/map.png", "/embed/host.js", "/oembed",
]  # fmt: skip
FUZZED = [route for route in ROUTES if route != "/embed/map.png"]
PARAMETERS = [
    "f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "filter", "filter-lang", "filter-crs",
    "in_zone", "min_p_inside", "near", "within_km", "event_type", "sub_event_type", "q", "simplify_m",
    "lon", "lat", "v", "from", "to", "types", "status", "sel", "list", "timeline", "static", "theme",
    "width", "height", "url", "maxwidth", "maxheight", "format", "dnt", "unknown",
]  # fmt: skip
SEGMENTS = ["events", "regions", "zones", "sites", "borders", "2017-06-06-coalition-strike", "at-tanf-dcz",
            "garrison", "nope", "..", "%00", "%2F", "x" * 3000, "1e308", "٣", "\u202e"]  # fmt: skip
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "\x1b[31m", "\u2028", "\ufeff", "\ud7ff", "<script>", "'\"", "%", "C:\\users"]),
)
values = st.one_of(numbers, instants, lists, texts, st.builds(lambda a, b: f"{a}/{b}", instants, instants))


def _path(route: str, collection: str, feature: str) -> str:
    return route.replace("{collectionId}", quote(collection, safe="%")).replace(
        "{featureId}", quote(feature, safe="%")
    )


@SETTINGS
@given(
    route=st.sampled_from(FUZZED),
    collection=st.sampled_from(SEGMENTS),
    feature=st.sampled_from(SEGMENTS),
    params=st.dictionaries(st.sampled_from(PARAMETERS), values, max_size=4),
)
@example(
    route="/api/collections/{collectionId}/items",
    collection="events",
    feature="x",
    params={
        "filter": "S_INTERSECTS(geometry, BBOX(170, 30, -170, 40))",
        "datetime": "9999-12-31T23:59:59-23:59",
    },
)
@example(route="/oembed", collection="x", feature="x", params={"url": "http://testserver/?v=0,0,1e308"})
@example(route="/api/locate", collection="x", feature="x", params={"lon": "1e308", "lat": "NaN", "f": "html"})
def test_any_route_with_any_parameter_is_a_named_4xx_or_an_answer(
    client: TestClient, route: str, collection: str, feature: str, params: dict[str, str]
) -> None:
    response = client.get(f"{_path(route, collection, feature)}?{urlencode(params)}")
    assert_4xx_or_answer(response, {200, 400, 404, 406, 501})


def test_the_list_is_every_route(client: TestClient) -> None:
    app = client.app
    paths = set()
    for route in app.router.routes:  # type: ignore[attr-defined]
        inner = getattr(route, "original_router", None)
        for sub in inner.routes if inner is not None else []:
            if "GET" in getattr(sub, "methods", set()):
                paths.add(sub.path)
    assert paths == set(ROUTES)
