"""Where things go in the standalone export at each zoom: markers moved aside (the map's rule,
``app.export.placement``), the places' names (``app.export.svg_names.place_name``, the SVG's
rule) and the countries' names (``app.export.svg_labels.country_places``).

The export is a Leaflet map a reader zooms; its page has no server to ask, so every zoom a
reader can reach from its first view is laid out here, in pixels of that zoom, and its script
applies the layout of the zoom shown (integer zooms: Leaflet's ``zoomSnap`` is 1). Offsets are
relative to the thing's own point, so they hold wherever the view is panned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from shapely.geometry import shape

from app.data.catalog import Catalog
from app.export.placement import place_markers
from app.export.svg_labels import country_places, site_name
from app.export.svg_view import Viewport

ZOOMS = range(5, 14)  # the zooms laid out; beyond, the nearest one's layout
MARKER_PX = 22  # a marker's box (its 16 px symbol, a third larger when selected)
SITE_RADIUS = {True: 7, False: 5}  # the garrison's dot, another place's
FRAME_PAD_PX = 12  # names may stand this far beyond the incidents' and places' box
FRAME = (1100, 800)  # the view countries are named for: a desktop map beside the panels, px


def layouts(catalog: Catalog) -> dict[int, dict[str, Any]]:
    """For each zoom in ``ZOOMS``: ``m``, each located incident's marker offset [dx, dy] px from
    its point (moved aside where it would cover another or a place's dot); ``s``, each place's
    name box [x0, y0, x1, y1] px from its dot and whether it has a leader line (1/0), or no
    entry where no place is free; ``c``, each country's name and where it goes [name, lat, lon]."""
    lon0, lat0 = catalog.zone.centre
    sites = sorted(catalog.dataset.sites.values(), key=lambda s: s.kind != "garrison")
    located = [d for d in catalog.incidents if d.point is not None]
    countries = [
        (str(f["properties"]["name"]), shape(f["geometry"]))
        for f in catalog.dataset.borders.get("features", [])
        if f.get("geometry") and (f.get("properties") or {}).get("name")
    ]
    out = {}
    for zoom in ZOOMS:
        v = Viewport(lat0, lon0, zoom, *FRAME)
        dots = {s.id: v.xy(s.lon, s.lat) for s in sites}
        points = [v.xy(d.point[0], d.point[1]) for d in located if d.point is not None]
        dot_boxes = [(x - 7, y - 7, x + 7, y + 7) for x, y in dots.values()]
        spread = place_markers(points, [float(MARKER_PX)] * len(points), obstacles=dot_boxes)
        h = MARKER_PX / 2
        markers = np.array([(x - h, y - h, x + h, y + h) for x, y in spread], dtype=float).reshape(-1, 4)
        moved = [(p, q) for p, q in zip(points, spread, strict=True) if p != q]
        lines = np.array(
            [(x + (sx - x) * t / 8, y + (sy - y) * t / 8) for (x, y), (sx, sy) in moved for t in range(9)],
            dtype=float,
        ).reshape(-1, 2)
        taken = np.vstack([markers, np.array(dot_boxes, dtype=float).reshape(-1, 4)])
        # Names within the box of what is drawn: the first view fits the incidents, so a name
        # placed there is in it whatever the screen (beyond, the map's edge would cut it).
        drawn = np.array([*points, *spread, *dots.values()], dtype=float).reshape(-1, 2)
        frame = (
            float(drawn[:, 0].min()) - FRAME_PAD_PX, float(drawn[:, 1].min()) - FRAME_PAD_PX,
            float(drawn[:, 0].max()) + FRAME_PAD_PX, float(drawn[:, 1].max()) + FRAME_PAD_PX,
        )  # fmt: skip
        names: dict[str, list[float]] = {}
        for site in sites:
            radius = SITE_RADIUS[site.kind == "garrison"]
            placed = site_name(site, dots, radius, 7, taken, markers, lines, frame)
            if placed is None:
                continue
            box, leader, lines = placed
            taken = np.vstack([taken, box])
            x, y = dots[site.id]
            names[site.id] = [round(box[0] - x, 1), round(box[1] - y, 1), round(box[2] - x, 1),
                              round(box[3] - y, 1), int(leader)]  # fmt: skip
        places = country_places(v, countries, taken, v.xy(lon0, lat0))
        named = []
        for name, px, py, _ in places:
            plon, plat = v.lonlat_arrays(np.array([px]), np.array([py]))
            named.append([name.upper(), round(float(plat[0]), 5), round(float(plon[0]), 5)])
        out[zoom] = {
            "m": {d.incident.id: [round(sx - x), round(sy - y)]
                  for d, (x, y), (sx, sy) in zip(located, points, spread, strict=True)},
            "s": names,
            "c": named,
        }  # fmt: skip
    return out
