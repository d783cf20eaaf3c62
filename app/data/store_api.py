"""What the service asks of a store: the ``Store`` protocol and the values it speaks in.

One store holds one collection (events, regions, sites, zones, borders). The routes, pages, SVG
and export read a store only through these operations, so the embedded store
(``app.data.store.FeatureStore``) and the PostGIS store (``app.data.pg_store``) stand side by side;
mypy checks that each satisfies ``Store``.

Rows: a store names its features by *row handles*, ints that are valid for the life of the store
object (one dataset version). ``query`` and ``page`` give them in the collection's order (first
day, then id; undated features first); a handle means nothing to another store object.

A CQL2 filter reaches a store parsed and checked (``CqlFilter``): the embedded store runs the
in-process evaluator compiled from it, a SQL store translates its tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import orjson
import shapely

from app.geo.geojson import rounded, texts
from app.geo.shapes import simplified

if TYPE_CHECKING:
    from app.data.grid import Cells

# Zone status names and their codes (``Tally.status``, ``Attributes.status``; -1: no status).
STATUS_CODES = {"inside": 0, "outside": 1, "uncertain": 2, "contested": 3}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
NO_DAY = -1  # "no date" in ``Tally.start`` and ``end``: never matches a datetime filter
# Display simplification tolerances a client may ask for (metres); a fixed ladder keeps the
# number of distinct URLs (and so of HTTP cache entries) small whatever clients send.
SIMPLIFY_LADDER_M = (1, 5, 10, 50, 100, 500, 1000)


@dataclass(frozen=True)
class CqlFilter:
    """A CQL2 filter (OGC 21-065r2), parsed and checked against the collection's queryables
    (``app.api.cql.compile_filter``): only the features it is *true* for match (a comparison
    with a null is unknown, as in SQL)."""

    tree: Any  # the cql2-json tree (what cql2-text is parsed into), validated
    collection: str  # whose queryables it names (``app.api.queryables``)
    # The in-process evaluator: (store, sorted row handles) -> the handles kept. Its first argument
    # is an ``app.data.store.FeatureStore``: it reads the embedded store's columns.
    rows_test: Callable[[Any, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ItemQuery:
    """The filters of one items request, already validated (``app.api.params``); all must hold."""

    bbox: tuple[float, float, float, float] | None = None  # CRS84 degrees; minlon > maxlon crosses 180°
    start: dt.date | None = None  # inclusive; None = open
    end: dt.date | None = None  # inclusive; None = open
    has_time_filter: bool = False  # [start, end] meets the feature's days; undated never match
    in_zone: frozenset[str] = frozenset()  # any of these zone statuses (names of STATUS_CODES)
    min_p_inside: float | None = None  # p_inside >= this (0..1); a missing p_inside never matches
    near: tuple[float, float] | None = None  # lon, lat (degrees, WGS84)
    within_m: float | None = None  # with near: geodesic metres on WGS84, to the point or a region
    event_type: str | None = None  # equal, case-insensitive
    event_types: frozenset[str] | None = None  # any of these, case-insensitive (the map's type filter)
    sub_event_type: str | None = None  # equal, case-insensitive
    q: str | None = None  # substring of title or summary, case-insensitive
    filter: CqlFilter | None = None  # a CQL2 filter on the collection's queryables
    ids: frozenset[str] | None = None  # only the features with these ids (the pages' selection)


@dataclass(frozen=True)
class Attributes:
    """Rows' point, zone status and event type (``Store.attributes``), in the rows' order."""

    lon: np.ndarray  # the representative point: float64 degrees, NaN where there is none
    lat: np.ndarray
    status: np.ndarray  # int8 zone status (STATUS_CODES), -1 where there is none
    event_type: np.ndarray  # str objects, "" where there is none

    def take(self, at: np.ndarray) -> Attributes:
        """Those of the rows at ``at`` (indices into these arrays)."""
        return Attributes(self.lon[at], self.lat[at], self.status[at], self.event_type[at])


@dataclass(frozen=True)
class Tally:
    """The matches of one query counted by the store (``Store.tally``), in groups of matches that
    share a zone status code (-1: none), event type (``types[type_code]``), whether they have a
    point (``located``) and first and last day (ordinals, NO_DAY: undated): arrays of one length,
    ``count`` matches each. How finely a store groups is its own (the embedded store: a match
    each; PostGIS: a GROUP BY), so a reader sums over groups, weighted by ``count``."""

    status: np.ndarray  # int8
    type_code: np.ndarray  # int, indices into ``types``
    types: tuple[str, ...]  # event types ("": none)
    located: np.ndarray  # bool
    start: np.ndarray  # int64
    end: np.ndarray  # int64
    count: np.ndarray  # int64

    @property
    def matched(self) -> int:
        return int(self.count.sum())

    @property
    def located_count(self) -> int:
        return int(self.count[self.located].sum())

    def by_status(self) -> dict[str, int]:
        """How many matches have each zone status (every name of STATUS_CODES)."""
        return {s: int(self.count[self.status == code].sum()) for s, code in STATUS_CODES.items()}

    def by_type(self, located: bool = False) -> dict[str, int]:
        """How many matches (with ``located``: located matches) have each event type held."""
        kept = self.located if located else np.ones(len(self.count), dtype=bool)
        n = np.bincount(self.type_code[kept], weights=self.count[kept], minlength=len(self.types))
        return {t: int(k) for t, k in sorted(zip(self.types, n, strict=True)) if k}


class Store(Protocol):
    """One collection's features, read-only. ``rows``: row handles (int64 arrays, collection
    order); what is answered per row comes in the same order."""

    @property
    def blocking(self) -> bool:
        """True when answering waits on a server (call from the thread pool, never the event loop)."""

    def __len__(self) -> int: ...
    def answers(self) -> None:
        """Nothing if the store can answer now, else ``app.errors.Unavailable`` (``/healthz``)."""

    def bounds(self) -> list[float] | None:
        """[minlon, minlat, maxlon, maxlat] (CRS84 degrees) of every geometry; None if none."""

    def interval(self) -> tuple[str | None, str | None]:
        """First and last day (ISO 8601 dates) of the features' date intervals; None if undated."""

    def page(
        self, q: ItemQuery, offset: int, limit: int, after: str | None = None
    ) -> tuple[int | None, np.ndarray]:
        """numberMatched, and the rows of the matches from ``offset`` to ``offset + limit``.
        numberMatched may be None where counting costs more than the page (the PostGIS store past
        ``COUNT_CAP`` matches): then a full page means that more matches follow it.
        ``after``: the id of the feature just before ``offset`` in this query's order (the last
        of the previous page, as the ``next`` link carries it): the page is then the matches
        after that feature in the collection's order (keyset paging: a store need not skip
        ``offset`` matches), ``offset`` only numbering it; an id the store does not hold is
        ignored (the page is then ``offset``'s)."""

    def query(self, q: ItemQuery) -> np.ndarray:
        """The rows of every match."""

    def get(self, feature_id: str) -> int | None:
        """The row of the feature with this id, or None."""

    def bodies(self, rows: Sequence[int] | np.ndarray, simplify_m: int | None = None) -> list[bytes]:
        """GeoJSON Features (UTF-8 JSON), coordinates to 6 decimals; polygons simplified to within
        ``simplify_m`` metres (one of SIMPLIFY_LADDER_M, else ValueError) if given."""

    def csv(self, rows: np.ndarray) -> bytes | None:
        """The features' CSV (``app.api.formats.features_csv``) if the store keeps it, else None."""

    def has_polygons(self, rows: np.ndarray) -> bool:
        """Whether writing these bodies does work beyond joining stored bytes (off the event loop)."""

    def ids(self, rows: np.ndarray) -> list[str]: ...
    def attributes(self, rows: np.ndarray) -> Attributes:
        """What the SVG draws of a few rows (its markers; counts come from ``tally`` and ``cells``)."""

    def tally(self, q: ItemQuery) -> Tally:
        """The matches counted by zone status, event type, located and days, without reading them
        one by one (the grid's totals, the pages' summary, the SVG's key)."""

    def cells(self, q: ItemQuery, level: int) -> Cells:
        """The located matches counted per cell of the WebMercatorQuad grid at ``level``, each point
        in the cell ``app.data.grid.cell_of`` gives it (ValueError past ``MAX_LEVEL``)."""

    def geometries(self, rows: np.ndarray) -> np.ndarray:
        """Shapely polygons (an object array); None where the geometry is a point or missing."""

    def regions_of(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """On the regions store: the regions owned by these *events* rows, and each one's owner
        (an events row). Empty elsewhere."""


def iso_day(day: int | None) -> str | None:
    """The ISO 8601 date of a day (a proleptic Gregorian ordinal); None for None or NO_DAY."""
    return None if day is None or day == NO_DAY else dt.date.fromordinal(int(day)).isoformat()


def features(store: Store, rows: Sequence[int] | np.ndarray) -> list[dict[str, Any]]:
    """The features as Python objects (parsed bodies, for CSV, HTML and the pages' words)."""
    return [orjson.loads(body) for body in store.bodies(rows)]


def with_geometries(heads: list[bytes], wkb: Sequence[bytes | None], simplify_m: int | None) -> list[bytes]:
    """GeoJSON Features from stored heads (a head holds its geometry when that is a point or none),
    each other geometry written in from its WKB, rounded to 6 decimals; simplified to within
    ``simplify_m`` metres (one of SIMPLIFY_LADDER_M, else ValueError) and to 5 decimals (about
    1 m) from 5 m. Every polygon at once (GEOS, vectorised: per feature, ten times the cost)."""
    if simplify_m is not None and simplify_m not in SIMPLIFY_LADDER_M:
        raise ValueError(f"tolerance must be one of {SIMPLIFY_LADDER_M}")
    at = [k for k, polygon in enumerate(wkb) if polygon is not None]
    if not at:
        return heads
    geoms = shapely.from_wkb([wkb[k] for k in at])
    geoms = geoms if simplify_m is None else simplified(geoms, simplify_m)
    fragments = texts(rounded(geoms, 6 if simplify_m is None or simplify_m < 5 else 5))
    out = list(heads)
    for k, fragment in zip(at, fragments, strict=True):
        out[k] = out[k][:-1] + b',"geometry":' + fragment + b"}"
    return out
