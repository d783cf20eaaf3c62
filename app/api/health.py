"""``GET /healthz``: the service is up and which dataset it serves."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and the dataset version served")
async def healthz(request: Request) -> Response:
    """``{"status": "ok", "dataset_version": …, "incidents": n}``, written once per dataset served
    (a new load of the database replaces it, ``app.main.follow_database``) rather than through
    FastAPI's serialisation. Served from the PostGIS store, only while its database answers a
    ``SELECT 1`` (else 503, so a load balancer sends the traffic elsewhere); the embedded store's
    answer is kept and replayed (``app.api.answer_cache``)."""
    state = request.app.state
    served = state.served
    events = served.stores["events"]
    if events.blocking:  # a database's: it must answer now (else Unavailable, a 503 with Retry-After)
        await run_in_threadpool(events.answers)
    kept: tuple[object, bytes] | None = getattr(state, "healthz_body", None)
    if kept is None or kept[0] is not served:
        document = {
            "status": "ok",
            "dataset_version": served.version,
            "incidents": len(served.stores["events"]),
        }
        kept = state.healthz_body = (served, orjson.dumps(document))
    return Response(kept[1], media_type="application/json")
