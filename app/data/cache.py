"""An on-disk cache of the derived data, for large datasets whose start-up is mostly derivation.

The key is the dataset version (a hash of every file in the data directory) together with a
fingerprint of the code that derives and serialises (its source files and the versions of the
geometry libraries), so a cache entry can never describe other data or other rules: any change
to either gives a new key. Entries are written only after a complete, valid build, atomically
(temporary file, then rename). The directory is created private to the user (0700): a cache is
pickled, and must only ever be read from a place nobody else can write to.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import tempfile
from collections.abc import Callable
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
APP_DIR = Path(__file__).resolve().parent.parent
DERIVING_CODE = ["geo", "data", "api/features.py"]


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


def cached(cache_dir: Path, dataset_version: str, build: Callable[[], T]) -> T:
    """``build()``'s result, from the cache when this data and code were built before."""
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if cache_dir.stat().st_uid != os.getuid() or cache_dir.stat().st_mode & 0o022:
        raise PermissionError(
            f"cache directory {cache_dir} must belong to this user and not be writable by others"
        )
    entry = cache_dir / f"{dataset_version}-{code_fingerprint()}.pickle"
    if entry.is_file():
        with entry.open("rb") as source:
            result: T = pickle.load(source)
        return result
    result = build()
    with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False, suffix=".tmp") as target:
        pickle.dump(result, target, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(target.name, entry)
    return result
