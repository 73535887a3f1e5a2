"""Spatial blocks: square cells over the volunteers' homes (and the activities' places), split
by availability pattern and travel tier, each a contiguous range of rows with its centre, radius
and bounds; the search visits them best bound first (see ``ARCHITECTURE.md``, rule 5)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from matcher.matching import kernels
from matcher.matching.tables import Column
from matcher.model.geo import EARTH_RADIUS_KM, km_to_chord, unit_vectors

I32 = NDArray[np.int32]
_EMPTY_I32 = np.zeros(0, dtype=np.int32)

KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180.0
DEFAULT_BLOCK_KM = 3.0
"""The side of a block, km."""

TRAVEL_TIERS_KM = np.array([5, 10, 20], dtype=np.float32)
BLOCK_CREDIT_CACHE = 32  # skills whose per-block credits are kept (the skills postings ask for)
TIER_SPAN = 1 << 20  # tiers per cell; keys leave this much room
MAX_PATTERNS = TIER_SPAN // (TRAVEL_TIERS_KM.shape[0] + 1)
"""Within a cell, blocks split volunteers by when in the week they are free (their pattern: the
4-hour parts of the week they are free in, see :func:`matcher.model.calendar.week_parts`) and by
travel-limit tier. Availability is the most selective rule (for a given shift most volunteers are
busy), so a block's pooled availability then bounds its members closely and whole blocks of
people busy at the time, or short-range volunteers far from a posting, are skipped without
looking at their rows. Patterns beyond ``MAX_PATTERNS`` distinct ones share the last tier."""


def tier_of(travel_km: NDArray[np.float32], pattern: NDArray[np.int64]) -> NDArray[np.int64]:
    """Tier in [0, TIER_SPAN) from travel limits and availability pattern ids."""
    t = np.searchsorted(TRAVEL_TIERS_KM, travel_km, side="left").astype(np.int64)
    tier: NDArray[np.int64] = np.minimum(pattern, MAX_PATTERNS - 1) * (TRAVEL_TIERS_KM.shape[0] + 1) + t
    return tier


class SpatialBlocks:
    """Rows grouped by roughly square lat/lon cells of ``block_km`` (and, within a cell, by a
    small integer tier); each block knows its rows, its centre and the largest distance of a
    member from that centre, so a radius query takes whole blocks and bounds the distance of every
    row in a block from below.

    A block's rows are a contiguous range of the row order set at build time, plus rows added
    later; rows that left a block (moved or removed) stay in its range and are filtered by the
    caller against ``block_of_row``.

    Cells are bands of equal latitude height, each cut into as many equal longitude cells as fit
    (one cell at the poles); distances across the antimeridian and near the poles are handled by
    the 3-D KD-tree over block centres, not by longitude arithmetic.
    """

    def __init__(self, block_km: float = DEFAULT_BLOCK_KM) -> None:
        self.block_km = block_km
        self.dlat = block_km / KM_PER_DEGREE
        self.n_bands = max(1, math.ceil(180.0 / self.dlat))
        self._block_of_key: dict[int, int] = {}
        self.start = Column(np.zeros(0, dtype=np.int64))
        self.count = Column(np.zeros(0, dtype=np.int64))
        self.extra: dict[int, I32] = {}
        self._centre = Column(np.zeros((0, 3), dtype=np.float64))
        self.radius_km = Column(np.zeros(0, dtype=np.float64))
        self._key = Column(np.zeros(0, dtype=np.int64))
        # A KD-tree over cell centres (the blocks of a cell share its centre) and, per cell, its
        # blocks: rebuilt lazily when a block is added.
        self._tree: cKDTree | None = None
        self._cell_blocks = np.zeros(0, dtype=np.int32)
        self._cell_start = np.zeros(1, dtype=np.int64)
        self.max_radius_km = 0.0

    def __len__(self) -> int:
        return self.start.n

    def _cells_per_band(self, band: NDArray[np.int64]) -> NDArray[np.int64]:
        centre_lat = np.radians(-90.0 + (band + 0.5) * self.dlat)
        cells: NDArray[np.int64] = np.maximum(1, np.floor(360.0 * np.cos(centre_lat) / self.dlat)).astype(
            np.int64
        )
        return cells

    def keys(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], tier: NDArray[np.int64] | None = None
    ) -> NDArray[np.int64]:
        band = np.clip(np.floor((lat + 90.0) / self.dlat).astype(np.int64), 0, self.n_bands - 1)
        cells = self._cells_per_band(band)
        cell = np.clip(np.floor((lon + 180.0) / 360.0 * cells).astype(np.int64), 0, cells - 1)
        key = (band * (1 << 24) + cell) * TIER_SPAN
        return key if tier is None else key + tier

    def _centres_of(self, keys: NDArray[np.int64]) -> NDArray[np.float64]:
        cellkey = keys // TIER_SPAN
        band, cell = cellkey >> 24, cellkey & ((1 << 24) - 1)
        cells = self._cells_per_band(band)
        lat = np.minimum(-90.0 + (band + 0.5) * self.dlat, 90.0)
        lon = -180.0 + (cell + 0.5) * 360.0 / cells
        return unit_vectors(lat, lon)

    def bulk(
        self, sorted_keys: NDArray[np.int64], xyz: NDArray[np.float32], first_row: int = 0
    ) -> NDArray[np.int32]:
        """Create the blocks of rows ``first_row ..`` whose keys are sorted ascending; returns
        each row's block."""
        n = sorted_keys.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.int32)
        cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
        starts = np.concatenate([[0], cuts]).astype(np.int64)
        counts = np.diff(np.concatenate([starts, [n]])).astype(np.int64)
        ukeys = sorted_keys[starts]
        b0 = len(self)
        nb = ukeys.shape[0]
        for i, key in enumerate(ukeys.tolist()):
            self._block_of_key[key] = b0 + i
        self.start.ensure(b0 + nb)
        self.count.ensure(b0 + nb)
        self._centre.ensure(b0 + nb)
        self.radius_km.ensure(b0 + nb)
        self._key.ensure(b0 + nb)
        self._key.data[b0 : b0 + nb] = ukeys
        self.start.data[b0 : b0 + nb] = starts + first_row
        self.count.data[b0 : b0 + nb] = counts
        centres = self._centres_of(ukeys)
        self._centre.data[b0 : b0 + nb] = centres
        block = np.repeat(np.arange(nb, dtype=np.int32), counts)
        diff = xyz.astype(np.float64) - centres[block]
        chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        radius = np.zeros(nb)
        np.maximum.at(radius, block, 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2.0, 1.0)))
        self.radius_km.data[b0 : b0 + nb] = radius + 0.01  # float32 slack
        for col in (self.start, self.count, self._centre, self.radius_km, self._key):
            col.n = b0 + nb
        self.max_radius_km = max(self.max_radius_km, float(radius.max()) + 0.01)
        self._tree = None
        return (block + b0).astype(np.int32)

    def _block_for(self, key: int) -> int:
        b = self._block_of_key.get(key)
        if b is None:
            b = len(self)
            self._block_of_key[key] = b
            self.start.append(0)
            self.count.append(0)
            self._centre.append(self._centres_of(np.array([key]))[0])
            self.radius_km.append(0.0)
            self._key.append(key)
            self._tree = None
        return b

    def add(self, row: int, key: int, xyz: NDArray[np.float32]) -> int:
        blk = self._block_for(key)
        self.extra[blk] = np.append(self.extra.get(blk, _EMPTY_I32), np.int32(row))
        diff = xyz.astype(np.float64) - self._centre.data[blk]
        chord = float(np.sqrt((diff * diff).sum()))
        r = 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2.0)) + 0.01
        if r > self.radius_km.data[blk]:
            self.radius_km.data[blk] = r
            self.max_radius_km = max(self.max_radius_km, r)
        return blk

    def members(self, blocks: I32) -> NDArray[np.int64]:
        """How many rows each block lists (its range and rows added since; some may have left)."""
        sizes = self.count.data[blocks].copy()
        if self.extra:
            for i, b in enumerate(blocks.tolist()):
                more = self.extra.get(b)
                if more is not None:
                    sizes[i] += more.shape[0]
        return sizes

    def ranges_of(self, blocks: I32) -> tuple[NDArray[np.int64], NDArray[np.int64], I32, I32]:
        """The row range each block was built with (starts, counts), and the rows added to the
        blocks later with the block of each: :meth:`rows_of` without expanding the ranges."""
        extra_rows, extra_blocks = _EMPTY_I32, _EMPTY_I32
        if self.extra:
            more = [(b, self.extra[b]) for b in blocks.tolist() if b in self.extra]
            if more:
                extra_rows = np.concatenate([r for _, r in more])
                extra_blocks = np.concatenate([np.full(r.shape[0], b, np.int32) for b, r in more])
        return self.start.data[blocks], self.count.data[blocks], extra_rows, extra_blocks

    def rows_of(self, blocks: I32) -> tuple[I32, I32]:
        """Rows of many blocks and, for each row, the block it was listed under."""
        starts, counts, extra_rows, extra_blocks = self.ranges_of(blocks)
        owner, rows = kernels.expand(starts, counts)
        return np.concatenate([rows.astype(np.int32), extra_rows]), np.concatenate(
            [blocks[owner], extra_blocks]
        )

    def _index_cells(self) -> cKDTree:
        n = len(self)
        cell = self._key.data[:n] // TIER_SPAN
        order = np.argsort(cell, kind="stable").astype(np.int32)
        first = np.flatnonzero(np.concatenate([[True], np.diff(cell[order]) != 0]))
        self._cell_blocks = order
        self._cell_start = np.concatenate([first, [n]]).astype(np.int64)
        self._tree = cKDTree(self._centre.data[order[first]])
        return self._tree

    def cells(self) -> tuple[NDArray[np.int64], I32]:
        """Blocks grouped by cell: cell ``c`` holds ``blocks[starts[c]:starts[c + 1]]``."""
        if self._tree is None:
            self._index_cells()
        return self._cell_start, self._cell_blocks

    def near_cells(
        self, origin: NDArray[np.float64], radius_km: float
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Cells whose blocks may hold rows within ``radius_km`` of ``origin`` (a unit vector),
        with the distance of each cell's centre (see :meth:`cells` for their blocks)."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        tree = self._tree if self._tree is not None else self._index_cells()
        reach = km_to_chord(radius_km + self.max_radius_km)
        cells = np.asarray(tree.query_ball_point(origin, reach), dtype=np.int64)
        diff = tree.data[cells] - origin
        chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        return cells, 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2.0, 1.0))

    def near(self, origin: NDArray[np.float64], radius_km: float) -> tuple[I32, NDArray[np.float64]]:
        """Blocks that may hold rows within ``radius_km`` of ``origin`` (a unit vector), with a
        lower bound on the distance of any of their rows."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0)
        cells, centre_km = self.near_cells(origin, radius_km)
        owner, pos = kernels.expand(self._cell_start[cells], np.diff(self._cell_start)[cells])
        blocks = self._cell_blocks[pos]
        lower = np.maximum(centre_km[owner] - self.radius_km.data[blocks], 0.0)
        keep = lower <= radius_km
        return blocks[keep], lower[keep]

    def nbytes(self) -> int:
        return int(
            self.start.data.nbytes
            + self.count.data.nbytes
            + self._centre.data.nbytes
            + self.radius_km.data.nbytes
            + sum(r.nbytes for r in self.extra.values())
        )
