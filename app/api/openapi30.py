"""The OpenAPI 3.1 document FastAPI writes, rewritten as OpenAPI 3.0.3 for the OGC clients.

OGC API - Features Part 1 (17-069r4, conformance class ``oas30``) and the clients built on it
(OWSLib's ``Features.api()``, the OGC test suites, GDAL's ``service-desc`` lookup) read only
OpenAPI 3.0. The two differ where OpenAPI 3.1 adopted JSON Schema 2020-12 (OAS 3.1.0, "Schema
Object"; OAS 3.0.3 "Schema Object" lists what 3.0 allows). The rewrites, applied to every
schema in the document:

- ``type: [T, "null"]`` and ``anyOf: [S, {type: null}]`` -> ``T`` / ``S`` with ``nullable: true``;
- ``const: v`` -> ``enum: [v]``;
- ``examples: [a, ...]`` (a list, in a schema) -> ``example: a``;
- numeric ``exclusiveMinimum``/``exclusiveMaximum: n`` -> ``minimum``/``maximum: n`` with the
  3.0 boolean ``exclusiveMinimum``/``exclusiveMaximum: true``;
- JSON Schema keywords 3.0 does not know (``$schema``, ``$id``, ``contentMediaType`` ...) are dropped.

Only the document's schemas change; paths, parameters and responses keep their meaning.
"""

from __future__ import annotations

import copy
from typing import Any

VERSION = "3.0.3"
# JSON Schema 2020-12 keywords that OpenAPI 3.0's Schema Object does not have.
DROPPED = frozenset({"$schema", "$id", "$defs", "$comment", "contentMediaType", "contentEncoding",
                     "prefixItems", "unevaluatedProperties", "unevaluatedItems", "dependentRequired",
                     "dependentSchemas", "if", "then", "else", "propertyNames", "contains"})  # fmt: skip
# Members of an OpenAPI object whose values are schemas or maps of schemas.
SCHEMA_MEMBERS = frozenset({"schema"})
SCHEMA_MAPS = frozenset({"schemas", "properties"})
SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
SCHEMA_SINGLE = frozenset({"items", "not", "additionalProperties"})


def downgrade(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the OpenAPI 3.1 ``document`` written as OpenAPI 3.0.3."""
    doc = copy.deepcopy(document)
    doc["openapi"] = VERSION
    doc.pop("jsonSchemaDialect", None)
    doc.pop("webhooks", None)
    info = doc.get("info", {})
    info.pop("summary", None)
    info.get("license", {}).pop("identifier", None)
    _walk(doc)
    return doc


def _walk(node: Any) -> None:
    """Find every schema in an OpenAPI object (not in a schema) and rewrite it."""
    if isinstance(node, list):
        for item in node:
            _walk(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in SCHEMA_MEMBERS and isinstance(value, dict):
            node[key] = schema30(value)
        elif key == "schemas" and isinstance(value, dict):
            node[key] = {name: schema30(s) for name, s in value.items()}
        else:
            _walk(value)


def schema30(schema: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema 2020-12 schema as an OpenAPI 3.0 Schema Object (recursively)."""
    if "$ref" in schema:  # in 3.0 a reference object has no siblings
        return {"$ref": schema["$ref"]}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in DROPPED:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: schema30(s) for name, s in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [schema30(s) for s in value]
        elif key in SCHEMA_SINGLE and isinstance(value, dict):
            out[key] = schema30(value)
        elif key == "const":
            out["enum"] = [value]
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = value[0]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        else:
            out[key] = value
    _nullable_type(out)
    _nullable_any_of(out)
    return out


def _nullable_type(out: dict[str, Any]) -> None:
    """``type: [T, "null"]`` -> ``type: T, nullable: true``; several types -> ``anyOf``."""
    kinds = out.get("type")
    if not isinstance(kinds, list):
        if kinds == "null":  # only null: 3.0 has no null type
            del out["type"]
            out["nullable"] = True
            out["enum"] = [None]
        return
    rest = [k for k in kinds if k != "null"]
    if len(rest) < len(kinds):
        out["nullable"] = True
    del out["type"]
    if len(rest) == 1:
        out["type"] = rest[0]
    elif rest:
        out["anyOf"] = [{"type": k} for k in rest]


def _nullable_any_of(out: dict[str, Any]) -> None:
    """``anyOf``/``oneOf`` with a ``{nullable, enum: [None]}`` branch -> the rest, nullable."""
    for key in ("anyOf", "oneOf"):
        branches = out.get(key)
        if not isinstance(branches, list):
            continue
        rest = [b for b in branches if b != {"nullable": True, "enum": [None]}]
        if len(rest) == len(branches):
            continue
        del out[key]
        out["nullable"] = True
        if len(rest) == 1 and "$ref" not in rest[0]:
            out.update(rest[0])
        elif len(rest) == 1:
            out["allOf"] = rest
        elif rest:
            out[key] = rest
