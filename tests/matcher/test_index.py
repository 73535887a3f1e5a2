"""Index lookups against plain Python over the same volunteers."""

from collections.abc import Callable
from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.matching.index import MatchIndex
from matcher.matching.memo import Memo
from matcher.model.domain import Shift, World
from matcher.model.skills import Taxonomy
from tests.conftest import AS_OF, activity, saturday_shift, volunteer

SKILLS = ("first_aid", "paramedic", "driving", "lang_en", "cpr_aed", "elderly_care")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from(SKILLS), max_size=4, unique=True), min_size=1, max_size=12))
def test_best_credits_match_the_taxonomy(taxonomy: Taxonomy, held: list[list[str]]) -> None:
    vols = tuple(volunteer(f"v{i}", skills=tuple(s)) for i, s in enumerate(held))
    index = MatchIndex.from_world(World(vols, (activity(),)), taxonomy, AS_OF)
    wanted = ["first_aid", "driving"]
    tables = [index.credit_table(index.skills.code(w)) for w in wanted]
    rows = np.array([index.volunteer_row(v.id) for v in vols][::-1], dtype=np.int32)
    got = index.best_credits(rows, tables)
    for j, w in enumerate(wanted):
        credits = taxonomy.credits_for(w)
        expected = [max((credits.get(s, 0.0) for s in held[i]), default=0.0) for i in range(len(vols))][::-1]
        assert got[j].tolist() == [float(np.float32(e)) for e in expected]


def test_memo_keeps_within_its_budget_dropping_the_oldest_first() -> None:
    memo = Memo(budget=100)
    made: list[str] = []

    def make(name: str) -> Callable[[], str]:
        return lambda: made.append(name) or name

    assert memo.get("a", make("a"), lambda _: 40) == "a"
    assert memo.get("b", make("b"), lambda _: 40) == "b"
    assert memo.get("a", make("a again"), lambda _: 40) == "a"  # kept: not made again
    memo.get("c", make("c"), lambda _: 40)  # 120 > 100: "a", the oldest, goes
    assert memo.get("a", make("a later"), lambda _: 40) == "a later"
    assert memo.get("big", make("big"), lambda _: 101) == "big"  # larger than the budget: not kept
    assert memo.get("big", make("big again"), lambda _: 101) == "big again"
    assert made == ["a", "b", "c", "a later", "big", "big again"]
    memo.clear()
    assert len(memo) == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.sets(st.integers(0, 5), max_size=6)), min_size=1, max_size=12)
)
def test_a_shifts_bookings_become_exactly_what_the_store_says(
    taxonomy: Taxonomy, steps: list[tuple[int, set[int]]]
) -> None:
    """Setting a shift's holders again and again (what each sign-up and cancellation does) leaves
    every volunteer holding exactly the places of the last setting of each shift, and the rows a
    search excludes are those holders."""
    base = saturday_shift()
    shifts = tuple(
        Shift(f"s{i}", base.starts_at + timedelta(days=7 * i), base.ends_at + timedelta(days=7 * i), 10)
        for i in range(3)
    )
    vols = tuple(volunteer(f"v{i}") for i in range(6))
    index = MatchIndex.from_world(World(vols, (activity(shifts=shifts),)), taxonomy, AS_OF)
    last: dict[int, set[int]] = {}
    for shift, holders in steps:
        index.set_shift_bookings(f"s{shift}", [f"v{v}" for v in sorted(holders)], len(holders))
        last[shift] = holders
    for v in range(6):
        held = {index.shifts.ids[s] for s in index.volunteer_bookings(index.volunteer_row(f"v{v}"))}
        assert held == {f"s{s}" for s, holders in last.items() if v in holders}
    for s, holders in last.items():
        row = index.shift_row(f"s{s}")
        booked = index.booked_rows(
            int(index.shifts.start.data[row]), int(index.shifts.end.data[row]), same_shift=row
        )
        assert set(index.vid.idents(booked)) == {f"v{v}" for v in holders}
