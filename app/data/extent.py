"""Where the geometry is supported: regions are drawn as longitude/latitude polygons, which cannot
cross the antimeridian (±180°) or hold a pole. A record whose regions would is refused, naming it,
rather than served wrong (a piece spanning 359° of longitude, a strip for a polar disc).

Each coordinate a region is drawn from (a site, an exact point) gets the farthest reach of
anything drawn from it (``reach_m``: the zone, distance bands, "near" discs, the open-ended cut,
from ``app.geo.wording``); the geodesic disc of that reach (plus ``MARGIN``) must hold neither
pole and stay on one side of the antimeridian. The disc's edge is sampled every degree of
azimuth with ``pyproj.Geod``; the margin covers what lies between samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.data.model import Incident, Site, Zone
from app.geo.geodesy import METRES_PER_KM, METRES_PER_UNIT, WGS84
from app.geo.wording import JUST_M, NEAR_DEFAULT_M, OPEN_REACH_M, distance_band_m

MARGIN = 1.01  # a 1° chord of a circle falls short of the arc by far less than 1 %
MARGIN_M = 1_000.0
MAX_REACH_M = 5_000_000.0  # beyond this a disc covers too much of the globe to be a claim
_AZIMUTHS = np.arange(0.0, 360.0, 1.0)


@dataclass(frozen=True)
class ExtentProblem:
    kind: str  # "zone", "site" or "incident"
    record: str
    field: str
    message: str


def outside_extent(lon: float, lat: float, reach_m: float) -> str | None:
    """Why a disc of ``reach_m`` metres around lon/lat is not drawable, or None if it is."""
    reach = reach_m * MARGIN + MARGIN_M
    if reach_m > MAX_REACH_M:
        return f"reaches {reach_m / 1000:,.0f} km, more than the {MAX_REACH_M / 1000:,.0f} km supported"
    for pole in (90.0, -90.0):
        if WGS84.inv(lon, lat, lon, pole)[2] <= reach:
            side = "North" if pole > 0 else "South"
            far = f"{reach_m / 1000:,.0f} km from lon {lon}, lat {lat}"
            return f"its regions would reach the {side} Pole ({far})"
    lons, _lats, _back = WGS84.fwd(np.full(_AZIMUTHS.size, lon), np.full(_AZIMUTHS.size, lat), _AZIMUTHS,
                                   np.full(_AZIMUTHS.size, reach))  # fmt: skip
    unwrapped = lon + (np.asarray(lons) - lon + 180.0) % 360.0 - 180.0
    if unwrapped.max() >= 180.0 or unwrapped.min() <= -180.0:
        return (
            f"its regions would cross the antimeridian (±180° longitude; {reach_m / 1000:,.0f} km "
            f"from lon {lon}, lat {lat}), which the geometry does not support"
        )
    return None


def _km(metres: float) -> str:
    return f"{metres / 1000:,.0f} km" if metres < float("inf") else "beyond any distance on Earth"


def _claim_reach_m(incident: Incident, zone: Zone | None, problems: list[ExtentProblem]) -> dict[str, float]:
    """Per anchor site: the farthest any of the incident's claims draws from it (metres). A claim
    that alone reaches beyond ``MAX_REACH_M`` is a problem of the claim's own field (its distance
    or radius), not of the site it is drawn from: it is added to ``problems`` and not counted."""
    reach: dict[str, float] = {}

    def extend(sites: list[str], metres: float, index: int, field: str) -> None:
        if metres > MAX_REACH_M:
            problems.append(ExtentProblem("incident", incident.id, f"location_claims.{index}.{field}",
                                          f"reaches {_km(metres)}, more than the "
                                          f"{MAX_REACH_M / 1000:,.0f} km supported"))  # fmt: skip
            return
        for site in sites:
            reach[site] = max(reach.get(site, 0.0), metres)

    for i, claim in enumerate(incident.location_claims):
        far, field = OPEN_REACH_M, "bearing"  # a bearing alone
        if claim.distance is not None:
            d = claim.distance
            field = "distance"
            if d.max is not None:
                far = d.max * METRES_PER_UNIT[d.unit]
            elif d.value is not None:
                far = distance_band_m(d.value, d.unit, d.qualifier, d.step)[1]
        extend(claim.from_sites, far, i, field)
        if claim.near is not None:
            radius = claim.near.radius_km * METRES_PER_KM if claim.near.radius_km else NEAR_DEFAULT_M
            extend(claim.near.sites, radius, i, "near.radius_km")
        if claim.zone is not None and zone is not None:
            extend([zone.centre], max(OPEN_REACH_M, 2 * zone.radius_km * METRES_PER_KM), i, "zone")
    return reach


def check_extent(zone: Zone | None, sites: dict[str, Site], incidents: list[Incident]) -> list[ExtentProblem]:
    """Every record whose regions the geometry cannot draw (see the module doc)."""
    problems: list[ExtentProblem] = []
    reach: dict[str, float] = dict.fromkeys(sites, 0.0)
    user: dict[str, tuple[str, str]] = {}  # the site -> a record that draws farthest from it
    if zone is not None and zone.centre in sites:
        radii = [zone.radius_km * METRES_PER_KM]
        radii += [v.radius * METRES_PER_UNIT[v.unit] for v in zone.variants]
        reach[zone.centre] = max(radii) + JUST_M
        user[zone.centre] = ("zone", zone.id)
    for incident in incidents:
        for site, metres in _claim_reach_m(incident, zone, problems).items():
            if site in reach and metres > reach[site]:
                reach[site] = metres
                user[site] = ("incident", incident.id)
        for i, claim in enumerate(incident.location_claims):
            if claim.point is not None:
                why = outside_extent(claim.point.lon, claim.point.lat, claim.point.precision_m)
                if why:
                    problems.append(ExtentProblem("incident", incident.id, f"location_claims.{i}.point", why))
    for site_id, metres in reach.items():
        where = sites[site_id]
        why = outside_extent(where.lon, where.lat, metres)
        if why:
            kind, record = user.get(site_id, ("site", site_id))
            drawn = f" (drawn from by {kind} {record!r})" if kind != "site" else ""
            problems.append(ExtentProblem("site", site_id, "lon" if abs(where.lat) < 60 else "lat",
                                          f"site {site_id!r}{drawn}: {why}"))  # fmt: skip
    return problems
