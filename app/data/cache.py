"""An on-disk cache of the derived data, for large datasets whose start-up is mostly derivation.

The key is the dataset version (a hash of every file in the data directory) together with a
fingerprint of the code that derives and serialises (its source files and the versions of the
geometry libraries), so a cache entry can never describe other data or other rules: any change
to either gives a new key. Entries are written only after a complete, valid build, atomically
(temporary directory, then rename). Entries hold numpy arrays, bytes and JSON, never pickles,
so reading one cannot run code; the directory is still created private to the user (0700), as
nobody else should be able to change what the service serves.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
APP_DIR = Path(__file__).resolve().parent.parent
DERIVING_CODE = ["geo", "data", "api/features.py", "served.py"]  # served.py: parts and merging


def code_fingerprint() -> str:
    digest = hashlib.sha256()
    for entry in DERIVING_CODE:
        path = APP_DIR / entry
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(APP_DIR).as_posix().encode())
            digest.update(source.read_bytes())
    for name in ("shapely", "pyproj", "orjson", "pydantic", "numpy"):
        digest.update(f"{name}={package_version(name)}".encode())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()[:16]


def cached(
    cache_dir: Path,
    dataset_version: str,
    build: Callable[[Path], None],
    load: Callable[[Path], T],
) -> T:
    """``load`` of the entry for this data and code, written by ``build(directory)`` first if
    there is none.

    An entry is a directory written under a temporary name and renamed into place when
    complete, so a reader never meets half an entry; a worker that loses the race to write the
    same entry reads the winner's (the same data and code give the same entry).
    """
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if cache_dir.stat().st_uid != os.getuid() or cache_dir.stat().st_mode & 0o022:
        raise PermissionError(
            f"cache directory {cache_dir} must belong to this user and not be writable by others"
        )
    entry = cache_dir / f"{dataset_version}-{code_fingerprint()}"
    if entry.is_dir():
        return load(entry)
    staging = Path(tempfile.mkdtemp(dir=cache_dir, suffix=".tmp"))
    try:
        build(staging / "entry")
        os.rename(staging / "entry", entry)
    except OSError:
        if not entry.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Served from the entry just written, like every later start: the pages of its mapped files
    # are shared with the other workers.
    return load(entry)
