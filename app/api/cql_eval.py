"""The embedded store's CQL2 evaluator: a filter's JSON tree (``app.api.cql`` parses and checks
it with the ``cql2`` library) compiled once per request into numpy tests over the rows the other
filters left (``CqlFilter.rows_test``), so a filter costs one vectorised test per predicate (a SQL
store translates ``CqlFilter.tree`` instead, ``app.api.cql_sql``):

- three-valued logic (CQL2 7.5, as SQL): a comparison with a null is *unknown*, ``NOT`` of unknown
  is unknown, and only *true* rows are returned; ``IS NULL`` is never unknown;
- dates (``date_start``, ``date_end``, from the store's day columns) are days: in a comparison a
  day is its first instant (00:00 UTC), so ``date_start >= DATE('2017-06-01')`` and
  ``date_start >= '2017-06-01'`` both keep the incidents that start on or after 1 June; in a
  temporal predicate a day is the interval from its first to its last microsecond, ``'..'`` an
  open end, and the 15 ``T_`` relations are CQL2's (Allen's) on those closed intervals;
- geometries: the features' served geometries (an event's point, a region's polygon), in CRS84,
  tested with GEOS through shapely; a feature without a geometry is unknown to every ``S_``;
- ``LIKE`` with ``%``, ``_`` and ``\\`` escapes, ``CASEI``/``ACCENTI`` on either side.

Anything else (arithmetic, functions, array operators, a property that is not a queryable, a
literal of the wrong type) is a 400 that quotes the part of the expression at fault.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cql2
import numpy as np
import orjson
import shapely

from app.api.cql_terms import (
    DAY_US,
    EPOCH,
    OPEN_HIGH,
    OPEN_LOW,
    SPATIAL,
    TEMPORAL,
    folder_for,
    folding,
    kind_of,
    like_regex,
    literal_time,
    time_span,
    unwrap,
)
from app.data.store import FeatureStore
from app.data.store_api import NO_DAY, STATUS_CODES
from app.errors import BadRequest

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": np.equal, "<>": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}  # fmt: skip


class Rows:
    """The rows a filter tests, and their property values, read once each when first named."""

    def __init__(self, store: FeatureStore, rows: np.ndarray) -> None:
        self.store, self.rows, self.n = store, rows, len(rows)
        self._props: list[dict[str, Any]] | None = None
        self._cache: dict[str, tuple[Any, np.ndarray]] = {}

    def properties(self, name: str) -> list[Any]:
        if self._props is None:  # the heads of these rows, parsed once for every property named
            self._props = [orjson.loads(self.store.head(int(i)))["properties"] for i in self.rows]
        return [p.get(name) for p in self._props]

    def values(self, name: str, kind: str) -> tuple[Any, np.ndarray]:
        """``(values, null)`` of a property over the rows; time values are (start, end) in µs."""
        if name not in self._cache:
            self._cache[name] = self._read(name, kind)
        return self._cache[name]

    def _read(self, name: str, kind: str) -> tuple[Any, np.ndarray]:
        """From the store's columns where it has the property, else from the features' JSON."""
        columns = self.store.columns
        if name == "zone_status":
            codes = columns.status[self.rows]
            names = np.full(self.n, None, dtype=object)
            known = np.zeros(self.n, dtype=bool)
            for status, code in STATUS_CODES.items():
                names[codes == code] = status
                known |= codes == code
            return names, ~known
        if name in ("event_type", "sub_event_type"):
            category = columns.event_type if name == "event_type" else columns.sub_event_type
            values = np.array(category.names, dtype=object)[category.codes[self.rows]]
            return values, values == ""  # the store keeps a missing type as ""
        if name == "p_inside":  # served rounded to 4 decimals (app.api.features): compare that value
            raw_p = np.asarray(columns.p_inside[self.rows], dtype=np.float64)
            null = np.isnan(raw_p)
            rounded = np.array([0.0 if v != v else round(float(v), 4) for v in raw_p], dtype=np.float64)
            return rounded, null
        if kind == "geometry":
            shapes = self.store.shapes(self.rows)
            return shapes, shapely.is_missing(shapes)
        if kind == "time" and name in ("date_start", "date_end"):
            days = columns.days[self.rows, 0 if name == "date_start" else 1].astype(np.int64)
            first = (days - EPOCH) * DAY_US
            return (first, first + DAY_US - 1), days == NO_DAY
        raw = self.properties(name)
        null = np.array([v is None for v in raw], dtype=bool)
        if kind == "number":
            return np.array([np.nan if v is None else float(v) for v in raw], dtype=np.float64), null
        if kind == "boolean":
            return np.array([bool(v) for v in raw], dtype=bool), null
        if kind == "time":
            spans = [(0, 0) if v is None else time_span(v, name) for v in raw]
            arr = np.array(spans, dtype=np.int64).reshape(len(raw), 2)
            return (arr[:, 0], arr[:, 1]), null
        out = np.empty(len(raw), dtype=object)
        out[:] = ["" if v is None else str(v) for v in raw]
        return out, null


@dataclass(frozen=True)
class Value:
    """A compiled operand: its kind and how to read it over some rows (or a constant)."""

    kind: str  # string, number, boolean, time, geometry
    read: Callable[[Rows], tuple[Any, Any]]  # -> (values, null mask or False)


Test = Callable[[Rows], tuple[np.ndarray, np.ndarray]]  # -> (true, false) masks; neither: unknown
RowsTest = Callable[[FeatureStore, np.ndarray], np.ndarray]


def compile_tree(tree: Any, props: dict[str, dict[str, Any]], collection_id: str) -> RowsTest:
    """The test of rows of a parsed filter (given the store and sorted row indices, which of them
    match). Raises ``BadRequest`` quoting the part of the expression that is wrong."""
    try:
        test = _Compiler(props, collection_id).predicate(tree)
    except (IndexError, KeyError, TypeError, AttributeError, ValueError):  # a tree of the wrong shape
        message = f"parameter 'filter': an operator has the wrong arguments in {_text(tree)!r}"
        raise BadRequest(message, "filter") from None

    def where(store: FeatureStore, rows: np.ndarray) -> np.ndarray:
        true, _ = test(Rows(store, rows))
        kept: np.ndarray = rows[np.broadcast_to(true, rows.shape)]
        return kept

    return where


def _text(node: Any) -> str:
    """A node of the tree written back as CQL2 text, for error messages."""
    try:
        return str(cql2.Expr(node).to_text())[:120]
    except Exception:
        return orjson.dumps(node).decode()[:120]


class _Compiler:
    def __init__(self, props: dict[str, dict[str, Any]], collection_id: str) -> None:
        self.props, self.collection_id = props, collection_id

    def fail(self, problem: str, node: Any) -> BadRequest:
        return BadRequest(f"parameter 'filter': {problem} in {_text(node)!r}", "filter")

    # -- predicates: (true, false) masks ---------------------------------------------------------

    def predicate(self, node: Any) -> Test:
        if isinstance(node, bool):
            return lambda rows: (np.full(rows.n, node), np.full(rows.n, not node))
        if isinstance(node, dict) and "property" in node:
            value = self.value(node)
            if value.kind != "boolean":
                raise self.fail("a property that is not boolean cannot be a condition", node)
            return _truth(value)
        if not isinstance(node, dict) or "op" not in node:
            raise self.fail("expected a condition", node)
        op, args = str(node["op"]).lower(), node.get("args", [])
        if op in ("and", "or"):
            parts = [self.predicate(a) for a in args]
            return _all(parts) if op == "and" else _any(parts)
        if op == "not":
            inner = self.predicate(args[0])
            return lambda rows: tuple(reversed(inner(rows)))  # type: ignore[return-value]
        if op in COMPARISONS:
            return self.comparison(op, args, node)
        if op == "between":
            low = self.comparison(">=", [args[0], args[1]], node)
            high = self.comparison("<=", [args[0], args[2]], node)
            return _all([low, high])
        if op == "in":
            if not isinstance(args[1], list) or not args[1]:
                raise self.fail("IN needs a list of values", node)
            return _any([self.comparison("=", [args[0], item], node) for item in args[1]])
        if op == "like":
            return self.like(args, node)
        if op == "isnull":
            value = self.value(args[0])
            return lambda rows: _null_test(value, rows)
        if op in SPATIAL:
            return self.spatial(op, args, node)
        if op in TEMPORAL:
            return self.temporal(op, args, node)
        raise self.fail(f"the operator {node['op']!r} is not supported", node)

    def comparison(self, op: str, args: list[Any], node: Any) -> Test:
        left, right = self.value(args[0]), self.value(args[1])
        left, right = self.coerce(left, right, args[0], node), self.coerce(right, left, args[1], node)
        if left.kind != right.kind:
            raise self.fail(f"cannot compare a {left.kind} with a {right.kind}", node)
        if left.kind == "geometry" or (left.kind == "boolean" and op not in ("=", "<>")):
            raise self.fail(f"{left.kind} values cannot be compared with {op}", node)
        compare = COMPARISONS[op]
        if left.kind == "time":  # a day compares as its first instant
            return _related(left, right, lambda a, b: compare(a[0], b[0]))
        return _related(left, right, compare)

    def coerce(self, value: Value, other: Value, node: Any, parent: Any) -> Value:
        """A string literal compared with a date reads as a date (what GDAL and QGIS send)."""
        if value.kind == "string" and other.kind == "time" and isinstance(node, str):
            span = time_span(node, None, lambda: self.fail(f"{node!r} is not a date or timestamp", parent))
            return Value("time", lambda rows: (span, False))
        return value

    def like(self, args: list[Any], node: Any) -> Test:
        subject, pattern_node = self.value(args[0]), args[1]
        fold = folding(pattern_node)
        literal = unwrap(pattern_node)
        if subject.kind != "string" or not isinstance(literal, str):
            raise self.fail("LIKE needs a text property and a text pattern", node)
        regex = re.compile(like_regex(fold(literal)), re.DOTALL)

        def test(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
            values, null = subject.read(rows)
            hit = np.array([regex.fullmatch(v) is not None for v in values], dtype=bool)
            known = ~np.asarray(null)
            return hit & known, ~hit & known

        return test

    def spatial(self, op: str, args: list[Any], node: Any) -> Test:
        left, right = self.value(args[0]), self.value(args[1])
        if left.kind != "geometry" or right.kind != "geometry":
            raise self.fail(f"{op.upper()} needs two geometries", node)
        return _related(left, right, SPATIAL[op])

    def temporal(self, op: str, args: list[Any], node: Any) -> Test:
        left, right = self.value(args[0]), self.value(args[1])
        left, right = self.coerce(left, right, args[0], node), self.coerce(right, left, args[1], node)
        if left.kind != "time" or right.kind != "time":
            raise self.fail(f"{op.upper()} needs two dates, timestamps or intervals", node)
        relate = TEMPORAL[op]
        return _related(left, right, lambda a, b: relate(a[0], a[1], b[0], b[1]))

    # -- operands ---------------------------------------------------------------------------------

    def value(self, node: Any) -> Value:
        if isinstance(node, dict) and "property" in node:
            return self.property(str(node["property"]), node)
        if isinstance(node, bool):
            return Value("boolean", lambda rows: (node, False))
        if isinstance(node, int | float):
            number = float(node)
            return Value("number", lambda rows: (number, False))
        if isinstance(node, str):
            return Value("string", lambda rows: (node, False))
        if isinstance(node, dict) and ("date" in node or "timestamp" in node):
            text = str(node.get("date") or node.get("timestamp"))
            bad = f"{text!r} is not a valid date or timestamp"
            span = time_span(text, None, lambda: self.fail(bad, node))
            return Value("time", lambda rows: (span, False))
        if isinstance(node, dict) and "interval" in node:
            return self.interval(node)
        if isinstance(node, dict) and "bbox" in node:
            shape = self.bbox(node)
            return Value("geometry", lambda rows: (shape, False))
        if isinstance(node, dict) and "type" in node and ("coordinates" in node or "geometries" in node):
            try:
                geom = shapely.from_geojson(orjson.dumps(node))
            except Exception:
                raise self.fail("the geometry is not valid", node) from None
            return Value("geometry", lambda rows: (geom, False))
        if isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti"):
            inner = self.value(node["args"][0])
            if inner.kind != "string":
                raise self.fail(f"{node['op'].upper()} needs text", node)
            fold = folder_for(str(node["op"]).lower())

            def folded(rows: Rows) -> tuple[Any, Any]:
                values, null = inner.read(rows)
                if isinstance(values, str):
                    return fold(values), null
                out = np.empty(len(values), dtype=object)
                out[:] = [fold(v) for v in values]
                return out, null

            return Value("string", folded)
        if isinstance(node, dict) and "op" in node:
            raise self.fail(f"the function or operator {node['op']!r} is not supported here", node)
        raise self.fail("this value is not supported", node)

    def bbox(self, node: Any) -> Any:
        """A ``BBOX`` as the ``bbox`` parameter reads it (OGC 17-069r4 7.15.3): CRS84, west
        greater than east crosses the antimeridian (two boxes), south above north is a 400."""
        box = node["bbox"]
        if len(box) not in (4, 6) or not all(isinstance(v, int | float) and math.isfinite(v) for v in box):
            raise self.fail("BBOX needs 4 or 6 finite numbers", node)
        west, south, east, north = (
            (box[0], box[1], box[2], box[3]) if len(box) == 4 else (box[0], box[1], box[3], box[4])
        )
        if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
            raise self.fail("BBOX is out of range (lon -180..180, lat -90..90)", node)
        if south > north:
            raise self.fail("BBOX has its southern edge above its northern edge", node)
        if west > east:
            return shapely.MultiPolygon(
                [shapely.box(west, south, 180, north), shapely.box(-180, south, east, north)]
            )
        return shapely.box(west, south, east, north)

    def property(self, name: str, node: Any) -> Value:
        schema = self.props.get(name)
        if schema is None:
            known = ", ".join(sorted(self.props))
            raise self.fail(
                f"{name[:40]!r} is not a queryable of {self.collection_id!r} (see its /queryables; "
                f"known: {known})",
                node,
            )
        kind = kind_of(schema)
        return Value(kind, lambda rows: rows.values(name, kind))

    def interval(self, node: Any) -> Value:
        ends = node["interval"]
        if len(ends) != 2:
            raise self.fail("INTERVAL needs a start and an end", node)
        parts: list[Value | None] = []
        for end in ends:
            if end == "..":
                parts.append(None)
            elif isinstance(end, str):
                parts.append(self.value({"date" if len(end) == 10 else "timestamp": end}))
            else:
                value = self.value(end)
                if value.kind != "time":
                    raise self.fail("an INTERVAL's ends must be dates, timestamps or '..'", node)
                parts.append(value)
        start, finish = parts
        literal = [time_span(text, None) if (text := literal_time(end)) else None for end in ends]
        if literal[0] is not None and literal[1] is not None and literal[1][1] < literal[0][0]:
            raise self.fail("the INTERVAL ends before it starts", node)

        def read(rows: Rows) -> tuple[Any, Any]:
            null: Any = False
            low: Any = OPEN_LOW
            high: Any = OPEN_HIGH
            if start is not None:
                (low, _), start_null = start.read(rows)
                null = null | np.asarray(start_null)
            if finish is not None:
                (_, high), finish_null = finish.read(rows)
                null = null | np.asarray(finish_null)
            return (low, high), null

        return Value("time", read)


def _truth(value: Value) -> Test:
    def test(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        values, null = value.read(rows)
        known = ~np.asarray(null)
        return np.asarray(values, dtype=bool) & known, ~np.asarray(values, dtype=bool) & known

    return test


def _related(left: Value, right: Value, relate: Callable[[Any, Any], Any]) -> Test:
    """``relate(left, right)`` over the rows, unknown where either side is null (three-valued)."""

    def test(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        (a, a_null), (b, b_null) = left.read(rows), right.read(rows)
        known = ~(np.asarray(a_null) | np.asarray(b_null))
        try:
            result = np.asarray(relate(a, b), dtype=bool)
        except TypeError:  # a null (None) cannot be ordered against a string: value by value
            pairs = zip(
                *np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object), known),
                strict=True,
            )
            result = np.array([bool(known_ and relate(x, y)) for x, y, known_ in pairs], dtype=bool)
        return np.broadcast_to(result & known, (rows.n,)), np.broadcast_to(~result & known, (rows.n,))

    return test


def _null_test(value: Value, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    _, null = value.read(rows)
    null = np.broadcast_to(np.asarray(null, dtype=bool), (rows.n,))
    return null, ~null


def _all(parts: list[Test]) -> Test:
    def test(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        true, false = np.ones(rows.n, dtype=bool), np.zeros(rows.n, dtype=bool)
        for part in parts:
            t, f = part(rows)
            true, false = true & t, false | f
        return true, false

    return test


def _any(parts: list[Test]) -> Test:
    def test(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        true, false = np.zeros(rows.n, dtype=bool), np.ones(rows.n, dtype=bool)
        for part in parts:
            t, f = part(rows)
            true, false = true | t, false & f
        return true, false

    return test
