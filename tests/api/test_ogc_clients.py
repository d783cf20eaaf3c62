"""The standard's own clients against a live server: the OGC test suite ``ogctests`` and OWSLib.

``ogctests features/core`` (PyPI ``ogctests``, a Python port of the OGC's ETS for Features Part 1)
runs in a subprocess against the real uvicorn server. Every check passes except two, which are
the suite's known deviation from RFC 7946: ``/ats/core/fc-response`` (test_ast22) and
``/ats/core/f-success`` (test_ast28) validate features against a schema whose ``geometry`` must be
a geometry object, while RFC 7946 §3.2 says a Feature's ``geometry`` is "a geometry object ... or
a JSON null value" when the feature is unlocated; two incidents no source locates are served that
way. The test pins exactly those two failures and their reason, and checks every served feature
against the suite's own schemas with only that rule relaxed (so the rest of those two checks holds).
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import ogctests
import pytest
import yaml
from owslib.ogcapi.features import Features
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.main import create_app
from app.settings import BUNDLED_DATA
from tests.conftest import ServedBy, bundled
from tests.live_server import serve

SUITE = Path(ogctests.__file__).parent / "features"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# The suite's checks that reject RFC 7946's "geometry": null, and the words of their failure.
NULL_GEOMETRY_CHECKS = {"test_ast22", "test_ast28"}
NULL_GEOMETRY_FAILURE = "None is not valid under any of the given schemas"


@pytest.fixture(scope="module")
def base_url(served_by: ServedBy) -> Iterator[str]:
    with serve(create_app(served_by(BUNDLED_DATA))) as url:
        yield url


def run_suite(scope: str, api_url: str, tmp_path: Path) -> dict[str, str | None]:
    """Run an ogctests scope with pytest in a subprocess; each test's failure text (None: passed)."""
    report = tmp_path / "report.xml"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # none of this project's pytest settings
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE / scope), "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), "-p", "no:cacheprovider", "-q", f"--junitxml={report}"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
        env={"INSTANCE_URL": api_url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert report.exists(), done.stdout + done.stderr
    results: dict[str, str | None] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skipped = case.find("skipped")
        assert skipped is None, f"{case.get('name')} skipped: {skipped.get('message')}"
        results[case.get("name", "")] = (
            None if problem is None else (problem.get("message") or "") + (problem.text or "")
        )
    return results


def test_ogctests_core_passes_but_for_null_geometries(base_url: str, tmp_path: Path) -> None:
    results = run_suite("core", f"{base_url}/api", tmp_path)
    assert len(results) >= 29, results.keys()
    failed = {name: text for name, text in results.items() if text is not None}
    assert set(failed) == NULL_GEOMETRY_CHECKS, {k: (v or "")[:300] for k, v in failed.items()}
    for text in failed.values():
        assert NULL_GEOMETRY_FAILURE in (text or "") and "['geometry']" in (text or "")
    # The checks that needed the OpenAPI 3.0 document and the CRS class pass.
    assert results["test_ast6"] is None and results["test_ast2"] is None


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = yaml.safe_load((SUITE / "schemas" / f"{name}.yaml").read_text())
    if name == "featureGeoJSON":  # RFC 7946 §3.2: "a geometry object ... or a JSON null value"
        schema["properties"]["geometry"] = {"oneOf": [{"type": "null"}, schema["properties"]["geometry"]]}
    return schema


def test_every_feature_meets_the_suites_schemas_with_rfc7946_null_geometry(base_url: str) -> None:
    names = [file.stem for file in (SUITE / "schemas").glob("*.yaml")]
    registry: Registry = Registry().with_resources(
        (f"urn:{name}", Resource.from_contents(_schema(name), default_specification=DRAFT202012))
        for name in names
    )
    collection_schema, feature_schema = _schema("featureCollectionGeoJSON"), _schema("featureGeoJSON")
    nulls = 0
    for cid in ("events", "regions", "sites", "zones", "borders"):
        page = httpx2.get(f"{base_url}/api/collections/{cid}/items", params={"limit": 1000}).json()
        jsonschema.validate(page, collection_schema, registry=registry)
        for i, feature in enumerate(page["features"]):
            nulls += feature["geometry"] is None
            if i >= 3 and feature["geometry"] is not None:
                continue  # the page held them all; one by one, the first few and the null ones
            one = httpx2.get(f"{base_url}/api/collections/{cid}/items/{feature['id']}").json()
            jsonschema.validate(one, feature_schema, registry=registry)
    assert nulls >= 2  # the unlocated incidents (and their unmapped claims) are really there
    # The relaxed schema still refuses what the RFC refuses: a feature without a geometry member.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "Feature", "properties": {}}, feature_schema, registry=registry)


def test_owslib_reads_the_api_definition_collections_and_items(base_url: str) -> None:
    api = Features(f"{base_url}/api")
    definition = api.api()  # OWSLib looks only for a service-desc of OpenAPI 3.0
    assert definition["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in definition["paths"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == ["events", "regions", "sites", "zones", "borders"]
    assert api.collection("events")["storageCrs"] == CRS84
    page = api.collection_items("events", limit=5, in_zone="inside")
    assert page["numberReturned"] == 5
    assert all(f["properties"]["zone_status"] == "inside" for f in page["features"])
    everything = api.collection_items("events", limit=1000)
    assert everything["numberMatched"] == everything["numberReturned"] == len(bundled().incidents)
    first = everything["features"][0]
    assert api.collection_item("events", first["id"])["properties"] == first["properties"]
