"""The near filter through its index picks exactly what testing every region's polygon picks."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from app.data import near_index
from app.data.store import FeatureStore, ItemQuery
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
    lons, lats = store.columns["lon"], store.columns["lat"]
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


@pytest.fixture(params=["as shipped", "every centre measured and sliced"])
def index_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index settles a centre's pieces from distance bounds or a measured distance, on
    gathered copies or on its own slice; the small dataset has no centre big enough to slice."""
    if request.param != "as shipped":
        monkeypatch.setattr(near_index, "MANY_PIECES", 1)
        monkeypatch.setattr(near_index, "BIG_CENTRE", 2)


@pytest.mark.usefixtures("index_mode")
@pytest.mark.parametrize(("lon", "lat", "within_m"), queries())
def test_near_equals_testing_every_polygon(served: Served, lon: float, lat: float, within_m: float) -> None:
    events, regions = served.stores["events"], served.stores["regions"]
    query = ItemQuery(near=(lon, lat), within_m=within_m)
    assert set(regions.query(query).tolist()) == brute(regions, regions, None, lon, lat, within_m)
    owner = regions.columns["owner_rows"]
    assert set(events.query(query).tolist()) == brute(events, regions, owner, lon, lat, within_m)


def test_the_index_settles_most_regions_without_their_polygons(served: Served) -> None:
    index = served.stores["regions"].near
    assert index is not None
    settled = total = 0
    for lon, lat, within_m in queries():
        surely, perhaps = index.index.settle(lon, lat, within_m)
        settled += len(index.regions) - int(perhaps.sum())
        total += len(index.regions)
        assert not (surely & perhaps).any()
    assert settled / total > 0.95


def test_the_oracle_tests_run_on_mapped_stores(served: Served) -> None:
    """Every store is served from files it maps (a build is written and mapped back), so the
    comparisons above are with the stores as served, not with an in-memory copy."""
    from app.data.mapped import MappedBytes

    for cid in ("events", "regions"):
        columns = served.stores[cid].columns
        assert isinstance(columns["heads"], MappedBytes)
        assert not columns["start"].flags.writeable  # a read-only map
    index = served.stores["regions"].columns["near_index"]
    assert not index["piece_min"].flags.writeable
