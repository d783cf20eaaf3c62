"""How the words of a report become numbers: distance bands and compass sectors.

These are the conventions of the product, stated once, so that every region can be traced back
to a rule. They are deliberately generous: a region that is too wide is honest about doubt; one
that is too narrow invents precision the source never had.

Distances
    A reported number is read as rounded to its last significant digit: "24 miles" was rounded
    to the nearest mile, "50 km" to the nearest 10 km, "100 km" to the nearest 100 km. Its
    *step* is 10 to the power of its trailing zeros (or 10 to minus its decimals).

    Round numbers are coarser still (the round-number principle: speakers use multiples of 5,
    10, 50, ... with a coarser precision than other numbers; Krifka 2009, "Approximate
    interpretations of number words: a case for strategic communication"). A number of two or
    more significant figures whose last one is 5 lies on the half-decade scale, so its step is
    five times that: "about 15 miles" -> step 5 -> 12.5-17.5 mi, "roughly 45 miles" ->
    42.5-47.5 mi (68-76 km, which holds the 70 km another source gives for the same outpost),
    "150 km" -> step 50, "2.5 km" -> step 0.5. Multiples of 10, 100, ... already get their
    decade step from their trailing zeros ("about 50 km" stays 45-55 km), a single figure keeps
    its unit ("about 5 km" is 4.5-5.5 km), and any other number keeps its unit step ("about 24
    miles" stays 23.5-24.5 mi).

    The qualifier turns the number and its step into a band ``[min, max]``:

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
    They are cut at ``OPEN_REACH_M`` (200 km) from their anchor, the reach of the map. The
    answer to "inside the zone?" weighs each source once (``app.geo.evidence``), so the cut
    changes nothing whenever such a region lies wholly inside or wholly outside the zone
    ("more than 100 km" from the crossing is outside at any cut); its area depends on the cut,
    and says so by being large.

Bearing alone
    "a combat outpost to the northeast of At Tanf" names a place some distance away in that
    direction, not the site's own surroundings (those would be "at" or "near" the site). A
    bearing with no distance therefore starts where "near" ends: ``BEARING_ONLY_FROM_M``
    (5 km, the same as ``NEAR_DEFAULT_M``) out to ``OPEN_REACH_M``. Where the source gives a
    distance too, the distance band is used as it is; and the same source's other words about
    the incident narrow it further, since one source's claims are intersected
    (``app.geo.evidence``). Example: CENTCOM's "to the northeast of At Tanf" is the sector
    22.5-67.5 degrees from 5 to 200 km from the garrison.

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
BEARING_ONLY_FROM_M = NEAR_DEFAULT_M

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
    """The rounding step implied by how a number is written (see the module doc).

    24 -> 1, 50 -> 10, 100 -> 100, 5 -> 1, 1.5 -> 0.5, 15 -> 5, 45 -> 5, 150 -> 50 (two or more
    significant figures ending in 5 put a number on the half-decade scale). Raises
    ``ValueError`` for value <= 0.
    """
    if value <= 0:
        raise ValueError(f"a reported distance must be positive, got {value}")
    digits = Decimal(repr(value)).normalize()
    _sign, figures, exponent = digits.as_tuple()
    assert isinstance(exponent, int)  # finite numbers only: NaN/inf were refused above
    step = 10.0**exponent
    return 5.0 * step if len(figures) >= 2 and figures[-1] == 5 else step


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
