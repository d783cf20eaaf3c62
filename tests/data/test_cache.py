"""The on-disk cache of derived data: a hit serves the same answers, and never stale ones."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from app import served
from app.data import cache, derive
from app.main import create_app
from app.served import Served, build_served, load_served
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
    [entry] = (tmp_path / "cache").glob("*-*")  # the old entry goes with the parts only it used
    assert entry.name.startswith(after.version)
    claim_id = "2017-06-08-strike-on-technical-vehicles--cnn-about-24-miles"

    def area(served: Served) -> float:
        regions = served.stores["regions"]
        return float(orjson.loads(regions.body(regions.get(claim_id)))["properties"]["area_km2"])

    assert area(after) > area(before)  # 25 miles: a ring further out, larger


def test_a_code_change_never_meets_the_old_entry(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    load_served(settings)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-version-of-the-code")
    monkeypatch.setattr(derive, "code_fingerprint", lambda: "another-version-of-the-code")
    derived = derivations(monkeypatch)
    load_served(settings)
    [entry] = (tmp_path / "cache").glob("*-*")
    assert entry.name.endswith("-another-version-of-the-code")
    assert len(derived) == 36  # every record derived again: none of the old entry's rows kept


def test_the_fingerprint_covers_every_module_the_derivation_imports() -> None:
    """The key's code is what derives an entry: every module of ``app`` that importing the
    derivation loads (asked of a fresh interpreter) is in it, so a change there gives a new key;
    the query code, the entry's writer (``app.served``) and PostGIS are not, so a change there
    keeps the entries' rows."""
    import subprocess
    import sys

    names = {p.relative_to(cache.APP_DIR.parent).with_suffix("").as_posix().replace("/", ".")
             for p in cache.deriving_code()}  # fmt: skip
    script = (
        f"import importlib, sys; [importlib.import_module(m) for m in {cache.DERIVING_ROOTS!r}]; "
        "print(' '.join(n for n, m in sys.modules.items() if n.startswith('app.') "
        "and not getattr(m, '__path__', None)))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert {"app.data.catalog", "app.geo.regions", "app.api.formats", "app.data.schema"} <= loaded
    assert loaded == names, loaded ^ names
    routing = {"app.data.store", "app.data.pg_store", "app.data.pg_load", "app.served", "app.data.derive"}
    assert not names & routing


def test_invalid_data_is_never_cached(data_copy: Path, tmp_path: Path) -> None:
    import pytest

    from app.data.loader import DataError

    (data_copy / "zone.yaml").write_text("id: [", encoding="utf-8")
    with pytest.raises(DataError):
        load_served(Settings(data_dir=data_copy, cache_dir=tmp_path / "cache"))
    assert sorted(p.name for p in (tmp_path / "cache").glob("*")) == [cache.LOCK]  # no entry


def test_a_build_in_parts_leaves_only_its_entry(data_copy: Path, tmp_path: Path) -> None:
    """The parts are written by the workers beside the entry and removed once it is written; a
    failed build leaves nothing."""
    from app.data.loader import DataError
    from app.served import RECORDS_PER_PART, scan_data, write_entry

    settings = Settings(data_dir=data_copy)
    assert (
        write_entry(settings, tmp_path / "out" / "entry", scan_data(settings), records_per_part=4).derived
        == 36
    )
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["entry"]  # 9 parts of 4, gone
    assert RECORDS_PER_PART > 4  # so the bundled data is otherwise derived in one part
    path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("date:", "date: [", 1), encoding="utf-8")
    with pytest.raises(DataError):
        write_entry(settings, tmp_path / "out" / "failed", scan_data(settings), records_per_part=4)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["entry"]


def derivations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the incidents derived from now on in this process (a build of one part)."""
    from app.data import catalog

    derived: list[str] = []
    real = catalog.derive_incident

    def counted(incident, ctx):  # type: ignore[no-untyped-def]
        derived.append(incident.id)
        return real(incident, ctx)

    monkeypatch.setattr(catalog, "derive_incident", counted)
    return derived


def bodies(s: Served) -> dict[str, list[bytes]]:
    return {cid: [store.body(i) for i in range(len(store))] for cid, store in s.stores.items()}


def test_an_edit_derives_again_only_the_record_it_touches(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each record derived is kept, keyed by its bytes; after one incident is edited only it is
    derived again, and what is served is what a build from nothing serves."""
    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    load_served(settings)
    derived = derivations(monkeypatch)
    path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{value: 24, unit: mi", "{value: 25, unit: mi"))
    edited = load_served(settings)
    assert derived == ["2017-06-08-strike-on-technical-vehicles"]
    assert len(list((tmp_path / "cache").glob("*-*"))) == 1  # the old entry is gone
    derived.clear()
    assert bodies(edited) == bodies(build_served(Settings(data_dir=data_copy)))


def test_a_deleted_incident_is_no_longer_served_and_nothing_is_derived(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    before = load_served(settings)
    gone = "2017-06-08-strike-on-technical-vehicles"
    assert before.stores["events"].get(gone) is not None
    derived = derivations(monkeypatch)
    (data_copy / "incidents" / f"{gone}.yaml").unlink()
    after = load_served(settings)
    assert derived == []
    assert (
        after.stores["events"].get(gone) is None
        and len(after.stores["events"]) == len(before.stores["events"]) - 1
    )
    owners = set(after.stores["events"].ids(after.stores["regions"].owner_rows))
    assert gone not in owners and len(after.stores["regions"]) < len(before.stores["regions"])
    assert bodies(after) == bodies(build_served(Settings(data_dir=data_copy)))


def test_loads_one_after_another_derive_only_what_each_edits(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four edits, each loaded with ``load --cache-dir``: each derives only the incident it
    edits, the cache keeps one entry, the one ``current`` names, and it serves what a build from
    nothing serves."""
    from app.served import load_saved

    cache_dir = tmp_path / "cache"
    settings = Settings(data_dir=data_copy, cache_dir=cache_dir)
    assert served.load_into_cache(settings).derived == 36
    derived = derivations(monkeypatch)
    for path in sorted((data_copy / "incidents").glob("*.yaml"))[:4]:
        path.write_text(
            path.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1), encoding="utf-8"
        )
        assert served.load_into_cache(settings).derived == 1
        [entry] = cache_dir.glob("*-*")
        assert (cache_dir / "current").read_text(encoding="utf-8") == entry.name
    titles = {
        orjson.loads(body)["id"]: orjson.loads(body)["properties"]["title"]
        for body in bodies(load_saved(entry))["events"]
    }
    assert sorted(derived) == sorted(fid for fid, title in titles.items() if title.startswith("Edited "))
    assert len(derived) == 4
    assert bodies(load_saved(entry)) == bodies(build_served(Settings(data_dir=data_copy)))


def test_a_damaged_entry_is_not_built_on_every_record_is_derived_again(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    load_served(settings)
    [entry] = (tmp_path / "cache").glob("*-*")
    data = bytearray((entry / "events.arrow").read_bytes())
    data[len(data) // 2] ^= 0x04
    (entry / "events.arrow").write_bytes(bytes(data))
    path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{value: 24, unit: mi", "{value: 25, unit: mi"))
    derived = derivations(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="app.cache"):
        edited = load_served(settings)
    assert len(derived) == 36
    assert any(
        "damaged" in r.getMessage() and "deriving every record" in r.getMessage() for r in caplog.records
    )
    assert bodies(edited) == bodies(build_served(Settings(data_dir=data_copy)))


def test_a_load_is_served_by_a_running_server_and_a_failed_one_leaves_the_old(
    data_copy: Path, tmp_path: Path
) -> None:
    """``at-tanf-map load --cache-dir`` while ``serve --cache-dir`` runs: an invalid directory is
    refused and the old dataset stays served; a valid one is served at the next poll."""
    import time

    from app.cli import main

    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache", database_poll_s=0.05)
    incident = "/api/collections/events/items/2017-06-08-strike-on-technical-vehicles"
    with TestClient(create_app(settings)) as client:
        old = client.get("/healthz").json()["dataset_version"]
        title = client.get(incident).json()["properties"]["title"]
        path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("date:", "date: [", 1), encoding="utf-8")
        assert main(["load", str(data_copy), "--cache-dir", str(settings.cache_dir)]) == 1
        time.sleep(0.5)  # ten polls
        assert client.get("/healthz").json()["dataset_version"] == old
        assert client.get(incident).json()["properties"]["title"] == title
        path.write_text(text.replace(f"title: {title}", f"title: {title} (edited)", 1), encoding="utf-8")
        assert main(["load", str(data_copy), "--cache-dir", str(settings.cache_dir)]) == 0
        deadline = time.monotonic() + 10
        while client.get("/healthz").json()["dataset_version"] == old:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.get(incident).json()["properties"]["title"] == f"{title} (edited)"


def test_a_start_after_an_edit_names_its_entry_for_the_servers_that_follow(
    data_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server started after an edit (no ``load``) writes the new entry and removes the old:
    ``current`` then names the new one. It named the removed entry, and every server following
    the cache logged it as damaged every poll, for ever."""
    import logging

    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    first = served.load_into_cache(settings)
    path = data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1), encoding="utf-8"
    )
    started = load_served(settings)
    [entry] = (tmp_path / "cache").glob("*-*")
    assert (tmp_path / "cache" / "current").read_text(encoding="utf-8") == entry.name
    with caplog.at_level(logging.WARNING, logger="app.cache"):
        assert served.newer(tmp_path / "cache", first.version) is not None  # the new entry, read
        assert served.newer(tmp_path / "cache", started.version) is None
    assert caplog.records == []


def test_load_full_derives_every_record_and_the_counts_name_removals(
    data_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    cache_dir = str(tmp_path / "cache")
    assert main(["load", str(data_copy), "--cache-dir", cache_dir]) == 0
    assert main(["load", str(data_copy), "--cache-dir", cache_dir, "--full"]) == 0  # was: 0 derived
    (data_copy / "incidents" / "2017-06-08-strike-on-technical-vehicles.yaml").unlink()
    assert main(["load", str(data_copy), "--cache-dir", cache_dir]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "36 derived, 0 removed, 0 unchanged incidents (only the records" in out[0]
    assert "36 derived, 0 removed, 0 unchanged incidents (every record read again)" in out[1]
    assert "0 derived, 1 removed, 35 unchanged incidents" in out[2]


def test_load_refuses_a_missing_directory_and_two_destinations_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    assert main(["load", str(tmp_path / "nowhere"), "--cache-dir", str(tmp_path / "cache")]) == 1
    assert "nowhere: data directory does not exist" in capsys.readouterr().err  # was a traceback
    both = ["load", str(tmp_path), "--cache-dir", str(tmp_path / "c"), "--database-url", "postgresql://x/y"]
    assert main(both) == 2
    assert "one of --database-url or --cache-dir" in capsys.readouterr().err  # was: the cache ignored
