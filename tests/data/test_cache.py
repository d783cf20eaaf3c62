"""The on-disk cache of derived data: a hit serves the same answers, and never stale ones."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from app.data import cache
from app.main import create_app
from app.served import Served, load_served
from app.settings import Settings

URLS = ["/api/collections/events/items?limit=1000", "/api/collections/regions/items?limit=5", "/healthz"]


def answers(settings: Settings) -> list[bytes]:
    with TestClient(create_app(settings)) as client:
        return [client.get(url).content for url in URLS]


def test_a_cache_hit_serves_exactly_what_a_build_serves(data_copy: Path, tmp_path: Path) -> None:
    plain = answers(Settings(data_dir=data_copy))
    cached = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    assert answers(cached) == plain  # built, then written
    assert len(list((tmp_path / "cache").glob("*-*"))) == 1
    assert answers(cached) == plain  # read back


def test_a_data_change_never_meets_the_old_entry(data_copy: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    before = load_served(settings)
    path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{value: 24, unit: mi", "{value: 25, unit: mi"))
    after = load_served(settings)
    assert after.version != before.version
    assert len(list((tmp_path / "cache").glob("*-*"))) == 2
    claim_id = "2017-06-08-strike-on-technical-vehicles--cnn-about-24-miles"

    def area(served: Served) -> float:
        regions = served.stores["regions"]
        return float(orjson.loads(regions.body(regions.get(claim_id)))["properties"]["area_km2"])

    assert area(after) > area(before)  # 25 miles: a ring further out, larger


def test_a_code_change_never_meets_the_old_entry(data_copy: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    load_served(settings)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-version-of-the-code")
    load_served(settings)
    assert len(list((tmp_path / "cache").glob("*-*"))) == 2


def test_invalid_data_is_never_cached(data_copy: Path, tmp_path: Path) -> None:
    import pytest

    from app.data.loader import DataError

    (data_copy / "zone.yaml").write_text("id: [", encoding="utf-8")
    with pytest.raises(DataError):
        load_served(Settings(data_dir=data_copy, cache_dir=tmp_path / "cache"))
    assert [p.name for p in (tmp_path / "cache").glob("*")] == ["parts"]  # no entry
    assert not any((tmp_path / "cache" / "parts").iterdir())  # and no part of it


def test_a_build_in_parts_leaves_only_its_entry(data_copy: Path, tmp_path: Path) -> None:
    """The parts are saved by the workers and merged file by file into the entry; nothing of
    theirs is left behind, whether the build succeeds or not."""
    from app.data.loader import DataError
    from app.served import RECORDS_PER_PART, scan_data, write_served

    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    write_served(settings, tmp_path / "out" / "entry", scan_data(settings, 4))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["entry"]
    assert RECORDS_PER_PART > 4  # so the bundled data is otherwise derived in one part
    path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("date:", "date: [", 1), encoding="utf-8")
    try:
        write_served(settings, tmp_path / "failed" / "entry", scan_data(settings, 4))
    except DataError:
        pass
    else:
        raise AssertionError("the broken record was not reported")
    assert not any((tmp_path / "failed").iterdir())


def test_an_edit_derives_again_only_the_part_it_touches(data_copy: Path, tmp_path: Path) -> None:
    """Each part derived is kept, keyed by its bytes; after one incident is edited only its part
    is derived again, and what is served is what a build from nothing serves."""
    from app.served import load_saved, scan_data, write_served

    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    parts = tmp_path / "cache" / "parts"
    parts.parent.mkdir()
    write_served(settings, tmp_path / "one", scan_data(settings, 4), parts)
    before = {p.name: p.stat().st_ino for p in parts.iterdir()}
    assert len(before) == len(scan_data(settings, 4).parts) > 5
    path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{value: 24, unit: mi", "{value: 25, unit: mi"))
    write_served(settings, tmp_path / "two", scan_data(settings, 4), parts)
    after = {p.name: p.stat().st_ino for p in parts.iterdir()}
    assert len(set(after) - set(before)) == 1  # one part derived again
    assert {k: after[k] for k in set(after) & set(before)} == {k: before[k] for k in set(after) & set(before)}
    assert len(after) == len(before)  # the edited part's old version is gone
    write_served(Settings(data_dir=data_copy), tmp_path / "fresh", scan_data(settings, 4))
    two, fresh = load_saved(tmp_path / "two"), load_saved(tmp_path / "fresh")
    for cid, store in fresh.stores.items():
        assert [two.stores[cid].body(i) for i in range(len(store))] == [
            store.body(i) for i in range(len(store))
        ]


def test_a_damaged_part_is_derived_again_not_served(data_copy: Path, tmp_path: Path) -> None:
    from app.served import load_saved, scan_data, write_served

    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    parts = tmp_path / "cache" / "parts"
    parts.parent.mkdir()
    write_served(settings, tmp_path / "one", scan_data(settings, 4), parts)
    target = sorted(parts.glob("*/events.arrow"))[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x04
    target.write_bytes(bytes(data))
    write_served(settings, tmp_path / "two", scan_data(settings, 4), parts)
    one, two = load_saved(tmp_path / "one"), load_saved(tmp_path / "two")
    events = one.stores["events"]
    assert [two.stores["events"].body(i) for i in range(len(events))] == [
        events.body(i) for i in range(len(events))
    ]
    assert target.read_bytes() != bytes(data)  # derived again and kept anew
