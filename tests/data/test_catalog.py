"""What the catalog derives from the bundled data: regions, shares inside, handles."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from app.data.catalog import Catalog, DerivedIncident, build_catalog
from app.data.loader import load_dataset
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


def test_disagreeing_sources_make_the_6_june_strike_uncertain(catalog: Catalog) -> None:
    strike = incident(catalog, "2017-06-06-coalition-strike")
    statuses = {c.claim.id: c.measure.status for c in strike.claims if c.measure}
    assert statuses["sohr-more-than-100-km"] == "outside"
    assert statuses["cjtf-less-than-10-km-inside"] == "inside"
    assert strike.status == "uncertain"
    assert strike.p_inside is not None and 0.001 < strike.p_inside < 0.999


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
