"""Places on shifts as the database decides them. One person cannot hold places on two shifts at
the same time, even when both sign-ups arrive at the same moment through different processes
(each locks only its own shift's row, so the database checks the person's other places under a
lock on the person); and the places a write returns are the places the store then holds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from matcher.model.domain import Shift, World
from matcher.model.errors import ConflictError, NotFoundError
from matcher.store.connect import open_store
from matcher.store.operations import Policy
from tests.api.test_served_operations import next_saturday
from tests.conftest import activity, volunteer


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_sign_ups_for_overlapping_shifts_confirm_one(db: str, attempt: int) -> None:
    first = next_saturday(5)
    second = Shift("s2", first.starts_at + timedelta(hours=1), first.ends_at + timedelta(hours=1), 5)
    setup = open_store(db)
    setup.load_world(
        World((volunteer("v1"),), (activity("a1", shifts=(first,)), activity("a2", shifts=(second,))))
    )
    setup.close()
    stores = [open_store(db), open_store(db)]  # two processes, each with its own connections
    now_s = int((first.starts_at - timedelta(days=1)).timestamp())

    def sign(i: int) -> str:
        try:
            return stores[i].ops.sign_up(f"su{i}", ("s1", "s2")[i], "v1", now_s, Policy()).status
        except ConflictError as e:
            return f"refused: {e}"

    try:
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(sign, range(2)))
    finally:
        for s in stores:
            s.close()
    assert sorted(o.split(":")[0] for o in outcomes) == ["confirmed", "refused"], outcomes


def test_the_places_a_write_returns_are_the_places_the_store_then_holds(db: str) -> None:
    """What a sign-up or a cancellation returns for the index (read in its own transaction), and
    the batch read a following process makes, agree with the shift's places read on their own:
    confirmed places, and places held with offers counted."""
    first = next_saturday(2)
    later = Shift("s2", first.starts_at + timedelta(days=7), first.ends_at + timedelta(days=7), 1)
    people = tuple(volunteer(f"v{i}") for i in range(4))
    store = open_store(db)
    try:
        store.load_world(World(people, (activity("a1", shifts=(first,)), activity("a2", shifts=(later,)))))
        now_s = int((first.starts_at - timedelta(days=3)).timestamp())
        seen = []
        for i, shift in ((0, "s1"), (1, "s1"), (2, "s1"), (3, "s2")):  # v2 waits for s1
            placed = store.ops.sign_up_placed(f"su{i}", shift, f"v{i}", now_s, Policy())
            seen.append((shift, placed.confirmed, placed.taken))
        placed = store.ops.cancel_placed("su0", now_s, Policy())  # v2 is offered v0's place
        seen.append(("s1", placed.confirmed, placed.taken))
        assert seen[-1] == ("s1", ["v1"], 2)  # the offer holds a place, but is not a booking
        assert seen[2] == ("s1", ["v0", "v1"], 2)
        assert store.ops.places_of(["s1", "s2", "s1"]) == {
            "s1": store.ops.places("s1"),
            "s2": store.ops.places("s2"),
        }
        assert store.ops.places("s1") == (["v1"], 2) and store.ops.places("s2") == (["v3"], 1)
        with pytest.raises(NotFoundError):  # another volunteer's sign-up is not found
            store.ops.cancel_placed("su1", now_s, Policy(), volunteer_id="v3")
        assert store.ops.places("s1") == (["v1"], 2)
    finally:
        store.close()
