"""The server's drawing moves markers aside as the map does (issue 18): no marker covers another
and each one moved has a leader line to its point."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.export import svg
from app.export.svg_labels import CHAR_PX
from app.served import Served, load_served
from app.settings import Settings
from app.web.embed import STATIC_SIZES
from app.web.state import parse_state

SVG_NS = "{http://www.w3.org/2000/svg}"
MARKER_COLOURS = set(svg.STATUS_COLOURS.values())


@pytest.fixture(scope="module")
def served() -> Served:
    return load_served(Settings())


def marker_boxes(text: str) -> list[tuple[float, float, float, float]]:
    """The box of each marker's body (circle, square, triangle or diamond in a status colour,
    10 px or more across; the legend's samples left out) and of each numbered circle."""
    root = ET.fromstring(text)
    legend = {id(e) for g in root.iter(f"{SVG_NS}g") if g.get("class") == "legend" for e in g.iter()}
    out = []
    for g in root.iter(f"{SVG_NS}g"):
        if g.get("class") == "stack":
            legend |= {id(e) for e in g.iter()}
            c = g.find(f"{SVG_NS}circle")
            assert c is not None
            cx, cy, r = (float(c.get(k, 0)) for k in ("cx", "cy", "r"))
            out.append((cx - r, cy - r, cx + r, cy + r))
    for e in root.iter():
        if id(e) in legend or not ({e.get("fill"), e.get("stroke")} & MARKER_COLOURS):
            continue
        tag = e.tag.removeprefix(SVG_NS)
        if tag == "circle":
            cx, cy, r = (float(e.get(k, 0)) for k in ("cx", "cy", "r"))
            box = (cx - r, cy - r, cx + r, cy + r)
        elif tag == "rect":
            x, y, w, h = (float(e.get(k, 0)) for k in ("x", "y", "width", "height"))
            box = (x, y, x + w, y + h)
        elif tag == "polygon":
            xy = [tuple(map(float, p.split(","))) for p in (e.get("points") or "").split()]
            box = (min(p[0] for p in xy), min(p[1] for p in xy), max(p[0] for p in xy), max(p[1] for p in xy))
        else:
            continue
        if box[2] - box[0] >= 10:
            out.append(box)
    return out


SIZES = [
    (320, 260),
    (420, 300),
    (600, 330),
    (860, 355),
    (1100, 350),
    (800, 600),
    (1200, 630),
]  # static embed, SVG, PNG


@pytest.mark.parametrize(("width", "height"), [(320, 450), *SIZES])
@pytest.mark.parametrize("query", [{}, {"sel": "2017-06-06-coalition-strike"}, {"v": "33.55,38.6,9"}])
def test_no_marker_covers_another_in_the_svg(served: Served, width: int, height: int, query: dict) -> None:
    text = svg.render_svg(served, parse_state(query), width, height)
    boxes = marker_boxes(text)
    root = ET.fromstring(text)
    stacks = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "stack"]
    counted = sum(int(g.find(f"{SVG_NS}text").text or 0) for g in stacks)  # type: ignore[union-attr]
    assert len(boxes) - len(stacks) + counted >= 20  # the incidents drawn, one by one or counted
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            assert min(overlap) <= 0.5, f"markers at {a} and {b} overlap at {width}x{height} {query}"
    # Markers moved aside each have a leader line to their point.
    root = ET.fromstring(text)
    leaders = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "leaders"]
    assert leaders and len(list(leaders[0].iter(f"{SVG_NS}path"))) >= 1


def garrison_name(text: str) -> tuple[float, float, float, float] | None:
    """The box of the garrison's name (12 px bold text; its width as the placement reckons it)."""
    root = ET.fromstring(text)
    for g in root.iter(f"{SVG_NS}g"):  # a name on its background: the background's box
        rect = g.find(f"{SVG_NS}rect")
        if g.get("class") == "name" and g.get("data-site") == "garrison" and rect is not None:
            x, y, w, h = (float(rect.get(k, 0)) for k in ("x", "y", "width", "height"))
            return (x, y, x + w, y + h)
    legend = {id(e) for g in root.iter(f"{SVG_NS}g") if g.get("class") == "legend" for e in g.iter()}
    for e in root.iter(f"{SVG_NS}text"):
        if e.text == "At Tanf garrison" and id(e) not in legend:
            x, y, w = float(e.get("x", 0)), float(e.get("y", 0)), len(e.text) * CHAR_PX
            x0 = {"start": x, "middle": x - w / 2, "end": x - w}[e.get("text-anchor", "start")]
            return (x0, y - 12, x0 + w, y + 4)
    return None


def test_the_static_embed_sizes_are_the_ones_tested() -> None:
    assert {(w, h) for _, w, h in STATIC_SIZES} <= set(SIZES)


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("query", [{}, {"sel": "2017-06-06-coalition-strike"}])
def test_the_garrison_is_named_clear_of_every_marker(
    served: Served, width: int, height: int, query: dict
) -> None:
    text = svg.render_svg(served, parse_state(query), width, height)
    box = garrison_name(text)
    assert box, f"the garrison is unnamed at {width}x{height}"
    assert 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height
    for m in marker_boxes(text):
        assert not (box[0] < m[2] and m[0] < box[2] and box[1] < m[3] and m[1] < box[3]), (
            f"the garrison's name covers a marker at {width}x{height} {query}"
        )


@pytest.mark.parametrize(("width", "height"), [(1, 1), (60, 20), (20, 400)])
def test_an_image_too_small_for_the_garrisons_name_is_still_drawn(
    served: Served, width: int, height: int
) -> None:
    text = svg.render_svg(served, parse_state({}), width, height)
    assert garrison_name(text)
