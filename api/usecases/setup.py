"""Filling a store: interchange documents in and out, the demo city and its simulated
outcomes, and the index built from what is stored (``volmatch load``, ``export``, ``demo``,
``demo-outcomes`` and the benchmarks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pandas as pd

from matcher.demo import outcomes as demo_outcomes
from matcher.demo.city import demo_needs, generate_city
from matcher.demo.organisations import demo_guardians, demo_organisations
from matcher.interchange.records import check_references, parse_world, world_to_json
from matcher.learning.training import FACTORS
from matcher.matching.index import MatchIndex
from matcher.model.domain import World
from matcher.model.errors import ValidationError
from matcher.model.skills import Taxonomy
from matcher.store.base import Store
from matcher.store.feedback import DEFAULT_VERSION, Served


def load_document(
    store: Store, document: object, taxonomy: Taxonomy, on_item: Callable[[], None] | None = None
) -> dict[str, int]:
    """Validate a whole interchange document, then write it in one transaction. Nothing is
    written if any record is invalid."""
    world = parse_world(document, taxonomy, on_item)
    located = {v.id for v in world.volunteers if v.home is not None}
    refused = sorted(located & store.audit.location_withdrawn()) if located else []
    if refused:
        raise ValidationError(
            "volunteers",
            f"{len(refused)} volunteers withdrew consent to the use of their location ({', '.join(refused[:5])}"
            f"{' ...' if len(refused) > 5 else ''}): leave out their homes",
        )
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


DEMO_NEEDS_PER_ACTIVITY = 0.04
"""The demo city's communities post one open need for every 25 activities."""


def build_demo(
    store: Store, *, volunteers: int, activities: int, records: int, seed: int, as_of: date
) -> dict[str, int]:
    city = generate_city(volunteers, activities, records, seed=seed, as_of=as_of)
    world = city.to_world()
    store.load_world(world)
    seed_registry(store, world, as_of)
    for need in demo_needs(city, max(int(activities * DEMO_NEEDS_PER_ACTIVITY), 1), seed=seed):
        store.needs.add(need)
    return store.counts()


DEMO_OUTCOME_SPACING_S = 600
"""Simulated answers are ten minutes apart, the month before the city's today."""


def seed_registry(store: Store, world: World, as_of: date) -> int:
    """The demo city's organisations in the registry, and its minors' guardians (those
    missing: safe to run again on a city built before either existed)."""
    created_s = int(datetime.combine(as_of, time(0), UTC).timestamp())
    store.joining.seed_guardians(demo_guardians(world, as_of), "demo", created_s)
    return store.organisations.seed(demo_organisations(world, created_s))


def build_demo_outcomes(
    store: Store, taxonomy: Taxonomy, as_of: date, *, queries: int, seed: int
) -> dict[str, int]:
    """Serve the default ranking for ``queries`` shifts of the stored city and draw what
    followed from the hidden preferences of :mod:`matcher.demo.outcomes`, into the feedback log
    (the known answer ``volmatch train`` should recover)."""
    index = build_index(store, taxonomy, as_of)
    now = datetime.combine(as_of, datetime.min.time(), UTC)
    served, outcomes = demo_outcomes.simulate(index, now=now, queries=queries, seed=seed)
    base = now.timestamp() - 30 * 86400
    answers = [
        Served(
            query=f"demo-{query}",
            served_s=base + float(g["time"].min()) * DEMO_OUTCOME_SPACING_S,
            account_id=None,
            direction="volunteers",
            subject=str(g["activity_id"].iloc[0]),
            model_version=DEFAULT_VERSION,
            items=_demo_items(g),
        )
        for query, g in served.groupby("query", sort=False)
    ]
    store.feedback.log_served(answers)
    marks = outcomes.assign(time=base + outcomes["time"] * DEMO_OUTCOME_SPACING_S)
    return {"answers": len(answers), "items": len(served), "outcomes": store.feedback.record_many(marks)}


def _demo_items(g: pd.DataFrame) -> tuple[tuple[str, str, str | None, float, dict[str, float]], ...]:
    parts = g[list(FACTORS)].to_numpy(dtype=float).tolist()
    return tuple(
        (str(v), str(a), str(s), float(score), dict(zip(FACTORS, p, strict=True)))
        for v, a, s, score, p in zip(
            g["volunteer_id"], g["activity_id"], g["shift_id"], g["score"], parts, strict=True
        )
    )


def build_index(store: Store, taxonomy: Taxonomy, as_of: date) -> MatchIndex:
    return MatchIndex.from_world(store.snapshot(), taxonomy, as_of)


def counts(store: Store) -> dict[str, int]:
    """How many records of each kind the store holds."""
    return store.counts()


def write_world(store: Store, world: World) -> None:
    """Records already validated (a generated city), written in one transaction (bulk COPY on
    PostgreSQL)."""
    store.load_world(world)
