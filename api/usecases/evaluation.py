"""Offline evaluation, as ``volmatch evaluate`` runs it: the demo city's known answer, and
SciStarter's real joins. Nothing is stored; the figures are printed by the caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from matcher.demo import outcomes as demo_outcomes
from matcher.demo.city import generate_city
from matcher.learning import scistarter, training
from matcher.store.base import load_taxonomy
from matcher.store.datasets import scistarter as read_scistarter

SCISTARTER_AS_OF = date(2026, 11, 29)
"""The day the SciStarter comparison ranks on (its joins carry no dates of their own)."""


def demo(
    volunteers: int,
    activities: int,
    queries: int,
    seed: int,
    progress: Callable[[str], None] = lambda s: None,
) -> dict[str, dict[str, Any]]:
    """Serve the demo city, draw outcomes from its documented hidden preferences, and compare
    every ordering of the newest answers (baselines, default weights, learned models) against
    what people did and against the hidden preferences: method -> metric -> estimate."""
    progress("building the demo city")
    city = generate_city(volunteers, activities, volunteers * 5, seed=seed)
    index = city.build_index(load_taxonomy())
    now = datetime.combine(city.as_of, datetime.min.time(), UTC)
    progress(f"serving {queries:,} shifts and drawing what followed")
    served, outcomes = demo_outcomes.simulate(index, now=now, queries=queries, seed=seed)
    progress("fitting and comparing")
    return demo_outcomes.compare(training.examples(served, outcomes), created=now, seed=seed)


def scistarter_seeds(
    path: Path, seeds: list[int], progress: Callable[[str], None] = lambda s: None
) -> tuple[dict[str, dict[str, Any]], int]:
    """Every method on SciStarter, one join held out per user with two or more, over the split
    seeds: method -> metric -> spread over seeds; and how many users were ranked."""
    joins, topics, online = read_scistarter(path)
    table = scistarter.compare_seeds(
        joins, topics, online, load_taxonomy(), as_of=SCISTARTER_AS_OF, seeds=seeds, progress=progress
    )
    return table, int(joins.groupby("user").size().ge(2).sum())
