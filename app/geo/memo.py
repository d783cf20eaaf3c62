"""Measures of a region kept by its coordinates: a region met again is not measured again.

Deriving an incident measures the same region several times (a claim's region is its source's
place and, with one source, the incident's common region too: area, share inside the zone and
country shares, each of the same coordinates), and the same claim ("about 30 km from the
garrison") recurs across incidents. ``by_geometry`` keeps a function's answers by its arguments,
its geometries compared by their exact coordinates (``shapely.equals_identical``): a hit is the
answer the function gives those very doubles, so nothing it returns changes, to the bit.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar, cast

import shapely
from shapely.geometry.base import BaseGeometry

P = ParamSpec("P")
R = TypeVar("R")


class Keyed:
    """A geometry as a dictionary key: hashed by its size and bounds (a few microseconds, where
    hashing its WKB takes tens), equal to another of the same kind and identical coordinates."""

    __slots__ = ("_hash", "geometry")

    def __init__(self, geometry: BaseGeometry) -> None:
        self.geometry = geometry
        self._hash = hash((shapely.get_num_coordinates(geometry), *shapely.bounds(geometry).tolist()))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keyed):
            return False
        mine, theirs = self.geometry, other.geometry
        return mine is theirs or bool(shapely.equals_identical(mine, theirs))


def by_geometry(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Keep the answers of a pure function, by its arguments (geometries given by position, and
    values hashable as they are), at most ``maxsize`` of them, the least recently used dropped
    first.

    The answers are shared between callers: they must not be changed.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @lru_cache(maxsize=maxsize)
        def kept(*keys: Any, **named: Any) -> R:
            args = (k.geometry if isinstance(k, Keyed) else k for k in keys)
            return function(*args, **named)

        @wraps(function)
        def answer(*args: Any, **named: Any) -> R:
            return kept(*(Keyed(a) if isinstance(a, BaseGeometry) else a for a in args), **named)

        answer.cache_clear = kept.cache_clear  # type: ignore[attr-defined]
        answer.cache_info = kept.cache_info  # type: ignore[attr-defined]
        return cast(Callable[P, R], answer)

    return decorate
