"""The exported file: self-contained, and data text stays text (folium renders popups as HTML)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.cli import main
from app.settings import BUNDLED_DATA

HOSTILE = "`${window.__xss=5}` <img src=x onerror=window.__xss=1> <script>window.__xss=2</script>"
TECHNICALS = "2017-06-08-strike-on-technical-vehicles"


@pytest.fixture
def hostile_data(tmp_path: Path) -> Path:
    target = tmp_path / "geodata"
    shutil.copytree(BUNDLED_DATA, target, ignore=shutil.ignore_patterns("raw"))
    path = target / "incidents" / f"{TECHNICALS}.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("title: Coalition strike on pro-regime technical vehicles", f"title: '{HOSTILE}'")
    path.write_text(text, encoding="utf-8")
    return target


def test_export_writes_one_file_with_nothing_remote(tmp_path: Path) -> None:
    target = tmp_path / "map.html"
    assert main(["export", str(target)]) == 0
    page = target.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r'<link[^>]+href="http', page)
    assert 'version="1.9.3"' in page or 't.version="1.9.3"' in page  # Leaflet itself is inlined


def test_export_escapes_data_text(hostile_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "map.html"
    assert main(["export", str(target), "--data-dir", str(hostile_data), "--tile-url", ""]) == 0
    page = target.read_text(encoding="utf-8")
    assert "<img src=x onerror" not in page
    assert "<script>window.__xss" not in page
    assert "${window.__xss" not in page
    assert "&lt;img src=x onerror=window.__xss=1&gt;" in page


def test_export_refuses_invalid_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "geodata"
    shutil.copytree(BUNDLED_DATA, data, ignore=shutil.ignore_patterns("raw"))
    (data / "zone.yaml").write_text("id: [", encoding="utf-8")
    assert main(["export", str(tmp_path / "x.html"), "--data-dir", str(data)]) == 1
    assert "zone.yaml" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_export_of_a_fully_hostile_dataset_keeps_every_payload_escaped(tmp_path: Path) -> None:
    from tests.hostile import hostile_data

    data = hostile_data(BUNDLED_DATA, tmp_path / "geodata")
    target = tmp_path / "map.html"
    assert main(["export", str(target), "--data-dir", str(data), "--tile-url", ""]) == 0
    page = target.read_text(encoding="utf-8")
    for raw in ("<img src=x", "<script>window.__xss", "<svg onload", "${window.__xss", 'href="javascript'):
        assert raw not in page, raw
    assert page.count("&lt;img src=x onerror=") > 21


def test_the_export_card_names_the_type_in_plain_words() -> None:
    """The export's card said ACLED's terms ("Explosions/Remote violence / Air/drone strike") where
    the map's card says "Air or drone strike" (issue 18): the same words now, ACLED's in a title."""
    import html

    from app.data.catalog import build_catalog
    from app.data.loader import load_dataset
    from app.export.standalone import card_html

    catalog = build_catalog(load_dataset(BUNDLED_DATA))
    cards = {d.incident.id: card_html(d, catalog) for d in catalog.incidents}
    contested = cards["2017-06-06-coalition-strike"]
    shown = html.unescape(re.sub(r"<[^>]*>", " ", contested))  # the text a reader sees, no titles
    assert "Air or drone strike" in shown
    assert "Explosions/Remote violence" not in shown and "Air/drone strike" not in shown
    assert 'title="ACLED: Explosions/Remote violence / Air/drone strike"' in contested
    for d in catalog.incidents:
        words = html.unescape(re.sub(r"<[^>]*>", " ", cards[d.incident.id]))
        assert f"{d.incident.event_type} / {d.incident.sub_event_type}" not in words, d.incident.id
