"""The legend in words, for the server's drawings (the SVG and the export).

The same words as static/js/legend-body.js (``TYPE_WORDS``, ``STATUS_WORDS``); the browser test
tests/web/test_state_contract.py renders both and compares them.
"""

from __future__ import annotations

TYPE_WORDS = {
    "Explosions/Remote violence": "air strike, shelling, drone or bomb",
    "Battles": "fighting on the ground",
    "Strategic developments": "moves, deployments and other events",
    "Violence against civilians": "violence against civilians",
}
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
