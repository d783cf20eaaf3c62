"""What the catalog derives from the bundled data: regions, shares inside, handles."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
from pyproj import Geod

from app.data.catalog import Catalog, DerivedIncident, build_catalog, claim_shape
from app.data.loader import load_dataset
from app.geo.countries import BORDER_ERROR_M
from app.geo.regions import claim_region
from app.settings import BUNDLED_DATA

ORACLE = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(load_dataset(BUNDLED_DATA))


def incident(catalog: Catalog, incident_id: str) -> DerivedIncident:
    return next(i for i in catalog.incidents if i.incident.id == incident_id)


def test_the_24_mile_claim_is_the_390_km2_annulus(catalog: Catalog) -> None:
    technicals = incident(catalog, "2017-06-08-strike-on-technical-vehicles")
    claim = next(c for c in technicals.claims if c.claim.id == "cnn-about-24-miles")
    assert claim.measure is not None
    assert claim.measure.area_km2 == pytest.approx(390.6, abs=0.05)
    assert claim.measure.status == "inside"


def test_the_6_june_strike_is_contested_four_sources_inside_sohr_outside(catalog: Catalog) -> None:
    strike = incident(catalog, "2017-06-06-coalition-strike")
    statuses = {c.claim.id: c.measure.status for c in strike.claims if c.measure}
    assert statuses["sohr-more-than-100-km"] == "outside"
    assert statuses["cjtf-less-than-10-km-inside"] == "inside"
    assert strike.status == "contested" and strike.evidence.rule == "per-source"
    allows = {a.source_id: a.allows for a in strike.evidence.sources}
    assert allows == {
        "yalibnan-2017-06-07": "inside",
        "grasswire-2017-06-06": "inside",
        "cnn-2017-06-08": "inside",
        "afp-2017-06-06": "inside",
        "sohr-2017-06-06": "outside",
    }
    assert strike.p_inside == pytest.approx(0.8)  # (1 + 1 + 1 + 1 + 0) / 5, not 0.092
    assert strike.answer.headline.startswith(
        "Contested: 4 of the 5 sources that say where put it inside the zone; SOHR puts it"
    )
    assert "more than 100 km from the al-Tanf border crossing" in strike.answer.headline


@pytest.mark.parametrize("cut_m", [150_000.0, 300_000.0])
def test_the_6_june_answer_does_not_depend_on_where_more_than_100_km_is_cut(
    cut_m: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.geo import wording

    monkeypatch.setattr(wording, "OPEN_REACH_M", cut_m)
    dataset = load_dataset(BUNDLED_DATA)
    only = [i for i in dataset.incidents if i.id == "2017-06-06-coalition-strike"]
    cut = build_catalog(dataclasses.replace(dataset, incidents=only))
    strike = incident(cut, "2017-06-06-coalition-strike")
    sohr = next(c for c in strike.claims if c.claim.id == "sohr-more-than-100-km")
    assert sohr.measure is not None
    # The cut moved (the ring's area changed) and the answer did not.
    assert sohr.measure.area_km2 == pytest.approx(
        oracle_disc_km2(cut_m) - oracle_disc_km2(100_000.0), rel=2e-3
    )
    assert (strike.status, strike.p_inside) == ("contested", pytest.approx(0.8))


def oracle_disc_km2(radius_m: float) -> float:
    """Area of the geodesic disc around the al-Tanf crossing, sampled with Geod.fwd (km²)."""
    az = np.linspace(0.0, 360.0, 7201)[:-1]
    lon0, lat0 = np.full(az.size, 38.83639), np.full(az.size, 33.43694)
    lons, lats, _ = ORACLE.fwd(lon0, lat0, az, np.full(az.size, radius_m))
    area, _ = ORACLE.polygon_area_perimeter(lons, lats)
    return abs(area) / 1e6


@pytest.mark.parametrize("incident_id", ["2017-06-08-drone-shot-down", "2017-06-20-second-drone-shot-down"])
def test_both_drone_shoot_downs_are_outside_as_every_source_says(catalog: Catalog, incident_id: str) -> None:
    drone = incident(catalog, incident_id)
    assert drone.status == "outside"
    assert all(a.allows in ("outside", "across") for a in drone.evidence.sources)
    assert any(a.allows == "outside" for a in drone.evidence.sources)


def test_an_incident_without_a_usable_location_is_kept_without_geometry(catalog: Catalog) -> None:
    russian = incident(catalog, "2016-06-16-russian-strikes-new-syrian-army")
    assert russian.region is None and russian.point is None and russian.p_inside is None
    assert russian.claims[0].empty_reason


def test_handles_lie_inside_their_regions(catalog: Catalog) -> None:
    import shapely

    for derived in catalog.incidents:
        if derived.region is None:
            continue
        assert derived.point is not None
        assert derived.region.buffer(1e-9).contains(shapely.Point(derived.point)), derived.incident.id


def test_the_zone_variant_band_spans_34_to_35_miles(catalog: Catalog) -> None:
    band = catalog.zone.variant_band
    assert band is not None
    ring = np.asarray(band.exterior.coords)
    lon0, lat0 = catalog.zone.centre
    n = len(ring)
    _, _, dist = ORACLE.inv(np.full(n, lon0), np.full(n, lat0), ring[:, 0], ring[:, 1])
    assert np.allclose(dist, 35 * 1609.344, atol=1.0)
    hole = np.asarray(band.interiors[0].coords)
    n = len(hole)
    _, _, dist = ORACLE.inv(np.full(n, lon0), np.full(n, lat0), hole[:, 0], hole[:, 1])
    assert np.allclose(dist, 34 * 1609.344, atol=1.0)


def test_a_bearing_alone_does_not_claim_the_sites_own_surroundings(catalog: Catalog) -> None:
    # CENTCOM: "combat outpost to the northeast of At Tanf" -> 22.5-67.5 degrees, 5-200 km out.
    import shapely

    drone = incident(catalog, "2017-06-08-drone-shot-down")
    claim = next(c for c in drone.claims if c.claim.id == "centcom-northeast-outpost")
    assert claim.region is not None and claim.measure is not None
    garrison = catalog.dataset.sites["garrison"]
    for distance_m, inside in ((2_000.0, False), (4_900.0, False), (5_200.0, True), (70_000.0, True)):
        lon, lat, _ = ORACLE.fwd(garrison.lon, garrison.lat, 45.0, distance_m)
        assert claim.region.contains(shapely.Point(lon, lat)) == inside, distance_m
    az = np.linspace(22.5, 67.5, 901)
    lon0, lat0 = np.full(az.size, garrison.lon), np.full(az.size, garrison.lat)
    out_lon, out_lat, _ = ORACLE.fwd(lon0, lat0, az, np.full(az.size, 200_000.0))
    in_lon, in_lat, _ = ORACLE.fwd(lon0, lat0, az[::-1], np.full(az.size, 5_000.0))
    area, _ = ORACLE.polygon_area_perimeter([*out_lon, *in_lon], [*out_lat, *in_lat])
    assert claim.measure.area_km2 == pytest.approx(abs(area) / 1e6, rel=1e-3)


TOWER_22 = "2024-01-28-tower-22-drone-attack"


def _metres_to_outline(lon: np.ndarray, lat: np.ndarray, country: shapely.Geometry) -> np.ndarray:
    """Geodesic distance (pyproj.Geod) from each point to the nearest vertex of ``country``'s
    outline densified to 50 m steps: at most 25 m more than the distance to the outline."""
    outline = shapely.segmentize(shapely.boundary(country), 50.0 / 111_000.0)
    xy = shapely.get_coordinates(outline)
    out = np.empty(len(lon))
    for i in range(len(lon)):
        _, _, d = ORACLE.inv(np.full(len(xy), lon[i]), np.full(len(xy), lat[i]), xy[:, 0], xy[:, 1])
        out[i] = np.min(d)
    return out


def test_a_stated_country_narrows_the_claim_to_that_country_and_its_borders_error(catalog: Catalog) -> None:
    """Tower 22: The War Zone's "about 12 miles south of Al Tanf" is at "a U.S. base in Jordan".
    The claim region keeps every point of the distance-and-bearing region that lies in the drawn
    Jordan, and no point farther than BORDER_ERROR_M outside it (measured with pyproj.Geod)."""
    derived = incident(catalog, TOWER_22)
    claim = next(c for c in derived.claims if c.claim.id == "twz-about-12-miles-south")
    zone, sites = catalog.zone, catalog.dataset.sites
    jordan = catalog.borders.countries["Jordan"]
    with_country = claim_region(claim_shape(claim.claim, sites, zone, catalog.borders), zone.centre)
    without = claim_region(
        claim_shape(claim.claim.model_copy(update={"country": None}), sites, zone), zone.centre
    )
    assert 0 < with_country.area < without.area
    rng = np.random.default_rng(22)
    minx, miny, maxx, maxy = without.bounds
    lon = rng.uniform(minx, maxx, 4000)
    lat = rng.uniform(miny, maxy, 4000)
    points = shapely.points(lon, lat)
    in_claim = shapely.contains(without, points)
    in_drawn = shapely.contains(jordan, points)
    kept = shapely.contains(with_country, points)
    # Inside the drawn Jordan (and away from the region's own 1 m chord error): always kept.
    assert np.all(kept[in_claim & in_drawn & (shapely.distance(jordan.boundary, points) > 1e-4)])
    outside = in_claim & ~in_drawn
    metres = _metres_to_outline(lon[outside], lat[outside], jordan)
    kept_out = kept[outside]
    assert np.all(metres[kept_out] <= BORDER_ERROR_M + 40.0), metres[kept_out].max()
    assert not np.any(kept_out[metres > BORDER_ERROR_M + 40.0])
    assert np.any(outside & ~kept), "the sample should reach past the borders' error"


def test_tower_22_is_not_said_to_be_in_syria(catalog: Catalog) -> None:
    """Both sources put Tower 22 in Jordan; its drawn place lies on the Syrian side of the drawn
    line but within the borders' 2 km error, so the words are "on or near", never "in Syria"."""
    derived = incident(catalog, TOWER_22)
    assert derived.countries is not None
    assert derived.countries.words == "on or near the Jordan–Syria border"
    for claim in derived.claims:
        assert claim.countries is not None and claim.countries.firm_country != "Syria", claim.countries.words
