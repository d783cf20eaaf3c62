"""``GET /api/locate``: where a point lies relative to the garrison and the zone (geodesic)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.ogc import json_or_html
from app.api.params import LAT, LOCATE_F, LON, Parameters, parse_number, reject_unknown
from app.data.catalog import ZoneGeometry
from app.errors import BadRequest, problem_responses
from app.geo.geodesy import distance_bearing

router = APIRouter(
    prefix="/api",
    tags=["Geodesic extensions"],
    responses={**problem_responses(400, 500), 304: {"description": "Not modified (If-None-Match)"}},
)
LOCATE_PARAMS = Parameters(LON, LAT, LOCATE_F)
POINTS16 = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
            "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")  # fmt: skip


def _coordinate(request: Request, name: str, limit: float) -> float:
    text = request.query_params.get(name)
    if text is None:
        raise BadRequest(f"parameter {name!r} is required", name)
    value = parse_number(text, name)
    if not -limit <= value <= limit:
        raise BadRequest(f"parameter {name!r} must be between -{limit:g} and {limit:g}", name)
    return value


@router.get(
    "/locate",
    summary="Distance and bearing from the zone centre, and inside or outside the zone",
    description="Geodesic on the WGS84 ellipsoid (Karney, via pyproj.Geod): the distance and "
    "initial bearing from the garrison (the zone's centre) to the point, and whether that "
    "distance is within the zone radius.",
    operation_id="locate",
    openapi_extra=LOCATE_PARAMS.openapi_extra(),
)
async def locate(request: Request) -> Response:
    LOCATE_PARAMS.check(request.query_params)
    reject_unknown(request.query_params, LOCATE_PARAMS.names)  # before parsing, so typos are named
    x = _coordinate(request, "lon", 180)
    y = _coordinate(request, "lat", 90)
    zone: ZoneGeometry = request.app.state.served.zone
    centre_lon, centre_lat = zone.centre
    db = distance_bearing(centre_lon, centre_lat, x, y)
    inside = db.distance_m <= zone.radius_m
    doc: dict[str, Any] = {
        "lon": x,
        "lat": y,
        "from": zone.zone.centre,
        "distance_km": round(db.distance_m / 1000, 3),
        "bearing_deg": round(db.bearing_deg, 1),
        "compass": POINTS16[round(db.bearing_deg / 22.5) % 16],
        "zone_radius_km": zone.radius_m / 1000,
        "inside_zone": inside,
        "zone_status": "inside" if inside else "outside",
        "km_to_boundary": round(abs(zone.radius_m - db.distance_m) / 1000, 3),
        "dataset_version": request.app.state.served.version,
    }
    return json_or_html(request, doc, "Locate", LOCATE_PARAMS.names)
