"""The index's storage: growable columns, per-row lists, the volunteer id map, and the typed
tables of volunteers, activities and shifts (:class:`VolunteerTable`, :class:`ActivityTable`,
:class:`ShiftTable`) that :class:`matcher.matching.index.MatchIndex` keeps and the ranking
reads. A table's columns all have one row per record, ``.data[:n]`` holding them (a column
grows by doubling, so ``.data`` may be longer); removed records stay as tombstones
(``alive`` False) until a rebuild."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.matching import kernels
from matcher.matching.columns import Ragged
from matcher.model.errors import ConflictError

I32 = NDArray[np.int32]


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


class VolunteerTable:
    """One row per volunteer, ordered by spatial block (a block's members are contiguous)."""

    xyz: Column  # (N, 3) float32: unit vector of the home's matching cell (privacy: not the home)
    home: Column  # bool: has a home location (else matched to online activities only)
    travel: Column  # float32 km: how far they will travel
    birth: Column  # int32 day number since 1970 (unknown: far in the future, never old enough)
    tz: Column  # int16 time-zone code (``MatchIndex.zones``)
    district: Column  # int32 district code (``MatchIndex.districts``), -1: none
    online: Column  # bool: does online activities
    alive: Column  # bool: False once removed
    attended: Column  # float32 past service: shifts attended (decayed by ``half_life_days``)
    missed: Column  # float32 shifts missed (decayed)
    hours: Column  # float32 hours served (decayed)
    last: Column  # int32 day number of the last service (``NEVER``: none)
    static: Column  # float32 the past-service part that does not depend on the activity
    avail: NDArray[np.uint64]  # (WORDS, capacity) weekly availability words, one column per row
    avail_n: int  # columns of ``avail`` in use
    skills: RaggedStore  # skill codes (``MatchIndex.skills``)
    skill_sig: Column  # uint64: a 64-bit signature of the skill codes (the screen's quick test)
    certs: RaggedStore  # certificate skill codes
    cert_expiry: Column  # int32 day number each certificate expires, parallel to ``certs.flat``
    blackout: RaggedStore  # day numbers they cannot serve
    block: Column  # int32 the spatial block the row is in now (-1: no home)


class ActivityTable:
    """One row per activity; its shifts are the contiguous shift rows
    ``shift0 .. shift0 + nshift``. A changed activity gets new rows (the old are tombstoned)."""

    ids: list[str]  # by row
    xyz: Column  # (A, 3) float32 unit vector of its place (online: unused)
    online: Column  # bool
    org: Column  # int32 organisation code (``MatchIndex.organisations``)
    cat: Column  # int32 category code (``MatchIndex.categories``)
    tz: Column  # int16 time-zone code
    district: Column  # int32 district code, -1: none
    min_age: Column  # int16 years (0: none)
    alive: Column  # bool
    required: RaggedStore  # required skill codes
    preferred: RaggedStore  # preferred skill codes
    certs: RaggedStore  # skill codes of the certificates required
    block: Column  # int32 block of ``MatchIndex.ablocks`` (-1: online)
    shift0: Column  # int32 first shift row
    nshift: Column  # int32 number of shift rows


class ShiftTable:
    """One row per shift, grouped by activity, in start order within one."""

    ids: list[str]  # by row
    act: Column  # int32 the activity's row
    start: Column  # int64 UTC seconds
    end: Column  # int64 UTC seconds
    cap: Column  # int32 places
    taken: Column  # int32 places held (confirmed and offered)
    alive: Column  # bool
    first_day: Column  # int32 day number of its first day, in its activity's time zone
    last_day: Column  # int32 day number of its last day, in its activity's time zone
