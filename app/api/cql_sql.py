"""A CQL2 filter (already parsed and checked by ``app.api.cql.compile_filter``) as a SQL condition
on the PostGIS store's ``feature`` table, with every literal a query parameter.

The same meaning as the in-process evaluator (``app.api.cql``), relation for relation: SQL's own
three-valued logic is CQL2's (a comparison with a null is unknown; only true rows are kept); a
date is the interval of its day in microseconds since 1970 (``date_start`` and ``date_end`` from
the day columns), compared by its first instant, and the ``T_`` relations are the evaluator's own
definitions (``TEMPORAL``) applied to SQL expressions; strings compare by code point
(``COLLATE "C"``); ``S_`` functions are PostGIS's on the served geometry (GEOS, as shapely).
Folding differs only at the edges: ``CASEI`` is SQL ``lower`` (Python's ``casefold`` also folds ß
to ss), ``ACCENTI`` drops the combining marks of the common blocks after NFD.

pygeofilter's SQL backend was not used: it writes literals into the SQL text (no parameters), and
its CQL2 readers do not hold the standard's temporal functions (see ``app.api.cql``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.api.cql_terms import (
    DAY_US,
    EPOCH,
    OPEN_HIGH,
    OPEN_LOW,
    SPATIAL,
    TEMPORAL,
    kind_of,
    literal_time,
    time_span,
)
from app.api.queryables import queryables
from app.data.store_api import NO_DAY, STATUS_CODES, CqlFilter

COMBINING = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
OPERATORS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# ``zone_status`` as text from the ``status`` column (``pg_load`` writes the property's code there;
# no status: -1, so NULL, as the property is then): the same string for every operator.
STATUS_TEXT = "(CASE status " + " ".join(f"WHEN {c} THEN '{n}'" for n, c in STATUS_CODES.items()) + " END)"
FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}


@dataclass(frozen=True)
class E:
    """A SQL expression and its parameters; Python's operators build bigger ones (so the
    evaluator's temporal relations apply to SQL as they do to numpy arrays)."""

    text: str
    params: tuple[Any, ...] = ()

    def op(self, op: str, other: Any) -> E:
        other = other if isinstance(other, E) else E("%s", (other,))
        return E(f"({self.text} {op} {other.text})", self.params + other.params)

    def __lt__(self, other: Any) -> E:
        return self.op("<", other)

    def __le__(self, other: Any) -> E:
        return self.op("<=", other)

    def __gt__(self, other: Any) -> E:
        return self.op(">", other)

    def __ge__(self, other: Any) -> E:
        return self.op(">=", other)

    def __eq__(self, other: Any) -> E:  # type: ignore[override]
        return self.op("=", other)

    def __and__(self, other: Any) -> E:
        return self.op("AND", other)

    def __or__(self, other: Any) -> E:
        return self.op("OR", other)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class V:
    """An operand: its kind and SQL (a time is two: its first and last microsecond)."""

    kind: str
    low: E
    high: E | None = None


def filter_sql(cql: CqlFilter) -> tuple[str, list[Any]]:
    """The condition and its parameters; with the range of the collection's order that a
    ``date_start`` comparison at the top of the filter implies (``sort_day`` is ``day_start`` for
    events and regions, ``app.data.pg_load``), so that the order's index is read from the first
    day that can match, not from the first day there is."""
    expr = _Translator(queryables(cql.collection) or {}).predicate(cql.tree)
    bounds = [E(f"sort_day {op} %s", (day,)) for op, day in _first_day_bounds(cql.tree)]
    expr = _join("AND", [expr, *bounds]) if bounds else expr
    return expr.text, list(expr.params)


def _first_day_bounds(node: Any) -> list[tuple[str, int]]:
    """(operator, day ordinal) bounds on ``day_start`` that must hold for ``node`` to be true:
    its top-level ``and`` of comparisons of ``date_start`` with a date or time. ``date_start``
    compares by its day's first microsecond, ``(day - EPOCH) * DAY_US``, against the instant T."""
    if not isinstance(node, dict) or "op" not in node:
        return []
    op, args = str(node["op"]).lower(), node.get("args", [])
    if op == "and":
        return [bound for arg in args for bound in _first_day_bounds(arg)]
    if op == "between" and args[:1] == [{"property": "date_start"}]:
        return _first_day_bounds({"op": ">=", "args": args[:2]}) + _first_day_bounds(
            {"op": "<=", "args": [args[0], args[2]]}
        )
    if op not in FLIPPED or len(args) != 2:
        return []
    if args[1] == {"property": "date_start"}:
        op, args = FLIPPED[op], [args[1], args[0]]
    instant = _instant(args[1]) if args[0] == {"property": "date_start"} else None
    if instant is None:
        return []
    floor, part = divmod(instant, DAY_US)
    ceil = floor + (part != 0)
    days = {">=": [(">=", ceil)], ">": [(">", floor)], "<=": [("<=", floor)], "<": [("<", ceil)],
            "=": [(">=", ceil), ("<=", floor)]}[op]  # fmt: skip
    return [(o, EPOCH + d) for o, d in days]


def _instant(node: Any) -> int | None:
    """The first microsecond of a date or timestamp literal (or a string read as one), else None."""
    text = literal_time(node)
    try:
        return None if text is None else time_span(text, None)[0]
    except ValueError:  # not a time: the translator's comparison says what it is
        return None


def _join(word: str, parts: list[E]) -> E:
    return E("(" + f" {word} ".join(p.text for p in parts) + ")", tuple(v for p in parts for v in p.params))


def _call(name: str, *args: E) -> E:
    return E(f"{name}({', '.join(a.text for a in args)})", tuple(v for a in args for v in a.params))


class _Translator:
    def __init__(self, props: dict[str, dict[str, Any]]) -> None:
        self.props = props

    def predicate(self, node: Any) -> E:
        if isinstance(node, bool):
            return E("TRUE" if node else "FALSE")
        if "property" in node:
            return self.value(node).low
        op, args = str(node["op"]).lower(), node.get("args", [])
        if op in ("and", "or"):
            return _join(op.upper(), [self.predicate(a) for a in args])
        if op == "not":
            return _call("NOT ", self.predicate(args[0]))
        if op in OPERATORS:
            return self.comparison(op, args[0], args[1])
        if op == "between":
            return _join(
                "AND", [self.comparison(">=", args[0], args[1]), self.comparison("<=", args[0], args[2])]
            )
        if op == "in":
            return _join("OR", [self.comparison("=", args[0], item) for item in args[1]])
        if op == "like":
            return self.value(args[0]).low.op("LIKE", self.value(args[1]).low)
        if op == "isnull":
            return E(f"({self.value(args[0]).low.text} IS NULL)", self.value(args[0]).low.params)
        if op in SPATIAL:
            return _call(f"ST_{op[2:].capitalize()}", self.value(args[0]).low, self.value(args[1]).low)
        left, right = self.pair(args[0], args[1])
        assert left.high is not None and right.high is not None
        relation: E = TEMPORAL[op](left.low, left.high, right.low, right.high)
        return relation

    def pair(self, a: Any, b: Any) -> tuple[V, V]:
        """Both operands; a string literal beside a time reads as a time (as GDAL sends dates)."""
        left, right = self.value(a), self.value(b)
        if left.kind == "time" and isinstance(b, str):
            right = _time(*time_span(b, None))
        if right.kind == "time" and isinstance(a, str):
            left = _time(*time_span(a, None))
        return left, right

    def comparison(self, op: str, a: Any, b: Any) -> E:
        left, right = self.pair(a, b)
        if left.kind == "string":
            return E(f"({left.low.text} COLLATE \"C\" {OPERATORS[op]} {right.low.text})",
                     left.low.params + right.low.params)  # fmt: skip
        return left.low.op(OPERATORS[op], right.low)

    def value(self, node: Any) -> V:
        if isinstance(node, dict) and "property" in node:
            return self.property(str(node["property"]))
        if isinstance(node, bool):
            return V("boolean", E("%s::boolean", (node,)))
        if isinstance(node, int | float):
            return V("number", E("%s::double precision", (float(node),)))
        if isinstance(node, str):
            return V("string", E("%s::text", (node,)))
        if "date" in node or "timestamp" in node:
            return _time(*time_span(str(node.get("date") or node.get("timestamp")), None))
        if "interval" in node:
            ends = [None if end == ".." else self.value(end if isinstance(end, dict) else
                                                      {"date" if len(end) == 10 else "timestamp": end})
                    for end in node["interval"]]  # fmt: skip
            low = E("%s::bigint", (OPEN_LOW,)) if ends[0] is None else ends[0].low
            high = E("%s::bigint", (OPEN_HIGH,)) if ends[1] is None else ends[1].high
            return V("time", low, high)
        if "bbox" in node:
            box = node["bbox"]
            x0, y0, x1, y1 = box if len(box) == 4 else (box[0], box[1], box[3], box[4])
            if x0 > x1:  # west above east crosses ±180° (OGC 17-069r4 7.15.3): two boxes
                return V("geometry", E(
                    "ST_Collect(ST_MakeEnvelope(%s, %s, 180, %s, 4326), "
                    "ST_MakeEnvelope(-180, %s, %s, %s, 4326))",
                    (x0, y0, y1, y0, x1, y1)))  # fmt: skip
            return V("geometry", E("ST_MakeEnvelope(%s, %s, %s, %s, 4326)", (x0, y0, x1, y1)))
        if "type" in node:
            return V("geometry", E("ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)", (_geojson(node),)))
        op, inner = str(node["op"]).lower(), self.value(node["args"][0]).low
        if op == "casei":
            return V("string", _call("lower", inner))
        return V("string", E(f"regexp_replace(normalize({inner.text}, NFD), %s, '', 'g')",
                             (*inner.params, COMBINING)))  # fmt: skip

    def property(self, name: str) -> V:
        kind = kind_of(self.props[name])
        if name == "geometry":
            return V("geometry", E("geom"))
        if kind == "time":
            column = "day_start" if name == "date_start" else "day_end"
            low = E(
                f"(CASE WHEN {column} = {NO_DAY} THEN NULL ELSE ({column} - {EPOCH})::bigint * {DAY_US} END)"
            )
            return V("time", low, low.op("+", DAY_US - 1))
        if name == "zone_status":  # the status column, indexed with the order (app.data.pg_schema)
            return V("string", E(STATUS_TEXT))
        text = E("(props->>%s)", (name,))
        cast = {"number": "double precision", "boolean": "boolean"}.get(kind)
        return V(kind, E(f"{text.text}::{cast}", text.params) if cast else text)


def _time(low: int, high: int) -> V:
    return V("time", E("%s::bigint", (low,)), E("%s::bigint", (high,)))


def _geojson(node: Any) -> str:
    import orjson

    return orjson.dumps(node).decode()
