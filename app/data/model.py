"""Pydantic models of the human-edited files in geodata/ (see geodata/README.md).

Every model forbids unknown keys, so a typo in a field name is an error, not a silently ignored
line, and every number is finite (YAML's ``.inf`` and ``.nan``, or ``1e400``, are refused by
field, not left to fail in the geometry). Coordinates are WGS84 decimal degrees; distances carry
their unit.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from app.geo.wording import COMPASS_POINTS, DISTANCE_QUALIFIERS

Id = str  # lower-case words joined by hyphens; checked by ID_PATTERN
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# The largest whole number every reader of the JSON keeps exactly: JavaScript's
# Number.MAX_SAFE_INTEGER (2**53 - 1). Larger ones do not fit the served JSON (64-bit at most).
MAX_COUNT = 2**53 - 1

# Words about the project's own workings (its research notes, its folders). Readers see an
# incident's title, summary, actors, dates in words, deaths, claims in words, 'unconfirmed' and
# 'note' on its card; how the record was drawn from its sources is for editors, in the incident's
# 'editors_note' (and a source's 'note'), which the API serves and no card shows (geodata/README.md).
WORKINGS = re.compile(r"research notes?|research folder|the project\b|as given in", re.IGNORECASE)


def _for_readers(text: str) -> str:
    found = WORKINGS.search(text)
    if found:
        raise ValueError(
            f"readers see this text, which speaks of the project's own workings ({found.group(0)!r}): "
            "say it for readers, and put how the record was drawn in the incident's 'editors_note'"
        )
    return text


ReaderText = Annotated[str, AfterValidator(_for_readers)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Citation(Strict):
    """A source as used by one record, with the verbatim words the record rests on."""

    source: str = Field(pattern=ID_PATTERN)
    quote: str | None = Field(default=None, min_length=1)
    # Set only when no verbatim wording of the source is available to us; says why.
    no_quote_reason: str | None = None
    # The research notes' words around a short quote, verbatim, when the source's own sentence
    # is not in the research: they show what the quote measures from what. Contains the quote.
    context: str | None = Field(default=None, min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _quote_or_reason(self) -> Citation:
        if self.quote is None and not self.no_quote_reason:
            raise ValueError("a citation needs a verbatim 'quote' (or a 'no_quote_reason')")
        _check_context(self.quote, self.context)
        return self


def _check_context(quote: str | None, context: str | None) -> None:
    if context is not None and (quote is None or " ".join(quote.split()) not in " ".join(context.split())):
        raise ValueError("'context' must contain the 'quote' it surrounds")


class Source(Strict):
    """A publication: one article, release, briefing or reference page."""

    id: str = Field(pattern=ID_PATTERN)
    outlet: str = Field(min_length=1)
    title: str | None = None
    date: dt.date | None = None
    url: HttpUrl | None = None
    note: str | None = None


class Site(Strict):
    """A named place with a sourced coordinate and its precision."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    kind: Literal["garrison", "border-crossing", "tripoint", "camp", "town", "area"]
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    precision_m: float = Field(gt=0)
    aliases: list[str] = []
    sources: list[Citation] = Field(min_length=1)
    note: str | None = None


class ZoneVariant(Strict):
    """A radius some sources report instead of the main one (e.g. "about 35 miles")."""

    id: str = Field(pattern=ID_PATTERN)
    radius: float = Field(gt=0)
    unit: Literal["km", "mi"]
    sources: list[Citation] = Field(min_length=1)


class Zone(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    centre: str = Field(pattern=ID_PATTERN, description="site id of the centre")
    radius_km: float = Field(gt=0, le=1000)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    description: str
    sources: list[Citation] = Field(min_length=1)
    variants: list[ZoneVariant] = []

    @model_validator(mode="after")
    def _ordered(self) -> Zone:
        if self.valid_from is not None and self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"'valid_to' ({self.valid_to}) is before 'valid_from' ({self.valid_from})")
        return self


class DateSpan(Strict):
    """When something happened: a day, or an interval that surely contains it."""

    start: dt.date
    end: dt.date | None = None
    precision: Literal["day", "days", "month", "approximate"]
    text: ReaderText | None = Field(default=None, description="the date as the sources give it")

    @model_validator(mode="after")
    def _ordered(self) -> DateSpan:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"date end {self.end} is before start {self.start}")
        return self

    @property
    def last(self) -> dt.date:
        return self.end or self.start


class Distance(Strict):
    """A worded distance: "about 24 miles" is value 24, unit mi, qualifier about."""

    value: float | None = Field(default=None, gt=0)
    unit: Literal["m", "km", "mi"]
    qualifier: str = "about"
    step: float | None = Field(default=None, gt=0)
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _value_or_bounds(self) -> Distance:
        if self.qualifier not in DISTANCE_QUALIFIERS:
            raise ValueError(f"unknown qualifier {self.qualifier!r}; use {DISTANCE_QUALIFIERS}")
        explicit = self.min is not None and self.max is not None
        if self.value is None and not explicit:
            raise ValueError("a distance needs 'value', or both 'min' and 'max'")
        if explicit and self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("distance 'min' must be below 'max'")
        return self


class Bearing(Strict):
    """A direction from the anchor: a compass word, or an explicit azimuth range (degrees)."""

    compass: str | None = None
    from_deg: float | None = Field(default=None, ge=0, lt=360)
    to_deg: float | None = Field(default=None, ge=0, lt=360)

    @model_validator(mode="after")
    def _word_or_range(self) -> Bearing:
        if self.compass is not None:
            if self.compass.lower() not in {p.lower() for p in COMPASS_POINTS}:
                raise ValueError(f"unknown compass direction {self.compass!r}")
        elif self.from_deg is None or self.to_deg is None:
            raise ValueError("a bearing needs 'compass', or both 'from_deg' and 'to_deg'")
        return self


ZoneRelation = Literal["inside", "just_inside", "inside_within", "just_outside", "outside"]


class ZoneClaim(Strict):
    """Where a place lies relative to the zone boundary ("less than 10 km inside")."""

    relation: ZoneRelation
    depth_km: float | None = Field(default=None, gt=0, description="for inside_within")

    @model_validator(mode="after")
    def _depth(self) -> ZoneClaim:
        if (self.relation == "inside_within") != (self.depth_km is not None):
            raise ValueError("'depth_km' is required with relation inside_within, and only there")
        return self


class Near(Strict):
    sites: list[str] = Field(min_length=1)
    radius_km: float | None = Field(default=None, gt=0)


class ExactPoint(Strict):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    precision_m: float = Field(gt=0)


class StatedCountry(Strict):
    """The country the source puts the place in ("a U.S. base in Jordan"), in the source's own
    words: ``quote`` is verbatim from the claim's source, ``name`` as in geodata/borders.geojson.
    It narrows the claim's other parts to that country, grown by the borders' error."""

    name: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class LocationClaim(Strict):
    """One source's statement of where an incident happened, and the region it describes.

    ``from_sites`` lists the candidate anchors of ``distance`` and ``bearing``: more than one
    when the source's wording is ambiguous. A claim with no geometric part is kept as text
    (``unmapped`` says why).
    """

    id: str = Field(pattern=ID_PATTERN)
    source: str = Field(pattern=ID_PATTERN)
    quote: str | None = Field(default=None, min_length=1)
    no_quote_reason: str | None = None
    context: str | None = Field(default=None, min_length=1, description="as in Citation")
    text: ReaderText = Field(min_length=1, description="the claim in plain words")
    from_sites: list[str] = []
    distance: Distance | None = None
    bearing: Bearing | None = None
    zone: ZoneClaim | None = None
    near: Near | None = None
    point: ExactPoint | None = None
    country: StatedCountry | None = None
    unmapped: ReaderText | None = None

    @model_validator(mode="after")
    def _shape(self) -> LocationClaim:
        if self.quote is None and not self.no_quote_reason:
            raise ValueError("a claim needs a verbatim 'quote' (or a 'no_quote_reason')")
        _check_context(self.quote, self.context)
        anchored = self.distance is not None or self.bearing is not None
        if anchored and not self.from_sites:
            raise ValueError("a distance or bearing needs 'from_sites'")
        if self.from_sites and not anchored:
            raise ValueError("'from_sites' needs a 'distance' or a 'bearing'")
        geometric = anchored or self.zone or self.near or self.point
        if self.country is not None and not geometric:
            raise ValueError(
                "a 'country' narrows a distance, bearing, zone, near or point; "
                "alone it would draw the whole country"
            )
        if not geometric and not self.unmapped:
            raise ValueError("a claim with no geometric part needs 'unmapped' saying why")
        if geometric and self.unmapped:
            raise ValueError("'unmapped' is only for claims with no geometric part")
        return self


class Fatalities(Strict):
    """Deaths as one source reports them; ``min``/``max`` bound the figure ("at least 17")."""

    source: str = Field(pattern=ID_PATTERN)
    text: ReaderText = Field(min_length=1)
    min: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    max: int | None = Field(default=None, ge=0, le=MAX_COUNT)

    @model_validator(mode="after")
    def _ordered(self) -> Fatalities:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"fatalities 'min' ({self.min}) is above 'max' ({self.max})")
        return self


class Incident(Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: ReaderText = Field(min_length=1)
    date: DateSpan
    event_type: Literal[
        "Battles",
        "Explosions/Remote violence",
        "Violence against civilians",
        "Strategic developments",
    ]
    sub_event_type: str = Field(min_length=1)
    actors: list[ReaderText] = Field(min_length=1)
    summary: ReaderText = Field(min_length=1)
    fatalities: list[Fatalities] = []
    sources: list[Citation] = Field(min_length=1)
    location_claims: list[LocationClaim] = []
    # Set when the incident itself is a claim no other party has confirmed (e.g. a ministry's
    # report of its own strikes that the other side has not commented on): whose claim, and why
    # it stands unconfirmed, as the sources say.
    unconfirmed: ReaderText | None = Field(default=None, min_length=1)
    # For readers (shown on the card): how to read the record, where that is not obvious.
    note: ReaderText | None = None
    # For editors (served by the API, never on a card): how the record was drawn from its sources.
    editors_note: str | None = None
