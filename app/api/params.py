"""The API's parameters: declared once (what the OpenAPI document says of each), parsed and
checked here; every failure is a 400 that names the parameter.

Each route takes only the ``Request``: FastAPI validates nothing. Its OpenAPI operation lists the
route's ``Parameters`` (``openapi_extra``), written from the declarations below, and the handler
parses the query with the functions below, once. Values are parsed by hand so that each message
can say what a valid value looks like, and so that a bad value is a 400 (OGC API) rather than a
422. (FastAPI's validation of 13 declared-but-unread string parameters was about a third of a
first items request's CPU: tests/perf/path_profile.py.)
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import QueryParams

from app.data.store_api import SIMPLIFY_LADDER_M, STATUS_CODES, ItemQuery
from app.errors import BadRequest

MAX_TEXT = 200  # longest free-text or type value accepted
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"  # WGS84 lon/lat, the only CRS served


def reject_unknown(params: QueryParams, allowed: Iterable[str]) -> None:
    """Refuse parameters the endpoint does not know, and repeated ones."""
    allowed = set(allowed)
    for name in params:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise BadRequest(f"unknown query parameter {name[:40]!r}; known: {known}", name[:40])
        if len(params.getlist(name)) > 1:
            raise BadRequest(f"parameter {name!r} is given more than once", name)


def _ascii_digits(text: str) -> bool:
    # str.isdigit() and float() also take other scripts' digits ("٣٣"); parameters are ASCII.
    return text.isascii() and text.isdigit()


def parse_number(text: str, name: str) -> float:
    if not text.isascii():
        raise BadRequest(f"parameter {name!r} must be a number written with ASCII digits", name)
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"parameter {name!r} must be a number, got {text[:40]!r}", name) from None
    if not math.isfinite(value):
        raise BadRequest(f"parameter {name!r} must be a finite number", name)
    return value


def parse_limit(text: str | None, default: int, maximum: int) -> int:
    """Items per page: a positive integer; above the maximum it is clamped (OGC API Core)."""
    if text is None:
        return default
    if not _ascii_digits(text):
        raise BadRequest(f"parameter 'limit' must be a positive integer, got {text[:40]!r}", "limit")
    value = int(text)
    if value < 1:
        raise BadRequest("parameter 'limit' must be at least 1", "limit")
    return min(value, maximum)


def parse_offset(text: str | None) -> int:
    if text is None:
        return 0
    if not _ascii_digits(text) or len(text) > 12:
        raise BadRequest(f"parameter 'offset' must be a non-negative integer, got {text[:40]!r}", "offset")
    return int(text)


MAX_ID_CHARS = 200  # a feature id in ``after`` (ids are a few dozen characters)


def parse_after(text: str | None) -> str | None:
    if text is not None and not 0 < len(text) <= MAX_ID_CHARS:
        raise BadRequest(f"parameter 'after' must be a feature id of 1 to {MAX_ID_CHARS} characters", "after")
    return text


def parse_simplify(text: str) -> int:
    if not _ascii_digits(text) or int(text) not in SIMPLIFY_LADDER_M:
        ladder = ", ".join(map(str, SIMPLIFY_LADDER_M))
        raise BadRequest(f"parameter 'simplify_m' must be one of {ladder}", "simplify_m")
    return int(text)


def parse_crs(text: str, name: str) -> str:
    """A CRS parameter (``crs``, ``bbox-crs``, ``filter-crs``): the URI of one the API serves,
    which is CRS84 alone (OGC 18-058r1, /req/crs/fc-crs-valid-value: any other is a 400)."""
    if text.strip() != CRS84:
        raise BadRequest(f"parameter {name!r} supports only {CRS84}; got {text[:80]!r}", name)
    return CRS84


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` (or 6 numbers with heights, which are ignored), CRS84.

    A minlon greater than maxlon is a box crossing the antimeridian.
    """
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise BadRequest("parameter 'bbox' needs 4 or 6 comma-separated numbers", "bbox")
    nums = [parse_number(p, "bbox") for p in parts]
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    minx, miny, maxx, maxy = nums
    if not all(-180 <= v <= 180 for v in (minx, maxx)) or not all(-90 <= v <= 90 for v in (miny, maxy)):
        raise BadRequest("parameter 'bbox' is out of range (lon -180..180, lat -90..90)", "bbox")
    if miny > maxy:
        raise BadRequest("parameter 'bbox' has its southern edge above its northern edge", "bbox")
    return minx, miny, maxx, maxy


# RFC 3339 §5.6: a time's seconds may be 60 (a leap second, e.g. 2016-12-31T23:59:60Z).
_LEAP_SECOND = re.compile(r"^(.{10}[Tt ]\d\d:\d\d:)60(?=[.,]\d+|[Zz+-]|$)")


@dataclass(frozen=True)
class Instant:
    """A date or a UTC date-time of a ``datetime`` parameter: its UTC day, and the span it
    covers in UTC (a date covers its whole day), to order the two ends of an interval."""

    day: dt.date
    earliest: dt.datetime
    latest: dt.datetime


def _instant(text: str, name: str) -> Instant:
    """An RFC 3339 date or date-time; only its (UTC) date filters, as the data is dated by day.

    A leap second (``:60``) is the last second of its minute; an offset that takes the moment
    outside the years 1-9999 once in UTC is a 400 (no date can be there)."""
    # GDAL 3.6 sends a date filter as "2017-06-01T" (a date with an empty time): accept it.
    if len(text) == 11 and text[-1] in "Tt":
        text = text[:-1]
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), dt.UTC)
            return Instant(day, start, start.replace(hour=23, minute=59, second=59, microsecond=999_999))
        leap = _LEAP_SECOND.match(text)
        iso = _LEAP_SECOND.sub(r"\g<1>59", text) if leap else text
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"parameter {name!r} must be an RFC 3339 date or date-time, or an interval "
            f"'start/end' with '..' for an open end; got {text[:40]!r}",
            name,
        ) from None
    if leap:
        moment = moment.replace(microsecond=999_999)  # within 23:59:59 and the next second
    try:
        utc = moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    except OverflowError:
        raise BadRequest(f"parameter {name!r} is outside the years 1-9999 once in UTC", name) from None
    return Instant(utc.date(), utc, utc)


def _year_zero(text: str) -> bool:
    """Whether an interval's start is in year 0000, which RFC 3339's syntax allows and Python's
    dates do not: QGIS's OAPIF provider sends ``datetime=0000-01-01T00:00:00Z/<date>`` for a
    ``date < '<date>'`` layer filter. It is before every date there can be, so an open start.
    The rest of the text must still be a date or date-time (it is checked as year 2000, which
    has the same calendar)."""
    if not text.startswith("0000-"):
        return False
    try:
        _instant("2000" + text[4:], "datetime")
    except BadRequest:
        _instant(text, "datetime")  # the same 400, quoting what was sent
    return True


def parse_datetime(text: str) -> tuple[dt.date | None, dt.date | None]:
    """``instant``, ``start/end``, ``../end`` or ``start/..``: the inclusive day range."""
    if "/" not in text:
        day = _instant(text, "datetime").day
        return day, day
    parts = text.split("/")
    if len(parts) != 2 or parts == ["..", ".."] or parts == ["", ""]:
        raise BadRequest(
            "parameter 'datetime' interval must be 'start/end' with at most one '..'", "datetime"
        )
    start = None if parts[0] in ("..", "") or _year_zero(parts[0]) else _instant(parts[0], "datetime")
    end = None if parts[1] in ("..", "") else _instant(parts[1], "datetime")
    if start and end and end.latest < start.earliest:
        raise BadRequest("parameter 'datetime' interval ends before it starts", "datetime")
    return (start.day if start else None), (end.day if end else None)


def parse_in_zone(text: str) -> frozenset[str]:
    values = frozenset(v.strip() for v in text.split(","))
    bad = values - set(STATUS_CODES)
    if bad or not values:
        raise BadRequest(
            "parameter 'in_zone' takes inside, outside, uncertain and/or contested (comma list)", "in_zone"
        )
    return values


def parse_probability(text: str) -> float:
    value = parse_number(text, "min_p_inside")
    if not 0 <= value <= 1:
        raise BadRequest("parameter 'min_p_inside' must be between 0 and 1", "min_p_inside")
    return value


def parse_near(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise BadRequest("parameter 'near' must be 'lon,lat' in degrees", "near")
    lon, lat = (parse_number(p, "near") for p in parts)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadRequest("parameter 'near' is out of range (lon -180..180, lat -90..90)", "near")
    return lon, lat


def parse_km(text: str, name: str, maximum: float = 20_000.0) -> float:
    value = parse_number(text, name)
    if not 0 < value <= maximum:
        raise BadRequest(f"parameter {name!r} must be above 0 and at most {maximum:g} km", name)
    return value


def parse_text(text: str, name: str) -> str:
    if not text.strip() or len(text) > MAX_TEXT:
        raise BadRequest(f"parameter {name!r} must be 1 to {MAX_TEXT} characters", name)
    return text.strip()


def parse_item_query(params: QueryParams) -> ItemQuery:
    """The filters of an items request (unknown parameters were refused before)."""
    start = end = None
    has_time = "datetime" in params
    if has_time:
        start, end = parse_datetime(params["datetime"])
    near = parse_near(params["near"]) if "near" in params else None
    within = parse_km(params["within_km"], "within_km") if "within_km" in params else None
    if (near is None) != (within is None):
        missing = "within_km" if near is not None else "near"
        raise BadRequest(f"parameters 'near' and 'within_km' go together; {missing!r} is missing", missing)
    return ItemQuery(
        bbox=parse_bbox(params["bbox"]) if "bbox" in params else None,
        start=start,
        end=end,
        has_time_filter=has_time,
        in_zone=parse_in_zone(params["in_zone"]) if "in_zone" in params else frozenset(),
        min_p_inside=parse_probability(params["min_p_inside"]) if "min_p_inside" in params else None,
        near=near,
        within_m=within * 1000 if within is not None else None,
        event_type=parse_text(params["event_type"], "event_type") if "event_type" in params else None,
        sub_event_type=(
            parse_text(params["sub_event_type"], "sub_event_type") if "sub_event_type" in params else None
        ),
        q=parse_text(params["q"], "q") if "q" in params else None,
    )


# The parameters' declarations. OGC's bbox, datetime and limit are defined once, in the words of
# OGC 17-069r4 (7.15.3-7.15.5), under components.parameters: QGIS reads the page size only from
# ``components.parameters.limit`` and GDAL only from a ``$ref`` whose name contains "limit".


@dataclass(frozen=True)
class Parameter:
    """One parameter as the OpenAPI document declares it.

    ``values``: the only values accepted (an enum), checked before the handler runs, as are
    ``required`` ones. ``schema``: the standard's own schema for a shared parameter; the others
    are strings (their parsers above say what the string must hold), written as FastAPI wrote
    them from the former typed signatures, so that the documents did not change.
    """

    name: str
    description: str
    where: Literal["query", "path"] = "query"
    required: bool = False
    values: tuple[str, ...] = ()
    schema: dict[str, Any] | None = None

    @property
    def shared(self) -> bool:
        return self.schema is not None

    def definition(self) -> dict[str, Any]:
        """The OpenAPI Parameter Object."""
        head: dict[str, Any] = {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
        }
        if self.where == "query":
            head |= {"style": "form", "explode": False}  # QGIS lists these as simple queryables
        if self.schema is not None:
            return {**head, "description": self.description, "schema": self.schema}
        text: dict[str, Any] = (
            {"type": "string", "enum": list(self.values)} if self.values else {"type": "string"}
        )
        kind = text if head["required"] else {"anyOf": [text, {"type": "null"}]}
        title = self.name.replace("_", " ").title()
        return {**head, "schema": {**kind, "description": self.description, "title": title},
                "description": self.description}  # fmt: skip

    def reference(self) -> dict[str, Any]:
        """How an operation lists it: a ``$ref`` to a shared one, else its definition."""
        return {"$ref": f"#/components/parameters/{self.name}"} if self.shared else self.definition()


class Parameters:
    """A route's parameters, in the order its OpenAPI operation lists them."""

    def __init__(self, *declared: Parameter) -> None:
        self.declared = declared
        self.names = frozenset(p.name for p in declared if p.where == "query")
        self._checked = [p for p in declared if p.where == "query" and (p.required or p.values)]

    def openapi_extra(self) -> dict[str, Any]:
        """For the route decorator: the operation's ``parameters``."""
        return {"parameters": [p.reference() for p in self.declared]}

    def check(self, params: QueryParams) -> None:
        """The declared rules (required, one of ``values``) in the order declared: a 400 naming
        the first parameter that breaks one, before any other check of the request (its last
        value counts if it is repeated)."""
        for p in self._checked:
            value = params.get(p.name)
            if (value is None and p.required) or (value is not None and p.values and value not in p.values):
                raise BadRequest(f"invalid value for parameter {p.name!r}", p.name)


F = Parameter("f", "Output format: json/geojson (GeoJSON), csv (geometry as WKT plus lon/lat), or html.")
BBOX = Parameter(
    "bbox",
    "minlon,minlat,maxlon,maxlat (CRS84, 4 or 6 numbers; heights are ignored): features whose geometry "
    "intersects the box. For events the geometry is the representative point; features without a "
    "geometry never match.",
    schema={"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
)
DATETIME = Parameter(
    "datetime",
    "RFC 3339 date/date-time or interval 'start/end' ('..' = open end): features whose date interval "
    "[date_start, date_end] intersects it (by UTC day).",
    schema={"type": "string"},
)
LIMIT = Parameter(
    "limit",
    "Features per page (default {default}, at most {maximum}; a larger value is clamped to the maximum).",
    schema={"type": "integer", "minimum": 1},
)
OFFSET = Parameter("offset", "Features to skip (paging; follow the 'next' link).")
AFTER = Parameter(
    "after",
    "The id of the last feature of the previous page, as the 'next' link carries it with the offset: "
    "the page is the matches after that feature (keyset paging: a deep page costs what the first does), "
    "offset then only numbers it. An id the collection does not hold is ignored (offset counts).",
)
IN_ZONE = Parameter(
    "in_zone",
    "inside, outside, uncertain and/or contested (comma list): the answer to 'inside the zone?' weighed "
    "source by source (each source once): from the place every source allows where they share one "
    "(inside: >= 0.999 of its WGS84 ellipsoidal area inside the geodesic 55 km circle, outside: <= 0.001, "
    "else uncertain), otherwise from what every source allows; contested: one source puts it wholly "
    "inside and another wholly outside. For regions, the region's own share.",
)
MIN_P_INSIDE = Parameter(
    "min_p_inside",
    "0..1: at least this p_inside (the common place's share inside the zone, or the mean of the "
    "sources' own shares where they share no place).",
)
NEAR = Parameter(
    "near",
    "lon,lat (WGS84): with within_km, features within that geodesic distance. An event matches if its "
    "representative point is within the distance, OR any part of its region comes within it (region "
    "intersects the geodesic disc of that radius; regions are kept within 10 m of their exact shape).",
)
WITHIN_KM = Parameter("within_km", "Geodesic distance on the WGS84 ellipsoid, in km (with near).")
EVENT_TYPE = Parameter("event_type", "ACLED-style event type, exact match, case-insensitive.")
SUB_EVENT_TYPE = Parameter("sub_event_type", "ACLED-style sub-event type, exact match, case-insensitive.")
Q = Parameter("q", "Free text, case-insensitive, searched in the title and summary.")
SIMPLIFY_M = Parameter(
    "simplify_m",
    "For display: polygons simplified to within this many metres on the ground (one of 1, 5, 10, 50, "
    "100, 500, 1000). Without it, geometry is exact (the zone within 1 m).",
)
CRS = Parameter("crs", f"The CRS of the answer's coordinates: only {CRS84} (lon/lat WGS84), the default.")
BBOX_CRS = Parameter("bbox-crs", f"The CRS of bbox: only {CRS84}, the default.")
FILTER = Parameter(
    "filter",
    "A CQL2 expression (OGC 21-065r2) on the collection's queryables (see its /queryables): "
    "comparisons, BETWEEN, IN, LIKE, IS NULL, AND/OR/NOT, CASEI/ACCENTI, S_ spatial and T_ temporal "
    "functions; e.g. date_start >= DATE('2017-06-01') AND zone_status = 'inside'. Only the features it "
    "is true for are returned (a comparison with a null is not true). Events and regions only.",
)
FILTER_LANG = Parameter(
    "filter-lang", "cql2-text (the default) or cql2-json.", values=("cql2-text", "cql2-json", "cql-text")
)
FILTER_CRS = Parameter("filter-crs", f"The CRS of the filter's geometries: only {CRS84}, the default.")
COLLECTION_ID = Parameter("collectionId", "events, regions, sites, zones or borders", where="path")
FEATURE_ID = Parameter("featureId", "The feature's id (stable across restarts)", where="path")
LON = Parameter("lon", "Longitude, WGS84 degrees", required=True)
LAT = Parameter("lat", "Latitude, WGS84 degrees", required=True)
LOCATE_F = Parameter("f", "json or html")

SHARED = (BBOX, DATETIME, LIMIT)


def components(default_limit: int, max_limit: int) -> dict[str, Any]:
    """``components.parameters``: the shared declarations, the page size with its bounds."""
    out = {p.name: p.definition() for p in SHARED}
    out["limit"]["description"] = LIMIT.description.format(default=default_limit, maximum=max_limit)
    out["limit"]["schema"] = {**LIMIT.schema, "maximum": max_limit, "default": default_limit}  # type: ignore[dict-item]
    return out
