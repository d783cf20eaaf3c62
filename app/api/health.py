"""``GET /healthz``: the service is up and which dataset it serves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and the dataset version served")
async def healthz(request: Request) -> dict[str, Any]:
    served = request.app.state.served
    return {
        "status": "ok",
        "dataset_version": served.version,
        "incidents": len(served.stores["events"]),
    }
