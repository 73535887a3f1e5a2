"""Campaign allocation: fill many shifts at once, optimally and within every limit.

Ranking one posting at a time sends the same strong volunteers to every organiser and leaves the
last posts empty. Here the whole campaign is one integer programme over the eligible
(volunteer, shift) pairs that the ranking scored (so every hard rule of the core already holds):

    maximise   sum  score(v, s) * x(v, s)  -  STAFFING_PENALTY * short(s)
    subject to sum_v x(v, s) <= open places of s                 (capacity)
               sum_v x(v, s) + short(s) >= minimum(s)            (minimum staffing, soft)
               sum_s x(v, s) <= max_shifts                        (per volunteer)
               sum_{s in week w} hours(s) x(v, s) <= max_hours    (per volunteer and week)
               sum_{s in C} x(v, s) <= 1 for every set C of the volunteer's candidate shifts
                   that overlap pairwise once each is padded by the rest time (no double booking)
               x binary, short >= 0

Shift ``priority`` multiplies the scores of its pairs (1 + priority), so high-priority posts
are filled first when people are scarce. It is solved exactly by HiGHS (``scipy.optimize.milp``):
first its linear relaxation, whose optimum is usually whole already (then it is the integer
optimum, proven), else by branch and bound; the plan says whether optimality was proven. :func:`greedy` is the one-shift-at-a-time
baseline it is compared with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from matcher.errors import ValidationError
from matcher.evaluation import gini
from matcher.index import MatchIndex
from matcher.ranking import MAX_K, recommend_volunteers

STAFFING_PENALTY = 10.0
"""What one missing person below a shift's minimum costs, in score units (a score is at most 1):
minimum staffing comes before a better match elsewhere."""
WEEK_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class Slot:
    """A shift to fill: its open places, an optional minimum staffing and a priority."""

    shift_id: str
    starts_s: int
    ends_s: int
    places: int
    minimum: int = 0
    priority: float = 0.0

    def __post_init__(self) -> None:
        if self.ends_s <= self.starts_s:
            raise ValidationError("ends", f"shift {self.shift_id!r} ends before it starts")
        if self.places < 0 or self.minimum < 0 or self.minimum > self.places:
            raise ValidationError("minimum", f"shift {self.shift_id!r}: 0 <= minimum <= places")
        if not 0 <= self.priority <= 10:
            raise ValidationError("priority", "must be from 0 to 10")


@dataclass(frozen=True, slots=True)
class Pair:
    """An eligible volunteer for a shift, with the ranking's score and parts."""

    volunteer_id: str
    shift_id: str
    score: float
    parts: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one volunteer may be given in one campaign."""

    max_shifts: int = 2
    max_hours_per_week: float | None = None
    rest_hours: float = 0.0

    def __post_init__(self) -> None:
        if self.max_shifts < 1:
            raise ValidationError("max_shifts", "must be at least 1")
        if self.max_hours_per_week is not None and self.max_hours_per_week <= 0:
            raise ValidationError("max_hours_per_week", "must be positive")
        if not 0 <= self.rest_hours <= 72:
            raise ValidationError("rest_hours", "must be from 0 to 72")


@dataclass(frozen=True)
class Plan:
    assignments: list[Pair]
    unfilled: list[dict[str, object]]
    total_score: float
    fill_rate: float
    optimal: bool
    assignment_gini: float
    status: str


def allocate(
    slots: Sequence[Slot],
    pairs: Sequence[Pair],
    limits: Limits = Limits(),
    *,
    time_limit_s: float = 60.0,
    relax_first: bool = True,
) -> Plan:
    """The best plan (see the module docstring); ``relax_first=False`` goes straight to branch
    and bound."""
    by_id = {s.shift_id: s for s in slots}
    if len(by_id) < len(slots):
        raise ValidationError("shift_ids", "a shift is listed twice")
    usable = [p for p in pairs if p.shift_id in by_id and by_id[p.shift_id].places > 0]
    if not usable:
        return _plan(slots, [], pairs, optimal=True, status="no eligible volunteer for any shift")
    n = len(usable)
    shift_index = {s.shift_id: i for i, s in enumerate(slots)}
    col_shift = np.array([shift_index[p.shift_id] for p in usable])
    people = sorted({p.volunteer_id for p in usable})
    person_index = {v: i for i, v in enumerate(people)}
    col_person = np.array([person_index[p.volunteer_id] for p in usable])
    priority = np.array([slots[i].priority for i in col_shift])
    gain = np.array([p.score for p in usable]) * (1.0 + priority)
    m = len(slots)
    # Variables: x (n pairs) then short (m shifts).
    cost = np.concatenate([-gain, np.full(m, STAFFING_PENALTY)])
    rows: list[sparse.spmatrix] = []
    lower: list[NDArray[np.float64]] = []
    upper: list[NDArray[np.float64]] = []
    x_by_shift = sparse.csr_matrix((np.ones(n), (col_shift, np.arange(n))), shape=(m, n))
    eye = sparse.identity(m, format="csr")
    rows.append(sparse.hstack([x_by_shift, sparse.csr_matrix((m, m))]))
    lower.append(np.full(m, -np.inf))
    upper.append(np.array([s.places for s in slots], dtype=np.float64))
    rows.append(sparse.hstack([x_by_shift, eye]))
    lower.append(np.array([s.minimum for s in slots], dtype=np.float64))
    upper.append(np.full(m, np.inf))
    x_by_person = sparse.csr_matrix((np.ones(n), (col_person, np.arange(n))), shape=(len(people), n))
    rows.append(sparse.hstack([x_by_person, sparse.csr_matrix((len(people), m))]))
    lower.append(np.full(len(people), -np.inf))
    upper.append(np.full(len(people), float(limits.max_shifts)))
    extra_r, extra_c, extra_v, extra_u = _person_constraints(usable, slots, col_shift, col_person, limits)
    if extra_u:
        k = len(extra_u)
        rows.append(sparse.csr_matrix((extra_v, (extra_r, extra_c)), shape=(k, n + m)))
        lower.append(np.full(k, -np.inf))
        upper.append(np.array(extra_u, dtype=np.float64))
    constraint = LinearConstraint(
        sparse.vstack(rows, format="csr"), np.concatenate(lower), np.concatenate(upper)
    )
    integrality = np.concatenate([np.ones(n), np.zeros(m)])
    bounds = Bounds(
        np.zeros(n + m), np.concatenate([np.ones(n), np.array([s.minimum for s in slots], float)])
    )
    # The relaxation first: capacities and per-person limits alone make a network problem whose
    # vertices are whole, and overlaps rarely spoil that. A whole relaxed optimum is the
    # integer optimum (nothing can beat the relaxation's bound), proven, at a fraction of the
    # branch-and-bound cost; otherwise branch and bound.
    relaxed = (
        milp(
            cost,
            constraints=constraint,
            integrality=np.zeros(n + m),
            bounds=bounds,
            options={"time_limit": time_limit_s},
        )
        if relax_first
        else None
    )
    if relaxed is not None and relaxed.status == 0 and relaxed.x is not None and _whole(relaxed.x[:n]):
        chosen = [usable[i] for i in np.flatnonzero(relaxed.x[:n] > 0.5)]
        return _plan(slots, chosen, pairs, optimal=True, status="optimal (the relaxation's optimum is whole)")
    result = milp(cost, constraints=constraint, integrality=integrality, bounds=bounds,
                  options={"time_limit": time_limit_s, "mip_rel_gap": 0.0})  # fmt: skip
    if result.x is None:
        return _plan(slots, [], pairs, optimal=False, status=f"no plan found: {result.message}")
    chosen = [usable[i] for i in np.flatnonzero(result.x[:n] > 0.5)]
    return _plan(slots, chosen, pairs, optimal=result.status == 0, status=str(result.message))


def _whole(x: NDArray[np.float64], tolerance: float = 1e-7) -> bool:
    return bool(np.all((x < tolerance) | (x > 1 - tolerance)))


def _person_constraints(
    usable: Sequence[Pair],
    slots: Sequence[Slot],
    col_shift: NDArray[np.int64],
    col_person: NDArray[np.int64],
    limits: Limits,
) -> tuple[list[int], list[int], list[float], list[float]]:
    """Rows for each volunteer's overlapping shifts (one per maximal set that overlaps pairwise,
    found by a sweep over start and end times) and weekly hours."""
    r: list[int] = []
    c: list[int] = []
    v: list[float] = []
    u: list[float] = []
    rest = int(limits.rest_hours * 3600)
    columns: dict[int, list[int]] = defaultdict(list)
    for j, person in enumerate(col_person.tolist()):
        columns[person].append(j)
    for cols in columns.values():
        if len(cols) < 2 and limits.max_hours_per_week is None:
            continue
        # Intervals padded by the rest time: two that meet must not both be chosen.
        events = sorted(
            [(slots[col_shift[j]].starts_s, 1, j) for j in cols]
            + [(slots[col_shift[j]].ends_s + rest, 0, j) for j in cols]
        )  # an end before a start at the same instant: back-to-back is allowed
        active: set[int] = set()
        last_added: set[int] = set()
        for _, is_start, j in events:
            if is_start:
                active.add(j)
                last_added = set(active)
                continue
            if len(last_added) > 1:  # the first end after a start closes a maximal clique
                row = len(u)
                for k in sorted(last_added):
                    r.append(row)
                    c.append(k)
                    v.append(1.0)
                u.append(1.0)
            last_added = set()
            active.discard(j)
        if limits.max_hours_per_week is not None:
            weeks: dict[int, list[int]] = defaultdict(list)
            for j in cols:
                weeks[(slots[col_shift[j]].starts_s + 3 * 86400) // WEEK_S].append(j)  # Monday-based weeks
            for members in weeks.values():
                row = len(u)
                for j in members:
                    s = slots[col_shift[j]]
                    r.append(row)
                    c.append(j)
                    v.append((s.ends_s - s.starts_s) / 3600.0)
                u.append(limits.max_hours_per_week)
    return r, c, v, u


def greedy(slots: Sequence[Slot], pairs: Sequence[Pair], limits: Limits = Limits()) -> Plan:
    """The baseline: each shift in turn (in the order given) takes its best candidates who are
    still free, within the same limits."""
    by_shift: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_shift[p.shift_id].append(p)
    taken: dict[str, list[Slot]] = defaultdict(list)
    rest = int(limits.rest_hours * 3600)
    chosen: list[Pair] = []
    for s in slots:
        filled = 0
        for p in sorted(by_shift.get(s.shift_id, []), key=lambda q: (-q.score, q.volunteer_id)):
            if filled == s.places:
                break
            mine = taken[p.volunteer_id]
            if len(mine) >= limits.max_shifts:
                continue
            if any(o.starts_s < s.ends_s + rest and s.starts_s < o.ends_s + rest for o in mine):
                continue
            if limits.max_hours_per_week is not None:
                week = (s.starts_s + 3 * 86400) // WEEK_S
                hours = sum(
                    (o.ends_s - o.starts_s) / 3600 for o in mine if (o.starts_s + 3 * 86400) // WEEK_S == week
                )
                if hours + (s.ends_s - s.starts_s) / 3600 > limits.max_hours_per_week + 1e-9:
                    continue
            mine.append(s)
            chosen.append(p)
            filled += 1
    return _plan(slots, chosen, pairs, optimal=False, status="greedy")


def _plan(
    slots: Sequence[Slot], chosen: Sequence[Pair], pairs: Sequence[Pair], *, optimal: bool, status: str
) -> Plan:
    """The plan's figures and, for each place left empty, why."""
    per_shift: dict[str, int] = defaultdict(int)
    for p in chosen:
        per_shift[p.shift_id] += 1
    candidates: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        candidates[p.shift_id].add(p.volunteer_id)
    used = {p.volunteer_id for p in chosen}
    unfilled = []
    for s in slots:
        left = s.places - per_shift[s.shift_id]
        if left <= 0:
            continue
        mine = candidates[s.shift_id]
        here = {p.volunteer_id for p in chosen if p.shift_id == s.shift_id}
        if not mine:
            reason = "nobody eligible within reach"
        elif mine <= here:
            reason = "fewer eligible volunteers than places"
        elif mine - here <= used:
            reason = "everyone else eligible is used elsewhere"
        else:
            reason = "the eligible volunteers left would break their limits (overlap, rest, hours, shifts)"
        unfilled.append({"shift_id": s.shift_id, "places": left, "reason": reason})
    places = sum(s.places for s in slots)
    load: dict[str, int] = {p.volunteer_id: 0 for p in pairs}
    for p in chosen:
        load[p.volunteer_id] += 1
    counts = list(load.values())
    return Plan(
        assignments=sorted(chosen, key=lambda p: (p.shift_id, -p.score, p.volunteer_id)),
        unfilled=unfilled,
        total_score=round(float(sum(p.score for p in chosen)), 6),
        fill_rate=round(len(chosen) / places, 4) if places else 1.0,
        optimal=optimal,
        assignment_gini=round(gini(counts), 4) if counts else 0.0,
        status=status,
    )


CANDIDATES_PER_PLACE = 10
"""How many ranked candidates per open place a campaign considers for each shift."""


def campaign(
    index: MatchIndex,
    activity_ids: Sequence[str],
    *,
    now: datetime,
    per_place: int = CANDIDATES_PER_PLACE,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[list[Slot], list[Pair]]:
    """The open shifts of some activities and, for each, its best ``per_place`` candidates per
    open place from the ranking (every hard rule applied: travel, time, skills, age, bookings)."""
    slots: list[Slot] = []
    pairs: list[Pair] = []
    rows = [
        (a, s_row)
        for a in activity_ids
        for s_row in index.open_shift_rows(index.activity_row(a), int(now.timestamp()))
    ]
    for done, (activity_id, s_row) in enumerate(rows, 1):
        places = int(index.s_cap.data[s_row]) - int(index.s_taken.data[s_row])
        shift_id = index.s_ids[s_row]
        slots.append(Slot(shift_id, int(index.s_start.data[s_row]), int(index.s_end.data[s_row]), places))
        k = min(places * per_place, MAX_K)
        for m in recommend_volunteers(index, activity_id, now=now, shift_id=shift_id, k=k).matches:
            pairs.append(Pair(m.id, shift_id, m.score, dict(m.parts)))
        progress(done, len(rows))
    return slots, pairs
