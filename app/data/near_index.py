"""The ``near`` filter's index: every region's pieces (``app.geo.reach``), grouped by centre.

A query point's distance and azimuth are worked out once per centre that could be in reach
(there are few: the sites, the zone centre, exact points), not once per region; the pieces of
those centres are then settled with the bounds of ``app.geo.reach`` in a few numpy operations.
Only the regions those bounds leave open are tested against their polygons, by the store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pyproj import Geod

from app.geo.reach import Piece, plane_distance, settle, surely_farther

GEOD = Geod(ellps="WGS84")
# The columns, all numpy arrays: pieces sorted by centre, and the centres with the range of
# their pieces (``centre_first``: n_centres + 1 offsets) and the farthest reach of any of them.
PIECE_COLUMNS = ("piece_min", "piece_max", "piece_from", "piece_sweep", "piece_region", "piece_exact")
CENTRE_COLUMNS = ("centre_lon", "centre_lat", "centre_reach", "centre_first")
COLUMNS = PIECE_COLUMNS + CENTRE_COLUMNS


def ungrouped(per_region: Sequence[tuple[tuple[Piece, ...], bool] | None]) -> dict[str, np.ndarray]:
    """The pieces of each region (None: a region with no geometry), in region order, with
    their centres: the input of ``grouped``."""
    rows = [
        (p.centre[0], p.centre[1], p.min_m, p.max_m, p.from_deg, p.sweep_deg, region, exact)
        for region, entry in enumerate(per_region) if entry is not None
        for exact in (entry[1],) for p in entry[0]
    ]  # fmt: skip
    table = np.array(rows, dtype=np.float64).reshape(len(rows), 8)
    return {
        "lon": table[:, 0], "lat": table[:, 1], "piece_min": table[:, 2], "piece_max": table[:, 3],
        "piece_from": table[:, 4], "piece_sweep": table[:, 5],
        "piece_region": table[:, 6].astype(np.int64), "piece_exact": table[:, 7].astype(bool),
    }  # fmt: skip


def concat_ungrouped(parts: list[dict[str, np.ndarray]], new_row: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Several parts' ungrouped pieces as one, their regions renumbered by ``new_row`` (for each
    part, the merged row of each of its regions)."""
    out = {
        name: np.concatenate([part[name] for part in parts]) for name in parts[0] if name != "piece_region"
    }
    out["piece_region"] = np.concatenate(
        [rows[part["piece_region"]] for part, rows in zip(parts, new_row, strict=True)]
    ).astype(np.int64)
    return out


def grouped(pieces: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The index columns: pieces sorted by centre, and the centres."""
    order = np.lexsort((pieces["piece_region"], pieces["lat"], pieces["lon"]))
    lon, lat = pieces["lon"][order], pieces["lat"][order]
    new_centre = np.ones(len(order), dtype=bool)
    new_centre[1:] = (lon[1:] != lon[:-1]) | (lat[1:] != lat[:-1])
    first = np.flatnonzero(new_centre)
    out = {name: pieces[name][order] for name in PIECE_COLUMNS}
    out["centre_lon"], out["centre_lat"] = lon[first], lat[first]
    out["centre_first"] = np.append(first, len(order)).astype(np.int64)
    reach = out["piece_max"]
    out["centre_reach"] = np.maximum.reduceat(reach, first) if len(first) else np.zeros(0)
    return out


class NearIndex:
    """Which regions are surely within a distance of a point, and which may be."""

    def __init__(self, columns: dict[str, np.ndarray], n_regions: int) -> None:
        self.columns = columns
        self.n_regions = n_regions

    def settle(self, lon: float, lat: float, within_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Two boolean masks over the regions: surely within ``within_m`` of (lon, lat), and
        perhaps (the store tests those polygons). Every other region is surely not."""
        c = self.columns
        surely = np.zeros(self.n_regions, dtype=bool)
        perhaps = np.zeros(self.n_regions, dtype=bool)
        near = np.flatnonzero(
            ~surely_farther(c["centre_lon"], c["centre_lat"], lon, lat, c["centre_reach"] + within_m + 1.0)
        )
        if not len(near):
            return surely, perhaps
        n = len(near)
        azimuth, _, distance = GEOD.inv(
            c["centre_lon"][near], c["centre_lat"][near], np.full(n, lon), np.full(n, lat)
        )
        first, counts = c["centre_first"][near], np.diff(c["centre_first"])[near]
        pieces = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        pieces += np.arange(int(counts.sum()))
        d = np.repeat(np.asarray(distance), counts)
        az = np.repeat(np.asarray(azimuth), counts)
        high = c["piece_max"][pieces]
        plane = plane_distance(
            d, az, c["piece_min"][pieces], high, c["piece_from"][pieces], c["piece_sweep"][pieces]
        )
        sure, out = settle(d, plane, high, c["piece_exact"][pieces], within_m)
        region = c["piece_region"][pieces]
        surely[region[sure]] = True
        perhaps[region[~out]] = True
        perhaps &= ~surely
        return surely, perhaps
