"""Which files of a data directory are read, cut into the chunks that are parsed, and the version.

The loader reads every file it serves and refuses, by name, every file it would not read:

- the reference files ``sources``, ``sites`` and ``zone`` (``.yaml`` or ``.yml``, any case) and
  ``borders.geojson`` at the top of the directory;
- every file under ``incidents/``, at any depth, following symbolic links (a linked directory is
  read like a real one; a link cycle or a dangling link is refused): ``.yaml``/``.yml`` files hold
  one incident, ``.jsonl`` files one incident per line; any other file there is refused.

``scan`` reads each of these files once, hashing its bytes, and cuts the incident records into
parts. The dataset version is a hash over the files' paths and their bytes' SHA-256. Each chunk
carries the SHA-256 of its own bytes, and the parser (``read_chunk``) checks that the bytes it is
about to parse are exactly those: a file edited between the scan and the parse is caught
(``ChangedError``), so what is served is always what the version names.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

SOURCES = "sources"
SITES = "sites"
ZONE = "zone"
BORDERS_FILE = "borders.geojson"
INCIDENTS_DIR = "incidents"
YAML_SUFFIXES = (".yaml", ".yml")
BULK_SUFFIX = ".jsonl"

Kind = Literal["yaml", "jsonl", "json"]


@dataclass(frozen=True)
class Chunk:
    """Bytes the loader parses: a whole file, or a range of whole lines of a bulk file.

    ``file``: the path relative to the data directory (POSIX, as found, links not resolved);
    ``start``/``end``: byte offsets (``end`` exclusive); ``first_line``: the line number of
    ``start`` (1-based); ``digest``: SHA-256 (hex) of the bytes.
    """

    file: str
    kind: Kind
    digest: str
    start: int = 0
    end: int = 0
    first_line: int = 1


@dataclass(frozen=True)
class Refused:
    """A file the loader will not read, and why (reported as a data problem)."""

    file: str
    message: str


@dataclass(frozen=True)
class Part:
    """A share of the incident records: some YAML files, or some lines of a bulk file."""

    chunks: tuple[Chunk, ...]


@dataclass(frozen=True)
class Scan:
    """What a data directory holds: the reference files (by name; None when missing), the
    incident records cut into parts, the files refused, and the dataset version."""

    version: str
    reference: dict[str, Chunk | None]
    parts: tuple[Part, ...]
    refused: tuple[Refused, ...] = ()
    missing: dict[str, str] = field(default_factory=dict)  # name -> why (missing, two spellings)

    def only(self, part: Part) -> Scan:
        """The same scan with one part and nothing refused (a worker's share)."""
        return replace(self, parts=(part,), refused=())

    @property
    def incident_chunks(self) -> int:
        return sum(len(part.chunks) for part in self.parts)


class ChangedError(Exception):
    """A file's bytes changed between the scan and the parse."""

    def __init__(self, file: str) -> None:
        super().__init__(f"{file} changed while the data was being read")
        self.file = file


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _reference(data_dir: Path, stem: str) -> tuple[Path | None, str | None]:
    """The top-level YAML file ``stem`` in any spelling (.yaml/.yml, any case), or why not."""
    found = sorted(
        p for p in data_dir.iterdir() if p.name.lower() in {stem + s for s in YAML_SUFFIXES} and p.is_file()
    )
    if len(found) > 1:
        return None, f"two spellings of one file: {', '.join(p.name for p in found)}; keep one"
    if not found:
        return None, "file is missing"
    return found[0], None


def incident_files(data_dir: Path) -> tuple[list[tuple[Path, Kind]], list[Refused]]:
    """Every file under ``incidents/`` (any depth, links followed), in path order, with its kind;
    and the ones refused."""
    root = data_dir / INCIDENTS_DIR
    files: list[tuple[Path, Kind]] = []
    refused: list[Refused] = []
    if not root.is_dir():
        return files, refused
    seen_dirs: set[tuple[int, int]] = set()

    def walk(directory: Path) -> None:
        info = directory.stat()
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            refused.append(Refused(_rel(data_dir, directory), "directory link cycle (or a second link to "
                                   "a directory already read); remove the link"))  # fmt: skip
            return
        seen_dirs.add(key)
        for entry in sorted(directory.iterdir(), key=lambda p: p.name):
            if entry.is_dir():  # follows links
                walk(entry)
            elif not entry.exists():
                refused.append(Refused(_rel(data_dir, entry), "dangling link; remove it or fix its target"))
            elif not entry.is_file():
                refused.append(Refused(_rel(data_dir, entry), "not a regular file"))
            elif entry.suffix.lower() in YAML_SUFFIXES:
                files.append((entry, "yaml"))
            elif entry.suffix.lower() == BULK_SUFFIX:
                files.append((entry, "jsonl"))
            else:
                why = "not read: incident files are .yaml, .yml (one incident) or .jsonl (one per line)"
                refused.append(Refused(_rel(data_dir, entry), f"{why}; rename or move it"))

    walk(root)
    return files, refused


def _rel(data_dir: Path, path: Path) -> str:
    return path.relative_to(data_dir).as_posix()


def _bulk_chunks(path: Path, rel: str, lines_per_part: int, version: hashlib._Hash) -> list[Chunk]:
    """A bulk file cut at line boundaries into chunks of ``lines_per_part`` lines, each with the
    SHA-256 of its bytes; the whole file's SHA-256 goes into ``version``."""
    whole = hashlib.sha256()
    chunks: list[Chunk] = []
    piece = hashlib.sha256()
    start = offset = 0
    first = line_no = 1
    count = 0
    with path.open("rb") as source:
        for line in source:
            whole.update(line)
            piece.update(line)
            offset += len(line)
            count += 1
            line_no += 1
            if count == lines_per_part:
                chunks.append(Chunk(rel, "jsonl", piece.hexdigest(), start, offset, first))
                piece, start, first, count = hashlib.sha256(), offset, line_no, 0
    if count or not chunks:
        chunks.append(Chunk(rel, "jsonl", piece.hexdigest(), start, offset, first))
    _add_file(version, rel, whole.hexdigest())
    return chunks


def _add_file(version: hashlib._Hash, rel: str, digest: str) -> None:
    version.update(rel.encode())
    version.update(b"\0")
    version.update(digest.encode())
    version.update(b"\0")


def scan(data_dir: Path, lines_per_part: int | None = None) -> Scan:
    """Read every data file once: its chunks with their digests, the parts (about
    ``lines_per_part`` records each; None: one part) and the version (16 hex digits)."""
    per_part = lines_per_part or 2**62
    version = hashlib.sha256()
    reference: dict[str, Chunk | None] = {}
    missing: dict[str, str] = {}
    for stem in (SOURCES, SITES, ZONE):
        path, why = _reference(data_dir, stem)
        if path is None:
            reference[stem], missing[stem] = None, why or "file is missing"
            continue
        reference[stem] = _whole(data_dir, path, "yaml")
    borders = data_dir / BORDERS_FILE
    reference[BORDERS_FILE] = _whole(data_dir, borders, "json") if borders.is_file() else None
    if reference[BORDERS_FILE] is None:
        missing[BORDERS_FILE] = "file is missing"
    files, refused = incident_files(data_dir)
    parts: list[Part] = []
    yaml_chunks: list[Chunk] = []
    bulk: list[Chunk] = []
    for path, kind in files:
        rel = _rel(data_dir, path)
        if kind == "yaml":
            yaml_chunks.append(_whole(data_dir, path, "yaml"))
        else:
            bulk.extend(_bulk_chunks(path, rel, per_part, version))
    for chunk in (*reference.values(), *yaml_chunks):
        if chunk is not None:
            _add_file(version, chunk.file, chunk.digest)
    for first in range(0, len(yaml_chunks), per_part):
        parts.append(Part(tuple(yaml_chunks[first : first + per_part])))
    parts.extend(Part((chunk,)) for chunk in bulk)
    if lines_per_part is None and len(parts) > 1:
        parts = [Part(tuple(c for p in parts for c in p.chunks))]
    return Scan(version.hexdigest()[:16], reference, tuple(parts), tuple(refused), missing)


def _whole(data_dir: Path, path: Path, kind: Kind) -> Chunk:
    data = path.read_bytes()
    return Chunk(_rel(data_dir, path), kind, _digest(data), 0, len(data))


def read_chunk(data_dir: Path, chunk: Chunk) -> bytes:
    """The chunk's bytes, checked against its digest (``ChangedError`` if they differ)."""
    with (data_dir / chunk.file).open("rb") as source:
        os.lseek(source.fileno(), chunk.start, os.SEEK_SET)
        data = source.read(chunk.end - chunk.start)
        if chunk.kind != "jsonl" and source.read(1):
            raise ChangedError(chunk.file)  # it grew
    if _digest(data) != chunk.digest:
        raise ChangedError(chunk.file)
    return data
