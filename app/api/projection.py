"""The ``properties`` parameter: only the named properties of each feature (OGC API - Features
Part 6, "property selection", draft 23-058: a comma list of property names; an unknown name is a
400).

The map asks its markers and list this way (``title,date_start,...``, about a tenth of a
whole incident with its sources and quotes) and loads a card's details when it opens.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from app.data.store_api import ItemQuery, Store
from app.errors import BadRequest

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_NAMES = 64
SAMPLE = 64  # features read to learn a collection's property names


_KNOWN: dict[int, tuple[Store, frozenset[str]]] = {}  # id(store) -> (store, names), a few stores


def known_names(store: Store) -> frozenset[str]:
    """The property names of a collection: those of its first features (every feature of a
    collection is written by the same function, ``app.api.features``); learnt once per store."""
    kept = _KNOWN.get(id(store))
    if kept is not None and kept[0] is store:
        return kept[1]
    _, rows = store.page(ItemQuery(), 0, SAMPLE)
    names: set[str] = set()
    for body in store.bodies(rows):
        names.update(orjson.loads(body)["properties"])
    if len(_KNOWN) >= 32:
        _KNOWN.pop(next(iter(_KNOWN)))
    _KNOWN[id(store)] = (store, frozenset(names))
    return frozenset(names)


def parse_properties(text: str, store: Store) -> tuple[str, ...]:
    """The names, in the order given, each once. 400 naming ``properties`` for a malformed or
    unknown name."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",")))
    if not names or len(names) > MAX_NAMES or not all(NAME.match(n) for n in names):
        raise BadRequest(
            f"parameter 'properties' must be a comma list of 1 to {MAX_NAMES} property names", "properties"
        )
    unknown = [n for n in names if n not in known_names(store)]
    if unknown:
        known = ", ".join(sorted(known_names(store)))
        raise BadRequest(
            f"parameter 'properties': unknown property {unknown[0]!r}; known: {known}", "properties"
        )
    return names


def select(feature: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    props = feature.get("properties") or {}
    return {**feature, "properties": {n: props[n] for n in names if n in props}}


def selected_bodies(bodies: list[bytes], names: tuple[str, ...]) -> list[bytes]:
    """The GeoJSON bodies with only ``names`` in their properties."""
    return [orjson.dumps(select(orjson.loads(body), names)) for body in bodies]
