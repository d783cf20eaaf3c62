"""The static SVG's cost is bounded whatever the dataset size (app.export.svg): clusters beyond MAX_MARKERS,
outlines beyond MAX_REGIONS only for the selected incident, a <desc> naming at most MAX_NAMED."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest

from app.export import svg
from app.served import Served, load_served
from app.settings import Settings
from app.web.state import parse_state, visible_query
from tests.perf import synthetic

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Served:
    def point_claim(rng: random.Random, n: int) -> dict[str, Any]:
        """Exact points only: the drawing is what is tested here, and points derive fast."""
        lon, lat = (
            synthetic.GARRISON[0] + rng.uniform(-1.5, 1.5),
            synthetic.GARRISON[1] + rng.uniform(-1.2, 1.2),
        )
        return {"id": f"c{n}", "source": "synthetic", "quote": "synthetic", "text": "synthetic",
                "point": {"lon": round(lon, 5), "lat": round(lat, 5), "precision_m": 100}}  # fmt: skip

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthetic, "claim", point_claim)
        data = synthetic.write_dataset(tmp_path_factory.mktemp("svg") / "geodata", 400)
    return load_served(Settings(data_dir=data))


@pytest.fixture(autouse=True)
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounds scaled down with the data (400 incidents rather than many thousands)."""
    monkeypatch.setattr(svg, "MAX_MARKERS", 50)
    monkeypatch.setattr(svg, "MAX_REGIONS", 40)
    monkeypatch.setattr(svg, "MAX_NAMED", 12)


def test_many_incidents_are_clustered_and_every_located_one_counted(many: Served) -> None:
    state = parse_state({})
    text = svg.render_svg(many, state, 800, 600)
    root = ET.fromstring(text)
    groups = [g for g in root.iter(f"{SVG_NS}g") if g.find(f"{SVG_NS}title") is not None]
    assert groups, "clusters expected above MAX_MARKERS"
    counted = sum(int(g.find(f"{SVG_NS}text").text) for g in groups)  # type: ignore[union-attr,arg-type]
    events = many.stores["events"]
    shown = events.query(visible_query(state))
    attrs = events.attributes(shown)
    lon, lat = attrs.lon, attrs.lat
    map_h = 600 - round(svg.key_height(events.tally(visible_query(state)), 800))  # the key under the map
    v = svg.Viewport(*svg.fit_view(_padded(many), 800, map_h), 800, map_h)
    x, y = v.xy_arrays(lon, lat)
    m = 3 * svg.NEAR_PX
    in_frame = int(((x >= -m) & (x <= 800 + m) & (y >= -m) & (y <= map_h + m)).sum())
    assert in_frame > svg.MAX_MARKERS
    assert counted + _lone_markers(root) == in_frame
    desc = root.find(f"{SVG_NS}desc").text or ""  # type: ignore[union-attr]
    assert desc.count("Synthetic incident") == svg.MAX_NAMED
    assert f"and {len(shown) - svg.MAX_NAMED} more" in desc
    # Outlines: more than MAX_REGIONS would be shown, so none but the selected incident's.
    assert 'fill="none" fill-rule="evenodd"' not in text


def test_the_selected_incidents_outlines_are_still_drawn(many: Served) -> None:
    events = many.stores["events"]
    regions = many.stores["regions"]
    owner = regions.owner_rows
    row = int(np.bincount(owner).argmax())  # an incident with claims
    state = parse_state({"sel": events.ids(np.array([row]))[0]})
    text = svg.render_svg(many, state, 800, 600)
    outline = r'<path d="[^"]+" fill="[^"]+"(?: fill-opacity="[\d.]+")? fill-rule="evenodd" stroke="#'
    outlines = re.findall(outline, text)
    assert 1 <= len(outlines) <= int((owner == row).sum())


def _padded(served: Served) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = served.zone.polygon.bounds
    px, py = (maxx - minx) * 0.08, (maxy - miny) * 0.08
    return minx - px, miny - py, maxx + px, maxy + py


def _lone_markers(root: ET.Element) -> int:
    """Markers drawn outside clusters: top-level shapes with a status stroke, not site dots."""
    n = 0
    for child in root:
        tag = child.tag.removeprefix(SVG_NS)
        if tag in ("circle", "polygon", "rect") and child.get("stroke-width") in ("1.5", "2.5"):
            n += 1
    return n


def test_a_kept_drawing_is_the_same_drawing(many: Served) -> None:
    state = parse_state({"status": "inside"})
    assert svg.cached_svg(many, state, 640, 480) == svg.render_svg(many, state, 640, 480)
    assert svg.cached_svg(many, state, 640, 480) is svg.cached_svg(many, state, 640, 480)


def test_overlap_counts_equal_the_pairwise_test() -> None:
    """Names and the legend are placed by counting the boxes they meet, all at once; the count
    is the pairwise ``_meets`` test's, edges touching included (they do not meet)."""
    rng = random.Random(5)
    boxes = []
    for _ in range(400):
        x, y = rng.uniform(0, 800), rng.uniform(0, 600)
        boxes.append((x, y, x + rng.choice([0, 6, 12, 40]), y + rng.choice([0, 6, 12, 30])))
    boxes += [(100.0, 100.0, 112.0, 112.0), (112.0, 100.0, 124.0, 112.0)]  # sharing an edge
    taken = svg._boxes(boxes)
    for box in [*boxes[:60], (0.0, 0.0, 800.0, 600.0), (112.0, 100.0, 112.0, 112.0)]:
        assert svg._overlaps(box, taken) == sum(svg._meets(box, other) for other in boxes)
    assert svg._overlaps((1.0, 1.0, 2.0, 2.0), svg._boxes([])) == 0
