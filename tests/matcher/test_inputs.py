"""The core's inputs at their edges, as property tests: places at the poles and across ±180°,
shifts in DST gaps and folds, empty and huge skill lists, and any text (Chinese, emoji, NUL).

Each input is either accepted, and then ranks without error and within the rules, or refused
with the core's ValidationError naming the field; nothing else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from matcher.matching.index import MatchIndex
from matcher.matching.ranking import recommend_activities, recommend_volunteers
from matcher.model.domain import Activity, GeoPoint, Shift, SkillClaim, Volunteer, WeeklyWindow, World
from matcher.model.errors import ValidationError
from matcher.model.geo import MATCHING_CELL_KM, haversine_km
from matcher.model.skills import Taxonomy

AS_OF = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
ALWAYS = tuple(
    WeeklyWindow.parse(d, "00:00", "24:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
lat = st.floats(-90, 90, allow_nan=False)
lon = st.floats(-180, 180, allow_nan=False)


def person(ident: str, home: GeoPoint, travel: float = 20.0, **kw: object) -> Volunteer:
    return Volunteer(id=ident, name=ident, home=home, max_travel_km=travel, availability=ALWAYS, **kw)  # type: ignore[arg-type]


def posting(
    place: GeoPoint | None, start: datetime, hours: float = 3.0, zone: str = "UTC", **kw: object
) -> Activity:
    shift = Shift("s1", start, start.astimezone(UTC) + timedelta(hours=hours), 5)  # real hours
    return Activity(
        id="a1", organisation_id="o1", title="t", category="community", timezone=zone,
        location=place, online=place is None, shifts=(shift,), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(lat, lon, st.floats(-15, 15), st.floats(-15, 15))
@example(90.0, 0.0, -5.0, 3.0)  # at the north pole
@example(-90.0, 180.0, 4.0, -7.0)  # at the south pole
@example(0.0, 179.99, 0.0, 4.0)  # across the antimeridian eastwards
@example(10.0, -179.995, 1.0, -3.0)  # and westwards
def test_anywhere_on_earth_the_near_volunteer_is_found_and_the_far_one_is_not(
    taxonomy: Taxonomy, p_lat: float, p_lon: float, north_km: float, east_km: float
) -> None:
    """A posting anywhere, a volunteer a few km away in any direction (across the poles and the
    antimeridian too), another half a world away: the near one is found, at about the right
    distance (within the 2 km matching cell), the far one never."""
    place = GeoPoint(p_lat, p_lon)
    d_lat = north_km / 111.195
    near_lat = max(-90.0, min(90.0, p_lat + d_lat))
    import math

    scale = max(math.cos(math.radians(near_lat)), 0.05)
    near_lon = ((p_lon + east_km / (111.195 * scale) + 180.0) % 360.0) - 180.0
    near = GeoPoint(near_lat, near_lon)
    far = GeoPoint(-p_lat, ((p_lon + 360.0) % 360.0) - 180.0)
    world = World((person("near", near), person("far", far)), (posting(place, NOW + timedelta(days=3)),))
    index = MatchIndex.from_world(world, taxonomy, AS_OF)
    ranking = recommend_volunteers(index, "a1", now=NOW, k=10)
    found = {m.id: m for m in ranking.matches}
    true_km = haversine_km(place, near)
    assert "far" not in found or haversine_km(place, far) <= 20.0 + 2 * MATCHING_CELL_KM
    if true_km <= 20.0 - 2 * MATCHING_CELL_KM:
        assert "near" in found
    if "near" in found:
        assert found["near"].distance_km == pytest.approx(true_km, abs=2 * MATCHING_CELL_KM)
        assert 0.0 <= found["near"].score <= 1.0


ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Shanghai", "Asia/Kolkata")
TRANSITIONS = {  # local times near 2026's DST changes (Shanghai: none since 1991)
    "America/New_York": (datetime(2026, 3, 8, 1, 0), datetime(2026, 11, 1, 0, 30)),
    "Europe/London": (datetime(2026, 3, 29, 0, 30), datetime(2026, 10, 25, 0, 30)),
    "Australia/Sydney": (datetime(2026, 4, 5, 1, 30), datetime(2026, 10, 4, 1, 30)),
    "Asia/Shanghai": (datetime(2026, 3, 8, 1, 0), datetime(2026, 11, 1, 1, 0)),
    "Asia/Kolkata": (datetime(2026, 3, 8, 1, 0), datetime(2026, 11, 1, 1, 0)),
}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.integers(0, 1),
    st.integers(0, 16),
    st.integers(0, 1),
    st.sampled_from([0.5, 1.0, 2.0, 3.0]),
)
def test_shifts_in_dst_gaps_and_folds_rank_by_their_real_length(
    taxonomy: Taxonomy, zone: str, which: int, quarter_hours: int, fold: int, hours: float
) -> None:
    """A shift starting at a local time that does not exist (spring forward) or happens twice
    (fall back) is an instant like any other: a volunteer free around the clock covers it
    fully, both ways round. And a shift whose end, written in the same zone, is not after its
    start as instants (02:00 on a spring-forward night to 03:00 is no time at all) is refused,
    though its wall clocks differ (found by this test: Python compares same-zone datetimes by
    their wall clocks)."""
    local = TRANSITIONS[zone][which] + timedelta(minutes=15 * quarter_hours)
    start = local.replace(tzinfo=ZoneInfo(zone), fold=fold)
    as_of = start.date() - timedelta(days=3)
    now = start - timedelta(days=2)
    home = GeoPoint(40.0, -74.0)
    world = World(
        (person("always", home, timezone=zone),),
        (posting(home, start, hours, zone),),
    )
    index = MatchIndex.from_world(world, taxonomy, as_of)
    ranking = recommend_volunteers(index, "a1", now=now, k=5)
    assert [m.id for m in ranking.matches] == ["always"]
    assert ranking.matches[0].parts["availability"] == pytest.approx(1.0)
    both = recommend_activities(index, "always", now=now, k=5)
    assert [m.id for m in both.matches] == ["a1"]
    wall_end = start + timedelta(hours=hours)  # wall-clock arithmetic, as a caller might do
    if wall_end.astimezone(UTC) <= start.astimezone(UTC):
        with pytest.raises(ValidationError, match="after the start"):
            Shift("s2", start, wall_end, 1)
    else:
        assert Shift("s2", start, wall_end, 1).hours == pytest.approx(
            (wall_end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
        )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 200), st.data())
def test_empty_and_huge_skill_lists_rank_and_201_is_refused(
    taxonomy: Taxonomy, n: int, data: st.DataObject
) -> None:
    skills = sorted(taxonomy.skills)
    claims = tuple(
        SkillClaim(s)
        for s in data.draw(st.lists(st.sampled_from(skills), min_size=n, max_size=n, unique=True))
    )
    required = tuple(
        data.draw(st.lists(st.sampled_from([c.skill for c in claims] or skills), max_size=3, unique=True))
    )
    home = GeoPoint(30.25, 120.14)
    world = World(
        (person("v", home, skills=claims),),
        (posting(home, NOW + timedelta(days=3), required_skills=required),),
    )
    index = MatchIndex.from_world(world, taxonomy, AS_OF)
    ranking = recommend_volunteers(index, "a1", now=NOW, k=5)
    has_all = set(required) <= {c.skill for c in claims}
    assert [m.id for m in ranking.matches] == (["v"] if has_all else [])
    with pytest.raises(ValidationError, match="skills"):
        person("v", home, skills=tuple(SkillClaim(f"s{i}") for i in range(201)))


@given(st.text(max_size=300))
@example("西湖区 志愿者 🌱")
@example("name\x00with NUL")
@example("\u200b\ufeff zero-width")
def test_any_text_is_kept_exactly_or_refused_naming_the_field(text: str) -> None:
    """Names, districts and contacts: Chinese and emoji are kept exactly; control characters
    (NUL included, which PostgreSQL cannot store) are refused with the field named."""
    home = GeoPoint(30.25, 120.14)
    refused = any(ord(c) < 32 and c not in "\t\n\r" for c in text) or len(text) > 200

    def make(field: str) -> Volunteer:
        if field == "name":
            return Volunteer(id="v", name=text, home=home, max_travel_km=5.0)
        return person("v", home, **{field: text})

    for field in ("name", "district", "phone", "email"):
        if refused:
            with pytest.raises(ValidationError) as error:
                make(field)
            assert error.value.field == field
        else:
            assert getattr(make(field), field) == text
