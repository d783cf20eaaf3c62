"""``GET /healthz``: the service is up and which dataset it serves."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and the dataset version served")
async def healthz(request: Request) -> Response:
    """``{"status": "ok", "dataset_version": …, "incidents": n}``, written once per process (the
    served data never changes while it runs) rather than through FastAPI's serialisation."""
    state = request.app.state
    body: bytes | None = getattr(state, "healthz_body", None)
    if body is None:
        served = state.served
        document = {
            "status": "ok",
            "dataset_version": served.version,
            "incidents": len(served.stores["events"]),
        }
        body = state.healthz_body = orjson.dumps(document)
    return Response(body, media_type="application/json")
