"""How the words of a report become numbers: distance bands and compass sectors.

These are the conventions of the product, stated once, so that every region can be traced back
to a rule. They are deliberately generous: a region that is too wide is honest about doubt; one
that is too narrow invents precision the source never had.

Distances
    A reported number is read as rounded to its last significant digit: "24 miles" was rounded
    to the nearest mile, "50 km" to the nearest 10 km, "100 km" to the nearest 100 km. Its
    *step* is 10 to the power of its trailing zeros (or 10 to minus its decimals), and the
    qualifier turns the number and its step into a band ``[min, max]``:

    ============  ===============================  =========================================
    qualifier     band                             example
    ============  ===============================  =========================================
    about         value +- step / 2                "about 24 miles" -> 23.5-24.5 mi
    nearly        value - step / 2 .. value        "nearly 50 km" -> 45-50 km
    within        0 .. value                       "within 29 kilometers" -> 0-29 km
    within_about  0 .. value + step / 2            "within about 20 miles" -> 0-25 mi
    less_than     0 .. value                       "less than 10 km" -> 0-10 km
    more_than     value .. OPEN_REACH_M            "more than 100 km" -> 100-200 km
    ============  ===============================  =========================================

    ``step`` can be given explicitly when the source's rounding is known, and a band can be
    given as explicit ``min``/``max`` instead.

Open-ended claims
    "more than 100 km", "outside the zone" and a bearing with no distance have no far edge.
    They are cut at ``OPEN_REACH_M`` (200 km) from their anchor, the reach of the map. For such
    regions ``p_inside`` does not depend on the cut whenever the near edge already lies outside
    the zone; the area does, and says so by being large.

Compass words
    An 8-point word (N, NE, ..., "northwest") covers +-22.5 degrees around its azimuth; a word
    that only exists on the 16-point rose (NNE, WNW, ...) covers +-11.25 degrees.

The zone boundary
    "just inside" / "just outside" the zone is a band ``JUST_M`` (5 km) wide on that side of the
    boundary; "less than 10 km inside" is a 10 km band inside it.

Near a site
    "near <site>" is a disc of the radius the record states, ``NEAR_DEFAULT_M`` (5 km) if it
    states none.
"""

from __future__ import annotations

import math
from decimal import Decimal

from app.geo.geodesy import METRES_PER_UNIT

OPEN_REACH_M = 200_000.0
JUST_M = 5_000.0
NEAR_DEFAULT_M = 5_000.0

DISTANCE_QUALIFIERS = ("about", "nearly", "within", "within_about", "less_than", "more_than")

_EIGHT_POINT = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_SIXTEEN_POINT = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)  # fmt: skip
_COMPASS_WORDS = {
    "north": "N",
    "northeast": "NE",
    "east": "E",
    "southeast": "SE",
    "south": "S",
    "southwest": "SW",
    "west": "W",
    "northwest": "NW",
}
COMPASS_POINTS = frozenset(_SIXTEEN_POINT) | frozenset(_COMPASS_WORDS)


def rounding_step(value: float) -> float:
    """The rounding step implied by how a number is written (24 -> 1, 50 -> 10, 1.5 -> 0.1)."""
    if value <= 0:
        raise ValueError(f"a reported distance must be positive, got {value}")
    digits = Decimal(repr(value)).normalize()
    exponent = digits.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only: NaN/inf were refused above
    return float(10.0**exponent)


def distance_band_m(
    value: float, unit: str, qualifier: str, step: float | None = None
) -> tuple[float, float]:
    """The band ``(min_m, max_m)`` of distances a worded distance describes (see module doc)."""
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"a reported distance must be a positive number, got {value}")
    if unit not in METRES_PER_UNIT:
        raise ValueError(f"unknown distance unit {unit!r}; use one of {sorted(METRES_PER_UNIT)}")
    half = (step if step is not None else rounding_step(value)) / 2.0
    bands = {
        "about": (value - half, value + half),
        "nearly": (value - half, value),
        "within": (0.0, value),
        "within_about": (0.0, value + half),
        "less_than": (0.0, value),
    }
    per_unit = METRES_PER_UNIT[unit]
    if qualifier == "more_than":
        return value * per_unit, max(OPEN_REACH_M, value * per_unit)
    if qualifier not in bands:
        raise ValueError(f"unknown qualifier {qualifier!r}; use one of {DISTANCE_QUALIFIERS}")
    low, high = bands[qualifier]
    return max(0.0, low) * per_unit, high * per_unit


def compass_sector(word: str) -> tuple[float, float]:
    """Azimuth range ``(from_deg, to_deg)`` clockwise for a compass word ("NW", "northwest")."""
    point = _COMPASS_WORDS.get(word.lower(), word.upper())
    if point not in _SIXTEEN_POINT:
        raise ValueError(f"unknown compass direction {word!r}")
    centre = _SIXTEEN_POINT.index(point) * 22.5
    half = 22.5 if point in _EIGHT_POINT else 11.25
    return (centre - half) % 360.0, (centre + half) % 360.0
