"""The in-memory columnar index the ranking reads.

Volunteers, activities and shifts live in struct-of-arrays columns (numpy), one row each, with a
spatial index of square blocks (~2 km) over the volunteers' homes and the activities' places.
This module is the only place that maps ids to rows and back.

Layout and memory: a volunteer row costs ~12 B of position, 48 B of weekly availability (336
half-hour slots), ~30 B of scalars, ~20 B of id map and ~8 B per skill in the skill lists and
postings, about 150 B in all (``volmatch bench`` measures it).

Updates happen in place, without a rebuild: a changed volunteer keeps its row, moves block if
their home moved, and has its skill postings patched; a new volunteer is appended; a removed one
is tombstoned. An activity that changes gets new rows for itself and its shifts (the old ones are
tombstoned) so that its shifts stay contiguous. Space left by tombstones and superseded list
entries is reclaimed by building a fresh index (``MatchIndex.build``), which a service can do in
the background; nothing requires it.

Everything here is pure computation: the shell passes in the data and ``as_of`` (the day that
recency and decay are measured from).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from matcher.matching import constraints, kernels
from matcher.matching.columns import (
    ActivityColumns,
    HistoryColumns,
    Ragged,
    ShiftColumns,
    Vocabulary,
    VolunteerColumns,
    activity_columns,
    category_key,
    volunteer_columns,
)
from matcher.matching.factors import past_service
from matcher.model.calendar import (
    WORDS,
    ShiftMask,
    SlotTable,
    availability_bits,
    day_number,
    epoch_seconds,
    local_day_numbers,
    slot_table,
    week_parts,
)
from matcher.model.domain import Activity, Booking, ServiceRecord, Volunteer, World
from matcher.model.errors import ConflictError, NotFoundError
from matcher.model.geo import EARTH_RADIUS_KM, km_to_chord, unit_vectors
from matcher.model.skills import Taxonomy

I32 = NDArray[np.int32]
F32 = NDArray[np.float32]
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180.0
DEFAULT_BLOCK_KM = 3.0
DEFAULT_HALF_LIFE_DAYS = 365.0
NEVER = np.iinfo(np.int32).min
"""Day number of the last service of someone who never served."""


# --------------------------------------------------------------------------------------------
# Growable storage helpers


class Column:
    """A numpy array that grows by doubling; ``view`` is the used prefix."""

    __slots__ = ("data", "n")

    def __init__(self, initial: NDArray[Any]) -> None:
        self.data: NDArray[Any] = initial
        self.n: int = int(initial.shape[0])

    def ensure(self, n: int) -> None:
        if n > self.data.shape[0]:
            cap = max(n, 2 * self.data.shape[0], 16)
            grown = np.zeros((cap, *self.data.shape[1:]), dtype=self.data.dtype)
            grown[: self.n] = self.data[: self.n]
            self.data = grown

    def append(self, value: object) -> int:
        self.ensure(self.n + 1)
        self.data[self.n] = value
        self.n += 1
        return self.n - 1


class RaggedStore:
    """Per-row integer lists that can be replaced in place: a replaced list is appended at the end
    of the flat array and the row points there (the old entries become garbage until a rebuild)."""

    __slots__ = ("flat", "length", "offset")

    def __init__(self, ragged: Ragged) -> None:
        self.offset = Column(ragged.indptr[:-1].copy())
        self.length = Column(np.diff(ragged.indptr).astype(np.int32))
        self.flat = Column(ragged.values.copy())

    def row(self, i: int) -> I32:
        o = int(self.offset.data[i])
        return self.flat.data[o : o + int(self.length.data[i])]

    def set(self, i: int, values: Sequence[int] | I32) -> None:
        """Set row ``i`` (appending a new row when ``i`` is the next row)."""
        arr = np.asarray(values, dtype=self.flat.data.dtype)
        start = self.flat.n
        self.flat.ensure(start + arr.shape[0])
        self.flat.data[start : start + arr.shape[0]] = arr
        self.flat.n += arr.shape[0]
        if i == self.offset.n:
            self.offset.append(start)
            self.length.append(arr.shape[0])
        else:
            self.offset.data[i] = start
            self.length.data[i] = arr.shape[0]

    def gather(self, rows: I32) -> tuple[I32, NDArray[np.int64]]:
        """Flat values of many rows and, for each value, its position in ``rows``."""
        lengths = self.length.data[rows].astype(np.int64)
        owner, positions = kernels.expand(self.offset.data[rows].astype(np.int64), lengths)
        return owner, positions


def _encode_ids(ids: Sequence[str]) -> NDArray[np.bytes_]:
    """Ids as a fixed-width bytes array (UTF-8, so Chinese or emoji ids work too)."""
    if len(ids) == 0:
        return np.zeros(0, dtype="S1")
    try:
        return np.array(ids, dtype="S")  # the fast path: numpy encodes ASCII itself
    except UnicodeEncodeError:
        return np.array([i.encode() for i in ids], dtype="S")


class IdMap:
    """Volunteer ids <-> rows in ~(2 * id length + 8) bytes per volunteer: the ids in row order
    and in sorted order (``np.searchsorted`` lookups), plus a small dict for ids added later."""

    def __init__(self, ids: Sequence[str], rows: NDArray[np.integer[Any]] | None = None) -> None:
        """``ids[i]`` gets row ``rows[i]`` (default: row ``i``); ``rows`` is a permutation."""
        given = _encode_ids(ids)
        if rows is None:
            rows = np.arange(given.shape[0], dtype=np.int32)
        by_row = np.empty_like(given)
        by_row[rows] = given
        # Ids often arrive sorted (generated or exported in order): then no sort is needed.
        if given.shape[0] > 1 and not bool((given[1:] >= given[:-1]).all()):
            order = np.argsort(given, kind="stable")
        else:
            order = np.arange(given.shape[0])
        self._by_row = by_row
        self._sorted = given[order]
        self._order = np.asarray(rows, dtype=np.int32)[order]
        if by_row.shape[0] > 1:
            dup = np.flatnonzero(self._sorted[1:] == self._sorted[:-1])
            if dup.size:
                raise ConflictError(f"volunteer id {self._sorted[dup[0]].decode()!r} appears twice")
        self._base: int = int(by_row.shape[0])
        self._added: dict[str, int] = {}
        self._added_ids: list[str] = []
        self._gone: set[int] = set()

    def __len__(self) -> int:
        return self._base + len(self._added_ids)

    def row(self, ident: str) -> int | None:
        row = self._added.get(ident)
        if row is not None:
            return row
        key = ident.encode()
        i = int(np.searchsorted(self._sorted, key))
        if i < self._sorted.shape[0] and self._sorted[i] == key:
            row = int(self._order[i])
            return None if row in self._gone else row
        return None

    def add(self, ident: str) -> int:
        row = len(self)
        self._added[ident] = row
        self._added_ids.append(ident)
        return row

    def remove(self, row: int) -> None:
        ident = self.ident(row)
        if self._added.get(ident) == row:
            del self._added[ident]
        self._gone.add(row)

    def ident(self, row: int) -> str:
        if row < self._base:
            return str(self._by_row[row].decode())
        return self._added_ids[row - self._base]

    def idents(self, rows: I32) -> list[str]:
        return [self.ident(int(r)) for r in rows]

    def sort_keys(self, rows: I32) -> NDArray[np.bytes_]:
        """Ids of ``rows`` as a bytes array, for deterministic tie-breaking with ``np.lexsort``."""
        return np.array([self.ident(int(r)).encode() for r in rows], dtype="S")

    def nbytes(self) -> int:
        return int(self._by_row.nbytes + self._sorted.nbytes + self._order.nbytes)


# --------------------------------------------------------------------------------------------
# Spatial blocks


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


# --------------------------------------------------------------------------------------------
# Service history: experience per (volunteer, category) and (volunteer, organisation)


class Experience:
    """Hours per (key, volunteer row), readable by key (a posting list) and by row."""

    def __init__(self, keys: I32, rows: I32, hours: F32) -> None:
        if keys.shape[0]:
            # Sorted by (key, row) in two counting passes, then one entry per pair.
            by_row = kernels.stable_order(rows)
            order = by_row[kernels.stable_order(keys[by_row])]
            k, r = keys[order], rows[order]
            first = np.flatnonzero(np.concatenate([[True], (k[1:] != k[:-1]) | (r[1:] != r[:-1])]))
            self._keys = k[first].astype(np.int32)
            self._rows = r[first].astype(np.int32)
            self._hours = np.add.reduceat(hours[order].astype(np.float64), first).astype(np.float32)
        else:
            self._keys = np.zeros(0, np.int32)
            self._rows = np.zeros(0, np.int32)
            self._hours = np.zeros(0, np.float32)
        self._by_row = kernels.stable_order(self._rows).astype(np.int32)
        self._rows_sorted = self._rows[self._by_row]
        self._delta: dict[tuple[int, int], float] = {}

    @staticmethod
    def _range(sorted_values: I32, value: int) -> tuple[int, int]:
        # The needle takes the array's dtype: a Python int would make numpy cast the whole
        # int32 array to int64 first, an O(n) copy per lookup.
        a, b = np.searchsorted(sorted_values, np.array([value, value + 1], dtype=sorted_values.dtype))
        return int(a), int(b)

    def base(self) -> tuple[I32, I32, F32]:
        return self._keys, self._rows, self._hours

    def add(self, key: int, row: int, hours: float) -> None:
        self._delta[(key, row)] = self._delta.get((key, row), 0.0) + hours

    def drop_row(self, row: int) -> None:
        for k in [k for k in self._delta if k[1] == row]:
            del self._delta[k]
        a, b = self._range(self._rows_sorted, row)
        self._hours[self._by_row[a:b]] = 0.0

    def sorted_posting(self, key: int) -> tuple[I32, F32]:
        """The rows with hours under ``key``, sorted, and their hours (what :meth:`hours_at`
        reads, for the compiled screen)."""
        a, b = self._range(self._keys, key)
        rows, hours = self._rows[a:b], self._hours[a:b]
        extra = [(r, h) for (k, r), h in self._delta.items() if k == key]
        if not extra:
            return rows, hours
        all_rows = np.concatenate([rows, np.array([r for r, _ in extra], dtype=np.int32)])
        all_hours = np.concatenate([hours, np.array([h for _, h in extra], dtype=np.float32)])
        uniq, inverse = np.unique(all_rows, return_inverse=True)
        return uniq.astype(np.int32), np.bincount(inverse, weights=all_hours).astype(np.float32)

    def hours_at(self, key: int, rows: I32) -> F32:
        """Hours under ``key`` of each of ``rows`` (0 where none): a binary search of the rows in
        the key's posting list, so a query pays for its candidates, not for every volunteer."""
        a, b = self._range(self._keys, key)
        posting_rows, posting_hours = self._rows[a:b], self._hours[a:b]
        out = np.zeros(rows.shape[0], dtype=np.float32)
        if b > a:
            pos = np.minimum(np.searchsorted(posting_rows, rows), b - a - 1)
            hit = posting_rows[pos] == rows
            out[hit] = posting_hours[pos[hit]]
        for (k, r), h in self._delta.items():
            if k == key:
                out[rows == r] += np.float32(h)
        return out

    def of_row(self, row: int) -> dict[int, float]:
        a, b = self._range(self._rows_sorted, row)
        out: dict[int, float] = {}
        for i in self._by_row[a:b].tolist():
            out[int(self._keys[i])] = out.get(int(self._keys[i]), 0.0) + float(self._hours[i])
        for (k, r), h in self._delta.items():
            if r == row:
                out[k] = out.get(k, 0.0) + h
        return out

    def nbytes(self) -> int:
        return int(
            self._keys.nbytes
            + self._rows.nbytes
            + self._hours.nbytes
            + self._by_row.nbytes
            + self._rows_sorted.nbytes
        )


_T = TypeVar("_T")
MEMO_BYTES = 256 << 20
"""What the index keeps of work derived from its current state (see :class:`Memo`)."""


class Memo:
    """Work derived from the index's current state, kept until the index changes: a shift's
    prepared search (its bounds over the blocks, the rows its bookings exclude, ...) is the same
    for every organiser who asks about it until a write changes something. Every change to the
    index empties it; beyond ``budget`` bytes the oldest entries go first."""

    def __init__(self, budget: int = MEMO_BYTES) -> None:
        self.budget = budget
        self._entries: dict[Hashable, tuple[Any, int]] = {}
        self._bytes = 0

    def get(self, key: Hashable, make: Callable[[], _T], nbytes: Callable[[_T], int]) -> _T:
        """The value kept for ``key``, else ``make()`` (kept if ``nbytes`` of it fits)."""
        hit = self._entries.get(key)
        if hit is not None:
            value: _T = hit[0]
            return value
        value = make()
        size = nbytes(value)
        if size <= self.budget:
            while self._bytes + size > self.budget:
                oldest = next(iter(self._entries))
                self._bytes -= self._entries.pop(oldest)[1]
            self._entries[key] = (value, size)
            self._bytes += size
        return value

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


# --------------------------------------------------------------------------------------------
# The index


@dataclass
class ShiftView:
    """What the ranking needs about one shift and its activity."""

    row: int
    id: str
    activity_row: int
    activity_id: str
    starts_s: int
    ends_s: int
    capacity: int
    taken: int
    online: bool
    origin: NDArray[np.float64] | None  # unit vector of the activity's place
    required: tuple[int, ...]
    preferred: tuple[int, ...]
    required_certs: tuple[int, ...]
    min_age: int | None
    category: int
    organisation: int
    first_day: int  # local day numbers in the activity's time zone
    last_day: int
    zone: str


@dataclass
class MatchIndex:
    """Volunteers, activities and shifts as columns plus spatial blocks; see the module doc."""

    taxonomy: Taxonomy
    as_of: date
    block_km: float = DEFAULT_BLOCK_KM
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    skills: Vocabulary = field(default_factory=Vocabulary)
    zones: Vocabulary = field(default_factory=Vocabulary)
    categories: Vocabulary = field(default_factory=Vocabulary)
    organisations: Vocabulary = field(default_factory=Vocabulary)
    districts: Vocabulary = field(default_factory=Vocabulary)
    """Area names of volunteers' homes and activities (``v_district``, ``a_district``; -1: none),
    what demand-and-supply analytics group by."""
    _patterns: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    _block_credit_cache: dict[int, F32] = field(default_factory=dict, init=False, repr=False)
    _cell_travel: tuple[NDArray[np.int64], F32] | None = field(default=None, init=False, repr=False)
    memo: Memo = field(default_factory=Memo, init=False, repr=False)
    """Work derived from the current state, bookings included (a whole answer); every method
    that changes the index empties it (``_changed``)."""
    lasting: Memo = field(default_factory=Memo, init=False, repr=False)
    """Work derived from the current state that bookings do not change (a shift's prepared
    search, the cells near a place, the reasons given for a pair): kept across sign-ups and
    cancellations, which are most writes, and emptied by every other change."""

    # ---------------------------------------------------------------- construction

    @classmethod
    def build(
        cls,
        taxonomy: Taxonomy,
        as_of: date,
        volunteers: VolunteerColumns,
        activities: ActivityColumns,
        shifts: ShiftColumns,
        history: HistoryColumns | None = None,
        *,
        skills: Vocabulary,
        categories: Vocabulary,
        organisations: Vocabulary,
        zones: Vocabulary | None = None,
        taken: NDArray[np.int32] | None = None,
        block_km: float = DEFAULT_BLOCK_KM,
    ) -> MatchIndex:
        """Build from columns (the fast path: ~1 s per million volunteers)."""
        idx = cls(
            taxonomy,
            as_of,
            block_km=block_km,
            skills=skills,
            zones=zones
            or Vocabulary(
                volunteers.zones if len(volunteers.zones) >= len(activities.zones) else activities.zones
            ),
            categories=categories,
            organisations=organisations,
        )
        for name in (*volunteers.zones, *activities.zones):
            idx.zones.code(name)
        idx._init_volunteers(volunteers, history)
        idx._init_activities(activities, shifts, taken)
        return idx

    @classmethod
    def from_world(
        cls,
        world: World,
        taxonomy: Taxonomy,
        as_of: date,
        *,
        block_km: float = DEFAULT_BLOCK_KM,
    ) -> MatchIndex:
        """Build from domain objects (the store's snapshot, a test's hand-built world)."""
        skills, zones, cats, orgs = Vocabulary(), Vocabulary(), Vocabulary(), Vocabulary()
        vcols = volunteer_columns(world.volunteers, skills, zones)
        acols, scols = activity_columns(world.activities, skills, zones, cats, orgs)
        vrow = {v: i for i, v in enumerate(vcols.ids)}
        akeys = {
            a.id: (cats.code(category_key(a.category)), orgs.code(a.organisation_id))
            for a in world.activities
        }
        from matcher.matching.columns import history_columns

        hist = history_columns(world.service_records, vrow, akeys)
        shift_row = {s: i for i, s in enumerate(scols.ids)}
        taken = np.zeros(len(scols), dtype=np.int32)
        for b in world.bookings:
            if b.shift_id in shift_row:
                taken[shift_row[b.shift_id]] += 1
        idx = cls.build(
            taxonomy,
            as_of,
            vcols,
            acols,
            scols,
            hist,
            skills=skills,
            categories=cats,
            organisations=orgs,
            zones=zones,
            taken=taken,
            block_km=block_km,
        )
        for b in world.bookings:
            idx.add_booking(b, count=False)
        return idx

    def _init_volunteers(self, v: VolunteerColumns, history: HistoryColumns | None) -> None:
        n = len(v)
        tz_map = np.array([self.zones.code(z) for z in v.zones] or [0], dtype=np.int16)
        has_home = ~np.isnan(v.lat)

        # History, aggregated in input order first: the static past-service part decides blocks.
        attended = np.zeros(n, np.float32)
        missed = np.zeros(n, np.float32)
        hours = np.zeros(n, np.float32)
        last = np.full(n, NEVER, np.int64)
        if history is not None and len(history):
            age_days = np.maximum(day_number(self.as_of) - history.day, 0).astype(np.float32)
            decay = np.power(np.float32(0.5), age_days / np.float32(self.half_life_days))
            att = history.attended
            attended = np.bincount(history.volunteer, weights=decay * att, minlength=n).astype(np.float32)
            missed = np.bincount(history.volunteer, weights=decay * ~att, minlength=n).astype(np.float32)
            hours = np.bincount(history.volunteer, weights=history.hours * att, minlength=n).astype(
                np.float32
            )
            np.maximum.at(last, history.volunteer[att], history.day[att].astype(np.int64))
        rel = past_service.reliability(attended, missed)
        rec = self._recency_of(last)
        static = past_service.static_part(rel, rec)

        # Rows ordered by block (cell, availability pattern, travel tier): blocks are contiguous ranges.
        self.vblocks = SpatialBlocks(self.block_km)
        keys = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        keys[has_home] = self.vblocks.keys(
            v.lat[has_home],
            v.lon[has_home],
            tier_of(v.max_travel_km[has_home], self._pattern_ids(week_parts(v.avail[has_home]))),
        )
        perm = np.argsort(keys, kind="stable")
        inv = np.empty(n, dtype=np.int32)
        inv[perm] = np.arange(n, dtype=np.int32)
        self.vid = IdMap(v.ids, inv)

        xyz = np.zeros((n, 3), dtype=np.float32)
        home_p = has_home[perm]
        if home_p.any():
            sel = perm[home_p]
            xyz[home_p] = unit_vectors(v.lat[sel], v.lon[sel]).astype(np.float32)
        self.v_xyz = Column(xyz)
        self.v_home = Column(home_p)
        self.v_travel = Column(v.max_travel_km[perm].astype(np.float32))
        self.v_birth = Column(v.birth_day[perm].astype(np.int32))
        self.v_tz = Column(tz_map[v.tz[perm]] if n else np.zeros(0, np.int16))
        self.v_district = Column(self._district_codes(v.district, v.districts, n)[perm])
        self.v_online = Column(v.online_ok[perm].astype(bool))
        self.v_alive = Column(np.ones(n, dtype=bool))
        # Availability is word-major, (WORDS, n): each word of every volunteer is contiguous.
        self._v_avail = kernels.gather_transposed(v.avail, perm)
        self._v_avail_n = n
        self.v_attended = Column(attended[perm])
        self.v_missed = Column(missed[perm])
        self.v_hours = Column(hours[perm])
        self.v_last = Column(last[perm].astype(np.int32))
        self.v_static = Column(static[perm])

        self.v_skills = RaggedStore(_permute_ragged(v.skills, perm))
        skills_ptr = np.concatenate([self.v_skills.offset.data[:n], [self.v_skills.flat.n]]).astype(np.int64)
        self.v_skill_sig = Column(kernels.ragged_signatures(skills_ptr, self.v_skills.flat.data))
        certs = _permute_ragged(v.cert_skills, perm)
        self.v_certs = RaggedStore(certs)
        self.v_cert_expiry = Column(_permute_values(v.cert_skills, v.cert_expiry, perm))
        self.v_blackout = RaggedStore(_permute_ragged(v.blackout, perm))

        # Postings: certificates with expiry; blackout day -> rows.
        cert_owner = _owners(self.v_certs, n)
        self._cert_post = _postings_with(
            certs.values, cert_owner, self.v_cert_expiry.data[: certs.values.shape[0]]
        )
        self._blackout_post = _postings(
            self.v_blackout.flat.data[: self.v_blackout.flat.n], _owners(self.v_blackout, n)
        )

        if history is not None and len(history):
            rows = inv[history.volunteer]
            served = (history.hours * history.attended).astype(np.float32)
            self.cat_exp = Experience(history.category, rows, served)
            self.org_exp = Experience(history.organisation, rows, served)
        else:
            empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0, np.float32)
            self.cat_exp = Experience(empty_i, empty_i, empty_f)
            self.org_exp = Experience(empty_i, empty_i, empty_f)

        # Spatial blocks with per-block bounds for pruning.
        n_home = int(home_p.sum())
        self.v_block = Column(np.full(n, -1, dtype=np.int32))
        self.v_block.data[:n_home] = self.vblocks.bulk(keys[perm][:n_home], xyz[:n_home])
        nb = len(self.vblocks)
        self.block_max_travel = Column(np.zeros(nb, np.float32))
        self.block_max_static = Column(np.zeros(nb, np.float32))
        self.block_cat_hours = Column(np.zeros((nb, max(len(self.categories), 1)), np.float32))
        # Per block, the OR of its members' availability words (no member can be free when the
        # block is not) and their time zone: code + 1, 0 for a block never filled, -1 when mixed.
        self.block_avail = Column(np.zeros((nb, WORDS), np.uint64))
        self.block_zone = Column(np.zeros(nb, np.int16))
        # Skill code -> blocks with a member holding it (a bound: blocks stay listed when members
        # leave), so a search skips blocks where nobody has a required skill.
        skill_block = self.v_block.data[_owners(self.v_skills, n)]
        has_block = skill_block >= 0
        codes = self.v_skills.flat.data[: self.v_skills.flat.n]
        self._skill_blocks = _postings(codes[has_block], skill_block[has_block], distinct=True)
        if n_home:
            blk = self.v_block.data[:n_home]
            np.maximum.at(self.block_max_travel.data, blk, self.v_travel.data[:n_home])
            np.maximum.at(self.block_max_static.data, blk, self.v_static.data[:n_home])
            # Home rows are in block order here, so each block is one run of rows.
            first = np.flatnonzero(np.concatenate([[True], blk[1:] != blk[:-1]]))
            runs = blk[first]
            self.block_avail.data[runs] = np.bitwise_or.reduceat(self._v_avail[:, :n_home], first, axis=1).T
            tz = self.v_tz.data[:n_home].astype(np.int16)
            lo, hi = np.minimum.reduceat(tz, first), np.maximum.reduceat(tz, first)
            self.block_zone.data[runs] = np.where(lo == hi, lo + 1, -1)
            keys_c, rows_c, hours_c = self.cat_exp.base()
            with_block = self.v_block.data[rows_c] >= 0
            np.maximum.at(
                self.block_cat_hours.data,
                (self.v_block.data[rows_c[with_block]], keys_c[with_block]),
                hours_c[with_block],
            )
        self.homeless = Column(np.arange(n_home, n, dtype=np.int32))

        # Bookings: (volunteer row) -> shift rows; UTC day -> (volunteer row, shift row).
        self._v_bookings: dict[int, set[int]] = {}
        self._day_bookings: dict[int, list[tuple[int, int]]] = {}

    def _pattern_ids(self, codes: NDArray[np.uint64]) -> NDArray[np.int64]:
        """Dense ids for availability patterns, in order of first sight (stable across updates)."""
        uniq, inverse = np.unique(codes, return_inverse=True)
        ids = np.array([self._patterns.setdefault(int(c), len(self._patterns)) for c in uniq.tolist()])
        out: NDArray[np.int64] = ids.astype(np.int64)[inverse] if uniq.shape[0] else np.zeros(0, np.int64)
        return out

    def _recency_of(self, last: NDArray[np.int64] | I32) -> F32:
        days = (day_number(self.as_of) - last.astype(np.int64)).astype(np.float32)
        rec = np.exp(-np.maximum(days, 0) / np.float32(past_service.RECENCY_DAYS)).astype(np.float32)
        return np.where(last == NEVER, np.float32(0.0), rec).astype(np.float32)

    def _static(self, rows: NDArray[np.integer[Any]]) -> F32:
        rel = past_service.reliability(self.v_attended.data[rows], self.v_missed.data[rows])
        return past_service.static_part(rel, self.recency(rows))

    def recency(self, rows: NDArray[np.integer[Any]]) -> F32:
        return self._recency_of(self.v_last.data[rows])

    def reliability(self, rows: NDArray[np.integer[Any]]) -> F32:
        return past_service.reliability(self.v_attended.data[rows], self.v_missed.data[rows])

    @property
    def n_volunteer_rows(self) -> int:
        return self.v_alive.n

    def v_avail(self) -> NDArray[np.uint64]:
        """(WORDS, rows) availability words."""
        return self._v_avail

    def _district_codes(self, codes: NDArray[np.int32] | None, names: list[str], n: int) -> NDArray[np.int32]:
        """Columns' district codes in this index's vocabulary (-1 stays -1)."""
        if codes is None:
            return np.full(n, -1, dtype=np.int32)
        remap = np.array([self.districts.code(d) for d in names] + [-1], dtype=np.int32)
        return remap[codes]

    def _init_activities(self, a: ActivityColumns, s: ShiftColumns, taken: NDArray[np.int32] | None) -> None:
        n = len(a)
        tz_map = np.array([self.zones.code(z) for z in a.zones] or [0], dtype=np.int16)
        self.aid: dict[str, int] = _positions(a.ids, "activity")
        self.a_ids: list[str] = list(a.ids)
        located = ~a.online & ~np.isnan(a.lat)
        xyz = np.zeros((n, 3), dtype=np.float32)
        if located.any():
            xyz[located] = unit_vectors(a.lat[located], a.lon[located]).astype(np.float32)
        self.a_xyz = Column(xyz)
        self.a_online = Column(a.online.astype(bool))
        self.a_org = Column(a.organisation.astype(np.int32))
        self.a_cat = Column(a.category.astype(np.int32))
        self.a_tz = Column(tz_map[a.tz] if n else np.zeros(0, np.int16))
        self.a_district = Column(self._district_codes(a.district, a.districts, n))
        self.a_min_age = Column(a.min_age.astype(np.int16))
        self.a_alive = Column(np.ones(n, dtype=bool))
        self.a_required = RaggedStore(a.required)
        self.a_preferred = RaggedStore(a.preferred)
        self.a_certs = RaggedStore(a.required_certs)

        self.ablocks = SpatialBlocks(max(self.block_km, 5.0))
        rows_loc = np.flatnonzero(located).astype(np.int32)
        self.a_block = Column(np.full(n, -1, dtype=np.int32))
        if rows_loc.size:
            keys = self.ablocks.keys(a.lat[rows_loc], a.lon[rows_loc])
            order = np.argsort(keys, kind="stable")
            # Activity rows keep their order; blocks list them through ``extra``.
            blocks = self.ablocks.bulk(keys[order], xyz[rows_loc[order]])
            self.a_block.data[rows_loc[order]] = blocks
            self.ablocks.count.data[:] = 0
            by_block = np.lexsort((rows_loc[order], blocks))
            listed, rows_sorted = blocks[by_block], rows_loc[order][by_block].astype(np.int32)
            cuts = np.flatnonzero(np.diff(listed)) + 1
            for part in np.split(rows_sorted, cuts):
                self.ablocks.extra[int(self.a_block.data[part[0]])] = part
        self.online_activities: set[int] = set(np.flatnonzero(a.online).tolist())

        # Shifts: an activity's shifts are contiguous rows.
        order = np.argsort(s.activity, kind="stable")
        self.s_ids: list[str] = [s.ids[i] for i in order.tolist()]
        self.sid: dict[str, int] = _positions(self.s_ids, "shift")
        self.s_act = Column(s.activity[order].astype(np.int32))
        self.s_start = Column(s.starts_s[order].astype(np.int64))
        self.s_end = Column(s.ends_s[order].astype(np.int64))
        self.s_cap = Column(s.capacity[order].astype(np.int32))
        self.s_taken = Column(
            (taken[order] if taken is not None else np.zeros(len(s), np.int32)).astype(np.int32)
        )
        self.s_alive = Column(np.ones(len(s), dtype=bool))
        counts = np.bincount(s.activity, minlength=n).astype(np.int64)
        firsts = np.zeros(n, dtype=np.int64)
        if n:
            firsts[1:] = np.cumsum(counts)[:-1]
        self.a_shift0 = Column(firsts)
        self.a_nshift = Column(counts)
        first = np.zeros(len(s), np.int32)
        last = np.zeros(len(s), np.int32)
        act_tz = self.a_tz.data[self.s_act.data[: len(s)]] if len(s) else np.zeros(0, np.int16)
        for code in np.unique(act_tz).tolist():
            sel = act_tz == code
            f, l_ = local_day_numbers(
                self.s_start.data[: len(s)][sel], self.s_end.data[: len(s)][sel], self.zones.name(code)
            )
            first[sel], last[sel] = f, l_
        self.s_first_day = Column(first)
        self.s_last_day = Column(last)
        # Slot tables per volunteer time zone, built on first use and extended as shifts arrive.
        self._slot_tables: dict[int, tuple[SlotTable, I32, I32]] = {}
        self._shift_masks: dict[tuple[int, int], ShiftMask] = {}

    # ---------------------------------------------------------------- reads used by ranking

    def has_activity(self, ident: str) -> bool:
        return self.aid.get(ident) is not None

    def has_shift(self, ident: str) -> bool:
        return ident in self.sid

    def activity_of_shift(self, shift_id: str) -> str:
        """The id of the activity a shift belongs to."""
        return self.a_ids[int(self.s_act.data[self.shift_row(shift_id)])]

    def has_volunteer(self, ident: str) -> bool:
        return self.vid.row(ident) is not None

    def volunteer_row(self, ident: str) -> int:
        row = self.vid.row(ident)
        if row is None:
            raise NotFoundError("volunteer", ident)
        return row

    def activity_row(self, ident: str) -> int:
        row = self.aid.get(ident)
        if row is None or not self.a_alive.data[row]:
            raise NotFoundError("activity", ident)
        return row

    def shift_row(self, ident: str) -> int:
        row = self.sid.get(ident)
        if row is None or not self.s_alive.data[row]:
            raise NotFoundError("shift", ident)
        return row

    def shifts_of(self, a_row: int) -> range:
        start = int(self.a_shift0.data[a_row])
        return range(start, start + int(self.a_nshift.data[a_row]))

    def shift_sort_keys(self, s_rows: I32) -> NDArray[np.bytes_]:
        """Shift ids of ``s_rows`` as a bytes array, for tie-breaking with ``np.lexsort``."""
        return np.array([self.s_ids[int(r)].encode() for r in s_rows], dtype="S")

    def shift_view(self, s_row: int) -> ShiftView:
        a = int(self.s_act.data[s_row])
        tz = self.zones.name(int(self.a_tz.data[a]))
        online = bool(self.a_online.data[a])
        min_age = int(self.a_min_age.data[a])
        return ShiftView(
            row=s_row,
            id=self.s_ids[s_row],
            activity_row=a,
            activity_id=self.a_ids[a],
            starts_s=int(self.s_start.data[s_row]),
            ends_s=int(self.s_end.data[s_row]),
            capacity=int(self.s_cap.data[s_row]),
            taken=int(self.s_taken.data[s_row]),
            online=online,
            origin=None if online else self.a_xyz.data[a].astype(np.float64),
            required=tuple(self.a_required.row(a).tolist()),
            preferred=tuple(self.a_preferred.row(a).tolist()),
            required_certs=tuple(self.a_certs.row(a).tolist()),
            min_age=None if min_age < 0 else min_age,
            category=int(self.a_cat.data[a]),
            organisation=int(self.a_org.data[a]),
            first_day=int(self.s_first_day.data[s_row]),
            last_day=int(self.s_last_day.data[s_row]),
            zone=tz,
        )

    def shift_mask(self, s_row: int, tz_code: int) -> ShiftMask:
        """The shift as seen from volunteers in one time zone (cached)."""
        key = (s_row, tz_code)
        mask = self._shift_masks.get(key)
        if mask is None:
            table, _, _ = self.slot_tables(tz_code)
            a, b = int(table.indptr[s_row]), int(table.indptr[s_row + 1])
            mask = ShiftMask.from_slots(
                table.slots[a:b], table.minutes[a:b], float(table.total_minutes[s_row])
            )
            if len(self._shift_masks) > 100_000:
                self._shift_masks.clear()
            self._shift_masks[key] = mask
        return mask

    def slot_tables(self, tz_code: int) -> tuple[SlotTable, I32, I32]:
        """Slot table of every shift row for volunteers in zone ``tz_code``, with each shift's
        first and last local day there (built once per zone, extended when shifts are added)."""
        n = self.s_alive.n
        cached = self._slot_tables.get(tz_code)
        if cached is not None and len(cached[0]) == n:
            return cached
        tz = self.zones.name(tz_code)
        done = len(cached[0]) if cached is not None else 0
        new = slot_table(self.s_start.data[done:n], self.s_end.data[done:n], tz)
        first, last = local_day_numbers(self.s_start.data[done:n], self.s_end.data[done:n], tz)
        if cached is None:
            merged = (new, first, last)
        else:
            old, f0, l0 = cached
            merged = (
                SlotTable(
                    np.concatenate([old.indptr, old.indptr[-1] + new.indptr[1:]]),
                    np.concatenate([old.slots, new.slots]),
                    np.concatenate([old.minutes, new.minutes]),
                    np.concatenate([old.total_minutes, new.total_minutes]),
                ),
                np.concatenate([f0, first]),
                np.concatenate([l0, last]),
            )
        self._slot_tables[tz_code] = merged
        return merged

    def credit_table(self, required_code: int) -> F32:
        """For every skill code, the credit holding it earns towards ``required_code`` (0: none)."""
        out = np.zeros(max(len(self.skills), 1), dtype=np.float32)
        for held, credit in self.taxonomy.credits_for(self.skills.name(required_code)).items():
            code = self.skills.get(held)
            if code is not None:
                out[code] = max(out[code], np.float32(credit))
        return out

    @staticmethod
    def skill_signature(codes: NDArray[np.integer[Any]]) -> np.uint64:
        """A 64-bit signature of a set of skill codes (bit ``code % 64``): a row whose signature
        shares no bit with that of the qualifying skills holds none of them (the converse needs
        checking: codes collide)."""
        bits = np.left_shift(np.uint64(1), (np.asarray(codes) % 64).astype(np.uint64))
        signature: np.uint64 = np.bitwise_or.reduce(bits, initial=np.uint64(0))
        return signature

    def block_credits(self, required_code: int) -> F32:
        """(blocks + 1,): per block, the best credit towards ``required_code`` any member's skill
        earns; the last entry, for rows with no block, is 1 (no bound). Kept for the most recently
        asked skills until a block or a block's skills change."""
        nb = len(self.vblocks)
        cached = self._block_credit_cache.get(required_code)
        if cached is not None and cached.shape[0] == nb + 1:
            return cached
        table = self.credit_table(required_code)
        out = np.zeros(nb + 1, dtype=np.float32)
        out[nb] = 1.0
        codes = np.flatnonzero(table)
        for code in codes[np.argsort(table[codes], kind="stable")].tolist():
            post = self._skill_blocks.get(code)
            if post is not None:
                out[post] = table[code]  # ascending credits: the best one is written last
        if len(self._block_credit_cache) >= BLOCK_CREDIT_CACHE:
            del self._block_credit_cache[next(iter(self._block_credit_cache))]
        self._block_credit_cache[required_code] = out
        return out

    def best_credits(self, rows: I32, tables: Sequence[F32]) -> F32:
        """(len(tables), len(rows)): each row's best credit towards each required skill, read from
        the rows' own skill lists (a few entries each) through the per-skill credit tables."""
        out = np.zeros((len(tables), rows.shape[0]), dtype=np.float32)
        lengths = self.v_skills.length.data[rows].astype(np.int64)
        _, pos = self.v_skills.gather(rows)
        if pos.shape[0] == 0:
            return out
        codes = self.v_skills.flat.data[pos]
        # Each row's entries are one run: reduce per run. A sentinel after the last entry gives
        # trailing empty runs a valid start; empty runs read a neighbour's entry and are zeroed.
        starts = np.cumsum(lengths) - lengths
        empty = lengths == 0
        for i, table in enumerate(tables):
            values = np.concatenate([table[codes], np.zeros(1, np.float32)])
            out[i] = np.maximum.reduceat(values, starts)[: rows.shape[0]]
            out[i, empty] = 0.0
        return out

    def cert_holders(self, code: int, on_day: int) -> I32:
        """Rows holding a certificate for skill ``code`` (or a narrower skill) valid on ``on_day``."""
        name = self.skills.name(code)
        rows: list[I32] = []
        for held, credit in self.taxonomy.credits_for(name).items():
            if credit < 1.0 and held not in self._descendants(name):
                continue
            c = self.skills.get(held)
            if c is None or c not in self._cert_post:
                continue
            r, expiry = self._cert_post[c]
            rows.append(r[constraints.certified(expiry, on_day)])
        return np.concatenate(rows) if rows else _EMPTY_I32

    def _descendants(self, skill: str) -> set[str]:
        out: set[str] = set()
        stack = [skill]
        while stack:
            for child in self.taxonomy.children(stack.pop()):
                if child not in out:
                    out.add(child)
                    stack.append(child)
        return out

    def blackout_rows(self, first_day: int, last_day: int) -> I32:
        rows = [self._blackout_post[d] for d in range(first_day, last_day + 1) if d in self._blackout_post]
        return np.concatenate(rows) if rows else _EMPTY_I32

    def booked_rows(self, starts_s: int, ends_s: int, same_shift: int | None = None) -> I32:
        """Volunteers holding a booking that overlaps ``[starts_s, ends_s)`` (or on ``same_shift``)."""
        out: list[int] = []
        for day in range(starts_s // 86400, (ends_s - 1) // 86400 + 1):
            for v_row, s_row in self._day_bookings.get(day, ()):
                if s_row == same_shift or (
                    self.s_start.data[s_row] < ends_s and self.s_end.data[s_row] > starts_s
                ):
                    out.append(v_row)
        return np.unique(np.array(out, dtype=np.int32))

    def booked_shifts(self) -> dict[int, set[int]]:
        """Every volunteer row holding places, with the shift rows they hold (read only)."""
        return self._v_bookings

    def volunteer_bookings(self, v_row: int) -> set[int]:
        return self._v_bookings.get(v_row, set())

    def volunteer_skill_ids(self, v_row: int) -> list[str]:
        return [self.skills.name(c) for c in self.v_skills.row(v_row).tolist()]

    def volunteer_certs(self, v_row: int) -> dict[str, int]:
        """Certified skill -> expiry day number (NO_DAY: no expiry)."""
        o = int(self.v_certs.offset.data[v_row])
        codes = self.v_certs.row(v_row).tolist()
        exp = self.v_cert_expiry.data[o : o + len(codes)].tolist()
        return {self.skills.name(c): int(e) for c, e in zip(codes, exp, strict=True)}

    # ---------------------------------------------------------------- updates in place

    def upsert_volunteer(self, v: Volunteer) -> int:
        """Add or replace one volunteer without rebuilding; returns their row."""
        self._changed()
        row = self.vid.row(v.id)
        cols = volunteer_columns([v], self.skills, self.zones)
        has_home = v.home is not None
        xyz = (
            unit_vectors(cols.lat, cols.lon)[0].astype(np.float32)  # the home's matching cell
            if has_home
            else np.zeros(3, np.float32)
        )
        if row is None:
            row = self.vid.add(v.id)
            for col, value in (
                (self.v_xyz, xyz),
                (self.v_home, has_home),
                (self.v_travel, v.max_travel_km),
                (self.v_birth, cols.birth_day[0]),
                (self.v_tz, self.zones.code(v.timezone)),
                (self.v_district, -1 if v.district is None else self.districts.code(v.district)),
                (self.v_online, v.online_ok),
                (self.v_alive, True),
                (self.v_attended, 0.0),
                (self.v_missed, 0.0),
                (self.v_last, NEVER),
                (self.v_hours, 0.0),
                (self.v_static, 0.0),
                (self.v_block, -1),
                (self.v_skill_sig, 0),
            ):
                col.append(value)
            self._append_avail(cols.avail[0])
            self.v_skills.set(row, [])
            self.v_certs.set(row, [])
            self.v_blackout.set(row, [])
            self.v_static.data[row] = self._static(np.array([row]))[0]
        else:
            self._unindex_volunteer(row)
            self.v_xyz.data[row] = xyz
            self.v_home.data[row] = has_home
            self.v_travel.data[row] = v.max_travel_km
            self.v_birth.data[row] = cols.birth_day[0]
            self.v_tz.data[row] = self.zones.code(v.timezone)
            self.v_district.data[row] = -1 if v.district is None else self.districts.code(v.district)
            self.v_online.data[row] = v.online_ok
            self._v_avail[:, row] = cols.avail[0]
        self._index_volunteer(row, cols)
        return row

    def _append_avail(self, words: NDArray[np.uint64]) -> None:
        n = self._v_avail_n
        if n >= self._v_avail.shape[1]:
            grown = np.zeros((WORDS, max(16, 2 * self._v_avail.shape[1])), dtype=np.uint64)
            grown[:, :n] = self._v_avail[:, :n]
            self._v_avail = grown
        self._v_avail[:, n] = words
        self._v_avail_n = n + 1

    def _index_volunteer(self, row: int, cols: VolunteerColumns) -> None:
        skills = cols.skills.row(0)
        self.v_skills.set(row, skills)
        self.v_skill_sig.data[row] = self.skill_signature(skills)
        certs = cols.cert_skills.row(0)
        self.v_certs.set(row, certs)
        start = int(self.v_certs.offset.data[row])
        self.v_cert_expiry.ensure(start + certs.shape[0])
        self.v_cert_expiry.data[start : start + certs.shape[0]] = cols.cert_expiry
        self.v_cert_expiry.n = max(self.v_cert_expiry.n, start + certs.shape[0])
        for code, exp in zip(certs.tolist(), cols.cert_expiry.tolist(), strict=True):
            rows, expiry = self._cert_post.get(code, (_EMPTY_I32, _EMPTY_I32))
            self._cert_post[code] = (np.append(rows, np.int32(row)), np.append(expiry, np.int32(exp)))
        days = cols.blackout.row(0)
        self.v_blackout.set(row, days)
        for d in days.tolist():
            self._blackout_post[d] = np.append(self._blackout_post.get(d, _EMPTY_I32), np.int32(row))
        if self.v_home.data[row]:
            lat, lon = float(cols.lat[0]), float(cols.lon[0])
            tier = tier_of(
                self.v_travel.data[row : row + 1],
                self._pattern_ids(week_parts(self._v_avail[:, row : row + 1].T)),
            )
            key = int(self.vblocks.keys(np.array([lat]), np.array([lon]), tier)[0])
            blk = self.vblocks.add(row, key, self.v_xyz.data[row])
            self.v_block.data[row] = blk
            self._grow_block_bounds()
            self.block_max_travel.data[blk] = max(self.block_max_travel.data[blk], self.v_travel.data[row])
            self._cell_travel = None
            self.block_max_static.data[blk] = max(self.block_max_static.data[blk], self.v_static.data[row])
            self.block_avail.data[blk] |= self._v_avail[:, row]
            zone = int(self.v_tz.data[row]) + 1
            if self.block_zone.data[blk] not in (0, zone):
                zone = -1
            self.block_zone.data[blk] = zone
            for code in skills.tolist():
                post = self._skill_blocks.get(code, _EMPTY_I32)
                if blk not in post[-1:]:
                    self._skill_blocks[code] = np.append(post, np.int32(blk))
                    self._block_credit_cache.clear()
            for cat, h in self.cat_exp.of_row(row).items():
                self._raise_cat_bound(blk, cat, h)
        else:
            self.homeless.append(row)

    def _unindex_volunteer(self, row: int) -> None:
        for code in self.v_certs.row(row).tolist():
            rows, expiry = self._cert_post[code]
            keep = rows != row
            self._cert_post[code] = (rows[keep], expiry[keep])
        for d in self.v_blackout.row(row).tolist():
            post = self._blackout_post[d]
            self._blackout_post[d] = post[post != row]
        if int(self.v_block.data[row]) >= 0:
            self.v_block.data[row] = -1  # the block's range still lists the row; readers skip it
        else:
            h = self.homeless.data[: self.homeless.n]
            kept = h[h != row]
            self.homeless.data[: kept.shape[0]] = kept
            self.homeless.n = kept.shape[0]

    def remove_volunteer(self, ident: str) -> None:
        self._changed()
        row = self.volunteer_row(ident)
        self._unindex_volunteer(row)
        self.v_alive.data[row] = False
        for s_row in list(self._v_bookings.get(row, ())):
            self._drop_booking(row, s_row)
        self.cat_exp.drop_row(row)
        self.org_exp.drop_row(row)
        self.vid.remove(row)

    def upsert_activity(self, a: Activity) -> int:
        """Add or replace one activity and its shifts; bookings on shifts that keep their id are
        carried over."""
        self._changed()
        carried: dict[str, list[int]] = {}
        old = self.aid.get(a.id)
        if old is not None and self.a_alive.data[old]:
            for s_row in self.shifts_of(old):
                holders = [v for v, ss in self._v_bookings.items() if s_row in ss]
                if holders:
                    carried[self.s_ids[s_row]] = holders
            self._remove_activity_row(old)
        for shift in a.shifts:
            existing = self.sid.get(shift.id)
            if existing is not None and self.s_alive.data[existing]:
                raise ConflictError(
                    f"shift id {shift.id!r} already belongs to activity {self.a_ids[int(self.s_act.data[existing])]!r}"
                )
        acols, scols = activity_columns([a], self.skills, self.zones, self.categories, self.organisations)
        row = len(self.a_ids)
        self.aid[a.id] = row
        self.a_ids.append(a.id)
        located = not a.online and a.location is not None
        xyz = (
            unit_vectors([a.location.lat], [a.location.lon])[0].astype(np.float32)
            if located and a.location
            else np.zeros(3, np.float32)
        )
        self.a_xyz.append(xyz)
        self.a_online.append(a.online)
        self.a_org.append(acols.organisation[0])
        self.a_cat.append(acols.category[0])
        self.a_tz.append(self.zones.code(a.timezone))
        self.a_district.append(-1 if a.district is None else self.districts.code(a.district))
        self.a_min_age.append(acols.min_age[0])
        self.a_alive.append(True)
        self.a_required.set(row, acols.required.row(0))
        self.a_preferred.set(row, acols.preferred.row(0))
        self.a_certs.set(row, acols.required_certs.row(0))
        blk = -1
        if located and a.location is not None:
            key = int(self.ablocks.keys(np.array([a.location.lat]), np.array([a.location.lon]))[0])
            blk = self.ablocks.add(row, key, xyz)
        self.a_block.append(blk)
        if a.online:
            self.online_activities.add(row)
        self.a_shift0.append(self.s_alive.n)
        self.a_nshift.append(len(scols))
        first, last = local_day_numbers(scols.starts_s, scols.ends_s, a.timezone)
        for i, sid in enumerate(scols.ids):
            s_row = self.s_alive.n
            self.s_ids.append(sid)
            self.sid[sid] = s_row
            self.s_act.append(row)
            self.s_start.append(scols.starts_s[i])
            self.s_end.append(scols.ends_s[i])
            self.s_cap.append(scols.capacity[i])
            self.s_taken.append(0)
            self.s_alive.append(True)
            self.s_first_day.append(first[i])
            self.s_last_day.append(last[i])
        for sid, holders in carried.items():
            for v_row in holders:
                self.add_booking(Booking(self.vid.ident(v_row), sid))
        return row

    def _remove_activity_row(self, row: int) -> None:
        self.a_alive.data[row] = False
        self.a_block.data[row] = -1
        self.online_activities.discard(row)
        for s_row in self.shifts_of(row):
            for v_row in [v for v, ss in self._v_bookings.items() if s_row in ss]:
                self._drop_booking(v_row, s_row)
            self.s_alive.data[s_row] = False
            self.sid.pop(self.s_ids[s_row], None)

    def remove_activity(self, ident: str) -> None:
        self._changed()
        row = self.activity_row(ident)
        self._remove_activity_row(row)
        del self.aid[ident]

    def add_service_record(self, r: ServiceRecord) -> None:
        """Fold one service record into the volunteer's history (reliability, recency, experience)."""
        self._changed()
        v_row = self.volunteer_row(r.volunteer_id)
        a_row = self.aid.get(r.activity_id)
        age = max(day_number(self.as_of) - day_number(r.date), 0)
        weight = 0.5 ** (age / self.half_life_days)
        if r.attended:
            self.v_attended.data[v_row] += weight
            self.v_hours.data[v_row] += r.hours
            self.v_last.data[v_row] = max(int(self.v_last.data[v_row]), day_number(r.date))
            if a_row is not None:
                self.cat_exp.add(int(self.a_cat.data[a_row]), v_row, r.hours)
                self.org_exp.add(int(self.a_org.data[a_row]), v_row, r.hours)
        else:
            self.v_missed.data[v_row] += weight
        self.v_static.data[v_row] = self._static(np.array([v_row]))[0]
        blk = int(self.v_block.data[v_row])
        if blk >= 0:
            self.block_max_static.data[blk] = max(self.block_max_static.data[blk], self.v_static.data[v_row])
            if r.attended and a_row is not None:
                cat = int(self.a_cat.data[a_row])
                self._raise_cat_bound(blk, cat, self.cat_exp.of_row(v_row).get(cat, 0.0))

    def cell_max_travel(self) -> F32:
        """Per cell of the volunteers' blocks (:meth:`SpatialBlocks.cells`), the largest travel
        limit of its members: a search skips a cell no member could travel from. Kept until a
        volunteer or a block changes."""
        start, blocks = self.vblocks.cells()
        if self._cell_travel is None or self._cell_travel[0] is not start:
            per_cell = (
                np.maximum.reduceat(self.block_max_travel.data[blocks], start[:-1])
                if blocks.shape[0]
                else np.zeros(0, np.float32)
            )
            self._cell_travel = (start, per_cell)
        return self._cell_travel[1]

    def _grow_block_bounds(self) -> None:
        nb = len(self.vblocks)
        for col in (self.block_max_travel, self.block_max_static, self.block_avail, self.block_zone):
            col.ensure(nb)
            col.n = nb
        self._raise_cat_bound(nb - 1, max(len(self.categories) - 1, 0), 0.0)

    def _raise_cat_bound(self, blk: int, cat: int, hours: float) -> None:
        """Keep the per-block, per-category bound on experience hours an upper bound."""
        m = self.block_cat_hours
        rows_needed = max(len(self.vblocks), m.n)
        cols_needed = max(len(self.categories), cat + 1, m.data.shape[1])
        if rows_needed > m.data.shape[0] or cols_needed > m.data.shape[1]:
            grown = np.zeros((max(rows_needed, 2 * m.data.shape[0]), cols_needed), np.float32)
            grown[: m.data.shape[0], : m.data.shape[1]] = m.data
            m.data = grown
        m.n = rows_needed
        if hours > m.data[blk, cat]:
            m.data[blk, cat] = hours

    def add_booking(self, b: Booking, *, count: bool = True) -> None:
        """Record that a volunteer holds a place on a shift (``count=False`` when ``taken``
        already includes it)."""
        v_row = self.volunteer_row(b.volunteer_id)
        s_row = self.shift_row(b.shift_id)
        self._changed(bookings_only=True)
        held = self._v_bookings.setdefault(v_row, set())
        if s_row in held:
            return
        held.add(s_row)
        start, end = int(self.s_start.data[s_row]), int(self.s_end.data[s_row])
        for day in range(start // 86400, (end - 1) // 86400 + 1):
            self._day_bookings.setdefault(day, []).append((v_row, s_row))
        if count:
            self.s_taken.data[s_row] += 1

    def remove_booking(self, b: Booking) -> None:
        self._drop_booking(self.volunteer_row(b.volunteer_id), self.shift_row(b.shift_id))

    def _drop_booking(self, v_row: int, s_row: int) -> None:
        self._changed(bookings_only=True)
        held = self._v_bookings.get(v_row)
        if not held or s_row not in held:
            return
        held.discard(s_row)
        start, end = int(self.s_start.data[s_row]), int(self.s_end.data[s_row])
        for day in range(start // 86400, (end - 1) // 86400 + 1):
            entries = self._day_bookings.get(day, [])
            if (v_row, s_row) in entries:
                entries.remove((v_row, s_row))
        self.s_taken.data[s_row] = max(0, int(self.s_taken.data[s_row]) - 1)

    def set_shift_bookings(self, shift_id: str, volunteer_ids: Sequence[str], taken: int) -> None:
        """Make the shift's bookings exactly ``volunteer_ids`` (those known here) and its filled
        places ``taken`` (which counts places held for offers too): what the store says after a
        sign-up, a cancellation or an accepted offer."""
        s_row = self.shift_row(shift_id)
        self._changed(bookings_only=True)
        wanted = {r for r in (self.vid.row(v) for v in volunteer_ids) if r is not None}
        start, end = int(self.s_start.data[s_row]), int(self.s_end.data[s_row])
        # The shift's holders from the bookings of its own days, not from every volunteer
        # holding any place (a city's bookings can be 10^5).
        holders = {
            v
            for day in range(start // 86400, (end - 1) // 86400 + 1)
            for v, s in self._day_bookings.get(day, ())
            if s == s_row
        }
        for v_row in sorted(holders - wanted):
            self._drop_booking(v_row, s_row)
        for v_row in wanted:
            if s_row not in self._v_bookings.get(v_row, ()):
                self.add_booking(Booking(self.vid.ident(v_row), shift_id), count=False)
        self.s_taken.data[s_row] = taken

    def places_left(self, shift_id: str) -> int:
        row = self.shift_row(shift_id)
        return max(int(self.s_cap.data[row]) - int(self.s_taken.data[row]), 0)

    def set_taken(self, shift_id: str, taken: int) -> None:
        """Set how many places of a shift are filled (from the store's sign-up counts)."""
        self._changed(bookings_only=True)
        self.s_taken.data[self.shift_row(shift_id)] = taken

    def _changed(self, *, bookings_only: bool = False) -> None:
        """Forget derived work the change may alter: a booking changes who is free and how
        many places are left, never a pair's features, a shift's blocks or its description."""
        self.memo.clear()
        if not bookings_only:
            self.lasting.clear()

    # ---------------------------------------------------------------- introspection

    def nbytes_volunteers(self) -> int:
        """Bytes held for volunteers: columns, lists, postings, blocks and the id map."""
        cols = [
            self.v_xyz,
            self.v_home,
            self.v_travel,
            self.v_birth,
            self.v_tz,
            self.v_online,
            self.v_alive,
            self.v_attended,
            self.v_missed,
            self.v_last,
            self.v_hours,
            self.v_static,
            self.v_block,
            self.v_skill_sig,
            self.v_cert_expiry,
            self.block_max_travel,
            self.block_max_static,
            self.block_cat_hours,
            self.block_avail,
            self.block_zone,
            self.homeless,
        ]
        total = sum(c.data.nbytes for c in cols) + self._v_avail.nbytes
        for store in (self.v_skills, self.v_certs, self.v_blackout):
            total += store.flat.data.nbytes + store.offset.data.nbytes + store.length.data.nbytes
        total += sum(p.nbytes for p in self._skill_blocks.values())
        total += BLOCK_CREDIT_CACHE * 4 * (len(self.vblocks) + 1)  # the cache when full
        total += sum(r.nbytes + e.nbytes for r, e in self._cert_post.values())
        total += sum(p.nbytes for p in self._blackout_post.values())
        total += self.vblocks.nbytes() + self.vid.nbytes() + self.cat_exp.nbytes() + self.org_exp.nbytes()
        return int(total)

    def volunteer_count(self) -> int:
        return int(self.v_alive.data[: self.v_alive.n].sum())

    def activity_count(self) -> int:
        return int(self.a_alive.data[: self.a_alive.n].sum())

    def open_shift_rows(self, a_row: int, now_s: int) -> list[int]:
        return [
            s
            for s in self.shifts_of(a_row)
            if self.s_alive.data[s]
            and self.s_start.data[s] > now_s
            and self.s_taken.data[s] < self.s_cap.data[s]
        ]


_EMPTY_I32 = np.zeros(0, dtype=np.int32)


def _positions(ids: Sequence[str], what: str) -> dict[str, int]:
    """id -> position; an id listed twice is a conflict."""
    out = dict(zip(ids, range(len(ids)), strict=True))
    if len(out) < len(ids):
        seen: set[str] = set()
        for ident in ids:
            if ident in seen:
                raise ConflictError(f"{what} id {ident!r} appears twice")
            seen.add(ident)
    return out


def _permute_ragged(r: Ragged, perm: NDArray[np.intp]) -> Ragged:
    indptr, values = kernels.permute_ragged(r.indptr, r.values.astype(np.int32, copy=False), perm)
    return Ragged(indptr, values)


def _permute_values(r: Ragged, values: NDArray[np.int32], perm: NDArray[np.intp]) -> NDArray[np.int32]:
    return _permute_ragged(Ragged(r.indptr, values), perm).values


def _owners(store: RaggedStore, n: int) -> I32:
    return np.repeat(np.arange(n, dtype=np.int32), store.length.data[:n])


def _runs(sorted_codes: I32) -> list[tuple[int, int, int]]:
    cuts = np.flatnonzero(np.diff(sorted_codes)) + 1
    starts = np.concatenate([[0], cuts]).tolist()
    ends = np.concatenate([cuts, [sorted_codes.shape[0]]]).tolist()
    return [(int(sorted_codes[a]), a, b) for a, b in zip(starts, ends, strict=True)]


def _postings(codes: I32, owners: I32, *, distinct: bool = False) -> dict[int, I32]:
    """code -> the owners holding it, ascending; ``owners`` must be non-decreasing (rows or
    blocks in index order). ``distinct`` drops an owner listed twice under the same code."""
    if codes.shape[0] == 0:
        return {}
    order = kernels.stable_order(codes)
    sc, so = codes[order], owners[order]
    if distinct:
        fresh = np.concatenate([[True], (sc[1:] != sc[:-1]) | (so[1:] != so[:-1])])
        sc, so = sc[fresh], so[fresh]
    return {code: so[a:b].copy() for code, a, b in _runs(sc)}


def _postings_with(codes: I32, owners: I32, values: I32) -> dict[int, tuple[I32, I32]]:
    """Like :func:`_postings`, with a value per entry."""
    if codes.shape[0] == 0:
        return {}
    order = kernels.stable_order(codes)
    sc, so, sv = codes[order], owners[order], values[order]
    return {code: (so[a:b].copy(), sv[a:b].copy()) for code, a, b in _runs(sc)}


__all__ = ["MatchIndex", "ShiftView", "SpatialBlocks", "availability_bits", "epoch_seconds"]
