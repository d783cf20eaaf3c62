"""The ``near`` filter's index: every region's pieces (``app.geo.reach``), grouped by centre.

A query point's distance and azimuth are worked out once per centre that could be in reach
(there are few: the sites, the zone centre, exact points), not once per region; the pieces of
those centres are then settled with the bounds of ``app.geo.reach`` in a few numpy operations.
Only the regions those bounds leave open are tested against their polygons, by the store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.geo import box_tree
from app.geo.geodesy import WGS84
from app.geo.ragged import ranges
from app.geo.reach import (
    FULL_TURN,
    SERVED_SLACK_M,
    Piece,
    distance_bounds,
    edge_terms,
    open_limit,
    plane_distance,
    reach_box,
    sector_plane_distance,
    settle,
    stretch,
)

# The columns, all numpy arrays: pieces sorted by centre, and the centres with the range of
# their pieces (``centre_first``: n_centres + 1 offsets), the farthest reach of any of them, and
# whether any is a sector (a sector needs the point's exact azimuth from the centre); and a
# tree of the boxes the centres' pieces lie in (``centre_tree_*``, ``app.geo.box_tree``).
PIECE_COLUMNS = ("piece_min", "piece_max", "piece_from", "piece_sweep", "piece_region", "piece_exact")
CENTRE_COLUMNS = ("centre_lon", "centre_lat", "centre_reach", "centre_first", "centre_sectors")
# The distinct pairs of sector angles (``angle_from``, ``angle_sweep``) and each piece's pair
# (``piece_angles``): a big centre works out the direction terms once per pair, not per piece.
ANGLE_COLUMNS = ("angle_from", "angle_sweep", "piece_angles")
TREE_COLUMNS = tuple(f"centre_tree_{name}" for name in box_tree.COLUMNS)
COLUMNS = PIECE_COLUMNS + CENTRE_COLUMNS + ANGLE_COLUMNS + TREE_COLUMNS
# A served region may reach this far beyond its pieces (and a metre for rounding).
REGION_MARGIN_M = SERVED_SLACK_M + 1.0
# A centre with this many pieces gets its exact distance (one Geod.inv saves the slack of the
# bounds for all of them) and is settled on views of its own range, not on gathered copies.
MANY_PIECES = 8
BIG_CENTRE = 512


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
    reach, sector = out["piece_max"], (out["piece_sweep"] < FULL_TURN).astype(np.int8)
    out["centre_reach"] = np.maximum.reduceat(reach, first) if len(first) else np.zeros(0)
    out["centre_sectors"] = (
        np.maximum.reduceat(sector, first).astype(bool) if len(first) else np.zeros(0, bool)
    )
    angles, pair = np.unique(
        np.column_stack([out["piece_from"], out["piece_sweep"]]), axis=0, return_inverse=True
    )
    out["piece_angles"] = pair.reshape(-1).astype(np.int32)
    out["angle_from"], out["angle_sweep"] = angles[:, 0].copy(), angles[:, 1].copy()
    boxes = reach_box(out["centre_lon"], out["centre_lat"], out["centre_reach"] + REGION_MARGIN_M)
    out |= {f"centre_tree_{name}": values for name, values in box_tree.build(boxes).items()}
    return out


class NearIndex:
    """Which regions are surely within a distance of a point, and which may be."""

    def __init__(self, columns: dict[str, np.ndarray], n_regions: int) -> None:
        self.columns = columns
        self.n_regions = n_regions
        self.tree = {name: columns[f"centre_tree_{name}"] for name in box_tree.COLUMNS}

    def settle(self, lon: float, lat: float, within_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Two boolean masks over the regions: surely within ``within_m`` of (lon, lat), and
        perhaps (the store tests those polygons). Every other region is surely not."""
        c = self.columns
        surely = np.zeros(self.n_regions, dtype=bool)
        perhaps = np.zeros(self.n_regions, dtype=bool)
        # Only centres whose box meets the query's can have a piece in reach (app.geo.reach).
        near = np.sort(box_tree.search(self.tree, *reach_box(lon, lat, within_m)[0]))
        reach = c["centre_reach"][near] + within_m + REGION_MARGIN_M
        d_low, d_high = distance_bounds(c["centre_lon"][near], c["centre_lat"][near], lon, lat, reach)
        in_reach = d_low <= reach
        near, d_low, d_high = near[in_reach], d_low[in_reach], d_high[in_reach]
        if not len(near):
            return surely, perhaps
        first, end = c["centre_first"][near], c["centre_first"][near + 1]
        azimuth = np.full(len(near), np.nan)  # known only where measured
        measured = np.flatnonzero(c["centre_sectors"][near] | (end - first >= MANY_PIECES))
        if len(measured):
            n = len(measured)
            az, _, dist = WGS84.inv(c["centre_lon"][near[measured]], c["centre_lat"][near[measured]],
                                   np.full(n, lon), np.full(n, lat))  # fmt: skip
            d_low[measured] = d_high[measured] = dist
            azimuth[measured] = az
        k = stretch(np.maximum(d_high, c["centre_reach"][near]) + within_m)
        big = end - first >= BIG_CENTRE
        for j in np.flatnonzero(big):  # measured: MANY_PIECES <= BIG_CENTRE
            self._settle_centre(
                slice(first[j], end[j]), d_low[j], azimuth[j], k[j], within_m, surely, perhaps
            )
        small = np.flatnonzero(~big)
        counts = end[small] - first[small]
        pieces = ranges(first[small], counts)
        d_lo, d_hi, az, k_small = (np.repeat(v[small], counts) for v in (d_low, d_high, azimuth, k))
        self._settle(pieces, d_lo, d_hi, az, k_small, within_m, surely, perhaps)
        perhaps &= ~surely
        return surely, perhaps

    def _settle(
        self, pieces: np.ndarray, d_low: np.ndarray, d_high: np.ndarray, azimuth: np.ndarray,
        k: np.ndarray, within_m: float, surely: np.ndarray, perhaps: np.ndarray,
    ) -> None:  # fmt: skip
        """Mark the regions of ``pieces`` in ``surely`` / ``perhaps``; the distance from each
        piece's centre is between ``d_low`` and ``d_high`` (equal, with ``azimuth``, where
        measured)."""
        c = self.columns
        low_m, high_m = c["piece_min"][pieces], c["piece_max"][pieces]
        # A ring's plane distance is radial: from the bounds of the distance, bounds of it.
        plane_low = np.maximum(low_m - d_high, d_low - high_m)
        plane_high = np.maximum(low_m - d_low, d_high - high_m)
        sweep = c["piece_sweep"][pieces]
        # A sector lies in its ring, so the radial distance bounds its own from below; only the
        # sectors that bound leaves open need the exact one (their centres were measured).
        is_sector = sweep < FULL_TURN
        plane_high[is_sector] = np.inf
        sector = np.flatnonzero(is_sector & (plane_low <= open_limit(within_m, k)))
        if len(sector):
            exact_plane = plane_distance(d_low[sector], azimuth[sector], low_m[sector], high_m[sector],
                                         c["piece_from"][pieces][sector], sweep[sector])  # fmt: skip
            plane_low[sector] = plane_high[sector] = exact_plane
        self._mark(pieces, plane_low, plane_high, k, within_m, surely, perhaps)

    def _settle_centre(
        self, pieces: slice, d: float, azimuth: float, k: float, within_m: float,
        surely: np.ndarray, perhaps: np.ndarray,
    ) -> None:  # fmt: skip
        """``_settle`` for one measured centre (at distance ``d``, ``azimuth``), on views of its
        range: the plane distance is exact, and the sectors' direction terms are worked out
        once per distinct pair of angles when there are fewer pairs than sectors to settle."""
        c = self.columns
        low_m, high_m = c["piece_min"][pieces], c["piece_max"][pieces]
        plane = np.maximum(low_m - d, d - high_m)  # a ring's; below a sector's own
        sector = np.flatnonzero((c["piece_sweep"][pieces] < FULL_TURN) & (plane <= open_limit(within_m, k)))
        if len(sector) and len(c["angle_from"]) <= len(sector):
            terms = edge_terms(d, azimuth, c["angle_from"], c["angle_sweep"])
            codes = c["piece_angles"][pieces][sector]
            plane[sector] = sector_plane_distance(
                d, low_m[sector], high_m[sector], *(t[codes] for t in terms)
            )
        elif len(sector):
            n, angles = len(sector), (c["piece_from"][pieces][sector], c["piece_sweep"][pieces][sector])
            plane[sector] = plane_distance(
                np.full(n, d), np.full(n, azimuth), low_m[sector], high_m[sector], *angles
            )
        # A sector not measured is surely out (its ring is), so one distance serves both bounds.
        self._mark(pieces, plane, plane, k, within_m, surely, perhaps)

    def _mark(
        self, pieces: slice | np.ndarray, plane_low: np.ndarray, plane_high: np.ndarray,
        k: np.ndarray | float, within_m: float, surely: np.ndarray, perhaps: np.ndarray,
    ) -> None:  # fmt: skip
        """Mark the regions of ``pieces`` from bounds of their plane distances."""
        sure, out = settle(plane_low, plane_high, self.columns["piece_exact"][pieces], within_m, k)
        region = self.columns["piece_region"][pieces]
        surely[region[sure]] = True
        perhaps[region[~(out | sure)]] = True  # a region surely in is not open, whatever its other pieces
