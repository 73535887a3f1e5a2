"""What the index keeps besides its tables: each volunteer's experience by category and by
organisation (:class:`Experience`), and work derived from its current state (:class:`Memo`)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from matcher.matching import kernels

I32 = NDArray[np.int32]
F32 = NDArray[np.float32]


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
