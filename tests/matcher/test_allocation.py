"""Campaign allocation: on small random campaigns the plan equals a brute-force optimum and never
breaks a limit; greedy leaves a post empty that the plan fills."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.matching.index import MatchIndex
from matcher.model.domain import World
from matcher.model.errors import ValidationError
from matcher.model.skills import Taxonomy
from matcher.operations import allocation
from matcher.operations.allocation import (
    NEWCOMER_PENALTY,
    STAFFING_PENALTY,
    Fairness,
    Limits,
    Pair,
    Slot,
    allocate,
    greedy,
)
from tests.conftest import CST, activity, saturday_shift, volunteer

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


def objective(chosen: tuple[Pair, ...], slots: dict[str, Slot], fairness: Fairness | None = None) -> float:
    """The plan's worth as the issue states it, written out directly: scores times priority,
    less the shortfalls below minimum staffing, the shifts beyond each volunteer's first (spread)
    and the places held for newcomers that went to others."""
    fairness = fairness or Fairness()
    total = sum(p.score * (1 + slots[p.shift_id].priority) for p in chosen)
    for s in slots.values():
        got = sum(1 for p in chosen if p.shift_id == s.shift_id)
        total -= STAFFING_PENALTY * max(s.minimum - got, 0)
    load = Counter(p.volunteer_id for p in chosen)
    total -= fairness.spread * sum(n - 1 for n in load.values())
    held = round(fairness.newcomer_share * sum(s.places for s in slots.values()))
    top = 1 + max(s.priority for s in slots.values())
    total -= NEWCOMER_PENALTY * top * max(held - sum(p.newcomer for p in chosen), 0)
    return total


def meets_minimums(chosen: tuple[Pair, ...], slots: dict[str, Slot]) -> bool:
    got = Counter(p.shift_id for p in chosen)
    return all(got[s.shift_id] >= s.minimum for s in slots.values())


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
        st.builds(Fairness, spread=st.sampled_from([0.0, 0.6]), newcomer_share=st.sampled_from([0.0, 0.5]),
                  hard_minimum=st.booleans()),
    )
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(campaigns)
def test_the_plan_is_a_brute_force_optimum_and_breaks_no_limit(campaign: tuple) -> None:  # type: ignore[type-arg]
    shapes, raw_pairs, max_shifts, max_hours, rest, fairness = campaign
    slots = [
        Slot(f"s{i}", start * H, (start + length) * H, places, min(minimum, places), priority)
        for i, (start, length, places, minimum, priority) in enumerate(shapes)
    ]
    # v0 and v2 are newcomers.
    pairs = [Pair(f"v{v}", f"s{s}", score / 100, newcomer=v % 2 == 0) for v, s, score in raw_pairs]
    limits = Limits(max_shifts=max_shifts, max_hours_per_week=max_hours, rest_hours=rest)
    by_id = {s.shift_id: s for s in slots}
    allowed = [
        subset
        for r in range(len(pairs) + 1)
        for subset in itertools.combinations(pairs, r)
        if feasible(subset, by_id, limits) and (not fairness.hard_minimum or meets_minimums(subset, by_id))
    ]
    for relax_first in (True, False):  # the relaxation's whole optimum, and branch and bound
        if not allowed:
            with pytest.raises(ValidationError, match="minimum"):
                allocate(slots, pairs, limits, fairness, relax_first=relax_first)
            continue
        plan = allocate(slots, pairs, limits, fairness, relax_first=relax_first)
        assert plan.optimal
        chosen = tuple(plan.assignments)
        assert all(p in pairs for p in chosen)  # only eligible pairs (the ranking's candidates)
        assert feasible(chosen, by_id, limits)
        assert not fairness.hard_minimum or meets_minimums(chosen, by_id)
        best = max(objective(subset, by_id, fairness) for subset in allowed)
        assert objective(chosen, by_id, fairness) == pytest.approx(best, abs=1e-6)
        assert plan.max_load == max(Counter(p.volunteer_id for p in chosen).values(), default=0)
    if allowed and fairness == Fairness() and not any(s.minimum or s.priority for s in slots):
        assert greedy(slots, pairs, limits).total_score <= plan.total_score + 1e-9


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


def test_spread_gives_the_second_shift_to_someone_without_one() -> None:
    # Ana is best for both (non-overlapping) posts; Bo is nearly as good for the second.
    slots = [Slot("morning", 0, 4 * H, 1), Slot("evening", 6 * H, 10 * H, 1)]
    pairs = [Pair("ana", "morning", 0.9), Pair("ana", "evening", 0.9), Pair("bo", "evening", 0.8)]
    plain = allocate(slots, pairs, Limits(max_shifts=2))
    spread = allocate(slots, pairs, Limits(max_shifts=2), Fairness(spread=0.2))
    assert plain.max_load == 2 and spread.max_load == 1
    assert spread.assignment_gini < plain.assignment_gini
    assert {(a.volunteer_id, a.shift_id) for a in spread.assignments} == {
        ("ana", "morning"),
        ("bo", "evening"),
    }
    # A spread worth more than the difference never leaves a place empty that only Ana can fill.
    alone = allocate(slots, pairs[:2], Limits(max_shifts=2), Fairness(spread=0.2))
    assert alone.fill_rate == 1.0


def test_a_share_of_places_is_held_for_newcomers() -> None:
    slots = [Slot("post", 0, 4 * H, 2)]
    pairs = [Pair("old1", "post", 0.9), Pair("old2", "post", 0.8), Pair("new", "post", 0.3, newcomer=True)]
    assert allocate(slots, pairs).newcomer_share == 0.0
    plan = allocate(slots, pairs, fairness=Fairness(newcomer_share=0.5))
    assert {a.volunteer_id for a in plan.assignments} == {"old1", "new"} and plan.newcomer_share == 0.5
    # With no newcomer to take it, a held place still goes to someone.
    assert allocate(slots, pairs[:2], fairness=Fairness(newcomer_share=0.5)).fill_rate == 1.0


def test_a_hard_minimum_nobody_can_meet_is_named() -> None:
    slots = [Slot("triage", 0, H, 3, minimum=2), Slot("desk", 0, H, 1)]
    pairs = [Pair("v1", "triage", 0.5), Pair("v1", "desk", 0.5)]
    with pytest.raises(ValidationError, match="triage"):
        allocate(slots, pairs, fairness=Fairness(hard_minimum=True))
    soft = allocate(slots, pairs)
    assert soft.below_minimum == 1 and {a.shift_id for a in soft.assignments} == {"triage"}
    # Each shift alone has a candidate, but the same one, at the same time.
    both = [Slot("triage", 0, H, 1, minimum=1), Slot("desk", 0, H, 1, minimum=1)]
    for relax_first in (True, False):
        with pytest.raises(ValidationError, match="cannot all be met at once"):
            allocate(both, pairs, fairness=Fairness(hard_minimum=True), relax_first=relax_first)


def test_options_out_of_range_are_refused() -> None:
    for bad in ({"spread": -1}, {"spread": 11}, {"newcomer_share": 1.5}):
        with pytest.raises(ValidationError):
            Fairness(**bad)  # type: ignore[arg-type]


@pytest.fixture
def flood_index(taxonomy: Taxonomy) -> MatchIndex:
    """Eight volunteers 1-8 km from a flood-response post with one Saturday shift of three."""
    people = [volunteer(f"v{i}", km=float(i)) for i in range(1, 9)]
    post = activity("flood", shifts=(saturday_shift("sandbags", capacity=3),))
    return MatchIndex.from_world(World(tuple(people), (post,)), taxonomy, date(2026, 11, 28))


def test_emergency_pages_the_best_available_and_spares_those_asked_often(flood_index: MatchIndex) -> None:
    now = datetime(2026, 12, 4, 20, tzinfo=CST)
    first = allocation.emergency(flood_index, "sandbags", now=now, asked={})
    best = [a.volunteer_id for a in sorted(first.assignments, key=lambda a: -a.score)]
    assert len(best) == 3 and first.held_back == 0 and first.fill_rate == 1.0
    ranked = allocation.campaign(flood_index, ["sandbags"], now=now, per_place=10)[1]
    assert best == [p.volunteer_id for p in sorted(ranked, key=lambda p: -p.score)[:3]]
    # Those asked twice this week are passed over; the next best are asked instead.
    again = allocation.emergency(flood_index, "sandbags", now=now, asked={best[0]: 2, best[1]: 1}, ask_cap=2)
    chosen = {a.volunteer_id for a in again.assignments}
    assert best[0] not in chosen and best[1] in chosen and len(chosen) == 3 and again.held_back == 1
    # Everyone asked too often: nobody is paged, and the plan says why.
    tired = allocation.emergency(flood_index, "sandbags", now=now, asked={p.volunteer_id: 5 for p in ranked})
    assert tired.assignments == [] and "asked 2 times or more" in str(tired.unfilled[0]["reason"])
    wide = allocation.emergency(flood_index, "sandbags", now=now, asked={}, page=6)
    assert len(wide.assignments) == 6
    with pytest.raises(ValidationError):
        allocation.emergency(flood_index, "sandbags", now=now, asked={}, page=0)


def test_a_campaign_keeps_confirmed_places_and_counts_them_toward_the_minimum(taxonomy: Taxonomy) -> None:
    from matcher.model.domain import Booking

    people = [volunteer(f"v{i}", km=float(i)) for i in range(1, 6)]
    post = activity("clinic", shifts=(saturday_shift("am", capacity=3),))
    index = MatchIndex.from_world(
        World(tuple(people), (post,), bookings=(Booking("v1", "am"),)), taxonomy, date(2026, 11, 28)
    )
    now = datetime(2026, 12, 1, tzinfo=CST)
    shift_ids = allocation.campaign_shifts(index, now=now, activity_ids=["clinic"])
    slots, pairs = allocation.campaign(index, shift_ids, now=now, minimum={"am": 2})
    assert slots[0].places == 2 and slots[0].minimum == 1
    assert "v1" not in {p.volunteer_id for p in pairs} and pairs
    with pytest.raises(ValidationError, match="not in the campaign"):
        allocation.campaign(index, shift_ids, now=now, priority={"elsewhere": 1.0})
    with pytest.raises(ValidationError, match="started"):
        allocation.campaign_shifts(index, now=datetime(2026, 12, 6, tzinfo=CST), shift_ids=["am"])
