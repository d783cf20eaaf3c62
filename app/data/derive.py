"""The incident records a store does not hold yet, loaded, validated and derived into a store's
columns: one path for both stores (the embedded entries, ``app.served``; the PostGIS load,
``app.data.pg_load``).

A record (a YAML file, or one line of a ``.jsonl`` file) is named by its key
(``record_keys``: a hash of its bytes, of the reference files and of the deriving
code, ``cache.code_fingerprint``). A store says what it holds as ``Held``; only the other records
are read, in parts of ``RECORDS_PER_PART`` on every core. What spans records is checked over
held and new alike: each incident id once, every listed source cited, incident files at all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from app.api.features import build_collections
from app.data import files, store_file
from app.data.cache import code_fingerprint
from app.data.catalog import build_catalog
from app.data.files import Chunk, Part, Scan
from app.data.loader import DataError, Dataset, Problem, load_dataset
from app.data.references import UNCITED, Records, uncited_sources
from app.data.schema import SCHEMA
from app.data.served_meta import meta

# Records are derived in parts of this many, on every core when there are several parts:
# derivation is almost all of a cold start, and it is independent per record.
RECORDS_PER_PART = 2_000
DERIVED = ("events", "regions")  # the collections made of incident records
REFERENCE = ("sites", "zones", "borders")  # the others: reference data

Held = dict[str, str | None]  # the records a store holds: each one's key and incident id (None: a blank line)
Record = tuple[str | None, list[str]]  # a record derived: its incident's id and the sources it cites
# The sources the held records cite, leaving out those of these keys (the records gone): asked once
# per load, so a store need not hand over every record's citations.
CitedBut = Callable[[set[str]], set[str]]


@dataclass(frozen=True)
class Loaded:
    """What a load did, counted in incidents (``at-tanf-map load`` prints it)."""

    version: str
    derived: int  # read, validated and derived (their records new)
    removed: int  # gone with their records (none of their id derived again)
    unchanged: int  # their records held, kept as they were


@dataclass(frozen=True)
class Derived:
    # Each collection's table (``SCHEMA``): the derived records' events and regions; the reference
    # data (sites, zones, borders) whole.
    tables: dict[str, pa.Table]
    meta: dict[str, Any]  # ``served_meta.meta`` of the scan's dataset
    new: dict[str, Record]  # the records derived, by key
    gone: set[str]  # the keys of the held records no longer in the directory

    def loaded(self, held: Held) -> Loaded:
        """This derivation counted against what the store held before it."""
        new = {fid for fid, _ in self.new.values()} - {None}
        gone = {held[key] for key in self.gone} - {None}
        unchanged = sum(1 for fid in held.values() if fid is not None) - len(gone)
        return Loaded(self.meta["version"], len(new), len(gone - new), unchanged)


def derive(
    data_dir: Path, scan: Scan, held: Held, cited_but: CitedBut, scratch: Path,
    records_per_part: int = RECORDS_PER_PART, embedded: bool = True,
) -> Derived:  # fmt: skip
    """The records of ``scan`` not ``held``, derived (their parts written in ``scratch``, which
    must exist), and the reference data, with the columns the embedded store alone reads or not
    (``embedded``, ``store_file.columns_of``). ``DataError`` names every problem found in any part;
    ``ChangedError`` if a file is not what ``scan`` read."""
    chunks = [chunk for part in scan.parts for chunk in part.chunks]
    keys = record_keys(scan, code_fingerprint())
    by_key = dict(zip(keys, chunks, strict=True))
    todo = [key for key in by_key if key not in held]
    batches = [todo[at : at + records_per_part] for at in range(0, len(todo), records_per_part)]
    parts = [scratch / str(k) for k in range(len(batches))]
    shares = [scan.only(Part(tuple(by_key[key] for key in batch))) for batch in batches]
    args = (repeat(data_dir), shares, batches, parts, repeat(embedded))
    if len(batches) <= 1:
        built = list(map(_derive_part, *args))
    else:
        # "spawn": the caller may be a server with threads running, which fork does not go with.
        with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
            built = list(pool.map(_derive_part, *args))
    problems = [Problem(f"{data_dir.name}/{r.file}", None, None, r.message) for r in scan.refused]
    try:  # the reference data alone (every part read it too: its problems are theirs)
        reference = load_dataset(data_dir, scan.only(Part(())))
    except DataError as error:
        problems += error.problems
    problems = list(dict.fromkeys([*problems, *(p for found in built for p in found)]))  # each once
    if problems:
        raise DataError(problems)
    new: dict[str, Record] = {}
    for part in parts:
        new |= {key: (fid, cited) for key, fid, cited in orjson.loads((part / "records.json").read_bytes())}
    gone = held.keys() - by_key.keys()
    problems = _spanning(data_dir, scan, chunks, [new[key][0] if key in new else held[key] for key in keys])
    cited = cited_but(gone) | {source for _, sources in new.values() for source in sources}
    problems = problems or _uncited(data_dir, scan, reference, cited)
    if problems:
        raise DataError(problems)
    if parts:  # the reference data as the first part derived it
        tables = {cid: store_file.read(parts[0] / f"{cid}.arrow") for cid in REFERENCE}
        dataset_meta = orjson.loads((parts[0] / "meta.json").read_bytes()) | {"version": scan.version}
    else:
        collections = build_collections(build_catalog(reference))
        tables = {cid: store_file.columns_of(collections[cid].rows, embedded).table() for cid in REFERENCE}
        dataset_meta = meta(scan.version, reference.zone, reference.sites, reference.borders, collections)
    for cid in DERIVED:
        found = [store_file.read(part / f"{cid}.arrow") for part in parts]
        tables[cid] = pa.concat_tables(found) if found else SCHEMA.empty_table()
    return Derived(tables, dataset_meta, new, gone)


def _derive_part(data_dir: Path, scan: Scan, keys: list[str], out: Path, embedded: bool) -> list[Problem]:
    """Load and derive the records ``scan`` holds (``keys``: theirs, in order), and write every
    collection's table in the directory ``out``, with ``records.json`` (each record's key, incident
    id and sources cited) and ``meta.json``: a worker hands back a path, not gigabytes through a
    pipe. Returns the data's problems."""
    try:
        dataset = load_dataset(data_dir, scan)
    except DataError as error:
        return error.problems
    collections = build_collections(build_catalog(dataset))
    out.mkdir()
    for cid, c in collections.items():
        store_file.write(store_file.columns_of(c.rows, embedded).table(), out / f"{cid}.arrow")
    meta_json = meta("", dataset.zone, dataset.sites, dataset.borders, collections)
    (out / "meta.json").write_bytes(orjson.dumps(meta_json))
    ids = {chunk: incident_id for incident_id, chunk in dataset.incident_chunks.items()}
    cited = {inc.id: sorted({c.source for c in inc.sources}) for inc in dataset.incidents}
    chunks = [chunk for part in scan.parts for chunk in part.chunks]
    records = [[key, ids.get(c), cited.get(ids.get(c, ""), [])] for key, c in zip(keys, chunks, strict=True)]
    (out / "records.json").write_bytes(orjson.dumps(records))
    return []


def _uncited(data_dir: Path, scan: Scan, reference: Dataset, cited: set[str]) -> list[Problem]:
    """The listed sources that no record (``cited``: what the records cite), site or zone cites."""
    sources = scan.reference[files.SOURCES]
    records = Records(reference.sources, reference.sites, reference.zone, [], reference.borders)
    file = f"{data_dir.name}/{sources.file if sources else ''}"
    return [Problem(file, source, "id", UNCITED) for source in uncited_sources(records, cited)]


def _spanning(data_dir: Path, scan: Scan, chunks: list[Chunk], ids: list[str | None]) -> list[Problem]:
    """What no part of a load can check alone: each incident id once (``ids``: each chunk's,
    None for a blank line), and incident files at all."""
    problems, first = [], dict[str, Chunk]()
    for chunk, fid in zip(chunks, ids, strict=True):
        if fid is not None and fid in first:
            also = f"duplicate id (also in {data_dir.name}/{first[fid].file})"
            problems.append(Problem(f"{data_dir.name}/{chunk.file}", fid, "id", also))
        elif fid is not None:
            first[fid] = chunk
    if not scan.incident_chunks:
        problems.append(Problem(f"{data_dir.name}/{files.INCIDENTS_DIR}", None, None,
                                "no incident files (*.yaml, *.yml or *.jsonl) found"))  # fmt: skip
    return problems


def record_keys(scan: Scan, code: str) -> list[str]:
    """Each incident record's key (``scan`` cut one record a part): the hash of its bytes (not its
    file or line: a record that moves keeps its key), of the reference files and of ``code`` (a
    version of what derives it)."""
    prefix = orjson.dumps([code, [c and [c.file, c.digest] for c in scan.reference.values()]])
    return [hashlib.sha256(prefix + c.digest.encode()).hexdigest()[:32] for p in scan.parts for c in p.chunks]
