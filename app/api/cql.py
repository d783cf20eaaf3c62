"""CQL2 filters (OGC 21-065r2) on the items of a collection: the text and JSON encodings parsed
and checked by the ``cql2`` package, evaluated by ``app.api.cql_eval`` (the embedded store) or
translated to SQL by ``app.api.cql_sql`` (PostGIS).

Parsing: ``cql2`` (Development Seed's cql2-rs) reads the standard's text and JSON encodings into
the one JSON tree and reports a syntax error with its line, column and what was expected.
pygeofilter (what pygeoapi uses) was tried first and refused: its cql2-text grammar (0.4) writes
temporal predicates infix (``a T_BEFORE b``) and so rejects the standard's
``T_INTERSECTS(date_start, INTERVAL('2017-06-01','2017-06-30'))``, its ``INTERVAL`` takes neither
dates nor ``'..'``, its JSON reader maps ``t_intersects`` to "overlaps", and its native evaluator
never matches T_INTERSECTS and raises on a comparison with a null.
"""

from __future__ import annotations

from typing import Any

import cql2

from app.api.cql_eval import compile_tree
from app.api.queryables import queryables
from app.data.store_api import CqlFilter
from app.errors import BadRequest

# "cql-text" is the name the drafts of CQL2 gave its text encoding, which GDAL's OAPIF driver
# sends (with the expressions it writes, which are valid CQL2 text).
LANGS = ("cql2-text", "cql2-json", "cql-text")


def compile_filter(text: str, lang: str | None, collection_id: str) -> CqlFilter:
    """The filter, checked, with its tree (for a SQL store) and its test of rows (for the embedded
    store: given the store and sorted row indices, which of them match).

    ``lang`` is ``filter-lang`` (default cql2-text). Raises ``BadRequest`` (400) naming the
    parameter and quoting the part of the expression that is wrong.
    """
    lang = lang or "cql2-text"
    if lang not in LANGS:
        raise BadRequest(
            f"parameter 'filter-lang' must be cql2-text or cql2-json, got {lang[:40]!r}", "filter-lang"
        )
    props = queryables(collection_id)
    if props is None:
        raise BadRequest(f"collection {collection_id!r} has no queryables to filter on", "filter")
    tree = _parse(text, lang)
    return CqlFilter(tree, collection_id, compile_tree(tree, props, collection_id))


def _parse(text: str, lang: str) -> Any:
    if not text.strip():
        raise BadRequest("parameter 'filter' is empty", "filter")
    try:
        # (cql2's validate() is not called: it compiles the standard's JSON Schema on every call,
        # 130-570 ms here; the compiler checks every operator's arguments itself.)
        expr = cql2.parse_json(text) if lang == "cql2-json" else cql2.parse_text(text)
    except (cql2.ParseError, cql2.ValidationError, Exception) as error:
        raise BadRequest(
            f"parameter 'filter' is not valid {lang}: {_one_line(str(error))}", "filter"
        ) from None
    return expr.to_json()


def _one_line(message: str) -> str:
    """cql2's multi-line syntax report (position, source line, caret, expectation) on one line."""
    lines = [line.strip(" |") for line in message.splitlines()]
    where = next((line.strip("-> ").strip() for line in lines if line.startswith("-->")), None)
    expected = next((line.lstrip("= ").strip() for line in lines if line.startswith("=")), None)
    if where and expected:
        line, _, column = where.partition(":")
        return f"at line {line}, column {column}: {expected}"
    return " ".join(line for line in lines if line)[:300]
