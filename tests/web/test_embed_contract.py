"""oEmbed, the SVG image, framing headers and the embed page, over HTTP (no browser needed)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.api.conftest import assert_problem
from tests.conftest import bundled

BASE = "http://testserver"
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as c:
        yield c


def oembed(client: TestClient, url: str, **params: str) -> dict:
    response = client.get("/oembed", params={"url": url, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_oembed_answers_a_blockquote_then_one_iframe(client: TestClient) -> None:
    view = f"{BASE}/?from=2017-06-01&to=2017-06-30&sel=2017-06-08-strike-on-technical-vehicles"
    body = oembed(client, view)
    assert body["type"] == "rich" and body["version"] == "1.0"
    assert (body["width"], body["height"]) == (600, 450)
    html = body["html"]
    # WordPress keeps a blockquote only at the very start, and shows it until the frame reports.
    quote = re.match(r'<blockquote [^>]*><a href="([^"]+)">([^<]+)</a></blockquote><iframe ', html)
    assert quote is not None, html
    assert quote.group(1).replace("&amp;", "&") == view
    assert quote.group(2).startswith("Map of the 55 km At Tanf de-confliction zone.")
    assert html.count("<iframe") == 1 and html.endswith("></iframe>") and "<script" not in html
    assert 'frameborder="0"' in html  # what survives WordPress's sanitising; style does not
    src = re.search(r'src="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert src.startswith(f"{BASE}/embed?") and "from=2017-06-01" in src and "sel=2017-06-08" in src
    assert 'title="Map of the 55 km At Tanf de-confliction zone.' in html
    assert body["thumbnail_url"].startswith(f"{BASE}/embed/map.")
    assert client.get(body["thumbnail_url"].removeprefix(BASE)).status_code == 200


def test_oembed_for_a_registered_provider_carries_wordpress_secret(client: TestClient) -> None:
    """Used as is (no sanitising), the html still makes wp-embed.js resize the frame: the
    classes it looks for and one secret on the blockquote, the iframe and in the src fragment."""
    html = oembed(client, f"{BASE}/")["html"]
    secrets = re.findall(r'data-secret="([A-Za-z0-9]{10})"', html)
    assert len(secrets) == 2 and secrets[0] == secrets[1]
    assert re.search(r'src="[^"#]+#\?secret=' + secrets[0] + '"', html)
    assert re.match(r'<blockquote class="wp-embedded-content"', html)
    assert '<iframe class="wp-embedded-content"' in html


def test_oembed_ignores_parameters_it_does_not_use(client: TestClient) -> None:
    # Exactly what WordPress 4.9+ sends (wp-includes/class-wp-oembed.php): dnt=1 is its own.
    response = client.get(f"/oembed?maxwidth=500&maxheight=750&url={BASE}/&dnt=1&format=json&utm_source=x")
    assert response.status_code == 200, response.text
    assert (response.json()["width"], response.json()["height"]) == (500, 375)


@pytest.mark.parametrize(
    ("params", "size"),
    [({"maxwidth": "400"}, (400, 300)), ({"maxheight": "200"}, (600, 200)),
     ({"maxwidth": "300", "maxheight": "150"}, (300, 150)), ({"maxwidth": "2000"}, (600, 450)),
     ({"maxwidth": "5000", "maxheight": "99999999999999999999"}, (600, 450)),
     ({"maxwidth": "20"}, (20, 15))],
)  # fmt: skip
def test_oembed_honours_maxwidth_and_maxheight(client: TestClient, params: dict, size: tuple) -> None:
    body = oembed(client, f"{BASE}/", **params)
    assert (body["width"], body["height"]) == size
    assert f'width="{size[0]}" height="{size[1]}"' in body["html"]
    assert body["width"] <= int(params.get("maxwidth", 10_000))
    assert body["height"] <= int(params.get("maxheight", 10_000))


def test_oembed_height_makes_room_for_list_and_timeline(client: TestClient) -> None:
    plain = oembed(client, f"{BASE}/embed")["height"]
    timeline = oembed(client, f"{BASE}/embed?timeline=1")["height"]
    listed = oembed(client, f"{BASE}/embed?list=1")["height"]
    both = oembed(client, f"{BASE}/embed?list=1&timeline=1")["height"]
    assert plain < timeline and plain < listed < both
    # Fewer incidents shown, a shorter list; and always within the consumer's maxheight.
    assert oembed(client, f"{BASE}/embed?list=1&status=contested")["height"] < listed
    assert oembed(client, f"{BASE}/embed?list=1&timeline=1", maxheight="750")["height"] == 750


def test_oembed_keeps_embed_flags(client: TestClient) -> None:
    body = oembed(client, f"{BASE}/embed?list=1&theme=dark&v=33.5,38.6,9")
    assert "list=1" in body["html"] and "theme=dark" in body["html"] and "v=33.5,38.6,9" in body["html"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"url": "https://elsewhere.example/"}, 404),
        ({"url": f"{BASE}/api/collections"}, 404),
        ({"url": "javascript:alert(1)"}, 404),
        ({"url": f"{BASE}/", "format": "xml"}, 501),
        ({"url": f"{BASE}/", "format": "yaml"}, 400),
        ({}, 400),
        ({"url": f"{BASE}/", "maxwidth": "wide"}, 400),
        ({"url": f"{BASE}/", "maxheight": "0"}, 400),
        ({"url": f"{BASE}/", "maxheight": "-5"}, 400),
        ({"url": f"{BASE}/", "format": ["json", "json"]}, 400),
    ],
)
def test_oembed_errors(client: TestClient, params: dict, status: int) -> None:
    assert_problem(client.get("/oembed", params=params), status)


@pytest.mark.parametrize("path", ["/", "/embed"])
def test_pages_carry_oembed_discovery(client: TestClient, path: str) -> None:
    page = client.get(path).text
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page)
    assert link is not None
    href = link.group(1).replace("&amp;", "&").removeprefix(BASE)
    assert client.get(href).json()["type"] == "rich"


def test_embed_page_has_text_alternative_and_noscript_image(client: TestClient) -> None:
    page = client.get("/embed?from=2017-06-01&to=2017-06-30").text
    assert "<noscript><img" in page and "/embed/map.svg?from=2017-06-01" in page
    # The period is named as a reader says it ("in June 2017"), as the reader's summary does.
    assert f"of {len(bundled().incidents)} incidents in June 2017:" in page
    assert 'href="/?from=2017-06-01&amp;to=2017-06-30"' in page  # "open the full map" keeps the state


def test_static_embed_loads_no_script(client: TestClient) -> None:
    page = client.get("/embed?static=1").text
    assert "<script" not in page and 'class="static-map"' in page


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # well-formed XML or it raises


def test_svg_is_well_formed_with_zone_and_incidents(client: TestClient) -> None:
    response = client.get("/embed/map.svg")
    assert response.headers["content-type"] == "image/svg+xml"
    root = parse_svg(response.text)
    # The legend's sample symbols are not the map's: counted apart (tests/web/test_server_drawings.py).
    for parent in list(root.iter()):
        for child in list(parent):
            if child.get("class") == "legend":
                parent.remove(child)
    assert root.tag == f"{SVG_NS}svg"
    title = root.find(f"{SVG_NS}title")
    assert title is not None and title.text and title.text.startswith("Map of the 55 km")
    zone = [
        p
        for p in root.iter(f"{SVG_NS}path")
        if p.get("stroke") == "#7b3294" and p.get("stroke-width") == "2.5"
    ]
    assert len(zone) == 1
    # The zone is drawn around the garrison: every vertex about the same distance from it
    # (Mercator stretches it by ~2 % north to south across the zone at this latitude).
    garrison = next(c for c in root.iter(f"{SVG_NS}circle") if c.get("r") == "6")
    gx, gy = float(garrison.get("cx", 0)), float(garrison.get("cy", 0))
    points = re.findall(r"([\d.]+),([\d.]+)", zone[0].get("d", ""))
    radii = [((float(x) - gx) ** 2 + (float(y) - gy) ** 2) ** 0.5 for x, y in points]
    assert len(radii) > 40 and max(radii) / min(radii) < 1.04
    events = client.get("/api/collections/events/items?limit=1000").json()["features"]
    located = [f for f in events if f["geometry"]]
    desc = root.find(f"{SVG_NS}desc")
    assert desc is not None and all(f["properties"]["title"] in (desc.text or "") for f in events)
    markers = [e for e in root.iter() if e.get("stroke-width") in ("1.5", "2.5") and e.tag != f"{SVG_NS}path"]
    assert len(markers) == len(located)


def test_svg_follows_the_state(client: TestClient) -> None:
    all_markers = client.get("/embed/map.svg").text.count('stroke-width="1.5"')
    outside_only = parse_svg(client.get("/embed/map.svg?status=outside").text)
    title = outside_only.find(f"{SVG_NS}title")
    assert title is not None and "0 inside" in (title.text or "")
    assert client.get("/embed/map.svg?status=outside").text.count('stroke-width="1.5"') < all_markers


@pytest.mark.parametrize(
    ("query", "parameter"), [("width=10", "width"), ("height=abc", "height"), ("zoom=3", "zoom")]
)
def test_svg_bad_parameters(client: TestClient, query: str, parameter: str) -> None:
    assert_problem(client.get(f"/embed/map.svg?{query}"), 400, parameter)


def test_framing_rules(client: TestClient) -> None:
    embed = client.get("/embed")
    assert embed.headers["content-security-policy"].endswith("; frame-ancestors *")
    assert "x-frame-options" not in embed.headers
    page = client.get("/")
    assert page.headers["content-security-policy"].endswith("; frame-ancestors 'self'")
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    docs = client.get("/api?f=html")
    assert docs.headers["content-security-policy"].endswith("; frame-ancestors 'self'")


def test_framing_allow_list_is_configurable() -> None:
    settings = Settings(
        data_dir=BUNDLED_DATA, embed_frame_ancestors="https://news.example https://*.news.example"
    )
    with TestClient(create_app(settings)) as c:
        policy = c.get("/embed").headers["content-security-policy"]
    assert policy.endswith("; frame-ancestors https://news.example https://*.news.example")


def test_host_script_is_served(client: TestClient) -> None:
    response = client.get("/embed/host.js")
    assert response.status_code == 200 and "at-tanf-map:height" in response.text
    assert response.headers["content-type"].startswith("text/javascript")


def test_page_titles_follow_the_data(client: TestClient) -> None:
    """The years in the titles are the data's, not a range typed into a template."""
    first = min(i.date.start for i in bundled().incidents).year
    last = max(i.date.last for i in bundled().incidents).year
    for path in ("/", "/embed"):
        page = client.get(path).text
        assert f"<h1>The At Tanf de-confliction zone, {first}–{last}</h1>" in page, path
