"""An on-disk cache of the derived data, for large datasets whose start-up is mostly derivation.

The key is the dataset version (a hash of the bytes of every data file parsed) together with a
fingerprint of the code that derives and serialises (its source files and the versions of the
geometry libraries), so a cache entry can never describe other data or other rules: any change
to either gives a new key. Entries are written only after a complete, valid build, into a
staging directory (locked by its writer), every file and directory fsynced, and then renamed into
place. Each entry lists the CRC-32 of every file it holds; the list is checked whenever the entry is
mapped, so a damaged entry (a flipped byte, a truncated file) is never served. Entries hold Arrow
IPC files and JSON, never pickles, so reading one cannot run code; the directory must belong
to the service's user and be writable by nobody else (0700 when it is created here).

Whatever goes wrong with the cache (the directory is a file, read-only, full, writable by others,
or an entry is damaged) is a ``CacheFault`` with one line that names the directory and the cause;
the caller then serves without the cache (``app.served.load_served``).
"""

from __future__ import annotations

import ast
import errno
import fcntl
import functools
import hashlib
import os
import platform
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TypeVar

import orjson
from zlib_ng import zlib_ng

T = TypeVar("T")
APP_DIR = Path(__file__).resolve().parent.parent
# What computes the rows of a cache entry: these modules and every module of ``app`` they import
# (``deriving_code``); not app.data.derive, which only routes records. A record's rows are kept
# while its key (which holds this code's hash) stands, so a change to any of these gives new keys.
DERIVING_ROOTS = ("app.data.loader", "app.data.catalog", "app.api.features", "app.data.store_file")
CHECKSUMS = "checksums.json"
STAGING_SUFFIX = ".tmp"
LOCK = "writer.lock"
# A staging directory younger than this is never taken for stale (its writer may not hold the
# lock yet); older and unlocked, its writer is gone (a kill -9, a crash, a power cut).
STALE_AFTER_S = 60.0


class CacheFault(Exception):
    """The cache cannot be used; the message is one line naming the directory and the cause."""


class DamagedEntry(CacheFault):
    """An entry is not what was sealed (``verify``) or cannot be read; it is removed when found."""


@functools.cache  # the code of a running process does not change
def deriving_code() -> list[Path]:
    """The source files of ``DERIVING_ROOTS`` and of every ``app`` module they import, found
    by reading their import statements (``ast``; those under ``if TYPE_CHECKING:`` run nothing)."""
    found, todo = set[str](), list(DERIVING_ROOTS)
    while todo:
        module = todo.pop()
        path = APP_DIR.parent / (module.replace(".", "/") + ".py")
        if module in found or not path.is_file():  # a package: its modules are named one by one
            continue
        found.add(module)
        tree = ast.parse(path.read_bytes())
        typing = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
        for node in ast.walk(ast.Module([n for n in tree.body if n not in typing], [])):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
                todo.extend([node.module, *(f"{node.module}.{alias.name}" for alias in node.names)])
            elif isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names if alias.name.startswith("app."))
    return sorted(APP_DIR.parent / (m.replace(".", "/") + ".py") for m in found)


def code_fingerprint() -> str:
    """A hash of ``deriving_code`` and of the versions of the libraries that derive and write."""
    digest = hashlib.sha256()
    for source in deriving_code():
        digest.update(source.relative_to(APP_DIR).as_posix().encode())
        digest.update(source.read_bytes())
    for name in ("shapely", "pyproj", "orjson", "pydantic", "numpy", "pyarrow"):
        digest.update(f"{name}={package_version(name)}".encode())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()[:16]


def _why(error: OSError) -> str:
    """An OS error in a few words: "read-only file system", "no space left on device"."""
    if error.errno is not None:
        return os.strerror(error.errno).lower()
    return str(error)


def _crc(path: Path) -> int:
    """CRC-32 of the file, read a megabyte at a time without readahead of its own
    (``POSIX_FADV_RANDOM``; ``WILLNEED`` first reads what is not cached, in small folios): pages
    read ahead are cached in folios of up to 2 MB, and a process that maps the file maps a folio
    whole when it touches one byte of it (Linux 6.18; see ``app.data.store_file.write``). Read
    through a map instead, a 535 MB file not cached took 8.2 s against 1.4 (the map's faults read
    4 KB at a time)."""
    crc, buffer = 0, bytearray(1 << 20)
    with path.open("rb", buffering=0) as source:
        os.posix_fadvise(source.fileno(), 0, 0, os.POSIX_FADV_WILLNEED)
        os.posix_fadvise(source.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        while read := source.readinto(buffer):
            crc = zlib_ng.crc32(memoryview(buffer)[:read], crc)  # zlib's CRC-32, in a third of the time
    return crc


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != CHECKSUMS)


def seal(entry: Path) -> None:
    """Write the entry's checksums, then fsync every file and directory of it."""
    sums = {p.relative_to(entry).as_posix(): [_crc(p), p.stat().st_size] for p in _files(entry)}
    (entry / CHECKSUMS).write_bytes(orjson.dumps(sums))
    for path in [*_files(entry), entry / CHECKSUMS]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for directory in sorted({p.parent for p in _files(entry)} | {entry}, reverse=True):
        fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in the directory durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify(*entries: Path) -> None:
    """``CacheFault`` unless every file of each entry (or part) is there with its size and CRC-32."""
    items: list[tuple[Path, str, int, int]] = []
    for entry in entries:
        try:
            sums = orjson.loads((entry / CHECKSUMS).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            raise DamagedEntry(
                f"cache entry {entry} is damaged: its checksum list is missing or unreadable"
            ) from None
        present = {p.relative_to(entry).as_posix() for p in _files(entry)}
        if present != set(sums):
            odd = sorted(present ^ set(sums))[0]
            raise DamagedEntry(f"cache entry {entry} is damaged: file {odd} is missing or unlisted")
        items.extend((entry, name, crc, size) for name, (crc, size) in sums.items())

    def intact(item: tuple[Path, str, int, int]) -> bool:
        entry, name, crc, size = item
        return (entry / name).stat().st_size == size and _crc(entry / name) == crc

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # every core reads
        for (entry, name, *_), ok in zip(items, pool.map(intact, items), strict=True):
            if not ok:
                raise DamagedEntry(f"cache entry {entry} is damaged: {name} does not match its checksum")


def check_directory(cache_dir: Path) -> None:
    """The directory exists (created 0700 if it did not), is a directory, belongs to this user
    and is writable by nobody else; ``CacheFault`` naming the cause otherwise."""
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise CacheFault(f"cache directory {cache_dir} is not a directory") from None
    except OSError as error:
        raise CacheFault(f"cache directory {cache_dir} cannot be created: {_why(error)}") from None
    info = cache_dir.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise CacheFault(f"cache directory {cache_dir} is not a directory")
    if info.st_uid != os.getuid():
        raise CacheFault(f"cache directory {cache_dir} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o022:
        mode = f"{stat.S_IMODE(info.st_mode):04o}"
        raise CacheFault(f"cache directory {cache_dir} is writable by others (mode {mode}); make it 0700")


def clean_stale(cache_dir: Path, now: float | None = None) -> list[Path]:
    """Remove staging directories their writer left behind (killed mid-write); returns them.

    A writer holds an exclusive lock on its staging directory's lock file while it writes, so a
    staging directory is stale when its lock can be taken and it is older than ``STALE_AFTER_S``.
    """
    removed = []
    now = time.time() if now is None else now
    for staging in cache_dir.glob(f"*{STAGING_SUFFIX}"):
        try:
            if not staging.is_dir() or now - staging.stat().st_mtime < STALE_AFTER_S:
                continue
            lock = staging / LOCK
            if lock.exists():
                with lock.open("rb") as held:
                    try:
                        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its writer is alive
            shutil.rmtree(staging)
            removed.append(staging)
        except OSError:
            continue  # another process cleaned it, or it cannot be removed: not ours to fail on
    return removed


def cached(
    cache_dir: Path,
    dataset_version: str,
    build: Callable[[Path], object],
    load: Callable[[Path], T],
) -> T:
    """``load`` of the entry for this data and code, written by ``build(directory)`` first if
    there is none.

    An entry is a directory written under a temporary name and renamed into place when
    complete and sealed, so a reader never meets half an entry; a worker that loses the race to
    write the same entry reads the winner's (the same data and code give the same entry).
    ``CacheFault`` for anything wrong with the cache (a damaged entry is removed first); the
    exceptions of ``build`` that are not about the cache (invalid data) pass through.
    """
    check_directory(cache_dir)
    with locked(cache_dir):
        clean_stale(cache_dir)
        entry = entry_for(cache_dir, dataset_version)
        written = not entry.is_dir() and _write(cache_dir, entry, build)
        try:
            if not written:  # one just written was read back to seal it
                verify(entry)
            return load(entry)
        except CacheFault:
            _discard(entry)
            raise
        except (OSError, ValueError, KeyError) as error:
            _discard(entry)
            raise DamagedEntry(f"cache entry {entry} cannot be read: {error}") from None


def entry_for(cache_dir: Path, dataset_version: str) -> Path:
    """Where the entry of this data and this code is (or would be)."""
    return cache_dir / f"{dataset_version}-{code_fingerprint()}"


@contextmanager
def locked(cache_dir: Path) -> Iterator[None]:
    """One process at a time in the cache: it writes, or reads what another might remove."""
    try:
        lock = (cache_dir / LOCK).open("ab")
    except OSError as error:
        raise CacheFault(f"cache directory {cache_dir} is not writable: {_why(error)}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write(cache_dir: Path, entry: Path, build: Callable[[Path], object]) -> bool:
    """Whether the entry was written here (False: another worker wrote it first)."""
    try:
        staging = Path(tempfile.mkdtemp(dir=cache_dir, suffix=STAGING_SUFFIX))
    except OSError as error:
        raise CacheFault(f"cache directory {cache_dir} is not writable: {_why(error)}") from None
    try:
        with (staging / LOCK).open("wb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            build(staging / "entry")
            seal(staging / "entry")
            os.rename(staging / "entry", entry)
            fsync_dir(cache_dir)
        return True
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST) and entry.is_dir():
            return False  # another worker wrote the same entry first
        raise CacheFault(f"cache directory {cache_dir}: writing an entry failed: {_why(error)}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _discard(entry: Path) -> None:
    """Move a damaged entry out of the way (so the next start writes it again), then remove it."""
    try:
        doomed = Path(tempfile.mkdtemp(dir=entry.parent, suffix=STAGING_SUFFIX))
        os.rename(entry, doomed / "entry")
        shutil.rmtree(doomed, ignore_errors=True)
    except OSError:
        pass  # read-only: the next start meets it again, and again serves without it
