"""One person cannot hold places on two shifts at the same time, even when both sign-ups arrive
at the same moment through different processes (each locks only its own shift's row, so the
database checks the person's other places under a lock on the person)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from matcher.domain import Shift, World
from matcher.errors import ConflictError
from matcher.store.base import open_store
from matcher.store.operations import Policy
from tests.api.test_served_operations import next_saturday
from tests.conftest import activity, volunteer


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_sign_ups_for_overlapping_shifts_confirm_one(db: str, attempt: int) -> None:
    first = next_saturday(5)
    second = Shift("s2", first.starts_at + timedelta(hours=1), first.ends_at + timedelta(hours=1), 5)
    setup = open_store(db)
    setup.load_world(World((volunteer("v1"),), (activity("a1", shifts=(first,)), activity("a2", shifts=(second,)))))
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
