"""Each anchored claim's region against its own words, measured with pyproj.Geod.

The table below is a reading of each claim's words, written from the words (the quote, or the
research notes' ``context`` around it), not from the data file: the anchor they name, the
direction they give, the widest band of distances they allow and a distance they surely mean.
The test checks that the words hold what the row reads, then that the region drawn lies in that
direction and band from an anchor, reaches the distance meant in the middle of the direction,
and, where the words place it in a country or at a border, touches it. A region drawn due north
for words that put the place at the Iraqi border east of Tanf fails; so does one drawn at 20 km
for "about 24 miles". Zone statuses are not pinned here: they are the evidence model's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.data.catalog import Catalog, build_catalog
from app.data.loader import load_dataset
from app.settings import BUNDLED_DATA

GEOD = Geod(ellps="WGS84")
MI = 1.609344  # km
SIMPLIFIED_M = 100.0  # regions are served within 10 m of the exact ones; measured with margin
ANY = (0.0, 360.0)


@dataclass(frozen=True)
class Reading:
    """What a claim's words say: ``says`` must stand in them; the rest is how they read."""

    claim: str  # incident id / claim id
    says: tuple[str, ...]  # words of the quote (or context) that the reading rests on
    anchors: tuple[str, ...]  # sites the words measure from (two where "al-Tanf" is ambiguous)
    sector: tuple[float, float]  # azimuths clockwise, degrees: where the words put it
    band_km: tuple[float, float]  # the widest band the words allow: a rounding step each way,
    # on the half-decade scale for 15, 45 (the round-number principle, app/geo/wording.py)
    reach_km: float  # a distance the words surely mean, in the middle of the sector
    meets: str | None = None  # a country the words put it in, or "Iraq-Syria" for that border


def compass(centre: float, half: float = 22.5) -> tuple[float, float]:
    return ((centre - half) % 360, (centre + half) % 360)


N, NE, E, S, SW, W, NW = (compass(a) for a in (0, 45, 90, 180, 225, 270, 315))
GARRISON, CROSSING, TRIPOINT = "garrison", "al-tanf-crossing", "tripoint"
AL_TANF = (GARRISON, CROSSING)  # "al-Tanf": the base or the border crossing

READINGS = [
    Reading("2016-06-21-rukban-car-bomb/latimes-camp-8-miles-sw-of-tripoint",
            ("8 miles southwest of where the borders of Jordan, Iraq and Syria converge",),
            (TRIPOINT,), SW, (7 * MI, 9 * MI), 8 * MI),
    Reading("2017-05-18-coalition-strike-on-convoy/centcom-well-inside-northwest",
            ("well inside", "northwest of At Tanf"), (GARRISON,), NW, (0, 55), 30),
    # The five distances of 18 May: the words held do not name the anchor (see the record's note).
    Reading("2017-05-18-coalition-strike-on-convoy/cnn-within-29-km",
            ("within 29 kilometers",), (GARRISON,), ANY, (0, 30), 28),
    Reading("2017-05-18-coalition-strike-on-convoy/cbs-within-18-miles",
            ("within 18 miles",), (GARRISON,), ANY, (0, 19 * MI), 17 * MI),
    Reading("2017-05-18-coalition-strike-on-convoy/fp-within-about-20-miles",
            ("within about 20 miles",), (GARRISON,), ANY, (0, 25 * MI), 19 * MI),
    Reading("2017-05-18-coalition-strike-on-convoy/reuters-about-17-miles",
            ("about 17 miles (27 km)",), (GARRISON,), ANY, (16 * MI, 18 * MI), 17 * MI),
    Reading("2017-05-18-coalition-strike-on-convoy/afp-within-27-km",
            ("within 27 kilometers",), (GARRISON,), ANY, (0, 28), 26),
    Reading("2017-05-late-pro-regime-element-in-zone/dillon-17-miles-northwest",
            ("about 17 miles northwest of the Tanf base",), (GARRISON,), NW, (16 * MI, 18 * MI), 17 * MI),
    Reading("2017-06-06-coalition-strike/us-official-about-15-miles",
            ("about 15 miles from", "At Tanf"), (GARRISON,), ANY, (12 * MI, 18 * MI), 15 * MI),
    Reading("2017-06-06-coalition-strike/sohr-more-than-100-km",
            ("more than 100 km", "from the al-Tanf crossing"), (CROSSING,), ANY, (100, math.inf), 150),
    Reading("2017-06-08-drone-shot-down/dillon-east-outside",
            ("east of At Tanf, outside the 55km",), (GARRISON,), E, (55, math.inf), 80),
    Reading("2017-06-08-drone-shot-down/centcom-northeast-outpost",
            ("to the northeast of At Tanf",), (GARRISON,), NE, (0, math.inf), 30),
    Reading("2017-06-08-strike-on-technical-vehicles/cnn-about-24-miles",
            ("about 24 miles from the At Tanf base",), (GARRISON,), ANY, (23 * MI, 25 * MI), 24 * MI),
    # "north of al-Tanf" for an army that reached the Iraqi border: at 45-75 km the border lies
    # east-northeast of both anchors, so the words and the event allow north round to east.
    Reading("2017-06-09-army-reaches-iraqi-border/afp-around-70-km-north",
            ("around 70km north of At-Tanaf",), AL_TANF, (337.5, 90), (60, 80), 70, "Iraq-Syria"),
    Reading("2017-06-09-army-reaches-iraqi-border/reuters-nearly-50-km-north",
            ("nearly 50 km north of al-Tanf",), AL_TANF, (337.5, 90), (40, 50), 47, "Iraq-Syria"),
    Reading("2017-06-20-second-drone-shot-down/centcom-northeast-outpost",
            ("to the northeast of At Tanf",), (GARRISON,), NE, (0, math.inf), 30),
    Reading("2017-09-zakf-outpost-evacuated/wapo-roughly-45-miles",
            ("roughly 45 miles away from Zakaf",), (GARRISON,), ANY, (42 * MI, 48 * MI), 45 * MI),
    Reading("2017-10-05-strike-on-regime-convoy/kabad-13-km-west",
            ("13 kilometers [west] of the American military base",), (GARRISON,), W, (12, 14), 13),
    Reading("2018-06-21-clash-near-tanf/sohr-20-km",
            ("20 kilometers away from Al-Tanf",), AL_TANF, ANY, (15, 25), 20),
    Reading("2024-01-28-tower-22-drone-attack/twz-about-12-miles-south",
            ("about 12 miles south of Al Tanf",), AL_TANF, S, (11 * MI, 13 * MI), 12 * MI, "Jordan"),
    # "the garrison is 20 km north of Tower 22": Tower 22 lies south of the garrison.
    Reading("2024-01-28-tower-22-drone-attack/ap-garrison-20-km-north",
            ("just 20 kilometers (12 miles) north of Tower 22",), (GARRISON,), S, (15, 25), 20, "Jordan"),
]  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(load_dataset(BUNDLED_DATA))


def claim_of(catalog: Catalog, ref: str) -> tuple[str, BaseGeometry | None]:
    incident_id, claim_id = ref.split("/")
    derived = next(i for i in catalog.incidents if i.incident.id == incident_id)
    claim = next(c for c in derived.claims if c.claim.id == claim_id)
    words = " ".join(filter(None, (claim.claim.quote, claim.claim.context)))
    return words, claim.region


def in_sector(azimuth: np.ndarray, sector: tuple[float, float], tolerance: np.ndarray) -> np.ndarray:
    start, end = sector
    if (start, end) == ANY:
        return np.ones_like(azimuth, dtype=bool)
    width = (end - start) % 360
    offset = (azimuth - start) % 360
    return (offset <= width + tolerance) | (offset >= 360 - tolerance)


def vertices(region: BaseGeometry) -> np.ndarray:
    dense = shapely.segmentize(region, 0.002)  # about 200 m
    return shapely.get_coordinates(shapely.boundary(dense))


def test_every_anchored_claim_has_a_reading(catalog: Catalog) -> None:
    anchored = {
        f"{i.incident.id}/{c.claim.id}" for i in catalog.incidents for c in i.claims if c.claim.from_sites
    }
    assert anchored == {r.claim for r in READINGS}


@pytest.mark.parametrize("reading", READINGS, ids=[r.claim.split("/")[1] for r in READINGS])
def test_the_region_follows_the_words(catalog: Catalog, reading: Reading) -> None:
    words, region = claim_of(catalog, reading.claim)
    for said in reading.says:
        assert said.lower() in words.lower(), f"the words do not say {said!r}: {words!r}"
    assert region is not None and not region.is_empty
    sites = catalog.dataset.sites
    points = vertices(region)
    ok = np.zeros(len(points), dtype=bool)
    for anchor in reading.anchors:
        lon, lat = sites[anchor].lon, sites[anchor].lat
        n = len(points)
        azimuth, _, dist = GEOD.inv(np.full(n, lon), np.full(n, lat), points[:, 0], points[:, 1])
        dist_km = dist / 1000
        slack = np.degrees(np.arcsin(np.minimum(1, SIMPLIFIED_M / np.maximum(dist, 1))))
        low, high = reading.band_km
        within_band = (dist_km >= low - SIMPLIFIED_M / 1000) & (dist_km <= high + SIMPLIFIED_M / 1000)
        near_anchor = dist < 1000  # no direction so close to the anchor
        ok |= within_band & (near_anchor | in_sector(azimuth % 360, reading.sector, slack + 0.1))
    assert ok.all(), f"{(~ok).sum()} of {len(points)} boundary points outside the words' sector and band"
    # The distance meant, in the middle of the direction, is in the region (from some anchor).
    start, end = reading.sector
    middles = [start + ((end - start) % 360) / 2] if reading.sector != ANY else list(range(0, 360, 5))
    stated = stated_country(catalog, reading.claim)
    if stated is not None:  # "a base in Jordan": the distance meant, in the direction, in Jordan
        # as far as the drawn borders can tell (their 2 km error: ``Borders.widened``).
        middles = [start + step for step in range(int((end - start) % 360) + 1)]
    meant = [
        GEOD.fwd(sites[a].lon, sites[a].lat, az, reading.reach_km * 1000)[:2]
        for a in reading.anchors
        for az in middles
    ]
    if stated is not None:
        meant = [p for p in meant if catalog.borders.widened[stated].contains(shapely.Point(p))]
        assert meant, f"no point at the distance meant, in the direction, lies in {stated}"
    assert any(region.buffer(1e-6).contains(shapely.Point(p)) for p in meant), (
        "the distance meant is not drawn"
    )
    if reading.meets is not None:
        met = region.intersects(where(catalog, reading.meets))
        assert met, f"the region does not meet {reading.meets}"


def stated_country(catalog: Catalog, ref: str) -> str | None:
    """The country the claim's source puts the place in, if it states one."""
    incident_id, claim_id = ref.split("/")
    derived = next(i for i in catalog.incidents if i.incident.id == incident_id)
    claim = next(c.claim for c in derived.claims if c.claim.id == claim_id)
    return claim.country.name if claim.country is not None else None


def where(catalog: Catalog, name: str) -> BaseGeometry:
    """A country of the bundled borders, or the border line between two ("Iraq-Syria")."""
    countries = {f["properties"]["name"]: shape(f["geometry"]) for f in catalog.dataset.borders["features"]}
    if "-" in name:
        first, second = name.split("-")
        return countries[first].boundary.intersection(countries[second].boundary)
    return countries[name]
