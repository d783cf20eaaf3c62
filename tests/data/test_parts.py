"""Derivation in parts, on several processes: the same service as one part, and no problem lost."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from app.data.loader import DataError, split_incidents
from app.data.store import ItemQuery
from app.served import Served, build_served
from app.settings import Settings
from tests.data.test_bulk_format import to_bulk
from tests.data.test_loader_errors import CNN_TECHNICALS


def everything(served: Served) -> dict[str, list[bytes]]:
    """Every body of every store, in collection order, and the events' extent."""
    out = {cid: [store.body(i) for i in range(len(store))] for cid, store in served.stores.items()}
    out["extent"] = [orjson.dumps([served.stores["events"].bounds(), served.stores["events"].interval()])]
    return out


def test_parts_on_several_processes_serve_what_one_part_serves(data_copy: Path) -> None:
    data = to_bulk(data_copy)
    whole = build_served(Settings(data_dir=data))
    # 20 YAML files and a bulk file of two records, cut into parts of three: several processes.
    assert len(split_incidents(data, 3)) > 2
    parted = build_served(Settings(data_dir=data), records_per_part=3)
    assert everything(parted) == everything(whole)
    # The near filter still reaches the claims' regions after the merge (same parts, same owners).
    events = parted.stores["events"]
    assert events.regions is parted.stores["regions"] and whole.stores["events"].regions is not None
    # Each part names its own types; after the merge the type filters still pick the same incidents.
    types = {f["properties"]["event_type"] for f in map(orjson.loads, everything(whole)["events"])}
    assert len(types) > 1
    for event_type in types:
        query = ItemQuery(event_type=event_type)
        picked = events.ids(events.query(query))
        assert picked == whole.stores["events"].ids(whole.stores["events"].query(query))
        assert picked
    owners = events.ids(parted.stores["regions"].owner_rows)
    assert owners == whole.stores["events"].ids(whole.stores["regions"].owner_rows)


def test_a_bulk_file_is_cut_by_lines(data_copy: Path) -> None:
    data = to_bulk(data_copy)
    bulk = [c for p in split_incidents(data, 1) for c in p.chunks if c.kind == "jsonl"]
    # Lines 1 and 3 hold the records, line 2 is blank.
    assert [c.first_line for c in bulk] == [1, 2, 3]
    assert (
        bulk[0].start == 0
        and bulk[0].end == bulk[1].start
        and bulk[2].end == (data / bulk[2].file).stat().st_size
    )


def test_a_duplicate_id_across_parts_is_reported_with_both_files(data_copy: Path) -> None:
    source = data_copy / CNN_TECHNICALS
    record = yaml.load(source.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    (data_copy / "incidents" / "zz-copy.jsonl").write_bytes(orjson.dumps(record) + b"\n")
    with pytest.raises(DataError) as caught:
        build_served(Settings(data_dir=data_copy), records_per_part=2)
    [problem] = caught.value.problems
    assert problem.field == "id" and problem.record == record["id"]
    assert problem.file.endswith("zz-copy.jsonl") and CNN_TECHNICALS.split("/")[-1] in problem.message


def test_problems_from_every_part_are_reported_together_and_the_reference_ones_once(data_copy: Path) -> None:
    (data_copy / "incidents" / "bad.jsonl").write_bytes(b'{"id": "a"}\n{not json\n')
    sites = data_copy / "sites.yaml"
    sites.write_text(sites.read_text(encoding="utf-8").replace("lat: 33.", "lat: 133.", 1), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        build_served(Settings(data_dir=data_copy), records_per_part=4)
    problems = caught.value.problems
    assert any(p.file.endswith("bad.jsonl") and p.record == "a" for p in problems)
    assert any(p.file.endswith("bad.jsonl") and p.record == "line 2" for p in problems)
    site_problems = [p for p in problems if p.file.endswith("sites.yaml")]
    assert len(site_problems) == 1 and site_problems[0].field == "lat"


def test_a_source_no_record_cites_is_refused_whether_the_records_are_new_or_kept(
    data_copy: Path, tmp_path: Path
) -> None:
    """Every listed source must be cited (geodata/README.md). The embedded store checked it only
    when one process read the whole directory, which a build in parts never is: a source left
    uncited was served. Now it is refused on a build from nothing, and on a load from the cache
    that derives nothing (the one incident citing it deleted)."""
    from app.served import load_served

    sources = data_copy / "sources.yaml"
    listed = sources.read_text(encoding="utf-8")
    extra = "  - id: nobody-cites-this\n    outlet: Nobody\n    date: 2017-06-08\n"
    sources.write_text(listed.replace("sources:\n", "sources:\n" + extra, 1), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        build_served(Settings(data_dir=data_copy), records_per_part=4)
    [problem] = caught.value.problems
    assert problem.record == "nobody-cites-this" and problem.file.endswith("sources.yaml")
    sources.write_text(listed, encoding="utf-8")
    settings = Settings(data_dir=data_copy, cache_dir=tmp_path / "cache")
    before = load_served(settings)
    (data_copy / "incidents" / "2017-05-18-coalition-strike-on-convoy.yaml").unlink()  # cites it alone
    with pytest.raises(DataError) as caught:
        load_served(settings)
    assert "cnn-2017-05-18" in {p.record for p in caught.value.problems}  # and the 8 others it alone cites
    assert all(p.file.endswith("sources.yaml") and "not cited" in p.message for p in caught.value.problems)
    assert before.stores["events"].get("2017-05-18-coalition-strike-on-convoy") is not None
