"""Which country a region lies in, from approximate borders, said no firmer than they allow.

The bundled borders (Natural Earth 1:10m) are off by about 1-2 km near the tripoint
(``geodata/README.md``). So a share of a region is only called firm when it holds with every
border moved by ``BORDER_ERROR_M``: the part of the region within that distance of a border
line counts for no country. Worked example: the 5 km disc around the Rukban camp, which lies on
the Syria-Jordan berm, is about half in each country by the drawn line, but most of it lies
within 2 km of the line, so it is "on or near the Jordan-Syria border", never "in Jordan".

Shares are of ellipsoidal area (``geodesy.area_m2``), in 0..1; regions and borders are WGS84
lon/lat shapely geometries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from app.geo.geodesy import area_m2
from app.geo.memo import by_geometry

BORDER_ERROR_M = 2_000.0
FIRM_ALL = 0.999  # this share, away from every border, is "in <country>"
FIRM_MOST = 0.5  # this share, away from every border, is "mostly in <country>"
MIN_SHARE = 0.0005  # shares below this are left out (slivers of overlay)


@dataclass(frozen=True)
class CountryShares:
    """The share of a region in each country, and the words those shares allow.

    ``shares``: country name -> share of the region's area (by the drawn borders), largest
    first, only those of at least ``MIN_SHARE``. ``near_border``: share within
    ``BORDER_ERROR_M`` of a border line. ``words``: "in Iraq", "mostly in Iraq", or "on or near
    the Iraq-Syria border".
    """

    shares: dict[str, float]
    near_border: float
    words: str
    firm_country: str | None  # the country of "in X" / "mostly in X"; None near a border
    firm_share: float  # the share of firm_country away from every border (0 if None)


@lru_cache(maxsize=16)
def _aeqd(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    # Azimuthal equidistant around the region: distances from its centre are true, and within a
    # few hundred km a 2 km buffer drawn in it is within metres of the geodesic one.
    aeqd = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m"
    return (
        Transformer.from_crs("EPSG:4326", aeqd, always_xy=True),
        Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True),
    )


def _project(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True, eq=False)  # one set of borders is itself alone (a key of by_geometry)
class Borders:
    """Country polygons by name, and the strip within ``BORDER_ERROR_M`` of their border lines.

    ``widened`` holds each country grown by ``BORDER_ERROR_M``: where a source puts a place in a
    country, the place lies in the true country, and the true country lies within the drawn one
    grown by the drawn borders' error. A claim's ``country`` narrows its region to that.
    """

    countries: dict[str, BaseGeometry]
    strip: BaseGeometry
    widened: dict[str, BaseGeometry]


def borders_near(countries: Mapping[str, BaseGeometry], centre: tuple[float, float]) -> Borders:
    """Index ``countries`` (name -> lon/lat polygon) for ``country_shares`` around ``centre``.

    The strip is buffered in an azimuthal equidistant plane centred on ``centre`` (lon/lat): true
    distances from the centre, and within 300 km of it a 2 km buffer is within about 1 % (20 m)
    of the geodesic one, far below the borders' own error. The same borders about the same centre
    are the same ``Borders`` (each part of a load reads them again): what ``country_shares`` kept
    of one part's regions serves the next.
    """
    return _borders_near(tuple(countries.items()), centre)


@lru_cache(maxsize=4)
def _borders_near(pairs: tuple[tuple[str, BaseGeometry], ...], centre: tuple[float, float]) -> Borders:
    forward, back = _aeqd(round(centre[0], 3), round(centre[1], 3))
    countries = dict(pairs)
    if not countries:
        return Borders({}, shapely.Polygon(), {})
    # Border lines are the countries' outlines less the frame the layer was clipped to (which is
    # no border). Each country is simplified on its own, so neighbours' lines need not coincide:
    # buffering every outline covers both copies.
    everything = shapely.union_all(list(countries.values()))
    minx, miny, maxx, maxy = everything.bounds
    inner = shapely.box(minx + 0.01, miny + 0.01, maxx - 0.01, maxy - 0.01)
    lines = shapely.intersection(shapely.union_all([shapely.boundary(g) for g in countries.values()]), inner)
    strip = _project(shapely.buffer(_project(lines, forward), BORDER_ERROR_M, quad_segs=16), back)
    widened = {
        name: _project(shapely.buffer(_project(g, forward), BORDER_ERROR_M, quad_segs=16), back)
        for name, g in countries.items()
    }
    prepared = dict(countries)
    for g in prepared.values():
        shapely.prepare(g)
    shapely.prepare(strip)
    return Borders(prepared, strip, widened)


def _name_pair(names: list[str]) -> str:
    return "–".join(sorted(names[:2])) if len(names) >= 2 else names[0]


@by_geometry(maxsize=1024)
def country_shares(region: BaseGeometry, borders: Borders) -> CountryShares | None:
    """The shares of ``region`` per country of ``borders``, or None if it has no area."""
    total = area_m2(region)
    if total <= 0.0:
        return None
    shares: dict[str, float] = {}
    pieces: dict[str, BaseGeometry] = {}  # the region's part in each country that cuts it
    for name, country in borders.countries.items():
        if not country.intersects(region):
            continue
        if country.contains(region):  # most regions: no overlay needed
            shares = {name: 1.0}
            break
        pieces[name] = shapely.intersection(region, country)
        share = area_m2(pieces[name]) / total
        if share >= MIN_SHARE:
            shares[name] = min(1.0, share)
    ordered = dict(sorted(shares.items(), key=lambda kv: -kv[1]))
    near_strip = borders.strip.intersects(region)
    near = area_m2(shapely.intersection(region, borders.strip)) / total if near_strip else 0.0
    if not ordered:
        return CountryShares({}, near, "outside the bundled borders", None, 0.0)
    lead = next(iter(ordered))
    firm = ordered[lead]
    if near_strip:
        in_lead = pieces[lead] if lead in pieces else shapely.intersection(region, borders.countries[lead])
        firm = area_m2(shapely.difference(in_lead, borders.strip)) / total
    if firm >= FIRM_ALL:
        return CountryShares(ordered, near, f"in {lead}", lead, firm)
    if firm >= FIRM_MOST:
        return CountryShares(ordered, near, f"mostly in {lead}", lead, firm)
    names = list(ordered)
    if len(names) == 1:  # one country by the line, but within the borders' error of another
        names += [n for n, g in borders.countries.items() if n != lead and g.distance(region) < 0.05][:1]
    return CountryShares(ordered, near, f"on or near the {_name_pair(names)} border", None, 0.0)
