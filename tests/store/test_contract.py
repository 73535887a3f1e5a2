"""The store contract, run against every backend (embedded SQLite and PostgreSQL + PostGIS):
migrations, transactional all-or-nothing loads, faithful round trips, erasure, accounts,
filters. A test here that passes on one backend and fails on the other is a bug in one."""

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from api.usecases import setup as service
from matcher.demo.city import generate_city
from matcher.interchange.records import parse_world, world_to_json
from matcher.model.calendar import epoch_seconds
from matcher.model.domain import GeoPoint
from matcher.model.errors import ConflictError, ValidationError
from matcher.model.geo import haversine_km
from matcher.model.skills import Taxonomy
from matcher.store.base import Account, Store
from matcher.store.connect import open_store
from tests.conftest import AS_OF

ISSUE_EXAMPLE = {
    "volunteers": [
        {
            "id": "v1",
            "name": "王芳",
            "home": {"lat": 30.27, "lon": 120.15},
            "max_travel_km": 10,
            "skills": ["first aid", "driving"],
            "languages": ["zh", "en"],
            "birth_date": "1990-05-01",
            "timezone": "Asia/Shanghai",
            "availability": [{"day": "sat", "start": "08:00", "end": "12:00"}],
            "blackout_dates": ["2026-12-24"],
            "certifications": [{"skill": "first aid", "expires": "2027-06-30"}],
            "online_ok": True,
        }
    ],
    "activities": [
        {
            "id": "a1",
            "organisation_id": "o1",
            "title": "西湖马拉松医疗点",
            "category": "sports events",
            "location": {"lat": 30.25, "lon": 120.14},
            "online": False,
            "required_skills": ["first aid"],
            "preferred_skills": ["english"],
            "required_certifications": ["first aid"],
            "min_age": 18,
            "timezone": "Asia/Shanghai",
            "shifts": [
                {
                    "id": "s1",
                    "start": "2026-12-05T08:00:00+08:00",
                    "end": "2026-12-05T12:00:00+08:00",
                    "capacity": 10,
                }
            ],
        }
    ],
    "service_records": [
        {
            "volunteer_id": "v1",
            "activity_id": "a1",
            "shift_id": "s1",
            "date": "2026-11-01",
            "hours": 4,
            "attended": True,
            "rating": 5,
        }
    ],
}


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'volmatch.db'}"
    else:
        url = request.getfixturevalue("postgis_url")
    s = open_store(url)
    yield s
    s.close()


def test_migrations_apply_once(store: Store) -> None:
    assert store.schema_version().startswith("2026")
    assert store.migrate() == []  # type: ignore[attr-defined]


def test_issue_example_loads_and_round_trips(store: Store, taxonomy: Taxonomy) -> None:
    counts = service.load_document(store, ISSUE_EXAMPLE, taxonomy)
    assert counts == {"volunteers": 1, "activities": 1, "service_records": 1, "bookings": 0}
    exported = service.export_document(store)
    v = exported["volunteers"][0]  # type: ignore[index]
    assert v["skills"] == ["first_aid", "driving"] and v["languages"] == ["zh", "en"]
    assert exported["activities"][0]["shifts"][0]["start"] == "2026-12-05T08:00:00+08:00"  # type: ignore[index]
    # Export, then load the export elsewhere: the same world.
    again = parse_world(json.loads(json.dumps(exported)), taxonomy)
    assert again == store.snapshot()


def test_a_bad_record_loads_nothing_and_names_itself(store: Store, taxonomy: Taxonomy) -> None:
    doc = json.loads(json.dumps(ISSUE_EXAMPLE))
    doc["volunteers"].append(
        {"id": "v2", "name": "李雷", "home": {"lat": 91, "lon": 120}, "max_travel_km": 5}
    )
    with pytest.raises(
        ValidationError, match=r"volunteers\[1\] \(id 'v2'\): home.lat: latitude 91.0 is outside"
    ):
        service.load_document(store, doc, taxonomy)
    assert store.counts()["volunteers"] == 0 and store.counts()["activities"] == 0


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("activities", 0, "shifts", 0, "start"), "2026-12-05T08:00:00", "has no UTC offset"),
        (("activities", 0, "shifts", 0, "end"), "2026-12-05T07:00:00+08:00", "must be after the start"),
        (("volunteers", 0, "max_travel_km"), float("nan"), "finite"),
        (("volunteers", 0, "max_travel_km"), True, "must be a number"),
        (("volunteers", 0, "name"), "a\x00b", "control character"),
        (("service_records", 0, "volunteer_id"), "ghost", "unknown volunteer"),
        (("activities", 0, "shifts", 0, "capacity"), 0, "between 1 and"),
    ],
)
def test_invalid_fields_are_rejected_with_their_path(
    store: Store, taxonomy: Taxonomy, path: tuple, value: object, message: str
) -> None:
    doc = json.loads(json.dumps(ISSUE_EXAMPLE))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError, match=message):
        service.load_document(store, doc, taxonomy)
    assert sum(store.counts().values()) == 0


def test_chinese_emoji_and_extra_fields_survive(store: Store, taxonomy: Taxonomy) -> None:
    doc = json.loads(json.dumps(ISSUE_EXAMPLE))
    doc["volunteers"][0]["name"] = "王芳 🌸"
    doc["volunteers"][0]["skills"].append("插花")
    doc["volunteers"][0]["nickname"] = "extra fields are allowed"
    service.load_document(store, doc, taxonomy)
    v = store.get_volunteer("v1")
    assert v is not None and v.name == "王芳 🌸" and "x:插花" in [c.skill for c in v.skills]


def test_demo_city_round_trips_through_the_store(store: Store, taxonomy: Taxonomy) -> None:
    city = generate_city(300, 40, 600, seed=2, as_of=AS_OF)
    world = city.to_world()
    store.load_world(world)
    snap = store.snapshot()
    assert sorted(snap.volunteers, key=lambda v: v.id) == sorted(world.volunteers, key=lambda v: v.id)
    assert {a.id: a for a in snap.activities} == {a.id: a for a in world.activities}
    assert len(snap.service_records) == len(world.service_records)
    assert world_to_json(snap)["volunteers"][0]["id"] == "v0000000"


def test_generator_is_deterministic() -> None:
    a = generate_city(500, 50, 500, seed=9, as_of=AS_OF).to_world()
    b = generate_city(500, 50, 500, seed=9, as_of=AS_OF).to_world()
    c = generate_city(500, 50, 500, seed=10, as_of=AS_OF).to_world()
    assert a == b and a != c


def test_updating_a_volunteer_keeps_their_history_and_bookings(store: Store, taxonomy: Taxonomy) -> None:
    service.load_document(store, ISSUE_EXAMPLE, taxonomy)
    store.load_world(parse_world({"bookings": [{"volunteer_id": "v1", "shift_id": "s1"}]}, taxonomy))
    before = store.counts()
    v = store.get_volunteer("v1")
    assert v is not None
    store.upsert_volunteer(replace(v, name="王芳芳", max_travel_km=12.0))
    after = store.counts()
    assert (
        (after["service_records"], after["bookings"])
        == (before["service_records"], before["bookings"])
        == (1, 1)
    )
    got = store.get_volunteer("v1")
    assert got is not None and (got.name, got.max_travel_km) == ("王芳芳", 12.0)


def test_erasure_blanks_personal_data_and_keeps_the_hours(store: Store, taxonomy: Taxonomy) -> None:
    service.load_document(store, ISSUE_EXAMPLE, taxonomy)
    store.create_account(Account("acct_1", "wang", "volunteer", volunteer_id="v1"))
    assert store.erase_volunteer("v1") and not store.erase_volunteer("v1")
    assert store.get_volunteer("v1") is None and store.get_account("acct_1") is None
    counts = store.counts()
    assert counts["volunteers"] == 0 and counts["service_records"] == 1
    assert store.snapshot().volunteers == () and store.snapshot().service_records == ()


def test_accounts(store: Store) -> None:
    store.create_account(Account("acct_1", "li", "organiser", organisation_id="o1"))
    expected = Account("acct_1", "li", "organiser", "o1")
    assert store.get_account("acct_1") == store.find_account("li") == expected
    with pytest.raises(ConflictError, match="already exists"):
        store.create_account(Account("acct_2", "li", "admin"))
    assert store.find_account("nobody") is None
    store.create_account(Account("acct_0", "wang", "admin"))
    assert store.accounts(10) == [Account("acct_0", "wang", "admin"), expected]
    assert store.accounts(1) == [Account("acct_0", "wang", "admin")]


def test_a_shift_id_taken_by_another_activity_is_a_conflict_and_writes_nothing(
    store: Store, taxonomy: Taxonomy
) -> None:
    service.load_document(store, ISSUE_EXAMPLE, taxonomy)
    other = parse_world(json.loads(json.dumps(ISSUE_EXAMPLE)), taxonomy).activities[0]
    with pytest.raises(ConflictError, match="already belongs"):
        store.upsert_activity(replace(other, id="a2", title="另一个活动"))
    assert store.get_activity("a2") is None and store.counts()["activities"] == 1


def test_a_bulk_load_counts_a_record_given_twice_once_as_its_last_version(
    store: Store, taxonomy: Taxonomy
) -> None:
    world = parse_world(json.loads(json.dumps(ISSUE_EXAMPLE)), taxonomy)
    v, a = world.volunteers[0], world.activities[0]
    later_shift = replace(a.shifts[0], id="s9", capacity=3)
    store.load_world(
        replace(
            world,
            volunteers=(v, replace(v, name="王芳芳")),
            activities=(a, replace(a, title="改名的活动", shifts=(later_shift,))),
            service_records=(),
        )
    )
    assert store.get_volunteer(v.id).name == "王芳芳"  # type: ignore[union-attr]
    loaded = store.get_activity(a.id)
    assert loaded is not None and loaded.title == "改名的活动"
    assert [(s.id, s.capacity) for s in loaded.shifts] == [("s9", 3)]


def test_a_bulk_load_with_one_shift_id_under_two_activities_writes_nothing(
    store: Store, taxonomy: Taxonomy
) -> None:
    world = parse_world(json.loads(json.dumps(ISSUE_EXAMPLE)), taxonomy)
    a = world.activities[0]
    with pytest.raises(ConflictError, match="already belongs"):
        store.load_world(replace(world, activities=(a, replace(a, id="a2")), service_records=()))
    assert store.counts()["activities"] == 0 and store.counts()["volunteers"] == 0


def test_listing_activities_by_category_time_and_place(store: Store) -> None:
    city = generate_city(200, 60, 0, seed=4, as_of=AS_OF)
    world = city.to_world()
    store.load_world(world)
    everything = store.list_activities(category=None, starts_from=None, starts_to=None)
    assert [a.id for a in everything] == sorted(a.id for a in world.activities)
    some = world.activities[0]
    same = store.list_activities(category=some.category, starts_from=None, starts_to=None)
    assert {a.id for a in same} == {a.id for a in world.activities if a.category == some.category}
    first = min(s.starts_at for a in world.activities for s in a.shifts)
    soon = epoch_seconds(first) + 3 * 86400
    early = store.list_activities(category=None, starts_from=None, starts_to=soon)
    assert {a.id for a in early} == {
        a.id for a in world.activities if any(epoch_seconds(s.starts_at) < soon for s in a.shifts)
    }
    centre = GeoPoint(30.2741, 120.1551)
    near = store.list_activities(category=None, starts_from=None, starts_to=None, near=centre, radius_km=8.0)
    within = {a.id for a in world.activities if a.location is None or haversine_km(centre, a.location) <= 8.0}
    assert within <= {a.id for a in near}  # a prefilter may keep a few more, never fewer
    assert all(a.location is None or haversine_km(centre, a.location) <= 20.0 for a in near)


def test_an_account_keeps_its_language(store: Store) -> None:
    assert store.preferences.language("acct_x") is None
    store.preferences.set_language("acct_x", "en")
    store.preferences.set_language("acct_x", "zh")
    store.preferences.set_language("acct_y", "en")
    assert (store.preferences.language("acct_x"), store.preferences.language("acct_y")) == ("zh", "en")
    with pytest.raises(ValidationError):
        store.preferences.set_language("acct_x", "fr")
