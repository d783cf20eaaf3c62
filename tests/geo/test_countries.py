"""Country shares (app.geo.countries) against hand-computed circular segments.

Two made-up countries meet along the meridian 39 E; a disc of radius r whose centre lies d
metres east of that line has the share 1 - seg(d) / (pi r^2) east of it, where
seg(d) = r^2 acos(d / r) - d sqrt(r^2 - d^2). Over 10 km the ellipsoid makes the disc's
projection onto the line differ from a plane disc by far less than the 0.5 % tolerance used.
"""

from __future__ import annotations

import math

import pytest
import shapely
from pyproj import Geod

from app.data.catalog import border_polygons
from app.geo.countries import BORDER_ERROR_M, borders_near, country_shares
from app.geo.shapes import circle

ORACLE = Geod(ellps="WGS84")
LAT = 33.5
WEST = shapely.box(38.0, 32.5, 39.0, 34.5)
EAST = shapely.box(39.0, 32.5, 40.0, 34.5)
BORDERS = borders_near({"Westland": WEST, "Eastland": EAST}, (39.0, LAT))
R = 10_000.0


def segment_share(d: float, r: float = R) -> float:
    """Share of a disc of radius r beyond a chord d metres from its centre (d >= 0)."""
    if d >= r:
        return 0.0
    return (r * r * math.acos(d / r) - d * math.sqrt(r * r - d * d)) / (math.pi * r * r)


def disc_east_of_line(d_m: float):  # type: ignore[no-untyped-def]
    """A 10 km disc whose centre lies d_m metres east of the 39 E meridian (Geod.fwd east)."""
    lon, lat, _ = ORACLE.fwd(39.0, LAT, 90.0, d_m)
    return circle(lon, lat, R, 1.0)


def test_a_region_across_a_border_has_each_countrys_share() -> None:
    shares = country_shares(disc_east_of_line(4_650.0), BORDERS)
    assert shares is not None
    west = segment_share(4_650.0)
    assert shares.shares["Westland"] == pytest.approx(west, abs=5e-3)
    assert shares.shares["Eastland"] == pytest.approx(1 - west, abs=5e-3)
    # Firm only what holds with the border moved 2 km: east of 39 E + 2 km.
    firm = 1 - segment_share(4_650.0 - BORDER_ERROR_M)
    assert shares.firm_share == pytest.approx(firm, abs=5e-3)
    assert firm > 0.5 and shares.words == "mostly in Eastland"


def test_a_region_on_the_border_gets_no_firm_word() -> None:
    shares = country_shares(disc_east_of_line(500.0), BORDERS)
    assert shares is not None
    assert shares.firm_country is None
    assert shares.words == "on or near the Eastland–Westland border"


def test_a_share_within_the_borders_error_is_never_a_firm_word() -> None:
    # 60 % east by the drawn line, but moving the line 2 km east leaves only about 35 % firm.
    shares = country_shares(disc_east_of_line(1_300.0), BORDERS)
    assert shares is not None and shares.shares["Eastland"] > 0.55
    assert shares.firm_country is None and "border" in shares.words


def test_a_region_far_from_any_border_is_in_its_country() -> None:
    shares = country_shares(disc_east_of_line(20_000.0), BORDERS)
    assert shares is not None
    assert shares.shares == {"Eastland": 1.0} and shares.words == "in Eastland"


def test_the_bundled_borders_put_the_garrison_in_syria_and_rukban_on_the_border() -> None:
    import json

    from app.settings import BUNDLED_DATA

    countries = border_polygons(json.loads((BUNDLED_DATA / "borders.geojson").read_text(encoding="utf-8")))
    borders = borders_near(countries, (38.61778, 33.50583))
    garrison = country_shares(circle(38.61778, 33.50583, 5_000, 1.0), borders)
    rukban = country_shares(circle(38.668472, 33.310861, 5_000, 1.0), borders)
    assert garrison is not None and garrison.words == "in Syria"
    assert rukban is not None and rukban.words == "on or near the Jordan–Syria border"
