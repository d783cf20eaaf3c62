"""Files mapped into memory read-only without keeping a file descriptor open.

Python's ``mmap.mmap`` (before 3.13's ``trackfd=False``) and so ``np.load(mmap_mode=...)`` keep a
duplicate descriptor of every mapped file for the life of the map: a store of some 40 files per
collection held about 215 descriptors per serving process, which a low ``ulimit -n`` and a few
hundred connections exhaust. Here the file is mapped with the C library's ``mmap`` and its
descriptor closed at once (a mapping does not need it); the map is released when the last array
or slice over it is garbage (``weakref.finalize``).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import weakref
from pathlib import Path
from typing import Any

import numpy as np

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
)
_libc.munmap.restype = ctypes.c_int
_libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_MAP_FAILED = ctypes.c_void_p(-1).value


def _map(path: Path) -> Any:
    """The whole file as a read-only ctypes byte array over a shared mapping (None if empty)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return None
        address = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address in (None, _MAP_FAILED):
            code = ctypes.get_errno()
            raise OSError(code, f"cannot map {path}: {os.strerror(code)}")
    finally:
        os.close(fd)
    buffer = (ctypes.c_char * size).from_address(address)
    weakref.finalize(buffer, _libc.munmap, address, size)
    return buffer


class MappedBytes:
    """A mapped file that slices to ``bytes`` like ``mmap.mmap`` does; ``view`` is a read-only
    memoryview of it all."""

    def __init__(self, path: Path) -> None:
        self._buffer = _map(path)
        self.view = (
            memoryview(self._buffer).cast("B").toreadonly() if self._buffer is not None else memoryview(b"")
        )

    def __len__(self) -> int:
        return len(self.view)

    def __getitem__(self, index: slice) -> bytes:
        return self.view[index].tobytes()


def mapped_array(path: Path) -> np.ndarray:
    """A ``.npy`` file as a read-only array over its mapping (``np.load(mmap_mode="r")`` without
    the descriptor)."""
    with path.open("rb") as source:
        major, _minor = np.lib.format.read_magic(source)
        if major == 1:
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(source)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(source)
        offset = source.tell()
    buffer = _map(path)
    count = int(np.prod(shape, dtype=np.int64))
    if buffer is None or count == 0:
        return np.zeros(shape, dtype=dtype)
    flat = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
    array = flat.reshape(shape, order="F" if fortran else "C")
    array.flags.writeable = False
    return array
