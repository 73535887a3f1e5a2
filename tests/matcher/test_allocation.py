"""Campaign allocation: on small random campaigns the plan equals a brute-force optimum and never
breaks a limit; greedy leaves a post empty that the plan fills."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.allocation import STAFFING_PENALTY, Limits, Pair, Slot, allocate, greedy

H = 3600


def feasible(chosen: tuple[Pair, ...], slots: dict[str, Slot], limits: Limits) -> bool:
    per_shift: dict[str, int] = {}
    per_person: dict[str, list[Slot]] = {}
    for p in chosen:
        per_shift[p.shift_id] = per_shift.get(p.shift_id, 0) + 1
        per_person.setdefault(p.volunteer_id, []).append(slots[p.shift_id])
    if any(n > slots[s].places for s, n in per_shift.items()):
        return False
    rest = int(limits.rest_hours * H)
    for mine in per_person.values():
        if len(mine) > limits.max_shifts:
            return False
        for a, b in itertools.combinations(mine, 2):
            if a.starts_s < b.ends_s + rest and b.starts_s < a.ends_s + rest:
                return False
        if limits.max_hours_per_week is not None:
            weeks: dict[int, float] = {}
            for s in mine:
                w = (s.starts_s + 3 * 86400) // (7 * 86400)
                weeks[w] = weeks.get(w, 0.0) + (s.ends_s - s.starts_s) / H
            if any(h > limits.max_hours_per_week + 1e-9 for h in weeks.values()):
                return False
    return True


def objective(chosen: tuple[Pair, ...], slots: dict[str, Slot]) -> float:
    total = sum(p.score * (1 + slots[p.shift_id].priority) for p in chosen)
    for s in slots.values():
        got = sum(1 for p in chosen if p.shift_id == s.shift_id)
        total -= STAFFING_PENALTY * max(s.minimum - got, 0)
    return total


campaigns = st.integers(2, 4).flatmap(
    lambda n_shifts: st.tuples(
        st.lists(
            st.tuples(st.integers(0, 10), st.integers(1, 4), st.integers(1, 2), st.integers(0, 1), st.sampled_from([0.0, 1.0])),
            min_size=n_shifts, max_size=n_shifts,
        ),
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, n_shifts - 1), st.integers(1, 100)),
            min_size=1, max_size=11, unique_by=lambda t: (t[0], t[1]),
        ),
        st.integers(1, 2), st.sampled_from([None, 4.0, 6.0]), st.sampled_from([0.0, 1.0]),
    )
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(campaigns)
def test_the_plan_is_a_brute_force_optimum_and_breaks_no_limit(campaign: tuple) -> None:  # type: ignore[type-arg]
    shapes, raw_pairs, max_shifts, max_hours, rest = campaign
    slots = [
        Slot(f"s{i}", start * H, (start + length) * H, places, min(minimum, places), priority)
        for i, (start, length, places, minimum, priority) in enumerate(shapes)
    ]
    pairs = [Pair(f"v{v}", f"s{s}", score / 100) for v, s, score in raw_pairs]
    limits = Limits(max_shifts=max_shifts, max_hours_per_week=max_hours, rest_hours=rest)
    by_id = {s.shift_id: s for s in slots}
    best = max(
        objective(subset, by_id)
        for r in range(len(pairs) + 1)
        for subset in itertools.combinations(pairs, r)
        if feasible(subset, by_id, limits)
    )
    for relax_first in (True, False):  # the relaxation's whole optimum, and branch and bound
        plan = allocate(slots, pairs, limits, relax_first=relax_first)
        assert plan.optimal
        chosen = tuple(plan.assignments)
        assert feasible(chosen, by_id, limits)
        assert objective(chosen, by_id) == pytest.approx(best, abs=1e-6)
    assert greedy(slots, pairs, limits).total_score <= plan.total_score + 1e-9 or any(
        s.minimum or s.priority for s in slots
    )


def test_greedy_leaves_a_post_empty_that_the_plan_fills() -> None:
    # Ana is the best match for both posts, Bo can only do the first: greedy gives Ana the first.
    slots = [Slot("first-aid", 0, 4 * H, 1), Slot("water-station", 0, 4 * H, 1)]
    pairs = [Pair("ana", "first-aid", 0.9), Pair("bo", "first-aid", 0.8), Pair("ana", "water-station", 0.7)]
    g = greedy(slots, pairs, Limits(max_shifts=1))
    p = allocate(slots, pairs, Limits(max_shifts=1))
    assert g.fill_rate == 0.5 and g.unfilled[0]["shift_id"] == "water-station"
    assert g.unfilled[0]["reason"] == "everyone else eligible is used elsewhere"
    assert p.fill_rate == 1.0 and p.unfilled == [] and p.optimal
    assert {(a.volunteer_id, a.shift_id) for a in p.assignments} == {
        ("bo", "first-aid"),
        ("ana", "water-station"),
    }
    assert p.total_score == pytest.approx(1.5) and g.total_score == pytest.approx(0.9)


def test_unfilled_places_say_why() -> None:
    slots = [Slot("a", 0, H, 2), Slot("b", 0, H, 1)]
    plan = allocate(slots, [Pair("v1", "a", 0.5)], Limits())
    reasons = {u["shift_id"]: u["reason"] for u in plan.unfilled}
    assert reasons == {"a": "fewer eligible volunteers than places", "b": "nobody eligible within reach"}
