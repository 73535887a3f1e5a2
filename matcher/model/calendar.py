"""Weekly availability, shift intervals and time zones.

Two representations meet here:

- a volunteer's availability is a set of weekly windows in *their* time zone, stored as a bitmap
  of :data:`SLOTS_PER_WEEK` half-hour slots (Monday 00:00 local is slot 0), packed into
  :data:`WORDS` uint64 words. A slot is set only if a window covers all of it, so availability is
  never overstated (a window 08:10-12:00 sets the slots from 08:30);
- a shift is an interval of instants. For a given time zone it becomes a table of
  (weekly slot, minutes of the shift in that slot), computed from the real UTC offsets of that zone
  on the shift's dates, so a Saturday 08:00-12:00 shift in Asia/Shanghai is Friday 19:00-23:00 or
  20:00-24:00 for a volunteer in Europe/London depending on British Summer Time, and a 01:00-03:00
  shift on a DST night lasts 1 or 3 hours.

Availability share = (minutes of the shift in slots the volunteer has set) / (shift minutes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from matcher.model.domain import MINUTES_PER_DAY, WeeklyWindow

SLOT_MINUTES = 30
SLOTS_PER_DAY = MINUTES_PER_DAY // SLOT_MINUTES
SLOTS_PER_WEEK = 7 * SLOTS_PER_DAY
WORDS = (SLOTS_PER_WEEK + 63) // 64
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
EPOCH = date(1970, 1, 1)
_EPOCH_WEEKDAY = EPOCH.weekday()  # 1970-01-01 was a Thursday (3)


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the integer dates the index stores)."""
    return (day - EPOCH).days


def from_day_number(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def epoch_seconds(instant: datetime) -> int:
    """Whole seconds since the Unix epoch of an aware datetime."""
    return int(instant.astimezone(UTC).timestamp())


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def availability_bits(windows: Iterable[WeeklyWindow]) -> NDArray[np.uint64]:
    """Pack weekly windows into the slot bitmap.

    Returns
    -------
    ndarray of shape (WORDS,), uint64. Bit ``s % 64`` of word ``s // 64`` is slot ``s``.
    Windows running past Sunday midnight wrap to Monday.
    """
    slots = np.zeros(SLOTS_PER_WEEK, dtype=bool)
    for w in windows:
        start = w.day * MINUTES_PER_DAY + w.start_minute
        end = w.day * MINUTES_PER_DAY + w.end_minute
        first = -(-start // SLOT_MINUTES)  # round the start up: only whole slots count
        last = end // SLOT_MINUTES
        for s in range(first, last):
            slots[s % SLOTS_PER_WEEK] = True
    return pack_slots(slots)


def pack_slots(slots: NDArray[np.bool_]) -> NDArray[np.uint64]:
    """(SLOTS_PER_WEEK,) booleans -> (WORDS,) uint64 words."""
    padded = np.zeros(WORDS * 64, dtype=np.uint64)
    padded[: slots.shape[0]] = slots
    weights = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))
    words: NDArray[np.uint64] = (padded.reshape(WORDS, 64) * weights).sum(axis=1, dtype=np.uint64)
    return words


SLOTS_PER_PART = 8
"""Availability is summarised by 4-hour parts of the week (8 slots, one byte of the bitmap)."""
PARTS_PER_WEEK = SLOTS_PER_WEEK // SLOTS_PER_PART


def week_parts(words: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """(n, WORDS) availability words -> (n,) codes with bit j set when the volunteer is free at
    some time in the j-th 4-hour part of the week (Monday 00:00-04:00 is part 0). Volunteers
    with the same code are free in the same parts, which is what groups them in the index."""
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(words.shape[0], WORDS * 8)
    busy = as_bytes[:, :PARTS_PER_WEEK] != 0
    packed = np.packbits(busy, axis=1, bitorder="little")
    padded = np.zeros((words.shape[0], 8), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    codes: NDArray[np.uint64] = padded.view("<u8").reshape(-1).astype(np.uint64)
    return codes


def unpack_slots(words: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """(WORDS,) uint64 -> (SLOTS_PER_WEEK,) booleans."""
    bits = (words[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    return bits.reshape(-1)[:SLOTS_PER_WEEK].astype(bool)


@dataclass(frozen=True, slots=True)
class SlotTable:
    """Minutes of each shift per weekly slot of one time zone, in CSR form.

    ``slots[indptr[i]:indptr[i+1]]`` are the slots shift ``i`` touches and ``minutes[...]`` how many
    of its minutes fall in each; ``total_minutes[i]`` is the shift's length. A slot may repeat for
    a shift longer than a week.
    """

    indptr: NDArray[np.int64]
    slots: NDArray[np.int32]
    minutes: NDArray[np.float32]
    total_minutes: NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.indptr.shape[0] - 1)


def _utc_offsets_s(utc_s: NDArray[np.int64], tz: str) -> NDArray[np.int64]:
    """UTC offset (seconds) of ``tz`` at each instant, vectorised through pandas' tz database."""
    if utc_s.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    utc = pd.DatetimeIndex(pd.to_datetime(utc_s, unit="s", utc=True))
    local_wall = utc.tz_convert(tz).tz_localize(None)
    delta = (local_wall - utc.tz_localize(None)) // pd.Timedelta(seconds=1)
    return np.asarray(delta, dtype=np.int64)


def slot_table(starts_s: NDArray[np.int64], ends_s: NDArray[np.int64], tz: str) -> SlotTable:
    """Slot tables for many shifts in one time zone.

    Parameters
    ----------
    starts_s, ends_s : ndarray of shape (n,), int64 seconds since the epoch (UTC), ends > starts.
    tz : IANA zone of the volunteer whose weekly windows will be compared.

    Shifts with one UTC offset throughout are done vectorised; the rare shift that spans a DST
    transition is walked slot by slot with the exact offsets.
    """
    starts_s = np.asarray(starts_s, dtype=np.int64)
    ends_s = np.asarray(ends_s, dtype=np.int64)
    n = starts_s.shape[0]
    off_start = _utc_offsets_s(starts_s, tz)
    off_end = _utc_offsets_s(ends_s - 1, tz)
    steady = off_start == off_end

    # Local minute of the week at the start: 1970-01-01 was a Thursday, so shift by 3 days.
    local_start_min = ((starts_s + off_start) / 60.0) + _EPOCH_WEEKDAY * MINUTES_PER_DAY
    local_start_min = np.mod(local_start_min, MINUTES_PER_WEEK)
    duration_min = (ends_s - starts_s) / 60.0
    first_slot = np.floor(local_start_min / SLOT_MINUTES).astype(np.int64)
    last_slot = np.ceil((local_start_min + duration_min) / SLOT_MINUTES).astype(np.int64)
    counts = np.where(steady, last_slot - first_slot, 0)

    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    owner = np.repeat(np.arange(n), counts)
    k = np.arange(total, dtype=np.int64) - offsets[owner]
    abs_slot = first_slot[owner] + k
    lo = np.maximum(abs_slot * SLOT_MINUTES, local_start_min[owner])
    hi = np.minimum((abs_slot + 1) * SLOT_MINUTES, local_start_min[owner] + duration_min[owner])
    minutes = np.maximum(hi - lo, 0.0).astype(np.float32)
    slots = np.mod(abs_slot, SLOTS_PER_WEEK).astype(np.int32)

    if steady.all():
        return SlotTable(offsets, slots, minutes, duration_min.astype(np.float32))

    # Rebuild with the walked shifts spliced in at their positions.
    parts_slots: list[NDArray[np.int32]] = []
    parts_minutes: list[NDArray[np.float32]] = []
    lengths = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if steady[i]:
            a, b = offsets[i], offsets[i + 1]
            parts_slots.append(slots[a:b])
            parts_minutes.append(minutes[a:b])
        else:
            walked = walk_slots(int(starts_s[i]), int(ends_s[i]), tz)
            parts_slots.append(np.fromiter(walked.keys(), dtype=np.int32, count=len(walked)))
            parts_minutes.append(np.fromiter(walked.values(), dtype=np.float32, count=len(walked)))
        lengths[i] = parts_slots[-1].shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return SlotTable(
        indptr,
        np.concatenate(parts_slots) if parts_slots else np.zeros(0, np.int32),
        np.concatenate(parts_minutes) if parts_minutes else np.zeros(0, np.float32),
        duration_min.astype(np.float32),
    )


def walk_slots(start_s: int, end_s: int, tz: str) -> dict[int, float]:
    """Minutes per weekly slot for one interval, stepping from slot boundary to slot boundary in
    local time with the zone's real offset at each step (exact across DST transitions)."""
    zi = zone(tz)
    t = datetime.fromtimestamp(start_s, UTC)
    end = datetime.fromtimestamp(end_s, UTC)
    out: dict[int, float] = {}
    while t < end:
        local = t.astimezone(zi)
        minute_of_week = local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute
        slot = minute_of_week // SLOT_MINUTES
        into = (local.minute % SLOT_MINUTES) * 60 + local.second + local.microsecond / 1e6
        nxt = min(t + timedelta(seconds=SLOT_MINUTES * 60 - into), end)
        out[slot] = out.get(slot, 0.0) + (nxt - t).total_seconds() / 60.0
        t = nxt
    return out


@dataclass(frozen=True, slots=True)
class ShiftMask:
    """One shift seen from one time zone, grouped for fast bitmap arithmetic: for each distinct
    per-slot minute count ``m`` a word mask of the slots holding ``m`` minutes."""

    minute_values: tuple[float, ...]
    masks: NDArray[np.uint64]  # shape (len(minute_values), WORDS)
    total_minutes: float

    @classmethod
    def from_slots(
        cls,
        slots: Sequence[int] | NDArray[np.int32],
        minutes: Sequence[float] | NDArray[np.float32],
        total: float,
    ) -> ShiftMask:
        per_slot = np.zeros(SLOTS_PER_WEEK, dtype=np.float64)
        np.add.at(per_slot, np.asarray(slots, dtype=np.int64), np.asarray(minutes, dtype=np.float64))
        rounded = np.round(per_slot, 4)
        values = np.unique(rounded[per_slot > 0]).tolist()
        masks = np.zeros((len(values), WORDS), dtype=np.uint64)
        for j, v in enumerate(values):
            masks[j] = pack_slots(rounded == v)
        return cls(tuple(values), masks, float(total))

    def covered_minutes(
        self, avail: NDArray[np.uint64], rows: NDArray[np.integer[Any]] | slice
    ) -> NDArray[np.float32]:
        """Minutes of the shift inside each volunteer's available slots.

        Parameters
        ----------
        avail : ndarray of shape (WORDS, n_volunteers), uint64 (word-major for contiguous gathers)
        rows : which volunteers
        """
        out: NDArray[np.float32] | None = None
        for j, value in enumerate(self.minute_values):
            for w in np.flatnonzero(self.masks[j]):
                hits = np.bitwise_count(avail[w, rows] & self.masks[j, w]).astype(np.float32)
                hits *= np.float32(value)
                out = hits if out is None else out + hits
        if out is None:
            n = avail[0, rows].shape[0]
            return np.zeros(n, dtype=np.float32)
        return out

    def share(self, avail: NDArray[np.uint64], rows: NDArray[np.integer[Any]] | slice) -> NDArray[np.float32]:
        """Share of the shift covered, in [0, 1]."""
        cov = self.covered_minutes(avail, rows) / np.float32(self.total_minutes)
        share: NDArray[np.float32] = np.minimum(cov, np.float32(1.0))
        return share


def shift_mask(starts_at: datetime, ends_at: datetime, tz: str) -> ShiftMask:
    """The :class:`ShiftMask` of one shift for volunteers in ``tz``."""
    s = np.array([epoch_seconds(starts_at)], dtype=np.int64)
    e = np.array([epoch_seconds(ends_at)], dtype=np.int64)
    table = slot_table(s, e, tz)
    return ShiftMask.from_slots(table.slots, table.minutes, float(table.total_minutes[0]))


def local_day_numbers(
    starts_s: NDArray[np.int64], ends_s: NDArray[np.int64], tz: str
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """First and last local calendar day (day numbers) each interval touches in ``tz``; an
    interval ending exactly at midnight does not touch the next day."""
    starts_s = np.asarray(starts_s, dtype=np.int64)
    ends_s = np.asarray(ends_s, dtype=np.int64)
    first = (starts_s + _utc_offsets_s(starts_s, tz)) // 86400
    last_instant = ends_s - 1
    last = (last_instant + _utc_offsets_s(last_instant, tz)) // 86400
    return first.astype(np.int32), last.astype(np.int32)


def describe_local(starts_at: datetime, ends_at: datetime, tz: str) -> str:
    """``Sat 08:00–12:00`` (or ``Sat 22:00–Sun 02:00``) in the given zone."""
    zi = zone(tz)
    a, b = starts_at.astimezone(zi), ends_at.astimezone(zi)
    day_a = a.strftime("%a")
    if a.date() == b.date() or (
        b - a <= timedelta(days=1)
        and b.hour == 0
        and b.minute == 0
        and b.date() == a.date() + timedelta(days=1)
    ):
        end = "24:00" if b.date() != a.date() else b.strftime("%H:%M")
        return f"{day_a} {a:%H:%M}–{end}"
    return f"{day_a} {a:%H:%M}–{b:%a} {b:%H:%M}"


ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def describe_local_zh(starts_at: datetime, ends_at: datetime, tz: str) -> str:
    """``周六 08:00–12:00`` in the given zone."""
    zi = zone(tz)
    a, b = starts_at.astimezone(zi), ends_at.astimezone(zi)
    if a.date() == b.date():
        return f"{ZH_WEEKDAYS[a.weekday()]} {a:%H:%M}–{b:%H:%M}"
    return f"{ZH_WEEKDAYS[a.weekday()]} {a:%H:%M}–{ZH_WEEKDAYS[b.weekday()]} {b:%H:%M}"
