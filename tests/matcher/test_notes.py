"""Empty and short lists say why, in words the reader can act on (issue 21, items 1 and 5)."""

from dataclasses import replace
from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matcher.demo.city import CATEGORIES, generate_city
from matcher.matching.constraints import RULES
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import recommend_activities, recommend_volunteers, shortfall_note
from matcher.model.domain import Booking, World
from matcher.model.skills import Taxonomy
from tests.conftest import AS_OF, NOW, activity, saturday_shift, volunteer


def test_a_volunteer_without_a_birth_date_is_told_to_add_it(taxonomy: Taxonomy) -> None:
    acts = tuple(activity(f"a{i}", min_age=16, shifts=(saturday_shift(f"s{i}"),)) for i in range(3))
    world = World((volunteer("new", birth_date=None),), acts)
    ranking = recommend_activities(MatchIndex.from_world(world, taxonomy, AS_OF), "new", now=NOW)
    assert ranking.matches == ()
    assert ranking.note is not None and ranking.note.factor == "age_unknown"
    assert "birth date: 3 shifts ask for a minimum age" in ranking.note.en
    assert "出生日期" in ranking.note.zh


def test_a_short_list_says_how_many_matched_and_what_held_the_rest_back(taxonomy: Taxonomy) -> None:
    skilled = [
        activity(f"k{i}", required_skills=("first_aid",), shifts=(saturday_shift(f"k{i}"),)) for i in range(4)
    ]
    acts = (activity("open"), *skilled)
    world = World((volunteer("v"),), acts)
    ranking = recommend_activities(MatchIndex.from_world(world, taxonomy, AS_OF), "v", now=NOW, k=10)
    assert [m.id for m in ranking.matches] == ["open"]
    assert ranking.note is not None and ranking.note.factor == "skills"
    assert ranking.note.en.startswith("only 1 match; 4 shifts need a skill")


def test_a_full_list_has_no_note(taxonomy: Taxonomy) -> None:
    world = World((volunteer("v"),), (activity("a1"), activity("a2", shifts=(saturday_shift("s2"),))))
    ranking = recommend_activities(MatchIndex.from_world(world, taxonomy, AS_OF), "v", now=NOW, k=2)
    assert len(ranking.matches) == 2 and ranking.note is None


def test_suggestions_say_when_everyone_suitable_is_already_invited(taxonomy: Taxonomy) -> None:
    people = (volunteer("v1"), volunteer("v2"))
    world = World(people, (activity(),), bookings=(Booking("v1", "s1"), Booking("v2", "s1")))
    ranking = recommend_volunteers(MatchIndex.from_world(world, taxonomy, AS_OF), "a1", now=NOW)
    assert ranking.matches == ()
    assert ranking.note is not None and ranking.note.factor == "booked"
    assert "2 suitable volunteers are already signed up or invited" in ranking.note.en


@given(
    st.dictionaries(st.sampled_from(sorted(RULES)), st.integers(0, 10_000)),
    st.integers(0, 20),
    st.integers(1, 20),
    st.sampled_from(["activities", "volunteers"]),
    st.booleans(),
)
def test_a_note_is_given_exactly_when_the_list_is_short(
    excluded: dict[str, int], found: int, k: int, direction: str, birth_unknown: bool
) -> None:
    note = shortfall_note(excluded, found, k, direction=direction, birth_unknown=birth_unknown)
    if found >= k:
        assert note is None
        return
    if found == 0:
        assert note is not None and note.zh and note.en
    if note is not None and note.factor in excluded:
        assert str(excluded[note.factor]) in note.en  # the count it names is the rule's own
        assert not (direction == "activities" and birth_unknown and excluded.get("age"))
    if note is not None and note.factor == "age_unknown":
        assert birth_unknown and str(excluded["age"]) in note.en


def test_the_demo_city_opens_most_activities_to_all_ages() -> None:
    open_share = sum(c.weight for c in CATEGORIES if c.min_age is None) / sum(c.weight for c in CATEGORIES)
    assert open_share >= 0.4
    assert {c.min_age for c in CATEGORIES} >= {None, 14, 16, 18}
    city = generate_city(n_volunteers=50, n_activities=400, n_records=0, seed=3, as_of=date(2026, 12, 1))
    assert (city.activities.min_age < 0).mean() >= 0.3


def test_demo_volunteers_without_a_birth_date_still_get_recommendations(taxonomy: Taxonomy) -> None:
    """The demo city's open-to-all activities reach people who have not given their age."""
    world = generate_city(n_volunteers=100, n_activities=600, n_records=0, seed=5, as_of=AS_OF).to_world()
    ageless = tuple(replace(v, birth_date=None) for v in world.volunteers)
    index = MatchIndex.from_world(replace(world, volunteers=ageless), taxonomy, AS_OF)
    found = [len(recommend_activities(index, v.id, now=NOW, k=5).matches) for v in ageless]
    assert np.mean([n > 0 for n in found]) >= 0.5
