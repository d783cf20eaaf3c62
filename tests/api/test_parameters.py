"""Each parameter is declared once (app.api.params): the OpenAPI document is written from the
declarations, the handlers parse the query themselves, and FastAPI validates nothing."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.api import health, locate, ogc, openapi
from app.api.params import reject_unknown
from app.errors import BadRequest

ITEMS = "/collections/{collectionId}/items"


def test_no_api_route_has_parameters_for_fastapi_to_validate() -> None:
    """Declared parameters were validated by FastAPI and then parsed again by hand (issue 16)."""
    routers = (ogc.router, locate.router, health.router, openapi.router)
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 10
    for route in routes:
        d = route.dependant
        assert not (d.query_params or d.path_params or d.header_params or d.dependencies), route.path


def test_the_document_lists_exactly_what_the_parsers_accept(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    shared = doc["components"]["parameters"]

    def names(path: str) -> set[str]:
        declared = doc["paths"][path]["get"]["parameters"]
        params = [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in declared]
        return {p["name"] for p in params if p["in"] == "query"}

    # Everything the events' items accept is documented, and nothing else.
    documented = names(ITEMS)
    assert {"bbox", "datetime", "limit", "filter-lang", "near", "within_km"} <= documented
    for name in documented:
        detail = client.get(f"/api/collections/events/items?{name}=x").json().get("detail", "")
        assert "unknown query parameter" not in detail, name
    assert "unknown query parameter" in client.get("/api/collections/events/items?nope=1").json()["detail"]
    assert names("/locate") == {"lon", "lat", "f"}
    assert names("/collections/{collectionId}/items/{featureId}") == {"f", "simplify_m", "crs"}


def test_no_operation_documents_a_status_the_service_never_sends(client: TestClient) -> None:
    """A bad parameter is a 400 problem+json; FastAPI's 422 "Validation Error" never comes."""
    doc = client.get("/api/openapi.json").json()
    for item in doc["paths"].values():
        for operation in item.values():
            assert "422" not in operation["responses"]
    assert "HTTPValidationError" not in doc["components"].get("schemas", {})


def test_declared_rules_keep_fastapis_messages(client: TestClient) -> None:
    """A required parameter missing, or a value outside an enum, is named as before."""
    for url, name in [
        ("/api/locate?lat=33", "lon"),
        ("/api/locate?lom=38&lat=33", "lon"),  # before the unknown one, as FastAPI checked first
        ("/api/collections/events/items?filter-lang=bad&zzz=1", "filter-lang"),
        ("/api/collections/sites/items?filter-lang=bad", "filter-lang"),
    ]:
        body = client.get(url).json()
        assert body["status"] == 400 and body["parameter"] == name
        assert body["detail"] == f"invalid value for parameter {name!r}"


def test_reject_unknown_names_the_parameter() -> None:
    from starlette.datastructures import QueryParams

    try:
        reject_unknown(QueryParams("a=1&b=2"), {"a"})
    except BadRequest as error:
        assert error.parameter == "b"
    else:
        raise AssertionError("b was accepted")
