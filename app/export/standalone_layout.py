"""Where things go in the standalone export at each zoom: markers moved aside and crowds as
numbered circles (the map's rule, ``app.export.stacks.arrange``: a marker moved aside keeps its
side of the zone's line, a crowd with no room there is one circle on that side), the places'
names (``app.export.svg_names.place_name``, the SVG's rule) and the countries' names
(``app.export.svg_labels.country_candidates``).

The export is a Leaflet map a reader zooms; its page has no server to ask, so every zoom a
reader can reach from its first view is laid out here, in pixels of that zoom, and its script
applies the layout of the zoom shown (integer zooms: Leaflet's ``zoomSnap`` is 1), for a frame of
a desktop's size or a phone's (``FRAMES``: how far a crowd may spread depends on it). Offsets are
relative to the thing's own point, so they hold wherever the view is panned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.data.catalog import Catalog, DerivedIncident
from app.data.model import Site
from app.export.stacks import OVERVIEW_ZOOM, STACK_REACH, arrange, stack_size
from app.export.svg_labels import country_candidates, site_name
from app.export.svg_names import reads_as_its_own
from app.export.svg_symbols import stack_svg
from app.export.svg_view import Viewport, ring_px

ZOOMS = range(5, 14)  # the zooms laid out; beyond, the nearest one's layout
MARKER_PX = 22  # a marker's box (its 16 px symbol, a third larger when selected)
SITE_RADIUS = {True: 7, False: 5}  # the garrison's dot, another place's
FRAME_PAD_PX = 12  # names may stand this far beyond the incidents' and places' box
# The frames laid out, px: a desktop map beside the panels, and a phone's map (62% of 812 px
# high, as the page's CSS under 700 px wide); the script takes the phone's under 700 px.
FRAMES = {"wide": (1100, 800), "narrow": (375, 500)}
# Each country's name has at most COUNTRY_PLACES places, over COUNTRY_REACH times the frame
# round the zone's centre; the page takes the one its reader sees (a name placed for the whole
# frame lay under the panels at 768 px, and off a phone's map: at 375 px JORDAN was not named).
COUNTRY_REACH = 2
COUNTRY_PLACES = 24


def layouts(catalog: Catalog, frame_px: tuple[int, int]) -> dict[int, dict[str, Any]]:
    """For each zoom in ``ZOOMS``, in a frame of ``frame_px`` (w, h): ``m``, each located
    incident's marker offset [dx, dy] px from its point (moved aside where it would cover another
    or a place's dot), none for a marker in a numbered circle; ``k``, each numbered circle [lat,
    lon, side px, [incident ids], its SVG]; ``s``, each place's name box [x0, y0, x1, y1] px from
    its dot and whether it has a leader line (1/0), or no entry where no place is free; ``c``,
    each country's name and the places it may go [name, [[lat, lon], ...]]."""
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
        v = Viewport(lat0, lon0, zoom, *frame_px)
        # Where the garrison's name cannot read as its own (a crowd fanned out all round its
        # dot) in an overview, every crowd that spreads is drawn as its numbered circle instead
        # (as the SVG and the map); zoomed in, the reader sees each marker.
        for reach in (STACK_REACH, 0.0) if zoom < OVERVIEW_ZOOM else (STACK_REACH,):
            layout, clear = _layout(v, located, sites, countries, catalog.zone.polygon, reach * min(frame_px))
            if clear:
                break
        out[zoom] = layout
    return out


def _layout(
    v: Viewport,
    located: list[DerivedIncident],
    sites: list[Site],
    countries: list[tuple[str, BaseGeometry]],
    zone: BaseGeometry,
    reach: float,
) -> tuple[dict[str, Any], bool]:
    """One zoom's layout (``layouts``) in the view ``v``, crowds spreading further than ``reach``
    px stacked, and whether the garrison's name reads as its own there."""
    dots = {s.id: v.xy(s.lon, s.lat) for s in sites}
    points = [v.xy(d.point[0], d.point[1]) for d in located if d.point is not None]
    dot_boxes = [(x - 7, y - 7, x + 7, y + 7) for x, y in dots.values()]
    spread, stacks, stack_at = arrange(
        points, [float(MARKER_PX)] * len(points), obstacles=dot_boxes, zone=ring_px(v, zone), reach=reach
    )
    stacked = {i for g in stacks for i in g}
    h = MARKER_PX / 2
    sides = [float(stack_size(len(g))) for g in stacks]
    markers = np.array(
        [(x - h, y - h, x + h, y + h) for i, (x, y) in enumerate(spread) if i not in stacked]
        + [(x - r / 2, y - r / 2, x + r / 2, y + r / 2) for (x, y), r in zip(stack_at, sides, strict=True)],
        dtype=float,
    ).reshape(-1, 4)
    moved = [(p, spread[i]) for i, p in enumerate(points) if p != spread[i] and i not in stacked]
    lines = np.array(
        [(x + (sx - x) * t / 8, y + (sy - y) * t / 8) for (x, y), (sx, sy) in moved for t in range(9)],
        dtype=float,
    ).reshape(-1, 2)
    taken = np.vstack([markers, np.array(dot_boxes, dtype=float).reshape(-1, 4)])
    # Names within the box of what is drawn: the first view fits the incidents, so a name
    # placed there is in it whatever the screen (beyond, the map's edge would cut it).
    drawn = np.array([*points, *spread, *stack_at, *dots.values()], dtype=float).reshape(-1, 2)
    frame = (
        float(drawn[:, 0].min()) - FRAME_PAD_PX, float(drawn[:, 1].min()) - FRAME_PAD_PX,
        float(drawn[:, 0].max()) + FRAME_PAD_PX, float(drawn[:, 1].max()) + FRAME_PAD_PX,
    )  # fmt: skip
    names: dict[str, list[float]] = {}
    clear = True
    for site in sites:
        radius = SITE_RADIUS[site.kind == "garrison"]
        placed = site_name(site, dots, radius, 7, taken, markers, lines, frame)
        if placed is None:
            continue
        box, leader, lines = placed
        x, y = dots[site.id]
        if site.kind == "garrison":
            clear = reads_as_its_own(box, leader, x, y, radius, markers)
        taken = np.vstack([taken, box])
        names[site.id] = [round(box[0] - x, 1), round(box[1] - y, 1), round(box[2] - x, 1),
                          round(box[3] - y, 1), int(leader)]  # fmt: skip
    # The places each country's name may take, over twice the frame: the page names each country
    # at the one of them in the part its reader sees that is farthest from the zone's centre.
    named = []
    vc = Viewport(*_centre(v), v.zoom, v.width * COUNTRY_REACH, v.height * COUNTRY_REACH)
    shift = np.array([vc.width - v.width, vc.height - v.height] * 2, dtype=float) / 2
    for name, places in country_candidates(vc, countries, taken + shift, zone, COUNTRY_PLACES).items():
        plon, plat = vc.lonlat_arrays(np.array([x for x, _ in places]), np.array([y for _, y in places]))
        at = [[round(float(a), 4), round(float(o), 4)] for a, o in zip(plat, plon, strict=True)]
        named.append([name.upper(), at])
    circles = []
    for g, (x, y), side in zip(stacks, stack_at, sides, strict=True):
        clon, clat = v.lonlat_arrays(np.array([x]), np.array([y]))
        counts: dict[str, int] = {}
        for i in g:
            counts[located[i].status] = counts.get(located[i].status, 0) + 1
        ids = [located[i].incident.id for i in g]
        circles.append([round(float(clat[0]), 6), round(float(clon[0]), 6), side, ids,
                        stack_svg(side / 2, side / 2, side, counts)])  # fmt: skip
    layout = {
        "m": {d.incident.id: [round(sx - x), round(sy - y)]
              for i, (d, (x, y), (sx, sy)) in enumerate(zip(located, points, spread, strict=True))
              if i not in stacked},
        "k": circles,
        "s": names,
        "c": named,
    }  # fmt: skip
    return layout, clear


def _centre(v: Viewport) -> tuple[float, float]:
    """The (lat, lon) of the middle of the view ``v``."""
    lon, lat = v.lonlat_arrays(np.array([v.width / 2]), np.array([v.height / 2]))
    return float(lat[0]), float(lon[0])
