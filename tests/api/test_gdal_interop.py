"""GDAL's OAPIF driver against the real server on localhost (Debian's gdal-bin).

CI installs gdal-bin and sets AT_TANF_REQUIRE_INTEROP=1, so there a missing GDAL fails; on a
machine without it these tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from app.settings import BUNDLED_DATA
from tests.conftest import ServedBy, bundled
from tests.live_server import serve

if shutil.which("ogrinfo") is None:
    if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
        raise RuntimeError("GDAL's ogrinfo is required here: apt-get install gdal-bin")
    pytest.skip("GDAL command-line tools not installed (apt-get install gdal-bin)", allow_module_level=True)


SEEN: list[str] = []  # the query strings the server received, to see what GDAL forwards


@pytest.fixture(scope="module")
def base_url(served_by: ServedBy) -> Iterator[str]:
    app = create_app(served_by(BUNDLED_DATA))

    @app.middleware("http")
    async def record(request, call_next):  # type: ignore[no-untyped-def]
        SEEN.append(str(request.url.query))
        return await call_next(request)

    with serve(app) as url:
        yield url


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_the_collections(base_url: str) -> None:
    out = run("ogrinfo", "-ro", f"OAPIF:{base_url}/api")
    for name in ("events", "regions", "sites", "zones", "borders"):
        assert f": {name} (" in out


def test_ogrinfo_reads_every_event_with_paging(base_url: str) -> None:
    out = run("ogrinfo", "-ro", "-al", "-q", f"OAPIF:{base_url}/api", "events")
    assert out.count("OGRFeature(events)") == len(bundled().incidents)


def test_ogrinfo_forwards_bbox_and_the_date_filter(base_url: str) -> None:
    SEEN.clear()
    out = run(
        "ogrinfo", "-ro", "-al", "-q", f"OAPIF:{base_url}/api", "events",
        "-spat", "38.0", "33.4", "38.5", "33.8",
        "-where", "date_start >= '2017-06-06' AND date_start <= '2017-06-08'",
    )  # fmt: skip
    # The dates go as a CQL filter (see tests/api/test_gdal_cql.py), no longer as datetime=.
    forwarded = [q for q in SEEN if "bbox=" in q and "filter=" in q and "datetime=" not in q]
    assert forwarded, SEEN
    import httpx2

    api = httpx2.get(
        f"{base_url}/api/collections/events/items",
        params={"bbox": "38.0,33.4,38.5,33.8", "datetime": "2017-06-06/2017-06-08"},
    ).json()
    assert api["numberMatched"] >= 1
    for feature in api["features"]:
        assert feature["properties"]["title"] in out


def test_ogr2ogr_copies_the_events_to_a_geopackage(base_url: str, tmp_path: Path) -> None:
    target = tmp_path / "events.gpkg"
    run("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{base_url}/api", "events")
    info = run("ogrinfo", "-ro", "-so", str(target), "events")
    import httpx2

    matched = httpx2.get(f"{base_url}/api/collections/events/items?limit=1").json()["numberMatched"]
    assert f"Feature Count: {matched}" in info
    # The zone as GDAL reads it: a polygon whose ring is the served one.
    zone = run("ogrinfo", "-ro", "-al", "-q", "-geom=SUMMARY", f"OAPIF:{base_url}/api", "zones")
    assert "POLYGON" in zone
    assert json.loads(httpx2.get(f"{base_url}/api/collections/zones/items").text)["numberMatched"] == 2
