"""Campaign allocation: fill many shifts at once, optimally, fairly and within every limit.

Ranking one posting at a time sends the same strong volunteers to every organiser and leaves the
last posts empty. Here the whole campaign is one integer programme over the eligible
(volunteer, shift) pairs that the ranking scored (so every hard rule of the core already holds):

    maximise   sum  gain(v, s) x(v, s)  -  STAFFING_PENALTY sum_s short(s)
                                        -  spread sum_v extra(v)  -  newcomer_cost given_away
    subject to sum_v x(v, s) <= open places of s                 (capacity)
               sum_v x(v, s) + short(s) >= minimum(s)            (minimum staffing; short = 0 if hard)
               sum_s x(v, s) <= max_shifts                        (per volunteer)
               sum_s x(v, s) - extra(v) <= 1                      (spread: shifts beyond the first)
               sum_{s in week w} hours(s) x(v, s) <= max_hours    (per volunteer and week)
               sum_{s in C} x(v, s) <= 1 for every set C of the volunteer's candidate shifts
                   that overlap pairwise once each is padded by the rest time (no double booking)
               sum_{newcomers} x(v, s) + given_away >= held       (places held for newcomers)
               x binary; short, extra, given_away >= 0

``gain`` is the score times (1 + the shift's priority), so high-priority posts are filled
first when people are scarce; ``held`` is ``newcomer_share`` of the campaign's places. It is
solved exactly by HiGHS (``scipy.optimize.milp``): first its linear relaxation, whose optimum is
usually whole already (then it is the integer optimum, proven), else by branch and bound; the
plan says whether optimality was proven. :func:`greedy` is the one-shift-at-a-time baseline it
is compared with; :func:`emergency` answers for one shift at short notice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from matcher.matching.fairness import gini
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import MAX_K, recommend_volunteers
from matcher.matching.scoring import Weights
from matcher.model.domain import Reason
from matcher.model.errors import ValidationError

STAFFING_PENALTY = 10.0
"""What one missing person below a shift's minimum costs, in score units (a score is at most 1):
minimum staffing comes before a better match elsewhere."""
NEWCOMER_PENALTY = 2.0
"""What one place held for newcomers but given to someone else costs, in score units times the
campaign's highest priority multiplier: more than any score difference, so a newcomer who can
take a held place gets it."""
NEWCOMER_HOURS = 20.0
"""Volunteers with fewer approved service hours than this are newcomers."""
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
    newcomer: bool = False
    """Little service history yet (under :data:`NEWCOMER_HOURS`): see ``Fairness.newcomer_share``."""
    reasons: tuple[Reason, ...] = ()
    distance_km: float | None = None


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


@dataclass(frozen=True, slots=True)
class Fairness:
    """How the load is shared, beside the per-volunteer :class:`Limits`.

    ``spread``: score units a volunteer's every shift beyond their first costs the plan, so a
    second shift goes to someone who already has one only when it is worth that much more than
    the next person's first (0 = off; 1 = a score is at most 1, so nobody gets two while anyone
    eligible has none). ``newcomer_share``: the share of the campaign's places held for
    newcomers; a held place goes to someone with more history only when no newcomer can take
    it. ``hard_minimum``: every shift's minimum staffing must be met (else the plan is refused,
    naming the shifts), rather than weighted at :data:`STAFFING_PENALTY` per missing person.
    """

    spread: float = 0.0
    newcomer_share: float = 0.0
    hard_minimum: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.spread <= 10:
            raise ValidationError("spread", "must be from 0 to 10 (score units)")
        if not 0 <= self.newcomer_share <= 1:
            raise ValidationError("newcomer_share", "must be from 0 to 1")


@dataclass(frozen=True)
class Plan:
    """A campaign plan with its figures: ``assignment_gini`` is over every candidate's number of
    assignments (0 when everyone has the same), ``newcomer_share`` the share of assignments that
    went to newcomers, ``below_minimum`` how many shifts stay under their minimum staffing."""

    assignments: list[Pair]
    unfilled: list[dict[str, object]]
    total_score: float
    fill_rate: float
    optimal: bool
    assignment_gini: float
    status: str
    newcomer_share: float = 0.0
    max_load: int = 0
    below_minimum: int = 0
    fairness: Fairness = Fairness()
    held_back: int = 0
    """Emergency mode: good candidates passed over because they were asked too often lately."""

    def figures(self) -> dict[str, Any]:
        """The plan's measures, without its assignments."""
        return {
            "total_score": self.total_score,
            "fill_rate": self.fill_rate,
            "assigned": len(self.assignments),
            "optimal": self.optimal,
            "solver_status": self.status,
            "assignment_gini": self.assignment_gini,
            "max_load": self.max_load,
            "newcomer_share": self.newcomer_share,
            "below_minimum": self.below_minimum,
            "held_back": self.held_back,
        }

    def to_json(self) -> dict[str, Any]:
        """The plan as the API and ``volmatch allocate --json`` give it: each assignment with its
        score parts and reasons (why this person here), each unfilled place with why."""
        return {
            "assignments": [
                {
                    "shift_id": a.shift_id,
                    "volunteer_id": a.volunteer_id,
                    "score": a.score,
                    "parts": dict(a.parts),
                    "newcomer": a.newcomer,
                    "reasons": [r.to_json() for r in a.reasons],
                }
                for a in self.assignments
            ],
            "unfilled": self.unfilled,
            **self.figures(),
            "fairness": asdict(self.fairness),
        }


def allocate(
    slots: Sequence[Slot],
    pairs: Sequence[Pair],
    limits: Limits = Limits(),
    fairness: Fairness = Fairness(),
    *,
    time_limit_s: float = 60.0,
    relax_first: bool = True,
) -> Plan:
    """The best plan (see the module docstring); ``relax_first=False`` goes straight to branch
    and bound."""
    by_id = {s.shift_id: s for s in slots}
    if len(by_id) < len(slots):
        raise ValidationError("shift_ids", "a shift is listed twice")
    if fairness.hard_minimum:
        _check_minimums(slots, pairs)
    usable = [p for p in pairs if p.shift_id in by_id and by_id[p.shift_id].places > 0]
    if not usable:
        return _plan(
            slots, [], pairs, optimal=True, status="no eligible volunteer for any shift", fairness=fairness
        )
    problem = _Problem(slots, usable, limits, fairness)
    # The relaxation first: capacities and per-person limits alone make a network problem whose
    # vertices are whole, and overlaps rarely spoil that. A whole relaxed optimum is the
    # integer optimum (nothing can beat the relaxation's bound), proven, at a fraction of the
    # branch-and-bound cost; otherwise branch and bound.
    if relax_first:
        relaxed = problem.solve(time_limit_s, integral=False)
        if relaxed.status == 0 and relaxed.x is not None and _whole(relaxed.x[: problem.n]):
            return _plan(slots, problem.chosen(relaxed.x), pairs, optimal=True,
                         status="optimal (the relaxation's optimum is whole)", fairness=fairness)  # fmt: skip
    result = problem.solve(time_limit_s, integral=True)
    if result.status == 2 and fairness.hard_minimum:
        raise ValidationError(
            "hard_minimum", "the shifts' minimum staffing cannot all be met at once by these volunteers "
            "within their limits: lower a minimum, add candidates, or make the minimums soft",
        )  # fmt: skip
    if result.x is None:
        return _plan(
            slots, [], pairs, optimal=False, status=f"no plan found: {result.message}", fairness=fairness
        )
    return _plan(slots, problem.chosen(result.x), pairs, optimal=result.status == 0,
                 status=str(result.message), fairness=fairness)  # fmt: skip


def _check_minimums(slots: Sequence[Slot], pairs: Sequence[Pair]) -> None:
    """A hard minimum no plan can meet, named before solving."""
    candidates: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        candidates[p.shift_id].add(p.volunteer_id)
    short = [s.shift_id for s in slots if len(candidates[s.shift_id]) < s.minimum]
    if short:
        raise ValidationError(
            "hard_minimum", f"fewer eligible volunteers than the minimum staffing for shifts {short[:20]}"
        )


class _Problem:
    """The integer programme of :func:`allocate` in the form HiGHS takes. Variables: one per
    pair (x), then per shift its shortfall below minimum, per volunteer with two or more
    candidate shifts their shifts beyond the first (when ``spread`` is on), and the places held
    for newcomers that went to others (when ``newcomer_share`` is on)."""

    def __init__(
        self, slots: Sequence[Slot], usable: Sequence[Pair], limits: Limits, fairness: Fairness
    ) -> None:
        self.usable = usable
        n = self.n = len(usable)
        m = len(slots)
        shift_index = {s.shift_id: i for i, s in enumerate(slots)}
        col_shift = np.array([shift_index[p.shift_id] for p in usable])
        person_index: dict[str, int] = {}
        col_person = np.array([person_index.setdefault(p.volunteer_id, len(person_index)) for p in usable])
        per_person = np.bincount(col_person)
        priority = np.array([s.priority for s in slots])
        gain = np.array([p.score for p in usable]) * (1.0 + priority[col_shift])
        places = np.array([s.places for s in slots], dtype=np.float64)
        minimum = np.array([s.minimum for s in slots], dtype=np.float64)
        blocks = _Blocks()
        blocks.variables(-gain, 0.0, 1.0)
        short = blocks.variables(np.full(m, STAFFING_PENALTY), 0.0, 0.0 if fairness.hard_minimum else minimum)
        cols = np.arange(n)
        blocks.rows(col_shift, cols, 1.0, m, -np.inf, places)  # capacity
        if minimum.any():
            blocks.rows(np.concatenate([col_shift, np.arange(m)]), np.concatenate([cols, short]), 1.0,
                        m, minimum, np.inf)  # fmt: skip
        # Per volunteer: only those with more candidate shifts than they may take need a row.
        over = per_person > limits.max_shifts
        if over.any():
            row_of = np.cumsum(over) - 1
            sel = over[col_person]
            blocks.rows(
                row_of[col_person[sel]], cols[sel], 1.0, int(over.sum()), -np.inf, float(limits.max_shifts)
            )
        if fairness.spread > 0:
            several = per_person > 1
            k = int(several.sum())
            if k:
                row_of = np.cumsum(several) - 1
                sel = several[col_person]
                extra = blocks.variables(np.full(k, fairness.spread), 0.0, np.inf)
                blocks.rows(np.concatenate([row_of[col_person[sel]], np.arange(k)]),
                            np.concatenate([cols[sel], extra]),
                            np.concatenate([np.ones(int(sel.sum())), -np.ones(k)]), k, -np.inf, 1.0)  # fmt: skip
        if fairness.newcomer_share > 0:
            held = round(fairness.newcomer_share * float(places.sum()))
            new = np.flatnonzero([p.newcomer for p in usable])
            if held:
                given_away = blocks.variables(
                    np.array([NEWCOMER_PENALTY * (1.0 + priority.max())]), 0.0, float(held)
                )
                blocks.rows(np.zeros(len(new) + 1, dtype=np.int64), np.concatenate([new, given_away]), 1.0,
                            1, float(held), np.inf)  # fmt: skip
        r, c, v, u = _person_constraints(usable, slots, col_shift, col_person, limits)
        if u:
            blocks.rows(np.array(r), np.array(c), np.array(v), len(u), -np.inf, np.array(u))
        self.blocks = blocks

    def solve(self, time_limit_s: float, *, integral: bool) -> OptimizeResult:
        b = self.blocks
        integrality = np.zeros(b.n_vars)
        if integral:
            integrality[: self.n] = 1
        return milp(
            b.cost(),
            constraints=b.constraint(),
            integrality=integrality,
            bounds=b.bounds(),
            options={
                "time_limit": time_limit_s,
                **({"mip_rel_gap": 0.0} if integral else {"presolve": False}),
            },
        )

    def chosen(self, x: NDArray[np.float64]) -> list[Pair]:
        return [self.usable[int(i)] for i in np.flatnonzero(x[: self.n] > 0.5)]


class _Blocks:
    """A linear programme assembled block by block: variables with their costs and bounds, and
    sparse rows ``lower <= A x <= upper``."""

    def __init__(self) -> None:
        self.n_vars = 0
        self._cost: list[NDArray[np.float64]] = []
        self._lo: list[NDArray[np.float64]] = []
        self._hi: list[NDArray[np.float64]] = []
        self._r: list[NDArray[np.int64]] = []
        self._c: list[NDArray[np.int64]] = []
        self._v: list[NDArray[np.float64]] = []
        self._row_lo: list[NDArray[np.float64]] = []
        self._row_hi: list[NDArray[np.float64]] = []
        self.n_rows = 0

    def variables(self, cost: NDArray[np.float64], lo: float | NDArray[np.float64],
                  hi: float | NDArray[np.float64]) -> NDArray[np.int64]:  # fmt: skip
        """New variables; their column numbers."""
        k = len(cost)
        self._cost.append(np.asarray(cost, dtype=np.float64))
        self._lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (k,)))
        self._hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (k,)))
        self.n_vars += k
        return np.arange(self.n_vars - k, self.n_vars)

    def rows(self, r: NDArray[np.int64], c: NDArray[np.int64], v: float | NDArray[np.float64], k: int,
             lo: float | NDArray[np.float64], hi: float | NDArray[np.float64]) -> None:  # fmt: skip
        """``k`` new rows; entry ``(r[i], c[i])`` holds ``v[i]`` (rows numbered from 0 here)."""
        self._r.append(np.asarray(r, dtype=np.int64) + self.n_rows)
        self._c.append(np.asarray(c, dtype=np.int64))
        self._v.append(np.broadcast_to(np.asarray(v, dtype=np.float64), (len(r),)))
        self._row_lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (k,)))
        self._row_hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (k,)))
        self.n_rows += k

    def cost(self) -> NDArray[np.float64]:
        return np.concatenate(self._cost)

    def bounds(self) -> Bounds:
        return Bounds(np.concatenate(self._lo), np.concatenate(self._hi))

    def constraint(self) -> LinearConstraint:
        a = sparse.csr_matrix(
            (np.concatenate(self._v), (np.concatenate(self._r), np.concatenate(self._c))),
            shape=(self.n_rows, self.n_vars),
        )
        return LinearConstraint(a, np.concatenate(self._row_lo), np.concatenate(self._row_hi))


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
    slots: Sequence[Slot],
    chosen: Sequence[Pair],
    pairs: Sequence[Pair],
    *,
    optimal: bool,
    status: str,
    fairness: Fairness | None = None,
) -> Plan:
    """The plan's figures and, for each place left empty, why."""
    here: dict[str, set[str]] = defaultdict(set)
    for p in chosen:
        here[p.shift_id].add(p.volunteer_id)
    candidates: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        candidates[p.shift_id].add(p.volunteer_id)
    used = {p.volunteer_id for p in chosen}
    unfilled = []
    below_minimum = 0
    for s in slots:
        mine, got = candidates[s.shift_id], here[s.shift_id]
        below_minimum += len(got) < s.minimum
        left = s.places - len(got)
        if left <= 0:
            continue
        if not mine:
            reason = "nobody eligible within reach"
        elif mine <= got:
            reason = "fewer eligible volunteers than places"
        elif mine - got <= used:
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
        newcomer_share=round(sum(p.newcomer for p in chosen) / len(chosen), 4) if chosen else 0.0,
        max_load=max(counts, default=0),
        below_minimum=below_minimum,
        fairness=fairness or Fairness(),
    )


CANDIDATES_PER_PLACE = 10
"""How many ranked candidates per open place a campaign considers for each shift."""


def campaign_shifts(
    index: MatchIndex, *, now: datetime, activity_ids: Sequence[str] = (), shift_ids: Sequence[str] = ()
) -> list[str]:
    """The shifts a campaign covers: the listed ones (each must not have started) and every open
    shift of the listed activities, each once, in order."""
    now_s = int(now.timestamp())
    out: dict[str, None] = {}
    for shift_id in shift_ids:
        row = index.shift_row(shift_id)
        if not index.shifts.alive.data[row] or index.shifts.start.data[row] <= now_s:
            raise ValidationError(
                "shift_ids", f"shift {shift_id!r} has started or is withdrawn: leave it out"
            )
        out[shift_id] = None
    for activity_id in activity_ids:
        for row in index.open_shift_rows(index.activity_row(activity_id), now_s):
            out[index.shifts.ids[row]] = None
    return list(out)


def campaign(
    index: MatchIndex,
    shift_ids: Sequence[str],
    *,
    now: datetime,
    per_place: int = CANDIDATES_PER_PLACE,
    weights: Weights | None = None,
    distance_mode: str = "exact",
    minimum: Mapping[str, int] | None = None,
    priority: Mapping[str, float] | None = None,
    newcomer_hours: float = NEWCOMER_HOURS,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[list[Slot], list[Pair]]:
    """The shifts (see :func:`campaign_shifts`) with their open places and, for each, its best
    ``per_place`` candidates per open place from the ranking (every hard rule applied: travel,
    time, skills, age, bookings; people already placed on a shift keep their places and are not
    candidates again). ``minimum`` is a shift's total staffing floor (places already taken
    count towards it); ``priority`` from 0 to 10."""
    minimum, priority = minimum or {}, priority or {}
    unknown = (set(minimum) | set(priority)) - set(shift_ids)
    if unknown:
        raise ValidationError(
            "options", f"minimum or priority given for shifts not in the campaign: {sorted(unknown)[:10]}"
        )
    slots: list[Slot] = []
    pairs: list[Pair] = []
    for done, shift_id in enumerate(shift_ids, 1):
        slot = _slot(index, shift_id, minimum.get(shift_id, 0), priority.get(shift_id, 0.0))
        slots.append(slot)
        if slot.places:
            k = min(slot.places * per_place, MAX_K)
            pairs.extend(_candidates(index, shift_id, now, k, weights, distance_mode, newcomer_hours))
        progress(done, len(shift_ids))
    return slots, pairs


def _slot(index: MatchIndex, shift_id: str, minimum: int, priority: float) -> Slot:
    """A shift's open places (capacity less the places taken) and what is left of its minimum."""
    s_row = index.shift_row(shift_id)
    taken, capacity = int(index.shifts.taken.data[s_row]), int(index.shifts.cap.data[s_row])
    if minimum > capacity:
        raise ValidationError(
            "minimum", f"shift {shift_id!r} has {capacity} places: its minimum cannot be {minimum}"
        )
    places = max(capacity - taken, 0)
    floor = min(max(minimum - taken, 0), places)
    return Slot(
        shift_id,
        int(index.shifts.start.data[s_row]),
        int(index.shifts.end.data[s_row]),
        places,
        floor,
        priority,
    )


def _candidates(
    index: MatchIndex,
    shift_id: str,
    now: datetime,
    k: int,
    weights: Weights | None,
    distance_mode: str,
    newcomer_hours: float,
) -> list[Pair]:
    ranking = recommend_volunteers(
        index, index.activity_of_shift(shift_id), now=now, shift_id=shift_id, k=k,
        weights=weights, distance_mode=distance_mode,
    )  # fmt: skip
    hours = index.volunteers.hours.data
    return [
        Pair(
            m.id,
            shift_id,
            m.score,
            dict(m.parts),
            newcomer=bool(hours[index.volunteer_row(m.id)] < newcomer_hours),
            reasons=m.reasons,
            distance_km=m.distance_km,
        )
        for m in ranking.matches
    ]


ASK_WINDOW_DAYS = 7
"""The window over which emergency mode counts how often each volunteer was asked."""


def emergency(
    index: MatchIndex,
    shift_id: str,
    *,
    now: datetime,
    asked: Mapping[str, int],
    ask_cap: int = 2,
    page: int | None = None,
    weights: Weights | None = None,
    distance_mode: str = "exact",
) -> Plan:
    """A shift at short notice: its best available volunteers at once, without the campaign's
    programme (one shift alone: the best ``page`` candidates are the optimum). Nobody asked
    ``ask_cap`` times or more lately (``asked``: invitations per volunteer in the last
    :data:`ASK_WINDOW_DAYS` days) is asked again, so the same people are not paged every time.
    ``page`` (default: the open places) may exceed the places when many are expected to say no."""
    if ask_cap < 1:
        raise ValidationError("ask_cap", "must be at least 1")
    slot = _slot(index, shift_id, 0, 0.0)
    if slot.places == 0 and page is None:
        raise ValidationError(
            "shift_id", f"shift {shift_id!r} is full: give page to ask people for its waitlist"
        )
    want = slot.places if page is None else page
    if not 1 <= want <= MAX_K:
        raise ValidationError("page", f"must be from 1 to {MAX_K}")
    capped = {v for v, n in asked.items() if n >= ask_cap}
    k = min(2 * want, MAX_K)
    while True:  # a longer list only when too many of the best were asked too often
        found = _candidates(index, shift_id, now, k, weights, distance_mode, NEWCOMER_HOURS)
        kept = [p for p in found if p.volunteer_id not in capped][:want]
        if len(kept) == want or len(found) < k or k == MAX_K:
            break
        k = min(4 * k, MAX_K)
    last = found.index(kept[-1]) if len(kept) == want else len(found) - 1
    held_back = sum(p.volunteer_id in capped for p in found[: last + 1])
    plan = _plan([replace(slot, places=want)], kept, kept, optimal=True,
                 status=f"emergency: the best {len(kept)} available")  # fmt: skip
    if held_back and plan.unfilled:
        plan.unfilled[0]["reason"] = (
            f"the others eligible were asked {ask_cap} times or more in {ASK_WINDOW_DAYS} days"
        )
    elif plan.unfilled:
        plan.unfilled[0]["reason"] = "nobody else eligible within reach"
    return replace(plan, held_back=held_back)
