"""Demand against supply on hand-built worlds, with every figure worked out by hand (and, for
random worlds, by a brute-force walk over dates and half-hour slots written here)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.analytics import gaps
from matcher.matching.index import MatchIndex
from matcher.model.domain import Booking, Need, World
from matcher.model.errors import ValidationError
from matcher.model.skills import Taxonomy
from tests.conftest import CST, activity, saturday_shift, volunteer

FIRST, LAST = date(2026, 12, 1), date(2026, 12, 15)  # two Saturdays: the 5th and the 12th


def world(extra_needs: bool = True) -> tuple[World, list[Need]]:
    """Six volunteers in district A, free Saturdays 08:00-12:00: v1-v3 with first aid, v4-v6 with
    first aid and driving; v2 away on the 12th. One in district B. A first-aid shift on the 5th,
    08:00-12:00, three places, v1 confirmed on it. A need on the 12th, 09:00-11:00, for three."""
    people = [
        volunteer(f"v{i}", district="A", skills=["first_aid"] if i <= 3 else ["first_aid", "driving"],
                  blackout_dates=(date(2026, 12, 12),) if i == 2 else ())
        for i in range(1, 7)
    ] + [volunteer("v7", district="B", skills=["first_aid"])]  # fmt: skip
    post = activity("a1", district="A", category="sports events", required_skills=("first_aid",),
                    shifts=(saturday_shift("s1", capacity=3),))  # fmt: skip
    needs = [
        Need("n1", "o1", "elderly care", datetime(2026, 12, 12, 9, tzinfo=CST), datetime(2026, 12, 12, 11, tzinfo=CST),
             skills=("first_aid",), district="A", volunteers_needed=3)
    ] if extra_needs else []  # fmt: skip
    return World(tuple(people), (post,), bookings=(Booking("v1", "s1"),)), needs


@pytest.fixture
def index(taxonomy: Taxonomy) -> MatchIndex:
    return MatchIndex.from_world(world()[0], taxonomy, date(2026, 11, 28))


def table(index: MatchIndex, by: list[str], min_volunteers: int = gaps.MIN_VOLUNTEERS) -> pd.DataFrame:
    return gaps.gaps(index, world()[1], by=by, first=FIRST, last=LAST, min_volunteers=min_volunteers)


def row(frame: pd.DataFrame, **keys: object) -> dict[str, object]:
    sel = frame
    for k, v in keys.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (keys, frame)
    return dict(sel.iloc[0])


def test_district_and_weekday_figures_by_hand(index: MatchIndex) -> None:
    t = table(index, ["district", "weekday"])
    a = row(t, district="A", weekday="Sat")
    # Supply: 6 people x 4 h x 2 Saturdays = 48, less v1's confirmed shift (4) and v2's day away (4).
    # Demand: 2 open places x 4 h on the 5th, plus 3 people x 2 h for the need on the 12th.
    assert (a["supply_hours"], a["demand_hours"], a["gap_hours"], a["fill_rate"], a["volunteers"]) == (
        40.0, 14.0, -26.0, 1.0, 6)  # fmt: skip
    b = row(t, district="B", weekday="Sat")  # one volunteer: too few to show
    assert b["suppressed"] and pd.isna(b["supply_hours"]) and pd.isna(b["volunteers"])
    assert set(t["weekday"]) == {"Sat"}


def test_skills_split_an_hour_instead_of_counting_it_twice(index: MatchIndex) -> None:
    t = table(index, ["district", "skill"], min_volunteers=1)  # three drivers: shown here
    first_aid = row(t, district="A", skill="first_aid")
    driving = row(t, district="A", skill="driving")
    # v1-v3 give first aid all their hours: 8 + 8 + 8 - 4 (v1's shift) - 4 (v2 away) = 16;
    # v4-v6 split theirs between two skills: 3 x 8 / 2 = 12 each.
    assert first_aid["supply_hours"] == 28.0 and driving["supply_hours"] == 12.0
    assert first_aid["supply_hours"] + driving["supply_hours"] == 40.0  # = the district's total
    assert first_aid["demand_hours"] == 14.0 and driving["demand_hours"] == 0.0
    assert row(table(index, ["district", "skill"]), district="A", skill="driving")["suppressed"]


def test_hours_of_the_day(index: MatchIndex) -> None:
    t = table(index, ["district", "hour"])
    got = {
        int(r["hour"]): (r["supply_hours"], r["demand_hours"]) for _, r in t[t["district"] == "A"].iterrows()
    }
    # Each hour 08-11: 6 x 2 Saturdays = 12, less v1's shift and v2's day away: 10.
    assert got == {8: (10.0, 2.0), 9: (10.0, 5.0), 10: (10.0, 5.0), 11: (10.0, 2.0)}


def test_categories_share_hours_and_a_need_nobody_fits_shows_as_a_gap(index: MatchIndex) -> None:
    t = table(index, ["district", "category"])
    sports = row(t, district="A", category="sports events")
    elderly = row(t, district="A", category="elderly care")
    assert sports["supply_hours"] == 40.0 and sports["demand_hours"] == 8.0
    assert elderly["demand_hours"] == 6.0 and elderly["supply_hours"] == 0.0 and elderly["fill_rate"] == 0.0


def test_a_filled_shift_asks_for_nothing_and_a_met_need_is_not_demand(taxonomy: Taxonomy) -> None:
    w, needs = world()
    full = World(w.volunteers, w.activities, bookings=tuple(Booking(f"v{i}", "s1") for i in (1, 4, 5)))
    idx = MatchIndex.from_world(full, taxonomy, date(2026, 11, 28))
    met = [Need(**{**{f: getattr(needs[0], f) for f in needs[0].__dataclass_fields__}, "status": "met"})]
    t = gaps.gaps(idx, met, by=["district"], first=FIRST, last=LAST)
    a = row(t, district="A")
    assert a["demand_hours"] == 0.0
    assert a["supply_hours"] == 48.0 - 3 * 4 - 4  # three people committed on the 5th, v2 away


def test_bad_groupings_and_ranges_are_refused(index: MatchIndex) -> None:
    with pytest.raises(ValidationError, match="unknown key"):
        gaps.gaps(index, [], by=["borough"], first=FIRST, last=LAST)
    with pytest.raises(ValidationError, match="not both"):
        gaps.gaps(index, [], by=["skill", "category"], first=FIRST, last=LAST)
    with pytest.raises(ValidationError, match="after"):
        gaps.gaps(index, [], by=[], first=LAST, last=FIRST)
    with pytest.raises(ValidationError, match="at most"):
        gaps.gaps(index, [], by=[], first=FIRST, last=FIRST + timedelta(days=400))


windows = st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 16)).map(
    lambda t: (t[0], t[1] * 30, min(1440, t[1] * 30 + t[2] * 30))
)


@settings(max_examples=25, deadline=None)
@given(
    people=st.lists(
        st.tuples(st.lists(windows, min_size=1, max_size=3), st.sampled_from(["A", "B"]),
                  st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True),
                  st.lists(st.integers(0, 20), max_size=2)),
        min_size=5, max_size=12,
    ),
    days=st.integers(1, 21),
)  # fmt: skip
def test_supply_matches_a_walk_over_every_date_and_slot(
    taxonomy: Taxonomy, people: list[tuple[list[tuple[int, int, int]], str, list[str], list[int]]], days: int
) -> None:
    from matcher.model.domain import WeeklyWindow

    vols = []
    for i, (ws, district, skills, away) in enumerate(people):
        vols.append(
            volunteer(f"p{i}", district=district, skills=skills,
                      availability=tuple(WeeklyWindow(d, s, e) for d, s, e in ws),
                      blackout_dates=tuple(sorted({FIRST + timedelta(days=k) for k in away})))
        )  # fmt: skip
    idx = MatchIndex.from_world(World(tuple(vols)), taxonomy, date(2026, 11, 28))
    last = FIRST + timedelta(days=days)
    # The walk: every date, every half-hour slot of the volunteer's windows, unless away.
    expected: dict[tuple[str, str], float] = {}
    for ws, district, skills, away in people:
        slots = {(d, m // 30) for d, s, e in ws for m in range(-(-s // 30) * 30, e, 30) if m + 30 <= e}
        away_days = {FIRST + timedelta(days=k) for k in away}
        for k in range(days):
            day = FIRST + timedelta(days=k)
            if day in away_days:
                continue
            free = sum(0.5 for d, _ in slots if d == day.weekday())
            for skill in skills:
                key = (district, skill)
                expected[key] = expected.get(key, 0.0) + free / len(skills)
    t = gaps.gaps(idx, [], by=["district", "skill"], first=FIRST, last=last, min_volunteers=1)
    got = {(r["district"], r["skill"]): r["supply_hours"] for _, r in t.iterrows()}
    assert set(got) == {k for k, v in expected.items() if v > 1e-9}
    for key, value in got.items():
        assert value == pytest.approx(expected[key], abs=0.011)


def test_a_scope_of_everything_is_the_whole_table_and_scopes_split_it(index: MatchIndex) -> None:
    """An organisation's subtree narrows the table: the scope of every organisation and every
    district is the whole table, and scoping demand by disjoint organisations splits it."""
    _, needs = world()
    whole = gaps.gaps(index, needs, by=["district", "category"], first=FIRST, last=LAST, min_volunteers=1)
    everything = gaps.Scope(frozenset(index.organisations.names), frozenset(index.districts.names))
    pd.testing.assert_frame_equal(
        whole,
        gaps.gaps(
            index,
            needs,
            by=["district", "category"],
            first=FIRST,
            last=LAST,
            min_volunteers=1,
            scope=everything,
        ),
    )
    parts = [
        gaps.gaps(index, needs, by=["category"], first=FIRST, last=LAST, scope=gaps.Scope(frozenset({org})))
        for org in index.organisations.names
    ]
    total = gaps.gaps(index, needs, by=["category"], first=FIRST, last=LAST)
    assert sum(p["demand_hours"].sum() for p in parts) == pytest.approx(total["demand_hours"].sum())
    nobody = gaps.gaps(
        index, needs, by=["category"], first=FIRST, last=LAST, scope=gaps.Scope(None, frozenset())
    )
    assert nobody["supply_hours"].fillna(0).sum() == 0
