"""Parse and check query parameters; every failure is a 400 that names the parameter.

Values are parsed by hand rather than by FastAPI's validation so that each message can say what
a valid value looks like, and so that a bad value is a 400 (OGC API) rather than a 422.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

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
