"""A copy of the bundled data in which every free-text field carries HTML/JS payloads."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

PAYLOAD = (
    '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    '`${window.__xss=3}` "><svg onload=window.__xss=4> javascript:window.__xss=5 '
)
# Fields that are identifiers, references, enumerations, numbers, dates or URLs: left alone.
KEEP = {
    "id", "source", "sites", "from_sites", "centre", "event_type", "kind", "relation", "qualifier",
    "unit", "compass", "precision", "url", "date", "start", "end", "valid_from", "valid_to",
}  # fmt: skip


def _poison(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        poisoned = {k: _poison(v, k) for k, v in value.items()}
        if "context" in poisoned and "quote" in poisoned:  # a context must still hold its quote
            poisoned["context"] = f"{poisoned['quote']} {poisoned['context']}"
        if key == "country":  # a claim's stated country names a country of the borders file
            poisoned["name"] = value["name"]
        return poisoned
    if isinstance(value, list):
        return [_poison(v, key) for v in value]
    if isinstance(value, str) and key not in KEEP:
        return PAYLOAD + value
    return value


def _load(path: Path) -> Any:
    from app.data.loader import _TextDatesLoader

    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDatesLoader)


def hostile_data(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("raw"))
    for path in [target / "sources.yaml", target / "sites.yaml", target / "zone.yaml",
                 *sorted((target / "incidents").glob("*.yaml"))]:  # fmt: skip
        path.write_text(yaml.safe_dump(_poison(_load(path)), allow_unicode=True), encoding="utf-8")
    return target
