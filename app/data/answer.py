"""The answer to "inside the zone?" in words, written once here and served to every view.

The map card, the list, the embed, the server-drawn SVG, the oEmbed summary and the folium
export all show these sentences as the API serves them (``zone_answer``, ``zone_share_text``,
``place_note``), so no view words the evidence on its own. The rules behind the words are in
``app.geo.evidence`` (who says what) and ``app.geo.countries`` (which country).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.geo.countries import CountryShares
from app.geo.evidence import Allowed, Evidence, SourceAnswer

STATUS_LABEL = {
    "inside": "Inside the zone",
    "outside": "Outside the zone",
    "uncertain": "Uncertain",
    "contested": "Contested",
}
# A claim's or a region's own status, as the card words it (static/js/format.js: STATUS_TEXT).
STATUS_TEXT = {
    "inside": "Inside the zone",
    "outside": "Outside the zone",
    "uncertain": "Uncertain whether inside the zone",
    "contested": "Contested: sources disagree",
}
SIDE_WORDS: dict[Allowed, str] = {
    "inside": "inside the zone",
    "outside": "outside the zone",
    "across": "across the zone's edge",
}
# An outlet written "Syrian Observatory for Human Rights (SOHR)" is called by its short name.
_ABBREVIATION = re.compile(r"^(?P<long>.+?)\s*\((?P<short>[A-Z][A-Za-z0-9&.\-]{1,12})\)$")
_TRAILING_ATTRIBUTION = re.compile(r"\s*\([^()]*\)$")


def short_outlet(outlet: str) -> str:
    """ "Syrian Observatory for Human Rights (SOHR)" -> "SOHR"; "US DoD (press briefing by X)" ->
    "US DoD"; anything else as it is."""
    match = _ABBREVIATION.match(outlet)
    if match:
        return match["short"]
    return _TRAILING_ATTRIBUTION.sub("", outlet) or outlet


def percent(p: float) -> str:
    """A share as readers read it: "<1%", ">99%", else whole percent."""
    value = p * 100
    if 0 < value < 1:
        return "<1%"
    if 99 < value < 100:
        return ">99%"
    return f"{round(value)}%"


def _names(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(names))
    if len(unique) <= 2:
        return " and ".join(unique)
    return f"{', '.join(unique[:-1])} and {unique[-1]}"


def _who(sources: Sequence[SourceAnswer], outlets: Mapping[str, str]) -> tuple[str, bool]:
    """("CNN and AFP", plural?) for a few sources, ("4 sources", True) for more."""
    if len(sources) <= 2:
        return _names([short_outlet(outlets[s.source_id]) for s in sources]), len(sources) > 1
    return f"{len(sources)} sources", True


def _says(sources: Sequence[SourceAnswer], outlets: Mapping[str, str], side: Allowed) -> str:
    who, plural = _who(sources, outlets)
    verb = "put" if plural else "puts"
    return f"{who} {verb} it {SIDE_WORDS[side]}"


def _own_words(answer: SourceAnswer, claim_texts: Mapping[str, str]) -> str | None:
    if len(answer.claim_ids) != 1:
        return None
    return _TRAILING_ATTRIBUTION.sub("", claim_texts[answer.claim_ids[0]]).strip() or None


@dataclass(frozen=True)
class AnswerText:
    headline: str  # the card's first line: the answer and who says what
    share: str | None  # what p_inside means for this incident, in words
    place: str | None  # which country, when it is not plainly the zone's own


def answer_text(
    evidence: Evidence,
    outlets: Mapping[str, str],
    claim_texts: Mapping[str, str],
    countries: CountryShares | None,
    home_country: str | None,
    radius_km: float,
) -> AnswerText:
    """The words for one incident's evidence.

    ``outlets``: source id -> outlet; ``claim_texts``: claim id -> the claim in plain words;
    ``countries``: the shares of the place the answer rests on; ``home_country``: the country the
    zone's centre lies in (a place there needs no country note); ``radius_km``: the zone's radius.
    """
    return AnswerText(
        _headline(evidence, outlets, claim_texts),
        _share(evidence),
        _place(evidence, countries, home_country, radius_km),
    )


def _headline(evidence: Evidence, outlets: Mapping[str, str], claim_texts: Mapping[str, str]) -> str:
    label = STATUS_LABEL[evidence.status]
    answers = evidence.sources
    n = len(answers)
    if evidence.rule == "unlocated":
        return "Not on the map: no source gives a place that can be drawn."
    if evidence.rule == "common-region":
        if n == 1:
            who = short_outlet(outlets[answers[0].source_id])
            if evidence.status == "uncertain":
                return f"{label}: {who}, the only source that says where, describes a place across its edge."
            return f"{label}: {who}, the only source that says where, puts it there."
        if evidence.status == "uncertain":
            every = "both sources that say where" if n == 2 else f"all {n} sources that say where"
            return f"{label}: the place {every} can share lies across the zone's edge."
        side = "inside" if evidence.status == "inside" else "outside"
        every = "both sources that say where" if n == 2 else f"all {n} sources that say where"
        return f"{label}: {every} can be right at once, at a place {side} it."
    by_side: dict[Allowed, list[SourceAnswer]] = {"inside": [], "outside": [], "across": []}
    for answer in answers:
        by_side[answer.allows].append(answer)
    if evidence.status == "contested":
        inside, outside = by_side["inside"], by_side["outside"]
        major: Allowed = "inside" if len(inside) >= len(outside) else "outside"
        minor: Allowed = "outside" if major == "inside" else "inside"
        majority, minority = by_side[major], by_side[minor]
        head = (
            f"{len(majority)} of the {n} sources that say where put it {SIDE_WORDS[major]}"
            if len(majority) > 1 or n > 2
            else _says(majority, outlets, major)
        )
        tail = _says(minority, outlets, minor)
        own = _own_words(minority[0], claim_texts) if len(minority) == 1 else None
        if own:
            tail += f" ({own})"
        across = f"; {_says(by_side['across'], outlets, 'across')}" if by_side["across"] else ""
        return f"{label}: {head}; {tail}{across}."
    parts = [_says(by_side[side], outlets, side) for side in ("inside", "outside", "across") if by_side[side]]
    if evidence.status == "uncertain":
        return f"{label}: {'; '.join(parts)}, and their places do not overlap."
    return f"{label}: {'; '.join(parts)}."


def _share(evidence: Evidence) -> str | None:
    if evidence.rule == "unlocated":
        return None
    p = percent(evidence.p_inside)
    if evidence.rule == "common-region":
        if evidence.status != "uncertain":
            return None  # "inside"/"outside" already says all of it
        return f"{p} of the place the sources allow lies inside the zone."
    return f"Weighing each source once: {p} inside."


def _place(
    evidence: Evidence, countries: CountryShares | None, home_country: str | None, radius_km: float
) -> str | None:
    if countries is None or evidence.rule == "unlocated":
        return None
    if countries.firm_country is not None and countries.firm_country == home_country:
        return None
    km = f"{radius_km:g} km"
    circle = {
        "inside": f"inside the {km} circle",
        "outside": f"outside the {km} circle",
        "uncertain": f"across the {km} circle's edge",
        "contested": None,
    }[evidence.status]
    words = countries.words[0].upper() + countries.words[1:]
    note = f"{words}, {circle}." if circle else f"{words}."
    if countries.firm_country is None:
        return f"{note} The borders drawn here are approximate (1–2 km near the tripoint)."
    return note
