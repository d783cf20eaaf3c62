"""Property-based fuzz of the whole API from its own OpenAPI document (schemathesis, in-process).

A fixed seed and a bounded number of examples per operation keep CI repeatable and quick; a longer
run by hand: ``AT_TANF_FUZZ_EXAMPLES=2000 pytest tests/api/test_fuzz.py``. Checks: no 5xx, and
every response matches its documented status codes, content types and schemas.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import BUNDLED_DATA, Settings

APP = create_app(Settings(data_dir=BUNDLED_DATA))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)
EXAMPLES = int(os.environ.get("AT_TANF_FUZZ_EXAMPLES", "60"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
