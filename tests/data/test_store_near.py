"""The near filter (the tree's candidates, then the exact test) picks exactly what measuring every
point with pyproj.Geod and testing every region's polygon against the geodesic disc picks: on the
synthetic data, and on hand-made stores across the antimeridian, around the poles and at the
distance itself."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from app.data import store_file
from app.data.schema import Row
from app.data.store import FeatureStore, ItemQuery, from_rows, load
from app.geo.shapes import circle
from app.served import Served, build_served
from app.settings import Settings
from tests.perf.synthetic import GARRISON, write_dataset

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    data = write_dataset(tmp_path_factory.mktemp("near") / "data", 400, seed=11)
    return build_served(Settings(data_dir=data, tile_url=""), records_per_part=150)  # merged parts


def brute(store: FeatureStore, regions: FeatureStore, owner: np.ndarray | None, lon: float, lat: float,
          within_m: float) -> set[int]:  # fmt: skip
    """Every feature whose point is within (Geod.inv), or one of whose regions meets the disc."""
    n = len(store)
    lons, lats = store.columns.point.T
    has = ~np.isnan(lons)
    _, _, dist = GEOD.inv(np.full(has.sum(), lon), np.full(has.sum(), lat), lons[has], lats[has])
    hit = set(np.flatnonzero(has)[np.asarray(dist) <= within_m].tolist())
    geoms = regions.geometries(np.arange(len(regions)))
    present = np.flatnonzero([g is not None for g in geoms])
    meets = shapely.intersects(circle(lon, lat, within_m), geoms[present])
    rows = present[meets]
    hit |= set((rows if owner is None else owner[rows]).tolist())
    assert all(0 <= i < n for i in hit)
    return hit


def queries() -> list[tuple[float, float, float]]:
    """Random points and distances, and distances that put a band's edge metres from the disc."""
    rng = np.random.default_rng(3)
    out = []
    for _ in range(25):
        lon, lat, _ = GEOD.fwd(*GARRISON, rng.uniform(0, 360), rng.uniform(0, 150_000))
        out.append((float(lon), float(lat), float(rng.uniform(500, 90_000))))
    # Synthetic rings are "about N km" of the garrison: edges near whole kilometres and halves.
    for edge_km in (20.5, 35.0, 44.5):
        for delta in (-30.0, -12.0, -4.0, 4.0, 12.0, 30.0):
            lon, lat, _ = GEOD.fwd(*GARRISON, rng.uniform(0, 360), edge_km * 1000 + 10_000)
            out.append((float(lon), float(lat), 10_000 + delta))
    return out


@pytest.mark.parametrize(("lon", "lat", "within_m"), queries())
def test_near_equals_testing_every_polygon(served: Served, lon: float, lat: float, within_m: float) -> None:
    events, regions = served.stores["events"], served.stores["regions"]
    query = ItemQuery(near=(lon, lat), within_m=within_m)
    assert set(regions.query(query).tolist()) == brute(regions, regions, None, lon, lat, within_m)
    owner = regions.owner_rows
    assert set(events.query(query).tolist()) == brute(events, regions, owner, lon, lat, within_m)


def test_the_oracle_tests_run_on_stores_served_from_parts(served: Served) -> None:
    """The stores are served as a build serves them: derived in three parts of up to 150
    incidents, written as one Arrow file a collection and mapped, their numbers read-only views
    of the map; so the comparisons above are with the stores as served, not with an in-memory
    copy of rows."""
    for cid in ("events", "regions"):
        columns = served.stores[cid].columns
        for numbers in (columns.days, columns.point, columns.bounds):
            assert not numbers.flags.writeable and not numbers.flags.owndata


# -- far from At Tanf: across the antimeridian, around the poles, at the distance itself ----------


def incident_row(fid: str, point: tuple[float, float]) -> Row:
    """An incident at ``point`` (lon, lat degrees), with no properties."""
    return Row({"type": "Feature", "id": fid, "properties": {}}, shapely.Point(point), point=point)


def region_row(owner: str, region: shapely.Polygon) -> Row:
    """A claim region of incident ``owner``, its point a point inside it."""
    inner = region.representative_point()
    return Row({"type": "Feature", "id": f"{owner}--c", "properties": {}}, region, point=(inner.x, inner.y),
               owner=owner)  # fmt: skip


FAR_CENTRES = [(179.8, 5.0), (-179.7, -20.0), (30.0, 89.0), (-100.0, 88.6), (120.0, -89.1), (0.0, 0.0)]


def far_stores() -> tuple[FeatureStore, FeatureStore, list[tuple[float, float, float]]]:
    """Incidents with points scattered around each centre, and for some a disc-shaped region
    (radius 2-15 km, drawn as the service draws them, so never across the antimeridian or around
    a pole: app.data.extent refuses those); each region's centre and radius."""
    rng = np.random.default_rng(19)
    events, regions, discs = [], [], []
    for k, (clon, clat) in enumerate(FAR_CENTRES):
        for i in range(40):
            lon, lat, _ = GEOD.fwd(clon, clat, rng.uniform(0, 360), rng.uniform(0, 120_000))
            fid, point = f"far-{k}-{i}", (float(lon), float(lat))
            events.append(incident_row(fid, point))
            radius = float(rng.uniform(2_000, 15_000))
            region = circle(*point, radius, 1.0)
            pole_m = min(GEOD.inv(*point, 0.0, 90.0)[2], GEOD.inv(*point, 0.0, -90.0)[2])
            # Regions are never drawn across the antimeridian or around a pole (app.data.extent).
            if i % 3 == 0 and region.bounds[2] - region.bounds[0] < 180 and pole_m > radius + 1_000:
                regions.append(region_row(fid, region))
                discs.append((point[0], point[1], radius))
    event_store, region_store = from_rows(events), from_rows(regions)
    event_store.link(region_store)
    return event_store, region_store, discs


def far_queries() -> list[tuple[float, float, float]]:
    rng = np.random.default_rng(23)
    out = [(179.95, 5.0, 60_000.0), (-179.99, 5.1, 35_000.0), (179.0, -20.0, 150_000.0),
           (-150.0, 89.5, 100_000.0), (0.0, 90.0, 130_000.0), (60.0, -89.5, 80_000.0),
           (0.0, 0.0, 1.0)]  # fmt: skip
    for clon, clat in FAR_CENTRES:
        for _ in range(4):
            lon, lat, _ = GEOD.fwd(clon, clat, rng.uniform(0, 360), rng.uniform(0, 100_000))
            out.append((float(lon), float(lat), float(rng.uniform(1_000, 120_000))))
    return out


@pytest.mark.parametrize(("lon", "lat", "within_m"), far_queries())
def test_near_across_the_antimeridian_and_around_the_poles(lon: float, lat: float, within_m: float) -> None:
    """Points: exactly those Geod.inv puts within. Regions (discs of known centre and radius): a
    region meets the disc when its centre is within the two radii, a metre either way aside."""
    events, regions, discs = far_stores()
    query = ItemQuery(near=(lon, lat), within_m=within_m)
    lons, lats = events.columns.point.T
    _, _, dist = GEOD.inv(np.full(len(lons), lon), np.full(len(lons), lat), lons, lats)
    by_point = set(np.flatnonzero(np.asarray(dist) <= within_m).tolist())
    clon, clat, radius = (np.array(v) for v in zip(*discs, strict=True))
    _, _, centre = GEOD.inv(np.full(len(clon), lon), np.full(len(clon), lat), clon, clat)
    gap = np.asarray(centre) - radius - within_m
    assert not (np.abs(gap) < 2.0).any()  # no region is left for the polygons' metre to decide
    meets = set(np.flatnonzero(gap < 0).tolist())
    assert set(regions.query(query).tolist()) == meets
    assert set(events.query(query).tolist()) == by_point | set(regions.owner_rows[list(meets)].tolist())
    # bbox across the antimeridian on the same store: what shapely says of every point
    if lon > 170 or lon < -170:
        bbox = (179.0, lat - 1, -179.0, lat + 1)
        hit = {i for i in range(len(events)) if (lons[i] >= 179.0 or lons[i] <= -179.0) and
               lat - 1 <= lats[i] <= lat + 1}  # fmt: skip
        assert set(events.query(ItemQuery(bbox=bbox)).tolist()) == hit


@pytest.mark.parametrize(("lon", "lat"), [(38.6, 33.5), (179.999, 0.0), (-179.999, 45.0), (10.0, 89.99)])
@pytest.mark.parametrize("within_m", [1.0, 30_000.0, 400_000.0])
def test_near_at_the_distance_itself(lon: float, lat: float, within_m: float) -> None:
    """Points 5 cm inside and 5 cm outside the distance, in every direction: Geod's answer."""
    azimuths = np.arange(0.0, 360.0, 7.5)
    n = len(azimuths)
    rows = []
    for offset in (-0.05, 0.05):
        plon, plat, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, within_m + offset))
        for a, b in zip(plon, plat, strict=True):
            feature = {"type": "Feature", "id": f"p{len(rows)}", "properties": {}}
            rows.append(Row(feature, shapely.Point(a, b), point=(float(a), float(b))))
    store = from_rows(rows)
    _, _, dist = GEOD.inv(np.full(2 * n, lon), np.full(2 * n, lat), *store.columns.point.T)
    want = np.flatnonzero(np.asarray(dist) <= within_m)
    assert store.query(ItemQuery(near=(lon, lat), within_m=within_m)).tolist() == want.tolist()
    assert n - 2 <= len(want) <= n + 2  # the inner ring, give or take Geod's rounding at 5 cm


# -- at a size where the prefilter and the distance bounds settle most regions ----------------------


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[FeatureStore, FeatureStore]:
    """1,500 incidents with claim-like regions (discs, rings, sectors, pairs of discs) about At
    Tanf and about centres by the antimeridian and the poles, through the Arrow file as served."""
    from tests.geo.test_near import REACH_CENTRES, claim_like

    rng = np.random.default_rng(41)
    events, regions = [], []
    for i in range(1_500):
        clon, clat = REACH_CENTRES[i % len(REACH_CENTRES)]
        region = claim_like(rng, clon, clat)
        if not region.is_valid or region.bounds[2] - region.bounds[0] > 90 or abs(region.bounds[3]) > 89.9:
            continue  # never drawn across the antimeridian or around a pole (app.data.extent)
        claim = region_row(f"many-{i}", region)
        assert claim.point is not None
        events.append(incident_row(f"many-{i}", claim.point))
        regions.append(claim)
    stores = []
    for name, rows in (("events", events), ("regions", regions)):
        path = tmp_path_factory.mktemp("many") / f"{name}.arrow"
        store_file.write(store_file.columns_of(rows).table(), path)
        stores.append(load(path))
    stores[0].link(stores[1])
    return stores[0], stores[1]


def many_queries() -> list[tuple[float, float, float]]:
    from tests.geo.test_near import REACH_CENTRES

    rng = np.random.default_rng(43)
    out = []
    for clon, clat in REACH_CENTRES:
        for _ in range(4):
            lon, lat, _ = GEOD.fwd(clon, clat, rng.uniform(0, 360), rng.uniform(0, 100_000))
            out.append((float(lon), float(lat), float(rng.uniform(500, 70_000))))
    return out


@pytest.mark.parametrize(("lon", "lat", "within_m"), many_queries())
def test_near_equals_testing_every_polygon_at_scale(
    many: tuple[FeatureStore, FeatureStore], lon: float, lat: float, within_m: float
) -> None:
    events, regions = many
    query = ItemQuery(near=(lon, lat), within_m=within_m)
    assert set(regions.query(query).tolist()) == brute(regions, regions, None, lon, lat, within_m)
    assert set(events.query(query).tolist()) == brute(events, regions, regions.owner_rows, lon, lat, within_m)
