"""Load and validate a data directory, all or nothing.

Every problem found is collected and reported together, each naming the file, the record and the
field, so an editor can fix a whole batch at once. If there is any problem, nothing is returned:
the caller never sees a half-loaded dataset. Which files are read, and the version, is
``app.data.files``; what the records say of each other (citations, sites, countries) is
``app.data.references``; text rules (duplicate keys, control characters, byte order marks) are here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import shapely.geometry
import yaml
from pydantic import BaseModel, ValidationError

from app.data import files
from app.data.extent import check_extent
from app.data.files import BORDERS_FILE, SITES, SOURCES, ZONE, ChangedError, Chunk, Part, Scan
from app.data.model import Incident, Site, Source, Zone
from app.data.references import UNCITED, Records, check_references, uncited_sources

M = TypeVar("M", bound=BaseModel)
BOM = "\ufeff"
# Byte order marks of the encodings an editor may save in instead of UTF-8 (longest first).
OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
              (b"\xfe\xff", "UTF-16"))  # fmt: skip
# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; lone surrogates and
# the two non-characters XML refuses. None belongs in a title or a quote, and the SVG image and
# the HTML views cannot carry them (XML 1.0 forbids most).
FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# A data change during a start-up is read again from the scan; after this many, it is a problem.
READ_ATTEMPTS = 3


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """The same key twice in one mapping (PyYAML would keep the last silently: yaml/pyyaml#165)."""


class AliasError(yaml.composer.ComposerError):
    """A YAML alias (``*name``): refused, as ten nested lists of ten aliases make 10^8 values
    from a few hundred bytes (the "billion laughs"), and every check walks each of them."""


class _TextDatesLoader(yaml.SafeLoader):
    """A safe loader that leaves dates as text, so the schema (not YAML) judges them, that
    refuses a key given twice in one mapping, and that refuses aliases (``AliasError``).

    PyYAML would otherwise raise a bare ValueError for "2017-06-31", with no file or field.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise AliasError(None, None, f"alias *{event.anchor}", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: PyYAML reports it itself
            if key in seen:
                raise DuplicateKeyError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
    incident_chunks: dict[str, Chunk] = field(default_factory=dict)  # id -> the bytes it was read from


class _Duplicate(ValueError):
    pass


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str | bytes) -> Any:
    """Strict JSON: a repeated key or NaN/Infinity is an error (``_Duplicate`` / ValueError)."""
    return json.loads(text, object_pairs_hook=_pairs_without_duplicates, parse_constant=_no_constants)


def _texts(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a parsed record (keys too), with its dotted field path."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str):
                yield path, key
            yield from _texts(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{where}.{index}" if where else str(index))


class _Collector:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.problems: list[Problem] = []
        # Ids of records that failed validation: references to them are not reported again.
        self.invalid_ids: set[str] = set()

    def add(self, file: str, record: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(file, record, field, message))

    def name(self, rel: str) -> str:
        """How a file is named in problems: under the data directory's own name."""
        return f"{self.data_dir.name}/{rel}"

    def text(self, chunk: Chunk) -> str | None:
        """The chunk's text (UTF-8; a byte order mark at the start of a file is dropped)."""
        raw = files.read_chunk(self.data_dir, chunk)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            found = next(
                (name for mark, name in OTHER_BOMS if chunk.start == 0 and raw.startswith(mark)), None
            )
            why = f"file is not UTF-8 text (byte {chunk.start + exc.start})"
            if found:
                why = f"file is {found} text (it starts with that byte order mark); save it as UTF-8"
            self.add(self.name(chunk.file), None, None, why)
            return None
        return text[1:] if chunk.start == 0 and text.startswith(BOM) else text

    def read_yaml(self, chunk: Chunk | None, missing: str = "file is missing", name: str = "") -> Any:
        if chunk is None:
            self.add(self.name(name), None, None, missing)
            return None
        text = self.text(chunk)
        if text is None:
            return None
        try:
            raw = yaml.load(text, Loader=_TextDatesLoader)
        except DuplicateKeyError as exc:
            mark = exc.problem_mark
            key = (exc.problem or "").removeprefix("duplicate key ")
            where = f" at line {mark.line + 1}" if mark else ""
            self.add(
                self.name(chunk.file), None, key.strip("'\""), f"{exc.problem}{where}: give each key once"
            )
            return None
        except AliasError as exc:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}" if mark else ""
            self.add(
                self.name(chunk.file), None, None,
                f"YAML {exc.problem}{where}: anchors and aliases are not read; write the value out",
            )  # fmt: skip
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            self.add(self.name(chunk.file), None, None, f"malformed YAML{where}")
            return None
        if raw is None:
            self.add(self.name(chunk.file), None, None, "file is empty")
        return raw

    def check_text(self, raw: Any, file: str, record: str | None) -> bool:
        """Control characters (and other text no page can carry) are refused, by field."""
        clean = True
        for where, text in _texts(raw):
            bad = FORBIDDEN_TEXT.search(text)
            if bad:
                code = f"U+{ord(bad.group()):04X}"
                self.add(file, record, where or None, f"control or non-text character {code} in the text")
                clean = False
        return clean

    def validate(self, model: type[M], raw: Any, file: str, record: str | None) -> M | None:
        if not self.check_text(raw, file, record):
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                field = ".".join(str(part) for part in err["loc"]) or None
                self.add(file, record, field, err["msg"])
            return None


def _record_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return str(value) if value is not None else None


def _validate_list(c: _Collector, file: str, raw: Any, key: str, model: type[M]) -> dict[str, M]:
    """Validate each record of a ``key:`` list separately, so one bad record names itself."""
    out: dict[str, M] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict) or not isinstance(raw.get(key), list):
        c.add(file, None, key, f"expected a mapping with a '{key}' list")
        return out
    for index, item in enumerate(raw[key]):
        record = _record_id(item) or f"#{index + 1}"
        obj = c.validate(model, item, file, record)
        if obj is None:
            c.invalid_ids.add(record)
            continue
        obj_id = str(getattr(obj, "id"))  # noqa: B009 - every listed model has an id
        if obj_id in out:
            c.add(file, obj_id, "id", "duplicate id")
        out[obj_id] = obj
    return out


def split_incidents(data_dir: Path, lines_per_part: int) -> list[Part]:
    """The incident records cut into parts of about ``lines_per_part`` records, in file order."""
    return list(files.scan(data_dir.resolve(), lines_per_part).parts)


def dataset_version(data_dir: Path) -> str:
    """The version of the data as it is now (``files.scan``)."""
    return files.scan(data_dir.resolve()).version


def load_dataset(data_dir: Path, scan: Scan | None = None) -> Dataset:
    """Load ``data_dir`` or raise ``DataError`` listing every problem (never a partial result).

    ``scan``: what to read (``files.scan``; a worker gets one part of it), its version being the
    dataset's. Without it, the directory is scanned here, and scanned again if a file changes
    while it is read.
    """
    data_dir = data_dir.resolve()
    if not data_dir.is_dir():
        raise DataError([Problem(str(data_dir), None, None, "data directory does not exist")])
    if scan is not None:
        return _load(data_dir, scan, whole=False)
    for _attempt in range(READ_ATTEMPTS):
        try:
            return _load(data_dir, files.scan(data_dir), whole=True)
        except ChangedError:
            continue
    raise DataError([Problem(str(data_dir), None, None, "the data kept changing while it was read")])


def _load(data_dir: Path, scan: Scan, whole: bool) -> Dataset:
    """Parse what ``scan`` lists (``ChangedError`` if a file's bytes are not the scanned ones).

    ``whole``: the scan covers every incident (otherwise the caller checks what spans parts: ids
    unique across them, and that there are incidents at all)."""
    c = _Collector(data_dir)
    for refused in scan.refused:
        c.add(c.name(refused.file), None, None, refused.message)
    raws = {
        stem: c.read_yaml(scan.reference[stem], scan.missing.get(stem, ""), f"{stem}.yaml")
        for stem in (SOURCES, SITES, ZONE)
    }
    sources_file = c.name(_file_of(scan, SOURCES))
    sites_file = c.name(_file_of(scan, SITES))
    zone_file = c.name(_file_of(scan, ZONE))
    sources = _validate_list(c, sources_file, raws[SOURCES], "sources", Source)
    sites = _validate_list(c, sites_file, raws[SITES], "sites", Site)
    zone_raw = raws[ZONE]
    zone = c.validate(Zone, zone_raw, zone_file, _record_id(zone_raw)) if zone_raw else None

    incidents: list[Incident] = []
    incident_files: dict[str, str] = {}
    incident_chunks: dict[str, Chunk] = {}
    if whole and not scan.incident_chunks:
        c.add(c.name(files.INCIDENTS_DIR), None, None, "no incident files (*.yaml, *.yml or *.jsonl) found")

    def add_incident(raw: Any, file: str, where: str, chunk: Chunk) -> None:
        incident = c.validate(Incident, raw, file, _record_id(raw) or where or None)
        if incident is None:
            return
        if incident.id in incident_files:
            c.add(file, incident.id, "id", f"duplicate id (also in {incident_files[incident.id]})")
            return
        incident_files[incident.id], incident_chunks[incident.id] = file, chunk
        incidents.append(incident)

    for chunk in (chunk for part in scan.parts for chunk in part.chunks):
        file = c.name(chunk.file)
        if chunk.kind == "yaml":
            raw = c.read_yaml(chunk)
            if raw is not None:
                add_incident(raw, file, "", chunk)
            continue
        # Bulk files (generated, e.g. from an event export): one incident per line, as JSON, in
        # the same schema as the YAML files; a problem names the line when the id is unknown.
        text = c.text(chunk)
        for number, line in enumerate((text or "").split("\n"), start=chunk.first_line):
            if not line.strip():
                continue
            try:
                raw = parse_json(line)
            except _Duplicate as exc:
                c.add(file, f"line {number}", str(exc), f"duplicate key {str(exc)!r}: give each key once")
                continue
            except ValueError:
                c.add(file, f"line {number}", None, "malformed JSON")
                continue
            add_incident(raw, file, f"line {number}", chunk)

    borders = _read_borders(c, scan.reference[BORDERS_FILE])
    records = Records(sources, sites, zone, incidents, borders)
    check_references(c, records, sites_file, zone_file, incident_files)
    for problem in check_extent(zone, sites, incidents):
        file = incident_files[problem.record] if problem.kind == "incident" else sites_file
        c.add(file, problem.record, problem.field, problem.message)
    # Only for the whole directory (a part's incidents may leave uncited what other parts cite),
    # and only when every record is valid (an invalid one may be the one that cites a source).
    if whole and not c.problems:
        for source_id in uncited_sources(records):
            c.add(sources_file, source_id, "id", UNCITED)

    if c.problems or zone is None:
        raise DataError(c.problems or [Problem(zone_file, None, None, "no zone")])
    incidents.sort(key=lambda i: (i.date.start, i.id))
    return Dataset(
        sources=sources,
        sites=sites,
        zone=zone,
        incidents=incidents,
        borders=borders,
        version=scan.version,
        incident_files=incident_files,
        incident_chunks=incident_chunks,
    )


def _file_of(scan: Scan, stem: str) -> str:
    chunk = scan.reference.get(stem)
    return chunk.file if chunk is not None else f"{stem}.yaml"


def _read_borders(c: _Collector, chunk: Chunk | None) -> dict[str, Any]:
    if chunk is None:
        c.add(c.name(BORDERS_FILE), None, None, "file is missing")
        return {}
    text = c.text(chunk)
    if text is None:
        return {}
    try:
        borders = parse_json(text)
    except ValueError:
        c.add(c.name(chunk.file), None, None, "malformed JSON (or a key given twice)")
        return {}
    if not isinstance(borders, dict) or borders.get("type") != "FeatureCollection":
        c.add(c.name(chunk.file), None, "type", "expected a GeoJSON FeatureCollection")
        return {}
    return borders if _check_borders(c, c.name(chunk.file), borders) else {}


def _check_borders(c: _Collector, file: str, borders: dict[str, Any]) -> bool:
    """Each feature a named (Multi)Polygon within lon -180..180, lat -90..90: the countries of a
    region are computed from them (``app.geo.countries``)."""
    features = borders.get("features")
    if not isinstance(features, list):
        c.add(file, None, "features", "expected a list of features")
        return False
    clean = True
    for i, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        name = props.get("name") if isinstance(props, dict) else None
        if not isinstance(name, str) or not name.strip():
            c.add(file, f"#{i + 1}", f"features.{i}.properties.name", "a border feature needs a 'name'")
            clean = False
            continue
        if not c.check_text(name, file, name):
            clean = False
            continue
        try:
            geometry = shapely.geometry.shape(feature.get("geometry"))
        except Exception:
            geometry = None
        if geometry is None or geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
            c.add(file, name, f"features.{i}.geometry", "expected a GeoJSON Polygon or MultiPolygon")
            clean = False
            continue
        west, south, east, north = geometry.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):  # NaN fails too
            c.add(file, name, f"features.{i}.geometry", "coordinates outside lon -180..180, lat -90..90")
            clean = False
    return clean
