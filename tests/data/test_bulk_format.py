"""Bulk incident files (incidents/*.jsonl): the same schema, one incident per line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from app.data.loader import DataError, load_dataset
from tests.data.test_loader_errors import CNN_TECHNICALS, TECHNICALS_ID


def to_bulk(data: Path) -> Path:
    """Move one YAML incident into a .jsonl file, next to a second (renamed) copy of it."""
    path = data / CNN_TECHNICALS
    record = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # dates as text
    path.unlink()
    twin = {**record, "id": "bulk-twin"}
    lines = orjson.dumps(record) + b"\n\n" + orjson.dumps(twin) + b"\n"
    (data / "incidents" / "bulk.jsonl").write_bytes(lines)
    return data


def test_bulk_incidents_load_like_yaml_ones(data_copy: Path) -> None:
    before = {i.id: i for i in load_dataset(data_copy).incidents}
    after = {i.id: i for i in load_dataset(to_bulk(data_copy)).incidents}
    assert set(after) == set(before) | {"bulk-twin"}
    assert after[TECHNICALS_ID] == before[TECHNICALS_ID]


@pytest.mark.parametrize(
    ("line", "record", "field"),
    [
        (b"{not json", "line 4", None),
        (b'{"id": "x-1", "title": "t"}', "x-1", "date"),
        (b'{"title": "no id"}', "line 4", "id"),
    ],
)
def test_bad_lines_are_named(data_copy: Path, line: bytes, record: str, field: str | None) -> None:
    data = to_bulk(data_copy)
    with (data / "incidents" / "bulk.jsonl").open("ab") as out:
        out.write(line + b"\n")
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    hits = [
        p for p in caught.value.problems if p.file == "geodata/incidents/bulk.jsonl" and p.record == record
    ]
    assert hits and (field is None or any(p.field == field for p in hits)), caught.value.problems
