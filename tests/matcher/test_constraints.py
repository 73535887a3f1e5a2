"""The hard rules, each written once in ``matcher.matching.constraints`` and used by both
directions of ranking: checked here against the calendar's own arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matcher.matching import constraints
from matcher.model.calendar import day_number, from_day_number
from matcher.model.domain import age_on


@given(
    shift=st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
    min_ages=st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=20),
)
def test_the_cutoff_is_the_last_birthday_old_enough(shift: date, min_ages: list[int]) -> None:
    days = np.full(len(min_ages), day_number(shift), dtype=np.int32)
    cutoffs = constraints.age_cutoff_days(days, np.array(min_ages, dtype=np.int64))
    for age, cut in zip(min_ages, cutoffs.tolist(), strict=True):
        born = from_day_number(cut)
        assert age_on(born, shift) >= age
        assert age_on(born + timedelta(days=1), shift) < age
        assert constraints.age_cutoff_day(day_number(shift), age) == cut


@given(born=st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)), data=st.data())
def test_old_enough_agrees_with_the_domain_age(born: date, data: st.DataObject) -> None:
    shifts = data.draw(
        st.lists(st.dates(min_value=born, max_value=date(2100, 1, 1)), min_size=1, max_size=10)
    )
    ages = data.draw(st.lists(st.integers(0, 80), min_size=len(shifts), max_size=len(shifts)))
    cut = constraints.age_cutoff_days(
        np.array([day_number(d) for d in shifts], dtype=np.int32), np.array(ages, dtype=np.int64)
    )
    ok = constraints.old_enough(day_number(born), cut)
    assert ok.tolist() == [age_on(born, d) >= a for d, a in zip(shifts, ages, strict=True)]


def test_leap_day_birthdays_count_from_the_first_of_march() -> None:
    born = day_number(date(2008, 2, 29))
    for shift, expected in [(date(2026, 2, 28), False), (date(2026, 3, 1), True), (date(2028, 2, 29), True)]:
        cut = constraints.age_cutoff_day(day_number(shift), 18)
        assert bool(constraints.old_enough(born, cut)) is expected, shift


def test_overlap_and_certificates_at_their_edges() -> None:
    starts = np.array([0, 10, 20], dtype=np.int64)
    ends = np.array([10, 20, 30], dtype=np.int64)
    assert constraints.overlaps(starts, ends, 10, 20).tolist() == [False, True, False]
    assert constraints.certified(np.array([4, 5, 6]), 5).tolist() == [False, True, True]
