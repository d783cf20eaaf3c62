"""Load and validate a data directory, all or nothing.

Every problem found is collected and reported together, each naming the file, the record and the
field, so an editor can fix a whole batch at once. If there is any problem, nothing is returned:
the caller never sees a half-loaded dataset.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from app.data.model import Incident, Site, Source, Zone

SOURCES_FILE = "sources.yaml"
SITES_FILE = "sites.yaml"
ZONE_FILE = "zone.yaml"
INCIDENTS_DIR = "incidents"
BORDERS_FILE = "borders.geojson"

M = TypeVar("M", bound=BaseModel)


class _TextDatesLoader(yaml.SafeLoader):
    """A safe loader that leaves dates as text, so the schema (not YAML) judges them.

    PyYAML would otherwise raise a bare ValueError for "2017-06-31", with no file or field.
    """


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the data: where (file, record, field) and what."""

    file: str
    record: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.record:
            where.append(f"record {self.record!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{': '.join(where)}: {self.message}"


class DataError(Exception):
    """The data directory is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the data:\n{lines}")


@dataclass(frozen=True)
class Dataset:
    """The validated contents of a data directory, and its version (a content hash)."""

    sources: dict[str, Source]
    sites: dict[str, Site]
    zone: Zone
    incidents: list[Incident]
    borders: dict[str, Any]
    version: str
    incident_files: dict[str, str]


def dataset_version(data_dir: Path) -> str:
    """SHA-256 (first 16 hex digits) over every file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(data_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


class _Collector:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.problems: list[Problem] = []
        # Ids of records that failed validation: references to them are not reported again.
        self.invalid_ids: set[str] = set()

    def add(self, path: Path, record: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(self.rel(path), record, field, message))

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.data_dir.parent).as_posix()
        except ValueError:
            return path.as_posix()

    def read_yaml(self, path: Path) -> Any:
        if not path.is_file():
            self.add(path, None, None, "file is missing")
            return None
        try:
            return yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDatesLoader)
        except UnicodeDecodeError:
            self.add(path, None, None, "file is not UTF-8 text")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            self.add(path, None, None, f"malformed YAML{where}")
        return None

    def validate(self, model: type[M], raw: Any, path: Path, record: str | None) -> M | None:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                field = ".".join(str(part) for part in err["loc"]) or None
                self.add(path, record, field, err["msg"])
            return None


def _record_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return str(value) if value is not None else None


def _validate_list(c: _Collector, path: Path, raw: Any, key: str, model: type[M]) -> dict[str, M]:
    """Validate each record of a ``key:`` list separately, so one bad record names itself."""
    out: dict[str, M] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict) or not isinstance(raw.get(key), list):
        c.add(path, None, key, f"expected a mapping with a '{key}' list")
        return out
    for index, item in enumerate(raw[key]):
        record = _record_id(item) or f"#{index + 1}"
        obj = c.validate(model, item, path, record)
        if obj is None:
            c.invalid_ids.add(record)
            continue
        obj_id = str(getattr(obj, "id"))  # noqa: B009 - every listed model has an id
        if obj_id in out:
            c.add(path, obj_id, "id", "duplicate id")
        out[obj_id] = obj
    return out


@dataclass(frozen=True)
class Part:
    """A share of the incident records: some YAML files, or a range of lines of one bulk file."""

    yaml_files: tuple[str, ...] = ()
    bulk_file: str | None = None
    lines: tuple[int, int] = (0, 0)  # first and last line number (1-based, inclusive)


def split_incidents(data_dir: Path, lines_per_part: int) -> list[Part]:
    """The incident records cut into parts of about ``lines_per_part`` records, in file order."""
    incident_dir = data_dir / INCIDENTS_DIR
    if not incident_dir.is_dir():
        return []
    parts = []
    yaml_files = tuple(p.name for p in sorted(incident_dir.glob("*.yaml")))
    for first in range(0, len(yaml_files), lines_per_part):
        parts.append(Part(yaml_files=yaml_files[first : first + lines_per_part]))
    for path in sorted(incident_dir.glob("*.jsonl")):
        with path.open("rb") as source:
            count = sum(1 for _ in source)
        for first in range(1, count + 1, lines_per_part):
            parts.append(Part(bulk_file=path.name, lines=(first, min(count, first + lines_per_part - 1))))
    return parts


def load_dataset(data_dir: Path, version: str | None = None, part: Part | None = None) -> Dataset:
    """Load ``data_dir`` or raise ``DataError`` listing every problem (never a partial result).

    ``version``: the directory's ``dataset_version`` when the caller has just computed it.
    ``part``: only these incident records (with all the reference data); the caller checks
    what spans parts (ids unique across them) and that there are incidents at all.
    """
    data_dir = data_dir.resolve()
    c = _Collector(data_dir)
    if not data_dir.is_dir():
        raise DataError([Problem(str(data_dir), None, None, "data directory does not exist")])

    sources_path = data_dir / SOURCES_FILE
    sources = _validate_list(c, sources_path, c.read_yaml(sources_path), "sources", Source)
    sites_path = data_dir / SITES_FILE
    sites = _validate_list(c, sites_path, c.read_yaml(sites_path), "sites", Site)

    zone_path = data_dir / ZONE_FILE
    zone_raw = c.read_yaml(zone_path)
    zone = c.validate(Zone, zone_raw, zone_path, _record_id(zone_raw)) if zone_raw else None

    incidents: list[Incident] = []
    incident_files: dict[str, str] = {}
    incident_dir = data_dir / INCIDENTS_DIR
    paths = sorted(incident_dir.glob("*.yaml")) if incident_dir.is_dir() else []
    bulk = sorted(incident_dir.glob("*.jsonl")) if incident_dir.is_dir() else []
    first_line, last_line = 1, None
    if part is not None:
        paths = [incident_dir / name for name in part.yaml_files]
        bulk = [incident_dir / part.bulk_file] if part.bulk_file else []
        first_line, last_line = part.lines
    elif not paths and not bulk:
        c.add(incident_dir, None, None, "no incident files (*.yaml or *.jsonl) found")

    def add_incident(raw: Any, path: Path, where: str) -> None:
        incident = c.validate(Incident, raw, path, _record_id(raw) or where)
        if incident is None:
            return
        if incident.id in incident_files:
            c.add(path, incident.id, "id", f"duplicate id (also in {incident_files[incident.id]})")
            return
        incident_files[incident.id] = c.rel(path)
        incidents.append(incident)

    for path in paths:
        raw = c.read_yaml(path)
        if raw is None:
            if path.is_file() and not any(p.file == c.rel(path) for p in c.problems):
                c.add(path, None, None, "file is empty")
            continue
        add_incident(raw, path, "")
    for path in bulk:
        # Bulk files (generated, e.g. from an event export): one incident per line, as JSON, in
        # the same schema as the YAML files; a problem names the line when the id is unknown.
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if number < first_line:
                    continue
                if last_line is not None and number > last_line:
                    break
                if not line.strip():
                    continue
                try:
                    raw = orjson.loads(line)
                except orjson.JSONDecodeError:
                    c.add(path, f"line {number}", None, "malformed JSON")
                    continue
                add_incident(raw, path, f"line {number}")

    borders = _read_borders(c, data_dir / BORDERS_FILE)
    if zone is not None:
        _check_zone(c, zone_path, zone, sites, sources)
    for path_str, site in ((c.rel(sites_path), s) for s in sites.values()):
        for cite in site.sources:
            if cite.source not in sources and cite.source not in c.invalid_ids:
                c.problems.append(
                    Problem(path_str, site.id, "sources.source", f"unknown source {cite.source!r}")
                )
    for incident in incidents:
        _check_incident(c, data_dir.parent / incident_files[incident.id], incident, sites, sources)

    if c.problems or zone is None:
        raise DataError(c.problems or [Problem(c.rel(zone_path), None, None, "no zone")])
    incidents.sort(key=lambda i: (i.date.start, i.id))
    return Dataset(
        sources=sources,
        sites=sites,
        zone=zone,
        incidents=incidents,
        borders=borders,
        version=version or dataset_version(data_dir),
        incident_files=incident_files,
    )


def _read_borders(c: _Collector, path: Path) -> dict[str, Any]:
    if not path.is_file():
        c.add(path, None, None, "file is missing")
        return {}
    try:
        borders = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        c.add(path, None, None, "malformed JSON")
        return {}
    if not isinstance(borders, dict) or borders.get("type") != "FeatureCollection":
        c.add(path, None, "type", "expected a GeoJSON FeatureCollection")
        return {}
    return borders


def _check_zone(
    c: _Collector, path: Path, zone: Zone, sites: dict[str, Site], sources: dict[str, Source]
) -> None:
    if zone.centre not in sites and zone.centre not in c.invalid_ids:
        c.add(path, zone.id, "centre", f"unknown site {zone.centre!r}")
    cites = [("sources", s) for s in zone.sources]
    cites += [(f"variants.{v.id}.sources", s) for v in zone.variants for s in v.sources]
    for field, cite in cites:
        if cite.source not in sources and cite.source not in c.invalid_ids:
            c.add(path, zone.id, f"{field}.source", f"unknown source {cite.source!r}")


def _check_incident(
    c: _Collector,
    path: Path,
    incident: Incident,
    sites: dict[str, Site],
    sources: dict[str, Source],
) -> None:
    cited = {cite.source for cite in incident.sources}
    for i, cite in enumerate(incident.sources):
        if cite.source not in sources and cite.source not in c.invalid_ids:
            c.add(path, incident.id, f"sources.{i}.source", f"unknown source {cite.source!r}")
    for i, fat in enumerate(incident.fatalities):
        if fat.source not in cited:
            c.add(path, incident.id, f"fatalities.{i}.source", f"{fat.source!r} is not cited")
    claim_ids: set[str] = set()
    for i, claim in enumerate(incident.location_claims):
        where = f"location_claims.{i}"
        if claim.id in claim_ids:
            c.add(path, incident.id, f"{where}.id", f"duplicate claim id {claim.id!r}")
        claim_ids.add(claim.id)
        if claim.source not in cited:
            c.add(path, incident.id, f"{where}.source", f"{claim.source!r} is not cited")
        named = [("from_sites", s) for s in claim.from_sites]
        named += [("near.sites", s) for s in (claim.near.sites if claim.near else [])]
        for field, site in named:
            if site not in sites and site not in c.invalid_ids:
                c.add(path, incident.id, f"{where}.{field}", f"unknown site {site!r}")
