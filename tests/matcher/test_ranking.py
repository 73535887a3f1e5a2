"""Both ranking directions on hand-built worlds where the right answer is obvious, each hard rule,
and the index's exactness: pruned search == scoring everyone, in-place updates == a rebuild."""

from dataclasses import replace
from datetime import date
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.demo.city import generate_city
from matcher.matching import search
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import recommend_activities, recommend_volunteers
from matcher.model.domain import (
    Activity,
    Booking,
    Certification,
    GeoPoint,
    ServiceRecord,
    SkillClaim,
    Volunteer,
    WeeklyWindow,
    World,
)
from matcher.model.errors import NotFoundError, ValidationError
from matcher.model.skills import Taxonomy
from tests.conftest import AS_OF, NOW, WEST_LAKE, activity, saturday_shift, volunteer


def ids(world: World, taxonomy: Taxonomy, activity_id: str = "a1", **kw: object) -> list[str]:
    index = MatchIndex.from_world(world, taxonomy, AS_OF)
    return [m.id for m in recommend_volunteers(index, activity_id, now=NOW, k=kw.pop("k", 10), **kw).matches]  # type: ignore[arg-type]


def test_nearer_volunteer_ranks_first(taxonomy: Taxonomy) -> None:
    world = World((volunteer("far", 6.0), volunteer("near", 1.0), volunteer("mid", 3.0)), (activity(),))
    assert ids(world, taxonomy) == ["near", "mid", "far"]


def test_skilled_volunteer_beats_unskilled_when_skill_is_preferred(taxonomy: Taxonomy) -> None:
    act = activity(preferred_skills=("lang_en",))
    world = World((volunteer("plain", 1.0), volunteer("english", 1.0, languages=("en",))), (act,))
    assert ids(world, taxonomy) == ["english", "plain"]


def test_exact_skill_beats_partial_credit_beats_nothing(taxonomy: Taxonomy) -> None:
    act = activity(required_skills=("first_aid",))
    world = World(
        (
            volunteer("paramedic", 1.0, skills=("paramedic",)),
            volunteer("firstaider", 1.0, skills=("first_aid",)),
            volunteer("driver", 1.0, skills=("driving",)),
            volunteer("nurse", 1.0, skills=("nursing",)),
        ),
        (act,),
    )
    index = MatchIndex.from_world(world, taxonomy, AS_OF)
    r = recommend_volunteers(index, "a1", now=NOW)
    assert [m.id for m in r.matches] == ["firstaider", "paramedic"]  # sibling 0.3 < 0.5 threshold
    assert r.excluded["skills"] == 2
    assert "paramedic partly covers first aid" in [x.en for x in r.matches[1].reasons]


def test_reliable_regular_beats_newcomer_and_newcomer_still_ranks(taxonomy: Taxonomy) -> None:
    records = tuple(ServiceRecord("regular", "a1", date(2026, 10, d), 4, True) for d in range(1, 11))
    world = World((volunteer("newcomer", 1.0), volunteer("regular", 1.0)), (activity(),), records)
    assert ids(world, taxonomy) == ["regular", "newcomer"]


def test_ties_break_by_id_whatever_the_input_order(taxonomy: Taxonomy) -> None:
    vols = [volunteer(f"v{i}", 1.0) for i in (3, 1, 2)]
    assert ids(World(tuple(vols), (activity(),)), taxonomy) == ["v1", "v2", "v3"]
    assert ids(World(tuple(reversed(vols)), (activity(),)), taxonomy) == ["v1", "v2", "v3"]


@pytest.mark.parametrize(
    ("rule", "make"),
    [
        ("travel", lambda: volunteer("x", 12.0)),
        ("availability", lambda: volunteer("x", availability=(WeeklyWindow.parse("sun", "08:00", "12:00"),))),
        ("skills", lambda: volunteer("x", skills=("driving",))),
        ("age", lambda: volunteer("x", birth_date=date(2010, 1, 1))),
        ("age", lambda: volunteer("x", birth_date=None)),
        (
            "certification",
            lambda: volunteer(
                "x", skills=("first_aid",), certifications=(Certification("first_aid", date(2026, 12, 4)),)
            ),
        ),
        ("no_home", lambda: volunteer("x", home=None)),
    ],
)
def test_each_hard_rule_excludes(taxonomy: Taxonomy, rule: str, make: object) -> None:
    act = activity(required_skills=("first_aid",), required_certifications=("first_aid",), min_age=18)
    ok = volunteer(
        "ok", skills=("first_aid",), certifications=(Certification("first_aid", date(2027, 1, 1)),)
    )
    bad = make()  # type: ignore[operator]
    if rule != "skills" and rule != "certification":
        bad = replace(
            bad, skills=(SkillClaim("first_aid"),), certifications=(Certification("first_aid", None),)
        )
    index = MatchIndex.from_world(World((ok, bad), (act,)), taxonomy, AS_OF)
    r = recommend_volunteers(index, "a1", now=NOW)
    assert [m.id for m in r.matches] == ["ok"]
    # Counted when examined; blocks that cannot hold an eligible volunteer are not examined.
    assert r.excluded.get(rule, 0) >= 1 or r.considered < 2


def test_blackout_booked_overlap_and_full_shift(taxonomy: Taxonomy) -> None:
    other = activity("a2", shifts=(saturday_shift("s2", start=10, end=11),))
    vols = (volunteer("free"), volunteer("away", blackout_dates=(date(2026, 12, 5),)), volunteer("busy"))
    world = World(vols, (activity(), other), bookings=(Booking("busy", "s2"),))
    index = MatchIndex.from_world(world, taxonomy, AS_OF)
    assert [m.id for m in recommend_volunteers(index, "a1", now=NOW).matches] == ["free"]
    full = World(vols, (activity(shifts=(saturday_shift(capacity=1),)),), bookings=(Booking("free", "s1"),))
    index = MatchIndex.from_world(full, taxonomy, AS_OF)
    r = recommend_volunteers(index, "a1", shift_id="s1", now=NOW)
    assert r.matches == () and r.note is not None and r.note.en == "the shift is full"


def test_online_activity_reaches_far_volunteers_who_do_online_work(taxonomy: Taxonomy) -> None:
    act = activity(online=True, location=None)
    world = World((volunteer("far", 500.0, online_ok=True), volunteer("near", 1.0)), (act,))
    assert ids(world, taxonomy) == ["far"]


def test_activities_for_a_volunteer_with_best_shift(taxonomy: Taxonomy) -> None:
    near = activity(
        "near",
        location=GeoPoint(WEST_LAKE.lat + 0.01, WEST_LAKE.lon),
        shifts=(saturday_shift("n-sun", day=6), saturday_shift("n-sat", day=5)),
    )
    far = activity(
        "far", location=GeoPoint(WEST_LAKE.lat + 0.06, WEST_LAKE.lon), shifts=(saturday_shift("f-sat"),)
    )
    out_of_reach = activity(
        "gone", location=GeoPoint(WEST_LAKE.lat + 0.5, WEST_LAKE.lon), shifts=(saturday_shift("g"),)
    )
    index = MatchIndex.from_world(World((volunteer("v", 0.0),), (far, near, out_of_reach)), taxonomy, AS_OF)
    r = recommend_activities(index, "v", now=NOW)
    assert [(m.id, m.shift_id) for m in r.matches] == [("near", "n-sat"), ("far", "f-sat")]


def test_newcomer_without_history_gets_recommendations(taxonomy: Taxonomy) -> None:
    index = MatchIndex.from_world(World((volunteer("new"),), (activity(),)), taxonomy, AS_OF)
    assert [m.id for m in recommend_activities(index, "new", now=NOW).matches] == ["a1"]


def test_reasons_are_bilingual_and_name_the_certificate(taxonomy: Taxonomy) -> None:
    act = activity(required_certifications=("first_aid",))
    v = volunteer("v", certifications=(Certification("first_aid", None),))
    index = MatchIndex.from_world(World((v,), (act,)), taxonomy, AS_OF)
    m = recommend_volunteers(index, "a1", now=NOW).matches[0]
    texts = [str(x) for x in m.reasons]
    assert "持有急救证 / holds first aid certificate" in texts
    assert any("available Sat 08:00–12:00" in t for t in texts)
    assert set(m.parts) == {"skills", "distance", "availability", "past_service"}


@pytest.mark.parametrize("bad", [{"k": 0}, {"k": 10**9}, {"radius_km": float("nan")}, {"radius_km": -1.0}])
def test_bad_query_parameters(taxonomy: Taxonomy, bad: dict[str, float]) -> None:
    index = MatchIndex.from_world(World((volunteer("v"),), (activity(),)), taxonomy, AS_OF)
    with pytest.raises(ValidationError):
        recommend_volunteers(index, "a1", now=NOW, **bad)  # type: ignore[arg-type]


def test_unknown_ids(taxonomy: Taxonomy) -> None:
    index = MatchIndex.from_world(World((volunteer("v"),), (activity(),)), taxonomy, AS_OF)
    with pytest.raises(NotFoundError):
        recommend_volunteers(index, "nope", now=NOW)
    with pytest.raises(NotFoundError):
        recommend_activities(index, "nope", now=NOW)


@pytest.fixture(scope="module")
def city_index(taxonomy: Taxonomy) -> tuple[MatchIndex, object]:
    city = generate_city(20_000, 300, 20_000, seed=3, as_of=AS_OF)
    index = city.build_index(taxonomy)
    return index, city


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 299), st.integers(1, 60), st.sampled_from([None, 3.0, 25.0]))
def test_pruned_search_equals_scoring_everyone(
    city_index: tuple[MatchIndex, object], a: int, k: int, radius: float | None
) -> None:
    index, city = city_index
    aid = city.activities.ids[a]  # type: ignore[attr-defined]
    s = index.shifts.ids[index.shifts_of(index.activity_row(aid))[0]]
    full = recommend_volunteers(index, aid, shift_id=s, now=NOW, k=k, radius_km=radius, prune=False)
    # Small first batches make the search stop part-way, so the bounds are what is tested.
    for first_batch in (search.FIRST_BATCH_ROWS, 16):
        index.memo.clear()  # answer afresh, not from the last search
        with patch.object(search, "FIRST_BATCH_ROWS", first_batch):
            fast = recommend_volunteers(index, aid, shift_id=s, now=NOW, k=k, radius_km=radius)
        assert [(m.id, m.score) for m in fast.matches] == [(m.id, m.score) for m in full.matches]
        assert fast.considered <= full.considered


def test_updates_in_place_equal_a_rebuild(taxonomy: Taxonomy) -> None:
    city = generate_city(1500, 120, 3000, seed=5, as_of=AS_OF)
    world = city.to_world()

    def early(r: ServiceRecord) -> bool:
        return r.volunteer_id < "v0001000" and r.activity_id < "a000100"

    half = World(
        world.volunteers[:1000], world.activities[:100], tuple(r for r in world.service_records if early(r))
    )
    index = MatchIndex.from_world(half, taxonomy, AS_OF)
    moved = replace(world.volunteers[10], home=GeoPoint(30.30, 120.20), max_travel_km=25.0)
    for v in world.volunteers[1000:]:
        index.upsert_volunteer(v)
    index.upsert_volunteer(moved)
    for a in world.activities[100:]:
        index.upsert_activity(a)
    for r in world.service_records:
        if not early(r):
            index.add_service_record(r)
    index.remove_volunteer(world.volunteers[20].id)
    final = World(
        tuple(moved if v.id == moved.id else v for v in world.volunteers if v.id != world.volunteers[20].id),
        world.activities,
        tuple(r for r in world.service_records if r.volunteer_id != world.volunteers[20].id),
    )
    rebuilt = MatchIndex.from_world(final, taxonomy, AS_OF)
    rng = np.random.default_rng(0)
    for a in rng.choice(len(world.activities), 15, replace=False):
        aid = world.activities[int(a)].id
        index.memo.clear()
        with patch.object(search, "FIRST_BATCH_ROWS", 16):  # stop early: bounds must hold after updates
            got = recommend_volunteers(index, aid, now=NOW, k=15)
        exhaustive = recommend_volunteers(index, aid, now=NOW, k=15, prune=False)
        want = recommend_volunteers(rebuilt, aid, now=NOW, k=15)
        assert [(m.id, m.score) for m in got.matches] == [(m.id, m.score) for m in exhaustive.matches]
        assert [m.id for m in got.matches] == [m.id for m in want.matches]
        assert [m.score for m in got.matches] == pytest.approx([m.score for m in want.matches], abs=1e-5)
    for v in rng.choice(len(final.volunteers), 15, replace=False):
        vid = final.volunteers[int(v)].id
        got = recommend_activities(index, vid, now=NOW, k=10)
        want = recommend_activities(rebuilt, vid, now=NOW, k=10)
        assert [(m.id, m.shift_id) for m in got.matches] == [(m.id, m.shift_id) for m in want.matches]
        assert [m.score for m in got.matches] == pytest.approx([m.score for m in want.matches], abs=1e-5)


def test_every_write_shows_in_the_next_answer_to_the_same_question(taxonomy: Taxonomy) -> None:
    """A shift's prepared search is kept between questions (``MatchIndex.memo``); each kind of
    write must drop it, so the answer after the write is the one a fresh search gives."""
    city = generate_city(3000, 60, 3000, seed=8, as_of=AS_OF)
    world = city.to_world()
    index = MatchIndex.from_world(world, taxonomy, AS_OF)
    # In-person postings of one shift: moving a volunteer away, or booking them, must matter.
    asked = [a for a in world.activities[:40] if not a.online and len(a.shifts) == 1
             and recommend_volunteers(index, a.id, now=NOW, k=5).matches]  # fmt: skip
    assert len(asked) >= 2
    assert asked

    def answers() -> list[list[tuple[str, float]]]:
        one_shift = recommend_volunteers(index, asked[1].id, now=NOW, k=5, shift_id=asked[1].shifts[0].id)
        return [
            [(m.id, m.score) for m in recommend_volunteers(index, a.id, now=NOW, k=5).matches] for a in asked
        ] + [[(m.id, m.score) for m in one_shift.matches]]

    def top() -> Volunteer:
        first = recommend_volunteers(index, asked[0].id, now=NOW, k=1).matches[0].id
        return next(v for v in world.volunteers if v.id == first)

    def last() -> str:
        return recommend_volunteers(index, asked[0].id, now=NOW, k=5).matches[-1].id

    shift = asked[0].shifts[0]
    booked: list[Booking] = []
    # Another posting whose shift is at the same time as asked[1]'s first: a booking there
    # takes its volunteer out of asked[1]'s answers (no overlapping shifts), though the
    # booking is on a shift nobody asked about.
    twin = replace(asked[1].shifts[0], id="twin-shift")
    index.upsert_activity(replace(asked[1], id="twin", shifts=(twin,)))

    def top_of(a: Activity) -> str:
        return recommend_volunteers(index, a.id, now=NOW, k=1, shift_id=a.shifts[0].id).matches[0].id

    writes = {
        "volunteer moved away": lambda: index.upsert_volunteer(replace(top(), home=GeoPoint(39.9, 116.4))),
        "volunteer booked": lambda: (
            booked.append(Booking(top().id, shift.id)) or index.add_booking(booked[0])
        ),
        "booking cancelled": lambda: index.remove_booking(booked[0]),
        "booked on another shift at the same time": lambda: index.add_booking(
            Booking(top_of(asked[1]), twin.id)
        ),
        "that shift's places set": lambda: index.set_shift_bookings(twin.id, [], 0),
        "service recorded": lambda: index.add_service_record(
            ServiceRecord(last(), asked[0].id, date(2026, 11, 1), 24, True)
        ),
        "activity needs a skill": lambda: index.upsert_activity(
            replace(asked[1], required_skills=("driving",))
        ),
        "volunteer removed": lambda: index.remove_volunteer(top().id),
    }
    for name, write in writes.items():
        before = answers()
        assert len(index.memo), "the questions' searches are kept"
        write()
        got = answers()
        index.memo.clear()
        assert got == answers(), name
        assert got != before, f"{name}: the test's write changed nothing"
