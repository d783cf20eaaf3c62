"""Make the shipped borders layer from the raw Natural Earth file (``at-tanf-map borders``).

Clips the country polygons to the region around the zone and simplifies them by
``SIMPLIFY_DEG`` (about 200 m), far below the 1-2 km these 1:10m borders are off by here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import box, shape

from app.geo.geojson import to_geojson

# lon/lat box around the zone (the zone spans about 37.98-39.25 E, 33.01-34.00 N).
REGION = (35.5, 31.0, 42.0, 36.0)
SIMPLIFY_DEG = 0.002
DECIMALS = 4
ATTRIBUTION = "Borders: Natural Earth (public domain), 1:10m v4.1.0; approximate"


def clip_borders(raw: dict[str, Any]) -> dict[str, Any]:
    """The countries of ``raw`` (a FeatureCollection) clipped to REGION and simplified."""
    region = box(*REGION)
    features = []
    for feature in raw["features"]:
        geom = shape(feature["geometry"])
        clipped = shapely.intersection(geom, region)
        if clipped.is_empty:
            continue
        simple = shapely.simplify(clipped, SIMPLIFY_DEG, preserve_topology=True)
        features.append(
            {
                "type": "Feature",
                "id": feature.get("id"),
                "properties": {"name": feature["properties"]["name"]},
                "geometry": to_geojson(simple, DECIMALS),
            }
        )
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


def write_borders(source: Path, target: Path) -> int:
    """Write the clipped layer to ``target``; returns the number of countries kept."""
    clipped = clip_borders(json.loads(source.read_text(encoding="utf-8")))
    target.write_text(json.dumps(clipped, separators=(",", ":")) + "\n", encoding="utf-8")
    return len(clipped["features"])
