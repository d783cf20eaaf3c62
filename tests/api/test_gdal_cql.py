"""GDAL's OAPIF driver pushes a date ``-where`` to the server as a CQL filter, and gets exactly the
rows a local GeoPackage copy gives; the workaround for GDALs that map it to ``datetime``.

Two GDALs: a recent one (pyogrio's wheel bundles libgdal; 3.12 when written) read through
``pyogrio.raw.read(where=...)``, which is ``SetAttributeFilter``, what ``ogrinfo -where`` does;
and Debian's ``ogrinfo``/``ogr2ogr`` (gdal-bin, 3.6). The reference is the GeoPackage Debian's
``ogr2ogr`` writes from the API, filtered by SQLite (Python's sqlite3) with the same clause.

Both GDALs decide to send a filter from what the server says in the drafts' words: ``cql-text``
in the ``filter-lang`` enum of the OpenAPI document, and a ``queryables`` link whose document
lists ``{"id": ...}`` (ogroapifdriver.cpp, GetQueryableAttributes). Against a server without them
they map a date comparison to ``datetime=`` (an interval that *intersects*) and trust the answer:
the workaround test reproduces that server by hiding ``cql-text`` from the document GDAL reads.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.api.openapi import openapi30
from app.main import create_app
from app.settings import BUNDLED_DATA
from tests.conftest import ServedBy
from tests.live_server import recording, serve

pyogrio = pytest.importorskip("pyogrio")
if shutil.which("ogr2ogr") is None:
    if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
        raise RuntimeError("GDAL's ogr2ogr is required here: apt-get install gdal-bin")
    pytest.skip("GDAL command-line tools not installed (apt-get install gdal-bin)", allow_module_level=True)

CLAUSES = [
    "date_start >= '2017-06-01'",
    "date_start < '2017-06-08'",
    "date_start <= '2017-06-08'",
    "date_end > '2017-06-08'",
    "date_end = '2017-06-08'",
    "date_start BETWEEN '2017-01-01' AND '2017-06-30'",
]
SEEN: list[str] = []  # the query strings of the items requests the server received


def _app(hide_cql_text: bool, served_by: ServedBy) -> Any:
    app = create_app(served_by(BUNDLED_DATA))
    if hide_cql_text:  # the document GDAL reads, without the drafts' name of CQL2 text
        for item in openapi30(app)["paths"].values():
            for param in item.get("get", {}).get("parameters", []):
                if param.get("name") == "filter-lang":
                    param["schema"]["enum"].remove("cql-text")
    return recording(app, SEEN)


@pytest.fixture(scope="module")
def base_url(served_by: ServedBy) -> Iterator[str]:
    with serve(_app(hide_cql_text=False, served_by=served_by)) as url:
        yield url


@pytest.fixture(scope="module")
def gpkg(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("gpkg") / "events.gpkg"
    done = subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{base_url}/api", "events"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target


def local_ids(gpkg: Path, where: str) -> list[str]:
    with sqlite3.connect(gpkg) as db:
        return sorted(row[0] for row in db.execute(f"SELECT id FROM events WHERE {where}"))


READ_WITH_PYOGRIO = """
import json, sys
import pyogrio.raw
meta, *_, fields = pyogrio.raw.read(sys.argv[1], layer="events", where=sys.argv[2], read_geometry=False)
print(json.dumps(sorted(str(v) for v in fields[list(meta["fields"]).index("id")])))
"""


def recent_gdal_ids(base_url: str, where: str) -> list[str]:
    """In another process: pyogrio holds the GIL while GDAL reads, and the server is a thread here."""
    done = subprocess.run([sys.executable, "-c", READ_WITH_PYOGRIO, f"OAPIF:{base_url}/api", where],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ids: list[str] = json.loads(done.stdout)
    return ids


def ogrinfo_ids(base_url: str, where: str) -> list[str]:
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", f"OAPIF:{base_url}/api", "events", "-where", where],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return sorted(line.split("=", 1)[1].strip() for line in done.stdout.splitlines()
                  if line.strip().startswith("id (String) ="))  # fmt: skip


def test_the_gdal_in_the_wheel_is_recent() -> None:
    assert tuple(pyogrio.__gdal_version__) >= (3, 9, 0), pyogrio.__gdal_version_string__


@pytest.mark.parametrize("where", CLAUSES)
def test_recent_gdal_sends_the_exact_predicate(base_url: str, gpkg: Path, where: str) -> None:
    expected = local_ids(gpkg, where)
    assert 0 < len(expected) < len(local_ids(gpkg, "1 = 1"))  # some incidents, not all
    SEEN.clear()
    assert recent_gdal_ids(base_url, where) == expected
    sent = [q for q in SEEN if "filter=" in q]
    assert sent and not any("datetime=" in q for q in SEEN), SEEN


@pytest.mark.parametrize("where", CLAUSES)
def test_debians_ogrinfo_sends_the_exact_predicate_too(base_url: str, gpkg: Path, where: str) -> None:
    SEEN.clear()
    assert ogrinfo_ids(base_url, where) == local_ids(gpkg, where)
    assert any("filter=" in q for q in SEEN) and not any("datetime=" in q for q in SEEN), SEEN


def test_without_the_drafts_words_gdal_maps_to_datetime_and_the_workaround_rechecks(
    gpkg: Path, served_by: ServedBy
) -> None:
    """The README's workaround: `AND 1 = 1` is a clause GDAL cannot send, so it evaluates the
    whole -where itself on what the server returns (a superset: an interval that intersects)."""
    where = "date_start >= '2017-06-01'"
    with serve(_app(hide_cql_text=True, served_by=served_by)) as url:
        SEEN.clear()
        plain = ogrinfo_ids(url, where)
        assert any("datetime=" in q for q in SEEN), SEEN
        assert plain != local_ids(gpkg, where)  # the fault: an incident that started in May is in
        assert set(plain) > set(local_ids(gpkg, where))
        SEEN.clear()
        # The same datetime= request (an answer the app may keep), now re-checked by GDAL.
        assert ogrinfo_ids(url, f"{where} AND 1 = 1") == local_ids(gpkg, where)
