"""Link previews: Open Graph and X card tags on the map and embed pages, and their PNG image."""

from __future__ import annotations

import io
from collections.abc import Iterator
from html.parser import HTMLParser

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.export import png
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.api.conftest import assert_problem

BASE = "http://testserver"
ZONE_PURPLE = (0x7B, 0x32, 0x94)  # the zone's outline in app/export/svg.py
INSIDE_RED = (0xB2, 0x18, 0x2B)  # incidents inside the zone


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as c:
        yield c


class MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.summary = ""
        self._in_summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (found.get("property") or found.get("name")):
            self.tags[found.get("property") or found.get("name") or ""] = found.get("content") or ""
        self._in_summary = tag == "p" and found.get("id") == "summary"

    def handle_data(self, data: str) -> None:
        if self._in_summary:
            self.summary += data

    def handle_endtag(self, tag: str) -> None:  # noqa: ARG002
        self._in_summary = False


def meta(client: TestClient, url: str) -> MetaTags:
    parser = MetaTags()
    parser.feed(client.get(url).text)
    return parser


def decode(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    assert image.format == "PNG"
    return image.convert("RGB")


def share_of(image: Image.Image, colour: tuple[int, int, int]) -> float:
    """Share of the pixels within a few levels of ``colour`` (edges are anti-aliased)."""
    pixels = np.asarray(image, dtype=np.int16)
    return float((np.abs(pixels - np.array(colour)).max(axis=2) <= 8).mean())


@pytest.mark.parametrize("path", ["/", "/embed"])
def test_pages_carry_open_graph_and_card_tags(client: TestClient, path: str) -> None:
    query = "status=outside&from=2017-01-01&utm_source=newsletter"
    tags = meta(client, f"{path}?{query}").tags
    assert "At Tanf" in tags["og:title"]
    assert tags["twitter:card"] == "summary_large_image"
    # The address of this view: the state kept, other parameters (tracking) dropped.
    assert tags["og:url"] == f"{BASE}{path}?from=2017-01-01&status=outside"
    assert tags["og:image"] == f"{BASE}/embed/map.png?from=2017-01-01&status=outside"
    assert tags["og:image:type"] == "image/png"
    response = client.get(tags["og:image"].removeprefix(BASE))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = decode(response.content)
    assert image.size == (int(tags["og:image:width"]), int(tags["og:image:height"])) == (1200, 630)


def test_the_description_is_the_views_summary(client: TestClient) -> None:
    everything = meta(client, "/embed")
    outside = meta(client, "/embed?status=outside")
    # The embed shows its summary as text: the tags say the same for the same view.
    assert everything.tags["og:description"] == everything.summary.strip()
    assert outside.tags["og:description"] == outside.summary.strip()
    assert outside.tags["og:description"] != everything.tags["og:description"]
    assert meta(client, "/?status=outside").tags["og:description"] == outside.summary.strip()
    assert outside.tags["og:image:alt"] == outside.tags["description"] == outside.summary.strip()


def test_png_is_the_drawing_not_a_blank(client: TestClient) -> None:
    response = client.get("/embed/map.png?width=600&height=400")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = decode(response.content)
    assert image.size == (600, 400)
    assert (
        len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 50
    )  # background, borders, zone, regions, markers, text
    assert share_of(image, ZONE_PURPLE) > 0.002  # the zone's outline is drawn
    assert share_of(image, INSIDE_RED) > 0.0005  # incidents inside it too


def test_png_follows_the_state(client: TestClient) -> None:
    everything = decode(client.get("/embed/map.png?width=400&height=300").content)
    outside = decode(client.get("/embed/map.png?width=400&height=300&status=outside").content)
    assert share_of(outside, INSIDE_RED) < share_of(everything, INSIDE_RED) / 4
    assert share_of(outside, ZONE_PURPLE) > 0.002


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("width=10", "width"), ("width=1601", "width"), ("height=abc", "height"),
     ("height=99999999999999999999", "height"), ("zoom=3", "zoom")],
)  # fmt: skip
def test_png_bad_parameters(client: TestClient, query: str, parameter: str) -> None:
    assert_problem(client.get(f"/embed/map.png?{query}"), 400, parameter)


def test_png_is_drawn_once_per_view_and_revalidates(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[int, int]] = []
    real = png.render_png

    def counting(served, state, width, height):  # type: ignore[no-untyped-def]
        drawn.append((width, height))
        return real(served, state, width, height)

    monkeypatch.setattr(png, "render_png", counting)
    first = client.get("/embed/map.png?width=321&height=123&status=inside")
    again = client.get("/embed/map.png?status=inside&height=123&width=321")  # the same view
    assert first.content == again.content and drawn == [(321, 123)]
    assert "public" in first.headers["cache-control"]
    revalidated = client.get(
        "/embed/map.png?width=321&height=123&status=inside",
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert revalidated.status_code == 304 and drawn == [(321, 123)]


def test_oembed_thumbnail_is_the_png(client: TestClient) -> None:
    body = client.get("/oembed", params={"url": f"{BASE}/?status=inside", "maxwidth": "500"}).json()
    assert body["thumbnail_url"] == f"{BASE}/embed/map.png?status=inside&width=500&height=375"
    image = decode(client.get(body["thumbnail_url"].removeprefix(BASE)).content)
    assert image.size == (body["thumbnail_width"], body["thumbnail_height"]) == (500, 375)


def test_preview_addresses_use_the_public_url() -> None:
    """Behind a proxy the preview names the public address, never the request's own host."""
    settings = Settings(data_dir=BUNDLED_DATA, public_url="https://maps.example.org/tanf/")
    with TestClient(create_app(settings)) as behind:
        tags = meta(behind, "/embed?status=outside").tags
    assert tags["og:url"] == "https://maps.example.org/tanf/embed?status=outside"
    assert tags["og:image"] == "https://maps.example.org/tanf/embed/map.png?status=outside"
