"""Gather from the store, compute with the matcher, return: the use cases the CLI (and soon the
HTTP API) share. No SQL here and no terminal or HTTP types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from matcher.demo import generate_city
from matcher.domain import World
from matcher.errors import ValidationError
from matcher.index import MatchIndex
from matcher.interchange import check_references, parse_world, world_to_json
from matcher.ranking import Ranking, recommend_activities, recommend_volunteers
from matcher.skills import Taxonomy
from matcher.store.base import Store


def load_document(
    store: Store, document: object, taxonomy: Taxonomy, on_item: Callable[[], None] | None = None
) -> dict[str, int]:
    """Validate a whole interchange document, then write it in one transaction. Nothing is
    written if any record is invalid."""
    world = parse_world(document, taxonomy, on_item)
    existing = store.snapshot() if world.service_records or world.bookings else World()
    check_references(
        world,
        {v.id for v in (*existing.volunteers, *world.volunteers)},
        {a.id for a in (*existing.activities, *world.activities)},
        {s.id for a in (*existing.activities, *world.activities) for s in a.shifts},
    )
    store.load_world(world)
    return {
        "volunteers": len(world.volunteers),
        "activities": len(world.activities),
        "service_records": len(world.service_records),
        "bookings": len(world.bookings),
    }


def export_document(store: Store) -> dict[str, object]:
    return world_to_json(store.snapshot())


def build_demo(
    store: Store, *, volunteers: int, activities: int, records: int, seed: int, as_of: date
) -> dict[str, int]:
    city = generate_city(volunteers, activities, records, seed=seed, as_of=as_of)
    store.load_world(city.to_world())
    return store.counts()


def build_index(store: Store, taxonomy: Taxonomy, as_of: date) -> MatchIndex:
    return MatchIndex.from_world(store.snapshot(), taxonomy, as_of)


def volunteers_for(
    index: MatchIndex,
    activity_id: str,
    *,
    now: datetime,
    shift_id: str | None,
    k: int,
    radius_km: float | None,
) -> Ranking:
    return recommend_volunteers(index, activity_id, now=now, shift_id=shift_id, k=k, radius_km=radius_km)


def activities_for(index: MatchIndex, volunteer_id: str, *, now: datetime, k: int) -> Ranking:
    if k < 1:
        raise ValidationError("k", "must be at least 1")
    return recommend_activities(index, volunteer_id, now=now, k=k)
