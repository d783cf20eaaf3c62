"""Nothing in a data directory is lost without a word: every data file is read or refused by name,
text that no page can carry is refused, and the version is the hash of the bytes served."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
import yaml

from app.data.loader import DataError, load_dataset
from app.geo.geodesy import WGS84
from app.served import build_served
from app.settings import Settings
from tests.conftest import bundled
from tests.data.test_loader_errors import CNN_TECHNICALS, TECHNICALS_ID, edit

TWIN = "incidents/2017-06-06-coalition-strike.yaml"


def problems_of(data: Path) -> list[tuple[str, str | None, str | None, str]]:
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    return [(p.file, p.record, p.field, p.message) for p in caught.value.problems]


def as_record(data: Path, rel: str, new_id: str) -> dict[str, object]:
    record = yaml.load((data / rel).read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    return {**record, "id": new_id}


@pytest.mark.parametrize("name", ["deeper/2017/extra.yaml", "extra.yml", "EXTRA.YAML", "extra.Yml"])
def test_incident_files_are_read_at_any_depth_and_in_every_spelling(data_copy: Path, name: str) -> None:
    before = len(load_dataset(data_copy).incidents)
    target = data_copy / "incidents" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(as_record(data_copy, TWIN, "extra-copy")), encoding="utf-8")
    loaded = load_dataset(data_copy)
    assert len(loaded.incidents) == before + 1
    assert loaded.incident_files["extra-copy"] == f"geodata/incidents/{name}"


def test_bulk_files_are_read_in_sub_folders_and_in_upper_case(data_copy: Path) -> None:
    (data_copy / "incidents" / "bulk").mkdir()
    line = orjson.dumps(as_record(data_copy, TWIN, "bulk-copy"))
    (data_copy / "incidents" / "bulk" / "ALL.JSONL").write_bytes(line + b"\n")
    assert "bulk-copy" in load_dataset(data_copy).incident_files


@pytest.mark.parametrize("name", ["notes.txt", "2017-06-09.json", "sub/README.md", ".hidden~"])
def test_a_file_the_loader_will_not_read_is_refused_by_name(data_copy: Path, name: str) -> None:
    target = data_copy / "incidents" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("id: x\n", encoding="utf-8")
    [problem] = problems_of(data_copy)
    assert problem[0] == f"geodata/incidents/{name}" and "not read" in problem[3]


def test_a_dangling_link_and_a_link_cycle_are_refused(data_copy: Path) -> None:
    (data_copy / "incidents" / "gone.yaml").symlink_to(data_copy / "nowhere.yaml")
    (data_copy / "incidents" / "loop").symlink_to(data_copy / "incidents")
    found = {(file, message.split(";")[0]) for file, _r, _f, message in problems_of(data_copy)}
    assert ("geodata/incidents/gone.yaml", "dangling link") in found
    assert any(file == "geodata/incidents/loop" and "cycle" in message for file, message in found)


def test_a_linked_incidents_directory_is_read_and_versioned(data_copy: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "incidents-v2"
    shutil.move(data_copy / "incidents", elsewhere)
    (data_copy / "incidents").symlink_to(elsewhere, target_is_directory=True)
    first = load_dataset(data_copy)
    assert len(first.incidents) == len(bundled().incidents)
    edit(data_copy, CNN_TECHNICALS, "The\n  third coalition strike", "The\n  third  coalition strike")
    assert load_dataset(data_copy).version != first.version


def test_a_key_given_twice_is_refused(data_copy: Path) -> None:
    edit(data_copy, CNN_TECHNICALS, "event_type:", "title: A second title\nevent_type:")
    [problem] = problems_of(data_copy)
    assert problem[0] == f"geodata/{CNN_TECHNICALS}" and problem[2] == "title"
    assert "duplicate key 'title' at line 4" in problem[3]


def test_a_key_given_twice_in_a_bulk_line_is_refused(data_copy: Path) -> None:
    line = orjson.dumps(as_record(data_copy, TWIN, "bulk-copy")).replace(b'{"id"', b'{"title":"x","id"')
    (data_copy / "incidents" / "b.jsonl").write_bytes(line + b"\n")
    [problem] = problems_of(data_copy)
    assert problem[:3] == ("geodata/incidents/b.jsonl", "line 1", "title")


def test_a_byte_order_mark_is_read_the_same_in_yaml_and_jsonl(data_copy: Path) -> None:
    path = data_copy / CNN_TECHNICALS
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    line = orjson.dumps(as_record(data_copy, TWIN, "bulk-copy"))
    (data_copy / "incidents" / "b.jsonl").write_bytes(b"\xef\xbb\xbf" + line + b"\n" + line.replace(
        b"bulk-copy", b"bulk-copy-2") + b"\n")  # fmt: skip
    loaded = load_dataset(data_copy).incident_files
    assert {TECHNICALS_ID, "bulk-copy", "bulk-copy-2"} <= set(loaded)


@pytest.mark.parametrize(
    ("escape", "code"), [("\\0", "U+0000"), ("\\x07", "U+0007"), ("\\e", "U+001B"), ("\\x85", "U+0085")]
)
def test_control_characters_are_refused_by_field(data_copy: Path, escape: str, code: str) -> None:
    edit(data_copy, CNN_TECHNICALS, "title: Coalition strike on pro-regime technical vehicles",
         f'title: "Coalition strike{escape} on pro-regime technical vehicles"')  # fmt: skip
    [problem] = problems_of(data_copy)
    assert problem[1:3] == (TECHNICALS_ID, "title") and code in problem[3]


def test_control_characters_in_a_bulk_line_are_refused(data_copy: Path) -> None:
    record = as_record(data_copy, TWIN, "bulk-copy")
    record["summary"] = "a\u0000b"
    (data_copy / "incidents" / "b.jsonl").write_bytes(orjson.dumps(record) + b"\n")
    [problem] = problems_of(data_copy)
    assert problem[1:3] == ("bulk-copy", "summary") and "U+0000" in problem[3]


def test_tabs_and_line_breaks_stay_allowed(data_copy: Path) -> None:
    edit(data_copy, CNN_TECHNICALS, "title: Coalition strike on pro-regime technical vehicles",
         'title: "Coalition strike\\ton pro-regime\\r\\ntechnical vehicles"')  # fmt: skip
    load_dataset(data_copy)


def test_fatalities_with_min_above_max_are_refused(data_copy: Path) -> None:
    edit(data_copy, "incidents/2016-06-16-russian-strikes-new-syrian-army.yaml", "min: 2\n    max: 2",
         "min: 5\n    max: 2")  # fmt: skip
    [problem] = problems_of(data_copy)
    assert problem[2] == "fatalities.0" and "'min' (5) is above 'max' (2)" in problem[3]


# The garrison anchors the zone (55 km), "about 24 miles" claims and open-ended ones (cut at 200 km).
@pytest.mark.parametrize(
    ("lon", "lat", "where"),
    [(179.9, 0.0, "antimeridian"), (-179.5, 33.5, "antimeridian"), (178.0, 33.5, "antimeridian"),
     (38.6, 89.9, "North Pole"), (38.6, -88.5, "South Pole")],
)  # fmt: skip
def test_a_site_whose_regions_would_cross_the_antimeridian_or_hold_a_pole_is_refused(
    data_copy: Path, lon: float, lat: float, where: str
) -> None:
    edit(data_copy, "sites.yaml", "lat: 33.50583\n    lon: 38.61778", f"lat: {lat}\n    lon: {lon}")
    problems = problems_of(data_copy)
    garrison = [p for p in problems if p[0] == "geodata/sites.yaml" and p[1] == "garrison"]
    assert garrison and where in garrison[0][3], problems
    # The rule is the geometry's: within the reach of the farthest region drawn from the site
    # (here a claim's open end, 200 km), pyproj.Geod finds the antimeridian or the pole.
    reach = 2 * 55_000  # at least the zone claims' reach: twice the radius (and 200 km)
    if "Pole" in where:
        assert WGS84.inv(lon, lat, lon, 90.0 if lat > 0 else -90.0)[2] < 200_000
    else:
        east_or_west = 90.0 if lon > 0 else 270.0
        far_lon = WGS84.fwd(lon, lat, east_or_west, max(reach, 200_000))[0]
        assert (far_lon < 0) == (lon > 0)  # past ±180°


def test_a_site_well_inside_the_supported_extent_is_accepted(data_copy: Path) -> None:
    # 177°E: 262 km from the antimeridian at 33.5°N, beyond the 200 km reach of any claim.
    edit(data_copy, "sites.yaml", "lat: 33.50583\n    lon: 38.61778", "lat: 33.5\n    lon: 177.0")
    assert WGS84.inv(177.0, 33.5, 180.0, 33.5)[2] > 200_000 * 1.01 + 1000
    from app.data.catalog import build_catalog

    zone = build_catalog(load_dataset(data_copy)).zone
    lons, lats = zone.polygon.exterior.coords.xy
    assert max(lons) < 180 and max(lons) - min(lons) < 2  # one piece, on this side of ±180°
    _az, _back, dist = WGS84.inv([177.0] * len(lons), [33.5] * len(lons), list(lons), list(lats))
    assert all(abs(d - 55_000) < 1 for d in dist)


def test_an_exact_point_on_the_antimeridian_is_refused(data_copy: Path) -> None:
    path = data_copy / "incidents" / "point.yaml"
    record = as_record(data_copy, CNN_TECHNICALS, "point-copy")
    record["location_claims"] = [{**record["location_claims"][0], "distance": None, "from_sites": [],  # type: ignore[index]
                                  "point": {"lon": 180.0, "lat": 10.0, "precision_m": 5000}}]  # fmt: skip
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    [problem] = [p for p in problems_of(data_copy) if p[1] == "point-copy"]
    assert problem[2] == "location_claims.0.point" and "antimeridian" in problem[3]


def test_the_version_is_the_hash_of_the_bytes_parsed(data_copy: Path) -> None:
    """A file edited after the scan (as during a start-up) is caught, never served under the old
    version; a part's check is its own bytes."""
    from app.data import files
    from app.data.files import ChangedError

    scan = files.scan(data_copy.resolve(), 5)
    edit(data_copy, CNN_TECHNICALS, "two were hit", "two were struck")
    with pytest.raises(ChangedError):
        for part in scan.parts:
            load_dataset(data_copy, scan.only(part))
    assert files.scan(data_copy.resolve()).version != scan.version


def test_an_edit_during_start_up_is_served_under_its_own_version(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit lands between the scan and the parse; the cache keeps the version and the content
    together, so restoring the file serves the original again."""
    import app.served as served_module

    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    original = load_dataset(data_copy)
    real_scan = served_module.scan_data
    path = data_copy / CNN_TECHNICALS
    text = path.read_text(encoding="utf-8")

    def scan_then_edit(*args: object, **kwargs: object) -> object:
        scan = real_scan(*args, **kwargs)  # type: ignore[arg-type]
        if path.read_text(encoding="utf-8") == text:
            path.write_text(
                text.replace("Three pro-regime technical", "Four pro-regime technical"), encoding="utf-8"
            )
        return scan

    monkeypatch.setattr(served_module, "scan_data", scan_then_edit)
    edited = served_module.load_served(settings)
    assert edited.version != original.version

    def summary(served: served_module.Served) -> str:
        events = served.stores["events"]
        return str(orjson.loads(events.body(events.get(TECHNICALS_ID)))["properties"]["summary"])

    assert summary(edited).startswith("Four")
    monkeypatch.setattr(served_module, "scan_data", real_scan)
    path.write_text(text, encoding="utf-8")
    restored = served_module.load_served(settings)
    assert restored.version == original.version and summary(restored).startswith("Three")
    assert build_served(Settings(data_dir=data_copy)).version == original.version


def test_reference_files_are_read_in_either_yaml_spelling(data_copy: Path) -> None:
    (data_copy / "sources.yaml").rename(data_copy / "Sources.YML")
    assert len(load_dataset(data_copy).sources) > 50


def test_two_spellings_of_a_reference_file_are_refused(data_copy: Path) -> None:
    shutil.copy(data_copy / "sites.yaml", data_copy / "sites.yml")
    problems = problems_of(data_copy)
    assert ("geodata/sites.yaml", None, None) in [p[:3] for p in problems]
    assert any("two spellings" in p[3] and "sites.yml" in p[3] for p in problems)
