"""Demand against supply: where and when needs outrun the volunteers who could meet them.

For a date range ``[first, last)`` and a grouping ``by`` (any of ``district``, ``category`` or
``skill`` (not both), ``weekday``, ``hour``), every cell gets:

- ``supply_hours``: the hours volunteers are free in that cell: each volunteer's weekly
  availability (half-hour slots) on every date of the range, less their blackout dates and less
  the hours of shifts they are already confirmed on (committed hours are not free), grouped by
  the district they live in. A volunteer's hour is **split evenly** across their skills when
  grouping by skill, and across the categories their skills fit when grouping by category
  (a category fits when one of its activities asks for a skill the volunteer has, or asks for
  none), so that an hour is never counted twice: the cells of one time slot add up to the
  hours free in it;
- ``demand_hours``: unfilled places times hours of the shifts starting in the range (by the
  activity's district, ``(online)`` for online ones, and its category; split evenly over its
  required skills, ``(any)`` when it requires none), plus the open needs' occurrences in the range
  (volunteers needed times hours, by the need's district, category and skills);
- ``gap_hours`` = demand - supply, ``fill_rate`` = min(supply, demand) / demand (none without
  demand), ``volunteers``: how many distinct volunteers the supply comes from.

Privacy: a cell whose supply comes from fewer than :data:`MIN_VOLUNTEERS` volunteers (but more
than none) is suppressed: its supply, gap, fill rate and count are withheld and ``suppressed``
is true. Demand is about postings, not people, and is always shown.

Hours are bucketed by the local time of the analytics zone (``tz``; a city's areas share one),
weekdays 0 = Monday.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from matcher.matching.columns import category_key
from matcher.matching.index import MatchIndex
from matcher.model.calendar import SLOT_MINUTES, SLOTS_PER_DAY, WORDS, day_number
from matcher.model.domain import Need, category_label
from matcher.model.errors import ValidationError

KEYS = ("district", "category", "skill", "weekday", "hour")
MIN_VOLUNTEERS = 5
MAX_DAYS = 366
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
UNKNOWN = "(unknown)"
ONLINE = "(online)"
ANY = "(any)"
CHUNK = 65_536
_CELLS = 7 * 24


def check_by(by: Sequence[str]) -> tuple[str, ...]:
    """The grouping keys, validated: known, no repeats, not both category and skill."""
    keys = tuple(by)
    unknown = [k for k in keys if k not in KEYS]
    if unknown:
        raise ValidationError("by", f"unknown key {unknown[0]!r}; use any of {', '.join(KEYS)}")
    if len(set(keys)) < len(keys):
        raise ValidationError("by", "a key is listed twice")
    if "category" in keys and "skill" in keys:
        raise ValidationError("by", "group by category or by skill, not both")
    return keys


def check_range(first: date, last: date) -> None:
    if last <= first:
        raise ValidationError("to", "must be after from")
    if (last - first).days > MAX_DAYS:
        raise ValidationError("to", f"a range covers at most {MAX_DAYS} days")


@dataclass(frozen=True)
class Scope:
    """The part of the city a table is about (an organisation's subtree): demand from the
    postings and needs of ``organisations``, supply from the volunteers living in
    ``districts``; None keeps everything on that side."""

    organisations: frozenset[str] | None = None
    districts: frozenset[str] | None = None


def gaps(
    index: MatchIndex,
    needs: Sequence[Need],
    *,
    by: Sequence[str],
    first: date,
    last: date,
    tz: str = "Asia/Shanghai",
    min_volunteers: int = MIN_VOLUNTEERS,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """The gap table (one row per cell with demand or supply); see the module docstring."""
    return _table(
        index, needs, by=by, first=first, last=last, tz=tz, min_volunteers=min_volunteers, scope=scope
    )


def _table(
    index: MatchIndex,
    needs: Sequence[Need],
    *,
    by: Sequence[str],
    first: date,
    last: date,
    tz: str,
    min_volunteers: int,
    with_posted: bool = False,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """:func:`gaps`, and with ``with_posted`` a ``posted_hours`` column: the part of the demand
    that comes from posted shifts (the rest is open needs)."""
    keys = check_by(by)
    check_range(first, last)
    zone = ZoneInfo(tz)
    group = "category" if "category" in keys else "skill" if "skill" in keys else None
    time_map, time_labels = _time_cells(keys)
    scope = scope or Scope()
    if scope.organisations is not None:
        needs = [n for n in needs if n.organisation_id in scope.organisations]
    labels, supply, counts = _supply(index, group, keys, first, last, zone, time_map, scope.districts)
    demand = _demand(index, needs, group, "district" in keys, first, last, zone, labels, scope.organisations)
    n_t = len(time_labels)
    d_array = np.zeros((len(labels.names), n_t))
    g_codes, cells, hours, n_posted = demand
    np.add.at(d_array, (g_codes, time_map[cells]), hours)
    p_array = np.zeros_like(d_array)
    np.add.at(p_array, (g_codes[:n_posted], time_map[cells[:n_posted]]), hours[:n_posted])
    supply_all = np.zeros_like(d_array)
    count_all = np.zeros_like(d_array, dtype=np.int64)
    supply_all[: supply.shape[0]] = supply
    count_all[: counts.shape[0]] = counts
    rows = []
    for g, t in zip(*np.nonzero((d_array > 1e-9) | (supply_all > 1e-9)), strict=True):
        district, grp = labels.names[g]
        cell: dict[str, object] = {}
        if "district" in keys:
            cell["district"] = district
        if group is not None:
            cell[group] = grp
        cell |= time_labels[t]
        need = float(d_array[g, t])
        have = float(supply_all[g, t])
        n = int(count_all[g, t])
        hidden = 0 < n < min_volunteers
        rows.append(
            cell
            | {
                "demand_hours": round(need, 2),
                "supply_hours": None if hidden else round(have, 2),
                "gap_hours": None if hidden else round(need - have, 2),
                "fill_rate": None if hidden or need <= 0 else round(min(have, need) / need, 4),
                "volunteers": None if hidden else n,
                "suppressed": hidden,
            }
            | ({"posted_hours": round(float(p_array[g, t]), 2)} if with_posted else {})
        )
    columns = [*(k for k in KEYS if k in keys), "demand_hours", "supply_hours", "gap_hours", "fill_rate",
               "volunteers", "suppressed", *(["posted_hours"] if with_posted else [])]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values([k for k in KEYS if k in keys], kind="stable", key=_sort_key).reset_index(
        drop=True
    )


# ------------------------------------------------------------------------------------ cells


class _Labels:
    """(district, group) pairs as dense codes: the rows of the supply and demand arrays."""

    def __init__(self) -> None:
        self.names: list[tuple[str, str]] = []
        self.codes: dict[tuple[str, str], int] = {}

    def code(self, district: str, grp: str) -> int:
        key = (district, grp)
        c = self.codes.get(key)
        if c is None:
            c = self.codes[key] = len(self.names)
            self.names.append(key)
        return c


def _time_cells(keys: tuple[str, ...]) -> tuple[NDArray[np.int64], list[dict[str, object]]]:
    """Map from the 168 (weekday, hour) cells to the requested time cells, and their labels."""
    w = np.repeat(np.arange(7), 24)
    h = np.tile(np.arange(24), 7)
    if "weekday" in keys and "hour" in keys:
        return np.arange(_CELLS), [{"weekday": WEEKDAYS[i // 24], "hour": i % 24} for i in range(_CELLS)]
    if "weekday" in keys:
        return w, [{"weekday": d} for d in WEEKDAYS]
    if "hour" in keys:
        return h, [{"hour": i} for i in range(24)]
    return np.zeros(_CELLS, dtype=np.int64), [{}]


def _date_counts(first: date, last: date) -> NDArray[np.float64]:
    """How many dates of each weekday the range holds."""
    counts = np.zeros(7)
    d = first
    while d < last:
        counts[d.weekday()] += 1
        d += timedelta(days=1)
    return counts


# ----------------------------------------------------------------------------------- supply


def _free_hours(
    index: MatchIndex,
    rows: NDArray[np.int64],
    per_weekday: NDArray[np.float64],
    first_day: int,
    last_day: int,
) -> NDArray[np.float64]:
    """(len(rows), 168) free hours per weekday and hour over the range: a day's free hours times
    the dates of that weekday in the range, less the volunteer's blackout dates among them
    (before commitments)."""
    words = index.volunteers.avail[:, rows]  # (WORDS, n)
    as_bytes = np.ascontiguousarray(words.T).view(np.uint8).reshape(len(rows), WORDS * 8)
    bits = np.unpackbits(as_bytes, axis=1, bitorder="little")[:, : 7 * SLOTS_PER_DAY]
    halves = bits.reshape(len(rows), 7, 24, 2)  # two half-hour slots per hour
    one_day = (halves[..., 0] + halves[..., 1]) * (SLOT_MINUTES / 60)
    dates = np.tile(per_weekday, (len(rows), 1)).astype(np.float64)
    owner, positions = index.volunteers.blackout.gather(rows.astype(np.int32))
    days = index.volunteers.blackout.flat.data[positions]
    away = (days >= first_day) & (days < last_day)
    np.subtract.at(dates, (owner[away], (days[away] + 3) % 7), 1.0)  # day 0 (1970-01-01) was a Thursday
    out = (one_day * np.maximum(dates, 0.0)[:, :, None]).reshape(len(rows), _CELLS)
    return np.asarray(out, dtype=np.float64)


def _supply(
    index: MatchIndex,
    group: str | None,
    keys: tuple[str, ...],
    first: date,
    last: date,
    zone: ZoneInfo,
    time_map: NDArray[np.int64],
    districts: frozenset[str] | None = None,
) -> tuple[_Labels, NDArray[np.float64], NDArray[np.int64]]:
    labels = _Labels()
    n_rows = index.n_volunteer_rows
    alive = np.flatnonzero(index.volunteers.alive.data[:n_rows]).astype(np.int64)
    if districts is not None:
        wanted = [c for c in (index.districts.get(d) for d in districts) if c is not None]
        alive = alive[np.isin(index.volunteers.district.data[alive], wanted)]
    per_weekday = _date_counts(first, last)
    district_names = index.districts.names
    by_district = "district" in keys
    # Each volunteer's groups (district × skill or category) with their shares.
    owner, gcode, share = _memberships(index, alive, group, by_district, district_names, labels)
    n_t = int(time_map.max()) + 1
    project = sparse.csr_matrix((np.ones(_CELLS), (np.arange(_CELLS), time_map)), shape=(_CELLS, n_t))
    supply = np.zeros((len(labels.names), n_t))
    counts = np.zeros((len(labels.names), n_t), dtype=np.int64)
    taken = _committed(index, first, last, zone)
    first_day, last_day = day_number(first), day_number(last)
    order = np.argsort(owner, kind="stable")
    owner, gcode, share = owner[order], gcode[order], share[order]
    bounds = np.searchsorted(owner, np.arange(0, len(alive) + CHUNK, CHUNK))
    for c, lo in enumerate(range(0, len(alive), CHUNK)):
        rows = alive[lo : lo + CHUNK]
        hours = _free_hours(index, rows, per_weekday, first_day, last_day)
        for local, cells in _local_commitments(taken, rows).items():
            hours[local] = np.maximum(hours[local] - cells, 0.0)
        per_cell = hours @ project  # (n, n_t): hours in each requested time cell
        a, b = bounds[c], bounds[c + 1]
        member = sparse.csr_matrix(
            (share[a:b], (gcode[a:b], owner[a:b] - lo)), shape=(len(labels.names), len(rows))
        )
        supply += member @ per_cell
        present = member.copy()
        present.data[:] = 1.0
        counts += np.rint(present @ (per_cell > 1e-9).astype(np.float64)).astype(np.int64)
    return labels, supply, counts


def _memberships(
    index: MatchIndex,
    alive: NDArray[np.int64],
    group: str | None,
    by_district: bool,
    district_names: list[str],
    labels: _Labels,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """For each alive volunteer (by position in ``alive``), the (district, group) cells their
    hours go to and each cell's share (shares of one volunteer add up to 1)."""
    n = len(alive)
    codes = (
        index.volunteers.district.data[alive].astype(np.int64) if by_district else np.zeros(n, dtype=np.int64)
    )
    d_names = [*district_names, UNKNOWN] if by_district else [""]
    district = np.where(codes < 0, len(district_names), codes) if by_district else codes
    if group is None:
        return (
            np.arange(n, dtype=np.int64),
            _label_codes(labels, d_names, [""], district, np.zeros(n, np.int64)),
            np.ones(n),
        )
    lengths = index.volunteers.skills.length.data[alive].astype(np.int64)
    owner_skill, positions = index.volunteers.skills.gather(alive.astype(np.int32))
    skill = index.volunteers.skills.flat.data[positions].astype(np.int64)
    if group == "skill":
        owner = owner_skill.astype(np.int64)
        share = 1.0 / lengths[owner]
        names = list(index.skills.names)
        grp = skill
    else:
        fits = _category_fits(index)  # (n_categories, n_skills)
        held = sparse.csr_matrix((np.ones(len(skill)), (owner_skill, skill)), shape=(n, fits.shape[1]))
        fit = (held @ sparse.csr_matrix(fits.T.astype(np.float64))).tocoo()
        owner, grp = fit.row.astype(np.int64), fit.col.astype(np.int64)
        asks_nothing = np.flatnonzero(fits.all(axis=1))  # such categories fit people with no skills too
        bare = np.flatnonzero(lengths == 0)
        if asks_nothing.size and bare.size:
            owner = np.concatenate([owner, np.repeat(bare, asks_nothing.size)])
            grp = np.concatenate([grp, np.tile(asks_nothing, bare.size)])
        share = 1.0 / np.bincount(owner, minlength=n)[owner]
        names = list(index.categories.names)
    covered = np.zeros(n, dtype=bool)
    covered[owner] = True
    none = np.flatnonzero(~covered)
    owner = np.concatenate([owner, none])
    grp = np.concatenate([grp, np.full(none.size, len(names))])
    share = np.concatenate([share, np.ones(none.size)])
    return owner, _label_codes(labels, d_names, [*names, "(none)"], district[owner], grp), share


def _label_codes(
    labels: _Labels,
    d_names: list[str],
    g_names: list[str],
    district: NDArray[np.int64],
    grp: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Label codes of (district, group) code pairs, naming only the distinct pairs."""
    pair = district * len(g_names) + grp
    distinct, inverse = np.unique(pair, return_inverse=True)
    codes = np.array(
        [
            labels.code(d_names[int(p) // len(g_names)], g_names[int(p) % len(g_names)])
            for p in distinct.tolist()
        ],
        dtype=np.int64,
    )
    return codes[inverse.ravel()] if len(pair) else np.zeros(0, dtype=np.int64)


def _category_fits(index: MatchIndex) -> NDArray[np.bool_]:
    """Which skills each category's activities ask for (required or preferred); a category whose
    activities ask for none fits everyone."""
    n_cat, n_skill = len(index.categories.names), max(len(index.skills.names), 1)
    fits = np.zeros((n_cat, n_skill), dtype=bool)
    asks = np.zeros(n_cat, dtype=bool)
    for a in np.flatnonzero(index.activities.alive.data[: index.activities.alive.n]).tolist():
        c = int(index.activities.cat.data[a])
        skills = np.concatenate([index.activities.required.row(a), index.activities.preferred.row(a)])
        if skills.size:
            fits[c, skills] = True
            asks[c] = True
    fits[~asks] = True
    return fits


def _committed(index: MatchIndex, first: date, last: date, zone: ZoneInfo) -> dict[int, NDArray[np.float64]]:
    """Per volunteer row, the hours of their confirmed shifts in the range that fall in their
    free slots, as 168 (weekday, hour) cells."""
    out: dict[int, NDArray[np.float64]] = {}
    words = index.volunteers.avail
    for v_row, shift_rows in index.booked_shifts().items():
        for s_row in shift_rows:
            start = datetime.fromtimestamp(int(index.shifts.start.data[s_row]), zone)
            end = datetime.fromtimestamp(int(index.shifts.end.data[s_row]), zone)
            if not first <= start.date() < last:
                continue
            cells = out.setdefault(v_row, np.zeros(_CELLS))
            for weekday, slot_of_day in _slots(start, end):
                slot = weekday * SLOTS_PER_DAY + slot_of_day
                if int(words[slot // 64, v_row]) >> (slot % 64) & 1:
                    cells[weekday * 24 + slot_of_day * SLOT_MINUTES // 60] += SLOT_MINUTES / 60
    return out


def _local_commitments(
    taken: dict[int, NDArray[np.float64]], rows: NDArray[np.int64]
) -> dict[int, NDArray[np.float64]]:
    if not taken:
        return {}
    position = {int(r): i for i, r in enumerate(rows.tolist()) if int(r) in taken}
    return {i: taken[r] for r, i in position.items()}


def _slots(start: datetime, end: datetime) -> list[tuple[int, int]]:
    """The half-hour slots (weekday, slot of day) a local interval covers, whole or in part."""
    out = []
    t = start.replace(minute=start.minute - start.minute % SLOT_MINUTES, second=0, microsecond=0)
    while t < end:
        out.append((t.weekday(), (t.hour * 60 + t.minute) // SLOT_MINUTES))
        t += timedelta(minutes=SLOT_MINUTES)
    return out


# ----------------------------------------------------------------------------------- demand


def _demand(
    index: MatchIndex,
    needs: Sequence[Need],
    group: str | None,
    by_district: bool,
    first: date,
    last: date,
    zone: ZoneInfo,
    labels: _Labels,
    organisations: frozenset[str] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], int]:
    """Demand hours as (label code, weekday*24 + hour cell, hours) triples, the posted shifts'
    first, and how many of them are the shifts'."""
    parts = [_shift_demand(index, group, by_district, first, last, zone, labels, organisations)]
    triples: list[tuple[int, int, float]] = []
    for need in needs:
        if need.status != "open":
            continue
        for s, e in need.occurrences():
            start, end = s.astimezone(zone), e.astimezone(zone)
            if first <= start.date() < last:
                district = (need.district or UNKNOWN) if by_district else ""
                _add(triples, labels, group, district, category_key(need.category), list(need.skills), start, end,
                     need.volunteers_needed)  # fmt: skip
    if triples:
        g, c, h = zip(*triples, strict=True)
        parts.append(
            (np.array(g, dtype=np.int64), np.array(c, dtype=np.int64), np.array(h, dtype=np.float64))
        )
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        len(parts[0][0]),
    )


def _shift_demand(
    index: MatchIndex,
    group: str | None,
    by_district: bool,
    first: date,
    last: date,
    zone: ZoneInfo,
    labels: _Labels,
    organisations: frozenset[str] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Unfilled places times hours of the shifts starting in the range (of ``organisations``'
    postings only, when given), hour by local hour, all shifts at once."""
    n = index.shifts.alive.n
    lo = datetime.combine(first, datetime.min.time(), zone).timestamp() - 86400
    hi = datetime.combine(last, datetime.min.time(), zone).timestamp() + 86400
    starts = index.shifts.start.data[:n]
    open_places = index.shifts.cap.data[:n].astype(np.int64) - index.shifts.taken.data[:n]
    rows = np.flatnonzero(index.shifts.alive.data[:n] & (starts >= lo) & (starts < hi) & (open_places > 0))
    if organisations is not None:
        wanted = [c for c in (index.organisations.get(o) for o in organisations) if c is not None]
        rows = rows[np.isin(index.activities.org.data[index.shifts.act.data[rows]], wanted)]
    start_s = starts[rows].astype(np.int64)
    end_s = index.shifts.end.data[rows].astype(np.int64)
    local = pd.DatetimeIndex(pd.to_datetime(start_s, unit="s", utc=True)).tz_convert(zone)
    day = np.asarray(local.normalize().tz_localize(None).date)
    keep = (day >= first) & (day < last)
    rows, start_s, end_s = rows[keep], start_s[keep], end_s[keep]
    local = local[keep]
    acts = index.shifts.act.data[rows].astype(np.int64)
    places = open_places[rows].astype(np.float64)
    # Each shift's (label, share) targets.
    d_names = [*index.districts.names, UNKNOWN, ONLINE] if by_district else [""]
    if by_district:
        codes = index.activities.district.data[acts].astype(np.int64)
        district = np.where(
            index.activities.online.data[acts], len(d_names) - 1, np.where(codes < 0, len(d_names) - 2, codes)
        )
    else:
        district = np.zeros(len(rows), dtype=np.int64)
    owner: NDArray[np.int64]
    if group == "skill":
        lengths = index.activities.required.length.data[acts].astype(np.int64)
        holder, positions = index.activities.required.gather(acts.astype(np.int32))
        skill = index.activities.required.flat.data[positions].astype(np.int64)
        none = np.flatnonzero(lengths == 0)
        names = [*index.skills.names, ANY]
        owner = np.concatenate([holder.astype(np.int64), none])
        grp = np.concatenate([skill, np.full(none.size, len(names) - 1)])
        share = np.concatenate([1.0 / np.maximum(lengths[owner[: len(skill)]], 1), np.ones(none.size)])
    elif group == "category":
        owner = np.arange(len(rows), dtype=np.int64)
        grp = index.activities.cat.data[acts].astype(np.int64)
        names = list(index.categories.names)
        share = np.ones(len(rows))
    else:
        owner = np.arange(len(rows), dtype=np.int64)
        grp = np.zeros(len(rows), dtype=np.int64)
        names = [""]
        share = np.ones(len(rows))
    target = _label_codes(labels, d_names, names, district[owner], grp)
    # Hour by hour from the local hour the shift starts in.
    offset_s = (local.minute * 60 + local.second).to_numpy().astype(np.int64)
    hour0 = start_s - offset_s
    g_out, c_out, h_out = [], [], []
    longest = int(np.ceil((end_s - hour0).max() / 3600)) if len(rows) else 0
    for k in range(longest):
        a = np.maximum(start_s, hour0 + 3600 * k)
        b = np.minimum(end_s, hour0 + 3600 * (k + 1))
        covered = np.flatnonzero(b > a)
        if covered.size == 0:
            continue
        when = pd.DatetimeIndex(pd.to_datetime(a[covered], unit="s", utc=True)).tz_convert(zone)
        cell = (when.day_of_week * 24 + when.hour).to_numpy().astype(np.int64)
        hours = (b[covered] - a[covered]) / 3600.0 * places[covered]
        # Spread to each target of the shift.
        pick = np.isin(owner, covered)
        position = np.searchsorted(covered, owner[pick])
        g_out.append(target[pick])
        c_out.append(cell[position])
        h_out.append(hours[position] * share[pick])
    if not g_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(g_out), np.concatenate(c_out), np.concatenate(h_out)


def _add(
    out: list[tuple[int, int, float]],
    labels: _Labels,
    group: str | None,
    district: str,
    category: str,
    skills: list[str],
    start: datetime,
    end: datetime,
    places: int,
) -> None:
    if group == "skill":
        targets = [(labels.code(district, s), 1.0 / len(skills)) for s in skills] or [
            (labels.code(district, ANY), 1.0)
        ]
    elif group == "category":
        targets = [(labels.code(district, category), 1.0)]
    else:
        targets = [(labels.code(district, ""), 1.0)]
    t = start
    while t < end:
        step_end = min(end, (t + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0))
        cell = t.weekday() * 24 + t.hour
        hours = (step_end - t).total_seconds() / 3600 * places
        for g, share in targets:
            out.append((g, cell, hours * share))
        t = step_end


def _sort_key(column: pd.Series) -> pd.Series:
    if column.name == "weekday":
        return column.map({d: i for i, d in enumerate(WEEKDAYS)})
    return column


# ------------------------------------------------------------------------------ suggestions

URGENCY_WEIGHT = {"low": 0.5, "normal": 1.0, "high": 1.5, "urgent": 2.0}
WEEKDAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
WEEKDAY_NAMES_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def suggestions(
    index: MatchIndex,
    needs: Sequence[Need],
    *,
    first: date,
    last: date,
    tz: str = "Asia/Shanghai",
    limit: int = 20,
    min_volunteers: int = MIN_VOLUNTEERS,
) -> dict[str, list[dict[str, object]]]:
    """Ideas for new projects and for recruitment, by district × category × weekday.

    ``projects``: cells where open needs ask for hours and volunteers who fit the category are
    free beyond the shifts already posted there (idle supply), ranked by the hours a project
    could fill (times the needs' highest urgency). ``recruitment``: cells where open needs ask
    for more than the idle supply (or no volunteers fit at all), ranked by the shortfall. Each
    carries its evidence as numbers and a sentence."""
    keys = ["district", "category", "weekday"]
    cells = _table(index, needs, by=keys, first=first, last=last, tz=tz, min_volunteers=min_volunteers,
                   with_posted=True)  # fmt: skip
    cells["need_hours"] = (cells["demand_hours"] - cells["posted_hours"]).round(2)
    cells = cells[cells["need_hours"] > 1e-9]
    zone = ZoneInfo(tz)
    count: dict[tuple[str, str, str], int] = {}
    urgency: dict[tuple[str, str, str], float] = {}
    for need in needs:
        if need.status != "open":
            continue
        days = {
            s.astimezone(zone).weekday()
            for s, _ in need.occurrences()
            if first <= s.astimezone(zone).date() < last
        }
        for day in days:
            key = (need.district or UNKNOWN, category_key(need.category), WEEKDAYS[day])
            count[key] = count.get(key, 0) + 1
            urgency[key] = max(urgency.get(key, 0.0), URGENCY_WEIGHT[need.urgency])
    projects: list[dict[str, object]] = []
    recruitment: list[dict[str, object]] = []
    for _, c in cells.iterrows():
        key = (str(c["district"]), str(c["category"]), str(c["weekday"]))
        when = f"{WEEKDAY_NAMES[WEEKDAYS.index(key[2])]} in {key[0]}"
        when_zh = f"{key[0]}每{WEEKDAY_NAMES_ZH[WEEKDAYS.index(key[2])]}"
        needed = float(c["need_hours"])
        n_needs = count.get(key, 0)
        hidden = bool(c["suppressed"])
        idle = 0.0 if hidden else max(float(c["supply_hours"]) - float(c["posted_hours"]), 0.0)
        volunteers = 0 if hidden else int(c["volunteers"])
        base = {"district": key[0], "category": key[1], "weekday": key[2], "open_needs": n_needs,
                "need_hours": round(needed, 1)}  # fmt: skip
        if idle > 0 and volunteers >= min_volunteers:
            fill = min(idle, needed)
            projects.append(
                base
                | {
                    "volunteers": volunteers,
                    "idle_hours": round(idle, 1),
                    "score": round(fill * urgency.get(key, 1.0), 1),
                    "evidence": f"{when}: {volunteers} volunteers who fit {key[1]} are free for {idle:.0f} h "
                    f"beyond the shifts already posted; {_needs(n_needs)} {_ask(n_needs)} for {needed:.0f} h",
                    "evidence_zh": f"{when_zh}：{volunteers}名适合{category_label(key[1], 'zh')}的志愿者在已发布班次之外"
                    f"还有{idle:.0f}小时空闲；{n_needs}项未满足的需求需要{needed:.0f}小时",
                }
            )
        if idle < needed:
            short = needed - idle
            recruitment.append(
                base
                | {
                    "idle_hours": None if hidden else round(idle, 1),
                    "shortfall_hours": round(short, 1),
                    "score": round(short * urgency.get(key, 1.0), 1),
                    "evidence": f"{when}: {_needs(n_needs)} for {key[1]} {_ask(n_needs)} for {needed:.0f} h; "
                    + (
                        "fewer than five volunteers nearby fit"
                        if hidden or volunteers < min_volunteers
                        else f"volunteers nearby can give {idle:.0f} h"
                    )
                    + ": recruit",
                    "evidence_zh": f"{when_zh}：{n_needs}项{category_label(key[1], 'zh')}需求需要{needed:.0f}小时；"
                    + (
                        "附近适合的志愿者不足5人"
                        if hidden or volunteers < min_volunteers
                        else f"附近志愿者可提供{idle:.0f}小时"
                    )
                    + "：需要招募",
                }
            )

    def ranked(items: list[dict[str, object]]) -> list[dict[str, object]]:
        def key(s: dict[str, object]) -> tuple[float, str, str, str]:
            return (-float(str(s["score"])), str(s["district"]), str(s["category"]), str(s["weekday"]))

        return sorted(items, key=key)[:limit]

    return {"projects": ranked(projects), "recruitment": ranked(recruitment)}


def _needs(n: int) -> str:
    return "1 open need" if n == 1 else f"{n} open needs"


def _ask(n: int) -> str:
    return "asks" if n == 1 else "ask"


def district_centres(index: MatchIndex) -> dict[str, tuple[float, float]]:
    """Each district's centre (lat, lon): the mean direction of its volunteers' homes and its
    activities' places, for drawing cells on a map."""
    sums: dict[int, NDArray[np.float64]] = {}
    for codes, xyz, alive, has in (
        (index.volunteers.district.data[: index.volunteers.alive.n], index.volunteers.xyz.data[: index.volunteers.alive.n],
         index.volunteers.alive.data[: index.volunteers.alive.n], index.volunteers.home.data[: index.volunteers.alive.n]),
        (index.activities.district.data[: index.activities.alive.n], index.activities.xyz.data[: index.activities.alive.n],
         index.activities.alive.data[: index.activities.alive.n], ~index.activities.online.data[: index.activities.alive.n]),
    ):  # fmt: skip
        keep = alive & has & (codes >= 0)
        for code in np.unique(codes[keep]).tolist():
            total = xyz[keep & (codes == code)].astype(np.float64).sum(axis=0)
            sums[code] = sums.get(code, np.zeros(3)) + total
    out = {}
    for code, v in sums.items():
        x, y, z = v / np.linalg.norm(v)
        out[index.districts.name(code)] = (
            float(np.degrees(np.arcsin(z))),
            float(np.degrees(np.arctan2(y, x))),
        )
    return out
