"""Claims as evidence: how the location claims of an incident answer "inside the zone?".

Each *source* is one witness. The rules, in order (the source of the rule: issue 13 and
``DESIGN.md``, "Inside the zone? is answered from the evidence"):

1. **One source, one place.** The claims of one source about one incident describe one place,
   so they are intersected. A source whose claims share no area contradicts itself: it is
   flagged (``self_contradictory``) and answers with the union of its claims.
2. **Each source's own answer.** ``p_inside`` is the share of the source's region (ellipsoidal
   area) inside the zone; it *allows* ``{inside}`` at p >= 0.999, ``{outside}`` at p <= 0.001
   and ``{inside, outside}`` (it lies *across* the edge) otherwise.
3. **All sources right at once.** If the sources' regions share an area (the common region is
   wider than ``LINE_WIDTH_M`` on average, so not just a shared edge), the answer comes from that
   common region: ``inside``, ``outside`` or ``uncertain`` when it straddles the edge, and
   ``p_inside`` is its share inside. (rule ``common-region``)
4. **Otherwise each source answers for itself**, and the incident gets what every source allows:
   ``{inside}`` is ``inside``, ``{outside}`` is ``outside``, ``{inside, outside}`` is
   ``uncertain``, and nothing in common (one source wholly inside, another wholly outside) is
   ``contested``. ``p_inside`` is then the mean of the sources' own shares, each source weighing
   ``SOURCE_WEIGHT`` (1): one vague claim never outweighs several specific ones, whatever the
   size of its region. (rule ``per-source``)

Worked example, the coalition strike of 6 June 2017: a US official ("about 15 miles from" the
garrison), CJTF-OIR ("less than 10 km inside"), CNN ("just inside") and AFP ("well advanced")
each lie wholly inside; SOHR ("more than 100 km" from the al-Tanf crossing) wholly outside. SOHR's
ring shares nothing with the others, so each source answers for itself: {inside} four times and
{outside} once have nothing in common: ``contested``, p_inside = (1 + 1 + 1 + 1 + 0) / 5 = 0.8.
Where SOHR's open-ended ring is cut (200 km) changes nothing: it lies wholly outside either way.

Regions are WGS84 lon/lat shapely geometries; areas in km², shares in 0..1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import shapely
from shapely.geometry.base import BaseGeometry

from app.geo.geodesy import area_m2, perimeter_m
from app.geo.measure import RegionMeasure, measure_region, status_for

ZoneAnswer = Literal["inside", "outside", "uncertain", "contested"]
Allowed = Literal["inside", "outside", "across"]  # what one source's region allows
Rule = Literal["common-region", "per-source", "unlocated"]

SOURCE_WEIGHT = 1.0
# A common region whose mean width (2 * area / perimeter) is below this is a shared edge, not a
# shared area: regions are kept within 10 m of exact (``shapes.SERVED_REGION_M``), so two bands
# that meet on the zone's boundary can overlap by a sliver of about that width.
LINE_WIDTH_M = 10.0


@dataclass(frozen=True)
class SourceRegion:
    """One source's located claims about an incident (the input of ``weigh``)."""

    source_id: str
    claim_ids: tuple[str, ...]
    regions: tuple[BaseGeometry, ...]  # exact claim regions, none empty


@dataclass(frozen=True)
class SourceAnswer:
    """What one source says about "inside the zone?"."""

    source_id: str
    claim_ids: tuple[str, ...]
    region: BaseGeometry
    measure: RegionMeasure
    allows: Allowed
    self_contradictory: bool


@dataclass(frozen=True)
class Evidence:
    """The incident's answer, and how it was reached."""

    status: ZoneAnswer
    p_inside: float
    rule: Rule
    sources: tuple[SourceAnswer, ...]
    common: BaseGeometry | None  # the region every source allows, if it has an area
    common_measure: RegionMeasure | None

    def count(self, allows: Allowed) -> int:
        """How many sources allow exactly ``allows`` (inside, outside, or across the edge)."""
        return sum(1 for s in self.sources if s.allows == allows)


def allows_for(p_inside: float) -> Allowed:
    """What a region with share ``p_inside`` inside the zone allows: ``measure.status_for``'s
    answer, with its "uncertain" read as lying across the edge (one set of thresholds)."""
    status = status_for(p_inside)
    return "across" if status == "uncertain" else status


def has_area(region: BaseGeometry) -> bool:
    """True when ``region`` is an area, not a line or a sliver along a shared edge."""
    if region.is_empty:
        return False
    area = area_m2(region)
    if area <= 0.0:
        return False
    return 2.0 * area / perimeter_m(region) >= LINE_WIDTH_M


def source_answer(
    source: SourceRegion, zone: BaseGeometry, centre: tuple[float, float], radius_m: float
) -> SourceAnswer:
    """Intersect one source's claims and measure the place they describe against the zone."""
    if not source.regions:
        raise ValueError(f"source {source.source_id!r} has no located claim")
    region = shapely.intersection_all(list(source.regions)) if len(source.regions) > 1 else source.regions[0]
    contradictory = len(source.regions) > 1 and not has_area(region)
    if contradictory:
        region = shapely.union_all(list(source.regions))
    measure = measure_region(region, zone, centre, radius_m)
    return SourceAnswer(
        source.source_id, source.claim_ids, region, measure, allows_for(measure.p_inside), contradictory
    )


_FROM_ALLOWED: dict[frozenset[str], ZoneAnswer] = {
    frozenset({"inside"}): "inside",
    frozenset({"outside"}): "outside",
    frozenset({"inside", "outside"}): "uncertain",
    frozenset(): "contested",
}
_SIDES: dict[Allowed, frozenset[str]] = {
    "inside": frozenset({"inside"}),
    "outside": frozenset({"outside"}),
    "across": frozenset({"inside", "outside"}),
}


def weigh(
    sources: Sequence[SourceRegion], zone: BaseGeometry, centre: tuple[float, float], radius_m: float
) -> Evidence:
    """The answer the located sources of one incident give together (rules in the module doc).

    ``zone`` is the zone polygon around ``centre`` (lon/lat) of radius ``radius_m`` metres. With
    no located source the status is ``uncertain``, ``p_inside`` 0 and the rule ``unlocated``.
    """
    answers = tuple(source_answer(s, zone, centre, radius_m) for s in sources)
    if not answers:
        return Evidence("uncertain", 0.0, "unlocated", (), None, None)
    common = answers[0].region
    for answer in answers[1:]:
        common = shapely.intersection(common, answer.region)
    if len(answers) > 1 and not common.is_valid:
        common = shapely.make_valid(common)
    if has_area(common):
        measure = measure_region(common, zone, centre, radius_m)
        return Evidence(
            status_for(measure.p_inside), measure.p_inside, "common-region", answers, common, measure
        )
    allowed = frozenset({"inside", "outside"})
    for answer in answers:
        allowed &= _SIDES[answer.allows]
    total = sum(SOURCE_WEIGHT for _ in answers)
    p = sum(SOURCE_WEIGHT * a.measure.p_inside for a in answers) / total
    return Evidence(_FROM_ALLOWED[allowed], p, "per-source", answers, None, None)
