"""The in-memory columnar index the ranking reads.

Volunteers, activities and shifts live in struct-of-arrays columns (numpy), one row each, with a
spatial index of square blocks (~3 km, :mod:`matcher.matching.blocks`) over the volunteers'
homes and the activities' places. The columns are grouped in typed tables
(:mod:`matcher.matching.tables`: ``index.volunteers``, ``index.activities``, ``index.shifts``).
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.matching import constraints, kernels
from matcher.matching.blocks import (
    BLOCK_CREDIT_CACHE,
    DEFAULT_BLOCK_KM,
    SpatialBlocks,
    tier_of,
)
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
from matcher.matching.memo import Experience, Memo
from matcher.matching.tables import (
    ActivityTable,
    Column,
    IdMap,
    RaggedStore,
    ShiftTable,
    VolunteerTable,
)
from matcher.model.calendar import (
    WORDS,
    ShiftMask,
    SlotTable,
    day_number,
    local_day_numbers,
    slot_table,
    week_parts,
)
from matcher.model.domain import Activity, Booking, ServiceRecord, Volunteer, World
from matcher.model.errors import ConflictError, NotFoundError
from matcher.model.geo import unit_vectors
from matcher.model.skills import Taxonomy

I32 = NDArray[np.int32]
F32 = NDArray[np.float32]
DEFAULT_HALF_LIFE_DAYS = 365.0
NEVER = np.iinfo(np.int32).min
"""Day number of the last service of someone who never served."""


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
    """Area names of volunteers' homes and activities (``volunteers.district``, ``activities.district``; -1: none),
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
    volunteers: VolunteerTable = field(default_factory=VolunteerTable, init=False, repr=False)
    """The volunteers' columns (:class:`matcher.matching.tables.VolunteerTable`)."""
    activities: ActivityTable = field(default_factory=ActivityTable, init=False, repr=False)
    """The activities' columns, each with its contiguous shift rows."""
    shifts: ShiftTable = field(default_factory=ShiftTable, init=False, repr=False)
    """The shifts' columns."""

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
        self.volunteers.xyz = Column(xyz)
        self.volunteers.home = Column(home_p)
        self.volunteers.travel = Column(v.max_travel_km[perm].astype(np.float32))
        self.volunteers.birth = Column(v.birth_day[perm].astype(np.int32))
        self.volunteers.tz = Column(tz_map[v.tz[perm]] if n else np.zeros(0, np.int16))
        self.volunteers.district = Column(self._district_codes(v.district, v.districts, n)[perm])
        self.volunteers.online = Column(v.online_ok[perm].astype(bool))
        self.volunteers.alive = Column(np.ones(n, dtype=bool))
        # Availability is word-major, (WORDS, n): each word of every volunteer is contiguous.
        self.volunteers.avail = kernels.gather_transposed(v.avail, perm)
        self.volunteers.avail_n = n
        self.volunteers.attended = Column(attended[perm])
        self.volunteers.missed = Column(missed[perm])
        self.volunteers.hours = Column(hours[perm])
        self.volunteers.last = Column(last[perm].astype(np.int32))
        self.volunteers.static = Column(static[perm])

        self.volunteers.skills = RaggedStore(_permute_ragged(v.skills, perm))
        skills_ptr = np.concatenate(
            [self.volunteers.skills.offset.data[:n], [self.volunteers.skills.flat.n]]
        ).astype(np.int64)
        self.volunteers.skill_sig = Column(
            kernels.ragged_signatures(skills_ptr, self.volunteers.skills.flat.data)
        )
        certs = _permute_ragged(v.cert_skills, perm)
        self.volunteers.certs = RaggedStore(certs)
        self.volunteers.cert_expiry = Column(_permute_values(v.cert_skills, v.cert_expiry, perm))
        self.volunteers.blackout = RaggedStore(_permute_ragged(v.blackout, perm))

        # Postings: certificates with expiry; blackout day -> rows.
        cert_owner = _owners(self.volunteers.certs, n)
        self._cert_post = _postings_with(
            certs.values, cert_owner, self.volunteers.cert_expiry.data[: certs.values.shape[0]]
        )
        self._blackout_post = _postings(
            self.volunteers.blackout.flat.data[: self.volunteers.blackout.flat.n],
            _owners(self.volunteers.blackout, n),
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
        self.volunteers.block = Column(np.full(n, -1, dtype=np.int32))
        self.volunteers.block.data[:n_home] = self.vblocks.bulk(keys[perm][:n_home], xyz[:n_home])
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
        skill_block = self.volunteers.block.data[_owners(self.volunteers.skills, n)]
        has_block = skill_block >= 0
        codes = self.volunteers.skills.flat.data[: self.volunteers.skills.flat.n]
        self._skill_blocks = _postings(codes[has_block], skill_block[has_block], distinct=True)
        if n_home:
            blk = self.volunteers.block.data[:n_home]
            np.maximum.at(self.block_max_travel.data, blk, self.volunteers.travel.data[:n_home])
            np.maximum.at(self.block_max_static.data, blk, self.volunteers.static.data[:n_home])
            # Home rows are in block order here, so each block is one run of rows.
            first = np.flatnonzero(np.concatenate([[True], blk[1:] != blk[:-1]]))
            runs = blk[first]
            self.block_avail.data[runs] = np.bitwise_or.reduceat(
                self.volunteers.avail[:, :n_home], first, axis=1
            ).T
            tz = self.volunteers.tz.data[:n_home].astype(np.int16)
            lo, hi = np.minimum.reduceat(tz, first), np.maximum.reduceat(tz, first)
            self.block_zone.data[runs] = np.where(lo == hi, lo + 1, -1)
            keys_c, rows_c, hours_c = self.cat_exp.base()
            with_block = self.volunteers.block.data[rows_c] >= 0
            np.maximum.at(
                self.block_cat_hours.data,
                (self.volunteers.block.data[rows_c[with_block]], keys_c[with_block]),
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
        rel = past_service.reliability(self.volunteers.attended.data[rows], self.volunteers.missed.data[rows])
        return past_service.static_part(rel, self.recency(rows))

    def recency(self, rows: NDArray[np.integer[Any]]) -> F32:
        return self._recency_of(self.volunteers.last.data[rows])

    def reliability(self, rows: NDArray[np.integer[Any]]) -> F32:
        return past_service.reliability(
            self.volunteers.attended.data[rows], self.volunteers.missed.data[rows]
        )

    @property
    def n_volunteer_rows(self) -> int:
        return self.volunteers.alive.n

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
        self.activities.ids = list(a.ids)
        located = ~a.online & ~np.isnan(a.lat)
        xyz = np.zeros((n, 3), dtype=np.float32)
        if located.any():
            xyz[located] = unit_vectors(a.lat[located], a.lon[located]).astype(np.float32)
        self.activities.xyz = Column(xyz)
        self.activities.online = Column(a.online.astype(bool))
        self.activities.org = Column(a.organisation.astype(np.int32))
        self.activities.cat = Column(a.category.astype(np.int32))
        self.activities.tz = Column(tz_map[a.tz] if n else np.zeros(0, np.int16))
        self.activities.district = Column(self._district_codes(a.district, a.districts, n))
        self.activities.min_age = Column(a.min_age.astype(np.int16))
        self.activities.alive = Column(np.ones(n, dtype=bool))
        self.activities.required = RaggedStore(a.required)
        self.activities.preferred = RaggedStore(a.preferred)
        self.activities.certs = RaggedStore(a.required_certs)

        self.ablocks = SpatialBlocks(max(self.block_km, 5.0))
        rows_loc = np.flatnonzero(located).astype(np.int32)
        self.activities.block = Column(np.full(n, -1, dtype=np.int32))
        if rows_loc.size:
            keys = self.ablocks.keys(a.lat[rows_loc], a.lon[rows_loc])
            order = np.argsort(keys, kind="stable")
            # Activity rows keep their order; blocks list them through ``extra``.
            blocks = self.ablocks.bulk(keys[order], xyz[rows_loc[order]])
            self.activities.block.data[rows_loc[order]] = blocks
            self.ablocks.count.data[:] = 0
            by_block = np.lexsort((rows_loc[order], blocks))
            listed, rows_sorted = blocks[by_block], rows_loc[order][by_block].astype(np.int32)
            cuts = np.flatnonzero(np.diff(listed)) + 1
            for part in np.split(rows_sorted, cuts):
                self.ablocks.extra[int(self.activities.block.data[part[0]])] = part
        self.online_activities: set[int] = set(np.flatnonzero(a.online).tolist())

        # Shifts: an activity's shifts are contiguous rows.
        order = np.argsort(s.activity, kind="stable")
        self.shifts.ids = [s.ids[i] for i in order.tolist()]
        self.sid: dict[str, int] = _positions(self.shifts.ids, "shift")
        self.shifts.act = Column(s.activity[order].astype(np.int32))
        self.shifts.start = Column(s.starts_s[order].astype(np.int64))
        self.shifts.end = Column(s.ends_s[order].astype(np.int64))
        self.shifts.cap = Column(s.capacity[order].astype(np.int32))
        self.shifts.taken = Column(
            (taken[order] if taken is not None else np.zeros(len(s), np.int32)).astype(np.int32)
        )
        self.shifts.alive = Column(np.ones(len(s), dtype=bool))
        counts = np.bincount(s.activity, minlength=n).astype(np.int64)
        firsts = np.zeros(n, dtype=np.int64)
        if n:
            firsts[1:] = np.cumsum(counts)[:-1]
        self.activities.shift0 = Column(firsts)
        self.activities.nshift = Column(counts)
        first = np.zeros(len(s), np.int32)
        last = np.zeros(len(s), np.int32)
        act_tz = self.activities.tz.data[self.shifts.act.data[: len(s)]] if len(s) else np.zeros(0, np.int16)
        for code in np.unique(act_tz).tolist():
            sel = act_tz == code
            f, l_ = local_day_numbers(
                self.shifts.start.data[: len(s)][sel],
                self.shifts.end.data[: len(s)][sel],
                self.zones.name(code),
            )
            first[sel], last[sel] = f, l_
        self.shifts.first_day = Column(first)
        self.shifts.last_day = Column(last)
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
        return self.activities.ids[int(self.shifts.act.data[self.shift_row(shift_id)])]

    def has_volunteer(self, ident: str) -> bool:
        return self.vid.row(ident) is not None

    def volunteer_row(self, ident: str) -> int:
        row = self.vid.row(ident)
        if row is None:
            raise NotFoundError("volunteer", ident)
        return row

    def activity_row(self, ident: str) -> int:
        row = self.aid.get(ident)
        if row is None or not self.activities.alive.data[row]:
            raise NotFoundError("activity", ident)
        return row

    def shift_row(self, ident: str) -> int:
        row = self.sid.get(ident)
        if row is None or not self.shifts.alive.data[row]:
            raise NotFoundError("shift", ident)
        return row

    def shifts_of(self, a_row: int) -> range:
        start = int(self.activities.shift0.data[a_row])
        return range(start, start + int(self.activities.nshift.data[a_row]))

    def shift_sort_keys(self, s_rows: I32) -> NDArray[np.bytes_]:
        """Shift ids of ``s_rows`` as a bytes array, for tie-breaking with ``np.lexsort``."""
        return np.array([self.shifts.ids[int(r)].encode() for r in s_rows], dtype="S")

    def shift_view(self, s_row: int) -> ShiftView:
        a = int(self.shifts.act.data[s_row])
        tz = self.zones.name(int(self.activities.tz.data[a]))
        online = bool(self.activities.online.data[a])
        min_age = int(self.activities.min_age.data[a])
        return ShiftView(
            row=s_row,
            id=self.shifts.ids[s_row],
            activity_row=a,
            activity_id=self.activities.ids[a],
            starts_s=int(self.shifts.start.data[s_row]),
            ends_s=int(self.shifts.end.data[s_row]),
            capacity=int(self.shifts.cap.data[s_row]),
            taken=int(self.shifts.taken.data[s_row]),
            online=online,
            origin=None if online else self.activities.xyz.data[a].astype(np.float64),
            required=tuple(self.activities.required.row(a).tolist()),
            preferred=tuple(self.activities.preferred.row(a).tolist()),
            required_certs=tuple(self.activities.certs.row(a).tolist()),
            min_age=None if min_age < 0 else min_age,
            category=int(self.activities.cat.data[a]),
            organisation=int(self.activities.org.data[a]),
            first_day=int(self.shifts.first_day.data[s_row]),
            last_day=int(self.shifts.last_day.data[s_row]),
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
        n = self.shifts.alive.n
        cached = self._slot_tables.get(tz_code)
        if cached is not None and len(cached[0]) == n:
            return cached
        tz = self.zones.name(tz_code)
        done = len(cached[0]) if cached is not None else 0
        new = slot_table(self.shifts.start.data[done:n], self.shifts.end.data[done:n], tz)
        first, last = local_day_numbers(self.shifts.start.data[done:n], self.shifts.end.data[done:n], tz)
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
        lengths = self.volunteers.skills.length.data[rows].astype(np.int64)
        _, pos = self.volunteers.skills.gather(rows)
        if pos.shape[0] == 0:
            return out
        codes = self.volunteers.skills.flat.data[pos]
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
                    self.shifts.start.data[s_row] < ends_s and self.shifts.end.data[s_row] > starts_s
                ):
                    out.append(v_row)
        return np.unique(np.array(out, dtype=np.int32))

    def booked_shifts(self) -> dict[int, set[int]]:
        """Every volunteer row holding places, with the shift rows they hold (read only)."""
        return self._v_bookings

    def volunteer_bookings(self, v_row: int) -> set[int]:
        return self._v_bookings.get(v_row, set())

    def volunteer_skill_ids(self, v_row: int) -> list[str]:
        return [self.skills.name(c) for c in self.volunteers.skills.row(v_row).tolist()]

    def volunteer_certs(self, v_row: int) -> dict[str, int]:
        """Certified skill -> expiry day number (NO_DAY: no expiry)."""
        o = int(self.volunteers.certs.offset.data[v_row])
        codes = self.volunteers.certs.row(v_row).tolist()
        exp = self.volunteers.cert_expiry.data[o : o + len(codes)].tolist()
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
                (self.volunteers.xyz, xyz),
                (self.volunteers.home, has_home),
                (self.volunteers.travel, v.max_travel_km),
                (self.volunteers.birth, cols.birth_day[0]),
                (self.volunteers.tz, self.zones.code(v.timezone)),
                (self.volunteers.district, -1 if v.district is None else self.districts.code(v.district)),
                (self.volunteers.online, v.online_ok),
                (self.volunteers.alive, True),
                (self.volunteers.attended, 0.0),
                (self.volunteers.missed, 0.0),
                (self.volunteers.last, NEVER),
                (self.volunteers.hours, 0.0),
                (self.volunteers.static, 0.0),
                (self.volunteers.block, -1),
                (self.volunteers.skill_sig, 0),
            ):
                col.append(value)
            self._append_avail(cols.avail[0])
            self.volunteers.skills.set(row, [])
            self.volunteers.certs.set(row, [])
            self.volunteers.blackout.set(row, [])
            self.volunteers.static.data[row] = self._static(np.array([row]))[0]
        else:
            self._unindex_volunteer(row)
            self.volunteers.xyz.data[row] = xyz
            self.volunteers.home.data[row] = has_home
            self.volunteers.travel.data[row] = v.max_travel_km
            self.volunteers.birth.data[row] = cols.birth_day[0]
            self.volunteers.tz.data[row] = self.zones.code(v.timezone)
            self.volunteers.district.data[row] = -1 if v.district is None else self.districts.code(v.district)
            self.volunteers.online.data[row] = v.online_ok
            self.volunteers.avail[:, row] = cols.avail[0]
        self._index_volunteer(row, cols)
        return row

    def _append_avail(self, words: NDArray[np.uint64]) -> None:
        n = self.volunteers.avail_n
        if n >= self.volunteers.avail.shape[1]:
            grown = np.zeros((WORDS, max(16, 2 * self.volunteers.avail.shape[1])), dtype=np.uint64)
            grown[:, :n] = self.volunteers.avail[:, :n]
            self.volunteers.avail = grown
        self.volunteers.avail[:, n] = words
        self.volunteers.avail_n = n + 1

    def _index_volunteer(self, row: int, cols: VolunteerColumns) -> None:
        skills = cols.skills.row(0)
        self.volunteers.skills.set(row, skills)
        self.volunteers.skill_sig.data[row] = self.skill_signature(skills)
        certs = cols.cert_skills.row(0)
        self.volunteers.certs.set(row, certs)
        start = int(self.volunteers.certs.offset.data[row])
        self.volunteers.cert_expiry.ensure(start + certs.shape[0])
        self.volunteers.cert_expiry.data[start : start + certs.shape[0]] = cols.cert_expiry
        self.volunteers.cert_expiry.n = max(self.volunteers.cert_expiry.n, start + certs.shape[0])
        for code, exp in zip(certs.tolist(), cols.cert_expiry.tolist(), strict=True):
            rows, expiry = self._cert_post.get(code, (_EMPTY_I32, _EMPTY_I32))
            self._cert_post[code] = (np.append(rows, np.int32(row)), np.append(expiry, np.int32(exp)))
        days = cols.blackout.row(0)
        self.volunteers.blackout.set(row, days)
        for d in days.tolist():
            self._blackout_post[d] = np.append(self._blackout_post.get(d, _EMPTY_I32), np.int32(row))
        if self.volunteers.home.data[row]:
            lat, lon = float(cols.lat[0]), float(cols.lon[0])
            tier = tier_of(
                self.volunteers.travel.data[row : row + 1],
                self._pattern_ids(week_parts(self.volunteers.avail[:, row : row + 1].T)),
            )
            key = int(self.vblocks.keys(np.array([lat]), np.array([lon]), tier)[0])
            blk = self.vblocks.add(row, key, self.volunteers.xyz.data[row])
            self.volunteers.block.data[row] = blk
            self._grow_block_bounds()
            self.block_max_travel.data[blk] = max(
                self.block_max_travel.data[blk], self.volunteers.travel.data[row]
            )
            self._cell_travel = None
            self.block_max_static.data[blk] = max(
                self.block_max_static.data[blk], self.volunteers.static.data[row]
            )
            self.block_avail.data[blk] |= self.volunteers.avail[:, row]
            zone = int(self.volunteers.tz.data[row]) + 1
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
        for code in self.volunteers.certs.row(row).tolist():
            rows, expiry = self._cert_post[code]
            keep = rows != row
            self._cert_post[code] = (rows[keep], expiry[keep])
        for d in self.volunteers.blackout.row(row).tolist():
            post = self._blackout_post[d]
            self._blackout_post[d] = post[post != row]
        if int(self.volunteers.block.data[row]) >= 0:
            self.volunteers.block.data[row] = -1  # the block's range still lists the row; readers skip it
        else:
            h = self.homeless.data[: self.homeless.n]
            kept = h[h != row]
            self.homeless.data[: kept.shape[0]] = kept
            self.homeless.n = kept.shape[0]

    def remove_volunteer(self, ident: str) -> None:
        self._changed()
        row = self.volunteer_row(ident)
        self._unindex_volunteer(row)
        self.volunteers.alive.data[row] = False
        for s_row in list(self._v_bookings.get(row, ())):
            self._drop_booking(row, s_row)
        self.cat_exp.drop_row(row)
        self.org_exp.drop_row(row)
        self.vid.remove(row)

    def upsert_activity(self, a: Activity) -> int:
        """Add or replace one activity and its shifts; bookings on shifts that keep their id are
        carried over (those on shifts the activity no longer has go with them, as in the store)."""
        self._changed()
        carried: dict[str, list[int]] = {}
        kept = {s.id for s in a.shifts}
        old = self.aid.get(a.id)
        if old is not None and self.activities.alive.data[old]:
            for s_row in self.shifts_of(old):
                holders = [v for v, ss in self._v_bookings.items() if s_row in ss]
                if holders and self.shifts.ids[s_row] in kept:
                    carried[self.shifts.ids[s_row]] = holders
            self._remove_activity_row(old)
        for shift in a.shifts:
            existing = self.sid.get(shift.id)
            if existing is not None and self.shifts.alive.data[existing]:
                raise ConflictError(
                    f"shift id {shift.id!r} already belongs to activity {self.activities.ids[int(self.shifts.act.data[existing])]!r}"
                )
        acols, scols = activity_columns([a], self.skills, self.zones, self.categories, self.organisations)
        row = len(self.activities.ids)
        self.aid[a.id] = row
        self.activities.ids.append(a.id)
        located = not a.online and a.location is not None
        xyz = (
            unit_vectors([a.location.lat], [a.location.lon])[0].astype(np.float32)
            if located and a.location
            else np.zeros(3, np.float32)
        )
        self.activities.xyz.append(xyz)
        self.activities.online.append(a.online)
        self.activities.org.append(acols.organisation[0])
        self.activities.cat.append(acols.category[0])
        self.activities.tz.append(self.zones.code(a.timezone))
        self.activities.district.append(-1 if a.district is None else self.districts.code(a.district))
        self.activities.min_age.append(acols.min_age[0])
        self.activities.alive.append(True)
        self.activities.required.set(row, acols.required.row(0))
        self.activities.preferred.set(row, acols.preferred.row(0))
        self.activities.certs.set(row, acols.required_certs.row(0))
        blk = -1
        if located and a.location is not None:
            key = int(self.ablocks.keys(np.array([a.location.lat]), np.array([a.location.lon]))[0])
            blk = self.ablocks.add(row, key, xyz)
        self.activities.block.append(blk)
        if a.online:
            self.online_activities.add(row)
        self.activities.shift0.append(self.shifts.alive.n)
        self.activities.nshift.append(len(scols))
        first, last = local_day_numbers(scols.starts_s, scols.ends_s, a.timezone)
        for i, sid in enumerate(scols.ids):
            s_row = self.shifts.alive.n
            self.shifts.ids.append(sid)
            self.sid[sid] = s_row
            self.shifts.act.append(row)
            self.shifts.start.append(scols.starts_s[i])
            self.shifts.end.append(scols.ends_s[i])
            self.shifts.cap.append(scols.capacity[i])
            self.shifts.taken.append(0)
            self.shifts.alive.append(True)
            self.shifts.first_day.append(first[i])
            self.shifts.last_day.append(last[i])
        for sid, holders in carried.items():
            for v_row in holders:
                self.add_booking(Booking(self.vid.ident(v_row), sid))
        return row

    def _remove_activity_row(self, row: int) -> None:
        self.activities.alive.data[row] = False
        self.activities.block.data[row] = -1
        self.online_activities.discard(row)
        for s_row in self.shifts_of(row):
            for v_row in [v for v, ss in self._v_bookings.items() if s_row in ss]:
                self._drop_booking(v_row, s_row)
            self.shifts.alive.data[s_row] = False
            self.sid.pop(self.shifts.ids[s_row], None)

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
            self.volunteers.attended.data[v_row] += weight
            self.volunteers.hours.data[v_row] += r.hours
            self.volunteers.last.data[v_row] = max(int(self.volunteers.last.data[v_row]), day_number(r.date))
            if a_row is not None:
                self.cat_exp.add(int(self.activities.cat.data[a_row]), v_row, r.hours)
                self.org_exp.add(int(self.activities.org.data[a_row]), v_row, r.hours)
        else:
            self.volunteers.missed.data[v_row] += weight
        self.volunteers.static.data[v_row] = self._static(np.array([v_row]))[0]
        blk = int(self.volunteers.block.data[v_row])
        if blk >= 0:
            self.block_max_static.data[blk] = max(
                self.block_max_static.data[blk], self.volunteers.static.data[v_row]
            )
            if r.attended and a_row is not None:
                cat = int(self.activities.cat.data[a_row])
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
        start, end = int(self.shifts.start.data[s_row]), int(self.shifts.end.data[s_row])
        for day in range(start // 86400, (end - 1) // 86400 + 1):
            self._day_bookings.setdefault(day, []).append((v_row, s_row))
        if count:
            self.shifts.taken.data[s_row] += 1

    def remove_booking(self, b: Booking) -> None:
        self._drop_booking(self.volunteer_row(b.volunteer_id), self.shift_row(b.shift_id))

    def _drop_booking(self, v_row: int, s_row: int) -> None:
        self._changed(bookings_only=True)
        held = self._v_bookings.get(v_row)
        if not held or s_row not in held:
            return
        held.discard(s_row)
        start, end = int(self.shifts.start.data[s_row]), int(self.shifts.end.data[s_row])
        for day in range(start // 86400, (end - 1) // 86400 + 1):
            entries = self._day_bookings.get(day, [])
            if (v_row, s_row) in entries:
                entries.remove((v_row, s_row))
        self.shifts.taken.data[s_row] = max(0, int(self.shifts.taken.data[s_row]) - 1)

    def set_shift_bookings(self, shift_id: str, volunteer_ids: Sequence[str], taken: int) -> None:
        """Make the shift's bookings exactly ``volunteer_ids`` (those known here) and its filled
        places ``taken`` (which counts places held for offers too): what the store says after a
        sign-up, a cancellation or an accepted offer."""
        s_row = self.shift_row(shift_id)
        self._changed(bookings_only=True)
        wanted = {r for r in (self.vid.row(v) for v in volunteer_ids) if r is not None}
        start, end = int(self.shifts.start.data[s_row]), int(self.shifts.end.data[s_row])
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
        self.shifts.taken.data[s_row] = taken

    def places_left(self, shift_id: str) -> int:
        row = self.shift_row(shift_id)
        return max(int(self.shifts.cap.data[row]) - int(self.shifts.taken.data[row]), 0)

    def set_taken(self, shift_id: str, taken: int) -> None:
        """Set how many places of a shift are filled (from the store's sign-up counts)."""
        self._changed(bookings_only=True)
        self.shifts.taken.data[self.shift_row(shift_id)] = taken

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
            self.volunteers.xyz,
            self.volunteers.home,
            self.volunteers.travel,
            self.volunteers.birth,
            self.volunteers.tz,
            self.volunteers.online,
            self.volunteers.alive,
            self.volunteers.attended,
            self.volunteers.missed,
            self.volunteers.last,
            self.volunteers.hours,
            self.volunteers.static,
            self.volunteers.block,
            self.volunteers.skill_sig,
            self.volunteers.cert_expiry,
            self.block_max_travel,
            self.block_max_static,
            self.block_cat_hours,
            self.block_avail,
            self.block_zone,
            self.homeless,
        ]
        total = sum(c.data.nbytes for c in cols) + self.volunteers.avail.nbytes
        for store in (self.volunteers.skills, self.volunteers.certs, self.volunteers.blackout):
            total += store.flat.data.nbytes + store.offset.data.nbytes + store.length.data.nbytes
        total += sum(p.nbytes for p in self._skill_blocks.values())
        total += BLOCK_CREDIT_CACHE * 4 * (len(self.vblocks) + 1)  # the cache when full
        total += sum(r.nbytes + e.nbytes for r, e in self._cert_post.values())
        total += sum(p.nbytes for p in self._blackout_post.values())
        total += self.vblocks.nbytes() + self.vid.nbytes() + self.cat_exp.nbytes() + self.org_exp.nbytes()
        return int(total)

    def volunteer_count(self) -> int:
        return int(self.volunteers.alive.data[: self.volunteers.alive.n].sum())

    def activity_count(self) -> int:
        return int(self.activities.alive.data[: self.activities.alive.n].sum())

    def open_shift_rows(self, a_row: int, now_s: int) -> list[int]:
        return [
            s
            for s in self.shifts_of(a_row)
            if self.shifts.alive.data[s]
            and self.shifts.start.data[s] > now_s
            and self.shifts.taken.data[s] < self.shifts.cap.data[s]
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


__all__ = ["MatchIndex", "ShiftView"]
