"""The legend in words, for the server's drawings (the SVG and the export).

The same words as static/js/legend-body.js (``TYPE_WORDS``, ``STATUS_WORDS``) and
static/js/format.js (``SUB_TYPE_WORDS``, ``typeText``); the browser test
tests/web/test_state_contract.py renders both and compares them.
"""

from __future__ import annotations

TYPE_WORDS = {
    "Explosions/Remote violence": "air strike, shelling, drone or bomb",
    "Battles": "fighting on the ground",
    "Strategic developments": "moves, deployments and other events",
    "Violence against civilians": "violence against civilians",
}
# ACLED's sub-event types in a reader's words ("Other" says nothing: the type's words stand).
SUB_TYPE_WORDS = {
    "Air/drone strike": "air or drone strike",
    "Armed clash": "armed clash",
    "Change to group/activity": "a group moves or changes what it does",
    "Disrupted weapons use": "a weapon stopped or shot down",
    "Remote explosive/landmine/IED": "bomb, mine or roadside bomb",
    "Shelling/artillery/missile attack": "shelling, artillery or missile attack",
    "Headquarters or base established": "a headquarters or base set up",
    "Non-violent transfer of territory": "ground changes hands without fighting",
    "Government regains territory": "government forces retake ground",
    "Agreement": "an agreement",
    "Attack": "an attack",
    "Grenade": "a grenade",
}


def type_text(event_type: str, sub_event_type: str) -> str:
    """What happened, in plain words (a capital first): the sub-event type's where it says more,
    else the type's, else ACLED's own term (format.js ``typeText``)."""
    words = SUB_TYPE_WORDS.get(sub_event_type) or TYPE_WORDS.get(event_type) or event_type
    return words[:1].upper() + words[1:]


STATUSES = ("inside", "uncertain", "contested", "outside")  # the legend's order (format.js STATUSES)


def cell_words(counts: dict[str, int]) -> str:
    """A numbered circle's name: "28 incidents here (27 inside, 1 contested)" (cells.js
    ``cellWords``)."""
    parts = ", ".join(f"{counts[s]:,} {s}" for s in STATUSES if counts.get(s))
    return f"{sum(counts.get(s, 0) for s in STATUSES):,} incidents here ({parts})"


STATUS_WORDS = (
    ("inside", "inside the zone (solid)"),
    (
        "uncertain",
        "may be inside or outside: the place reported crosses the zone's edge (dashed, with a dot)",
    ),
    ("contested", "contested: the sources disagree, one inside, another outside (split)"),
    ("outside", "outside the zone (hollow)"),
)
# Shorter forms where room is scarce (the SVG's legend box): the same meaning, fewer words.
STATUS_SHORT = {
    "inside": "inside the zone",
    "uncertain": "may be inside or outside",
    "contested": "sources disagree",
    "outside": "outside the zone",
}
