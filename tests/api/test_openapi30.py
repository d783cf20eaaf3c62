"""The OpenAPI 3.1 -> 3.0 rewrite of schemas (``app.api.openapi30``), case by case."""

from __future__ import annotations

from app.api.openapi30 import downgrade, schema30


def test_nullable_forms_become_nullable_true() -> None:
    assert schema30({"anyOf": [{"type": "string"}, {"type": "null"}]}) == {"type": "string", "nullable": True}
    assert schema30({"type": ["object", "null"]}) == {"type": "object", "nullable": True}
    assert schema30({"type": ["string", "integer"]}) == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    ref = {"$ref": "#/components/schemas/Link"}
    assert schema30({"anyOf": [ref, {"type": "null"}]}) == {"allOf": [ref], "nullable": True}


def test_2020_12_keywords_are_rewritten_or_dropped() -> None:
    got = schema30({"const": "Feature", "examples": ["a", "b"], "$schema": "x", "contentMediaType": "t"})
    assert got == {"enum": ["Feature"], "example": "a"}
    assert schema30({"type": "number", "exclusiveMinimum": 0}) == {
        "type": "number", "minimum": 0, "exclusiveMinimum": True}  # fmt: skip
    nested = schema30({"type": "object", "properties": {"g": {"type": ["object", "null"]}},
                       "items": {"const": 1}})  # fmt: skip
    assert nested == {"type": "object", "properties": {"g": {"type": "object", "nullable": True}},
                      "items": {"enum": [1]}}  # fmt: skip


def test_document_keeps_everything_but_schemas() -> None:
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    param = {"name": "q", "in": "query", "description": "d", "schema": nullable}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "summary": "s",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "paths": {"/x": {"get": {"parameters": [param], "responses": {"200": {"description": "ok"}}}}},
        "components": {"schemas": {"A": {"type": ["integer", "null"], "title": "A"}}},
    }  # fmt: skip
    out = downgrade(doc)
    assert out["openapi"] == "3.0.3" and doc["openapi"] == "3.1.0"  # a copy
    assert out["info"] == {"title": "t", "version": "1", "license": {"name": "MIT"}}
    param = out["paths"]["/x"]["get"]["parameters"][0]
    assert param == {
        "name": "q",
        "in": "query",
        "description": "d",
        "schema": {"type": "string", "nullable": True},
    }
    assert out["components"]["schemas"]["A"] == {"type": "integer", "nullable": True, "title": "A"}
