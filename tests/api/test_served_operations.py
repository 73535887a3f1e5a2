"""Places and hours against the real server (two worker processes) on each store: concurrent
sign-ups never overbook, and hour records sent with idempotency keys land exactly once even when
the server is killed mid-way and retries repeat them."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.auth import issue_token, utcnow
from matcher.model.domain import Shift, World
from matcher.store.base import Account
from matcher.store.connect import open_store
from tests.api.served import Served
from tests.conftest import CST, activity, volunteer

SECRET = "c" * 40
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'served.db'}"
    return str(request.getfixturevalue("postgis_url"))


def next_saturday(capacity: int) -> Shift:
    """08:00-12:00 on a Saturday at least two days from now (the volunteers' free window)."""
    today = datetime.now(CST).date()
    ahead = (5 - today.weekday()) % 7
    day = today + timedelta(days=ahead + (7 if ahead < 2 else 0))
    start = datetime(day.year, day.month, day.day, 8, tzinfo=CST)
    return Shift("s1", start, start + timedelta(hours=4), capacity)


def test_200_concurrent_sign_ups_for_10_places_confirm_exactly_10(url: str, tmp_path: Path) -> None:
    people = [volunteer(f"v{i:03d}", 1.0 + (i % 40) / 10) for i in range(200)]
    store = open_store(url)
    store.load_world(World(tuple(people), (activity("a1", shifts=(next_saturday(10),)),)))
    accounts = [Account(f"acct_{v.id}", v.id, "volunteer", volunteer_id=v.id) for v in people]
    admin = Account("acct_admin", "admin", "admin")
    for a in [*accounts, admin]:
        store.create_account(a)
    store.close()
    tokens = [issue_token(a, SECRET, now=utcnow(), ttl_hours=1) for a in accounts]

    with Served(url, SECRET, tmp_path / "serve.log") as server:

        async def everyone() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=200)
            async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60) as client:
                return await asyncio.gather(
                    *(
                        client.post("/api/v1/shifts/s1/signups", headers={"Authorization": f"Bearer {t}"})
                        for t in tokens
                    )
                )

        answers = asyncio.run(everyone())
        assert [r.status_code for r in answers if r.status_code != 201] == [], answers[0].text
        got = [r.json() for r in answers]
        roster = httpx.get(
            f"{server.base}/api/v1/shifts/s1/roster",
            headers={"Authorization": f"Bearer {issue_token(admin, SECRET, now=utcnow(), ttl_hours=1)}"},
        ).json()

    statuses = [g["status"] for g in got]
    assert statuses.count("confirmed") == 10 and statuses.count("waitlisted") == 190
    # The waitlist's order is the order of arrival: positions 1..190, each once, in the roster's
    # order, and every confirmed place came before every waiting one.
    positions = {g["volunteer_id"]: g["position"] for g in got if g["status"] == "waitlisted"}
    assert sorted(positions.values()) == list(range(1, 191))
    listed = roster["signups"]
    assert [s["status"] for s in listed] == ["confirmed"] * 10 + ["waitlisted"] * 190
    assert [s["volunteer_id"] for s in listed[10:]] == sorted(positions, key=positions.__getitem__)
    assert [s["position"] for s in listed[10:]] == list(range(1, 191))


def test_hour_records_land_once_through_retries_and_a_killed_server(url: str, tmp_path: Path) -> None:
    people = [volunteer(f"v{i:02d}", 1.0) for i in range(20)]
    store = open_store(url)
    store.load_world(World(tuple(people), (activity("a1", shifts=(next_saturday(10),)),)))
    admin = Account("acct_admin", "admin", "admin")
    store.create_account(admin)
    store.close()
    auth = {"Authorization": f"Bearer {issue_token(admin, SECRET, now=utcnow(), ttl_hours=1)}"}
    rng = random.Random(7)
    keys = [f"key-{i:04d}" for i in range(1000)]
    owner = {k: people[i % 20].id for i, k in enumerate(keys)}
    hours = {k: (i % 7 + 1) / 4 for i, k in enumerate(keys)}
    # Every key once, and a random third of them again later (a client retrying).
    sends = keys + rng.sample(keys, len(keys) // 3)
    rng.shuffle(sends)
    acknowledged: dict[str, list[dict[str, object]]] = {}

    with Served(url, SECRET, tmp_path / "serve.log") as server:

        async def send(client: httpx.AsyncClient, key: str) -> None:
            body = {"hours": hours[key], "note": key}
            while True:  # a lost answer is retried with the same key until one arrives
                try:
                    r = await client.post(
                        f"/api/v1/volunteers/{owner[key]}/hours/corrections",
                        json=body,
                        headers={**auth, "Idempotency-Key": key},
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code >= 500 or r.status_code == 409:
                    await asyncio.sleep(0.2)  # a server going down, or the same key in flight
                    continue
                assert r.status_code == 201, r.text
                acknowledged.setdefault(key, []).append(r.json())
                return

        async def run() -> None:
            queue: asyncio.Queue[str] = asyncio.Queue()
            for k in sends:
                queue.put_nowait(k)
            done = 0

            async def worker(client: httpx.AsyncClient) -> None:
                nonlocal done
                while not queue.empty():
                    await send(client, queue.get_nowait())
                    done += 1

            async def killer() -> None:
                while done < len(sends) // 2:
                    await asyncio.sleep(0.01)
                await asyncio.to_thread(server.kill)
                await asyncio.to_thread(server.start)

            async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
                await asyncio.gather(killer(), *(worker(client) for _ in range(8)))

        asyncio.run(run())
        totals = {
            v.id: httpx.get(f"{server.base}/api/v1/volunteers/{v.id}/hours", headers=auth, timeout=30).json()
            for v in people
        }

    assert set(acknowledged) == set(keys)
    for key, answers in acknowledged.items():
        assert len({a["id"] for a in answers}) == 1, key  # a repeat got the first answer back
    store = open_store(url)
    try:
        entries = [e for v in people for e in store.ops.ledger(v.id)]
    finally:
        store.close()
    assert sorted(e.note for e in entries) == sorted(keys)  # exactly one entry per key
    for v in people:
        mine = [hours[k] for k in keys if owner[k] == v.id]
        assert totals[v.id]["total_hours"] == pytest.approx(sum(mine))
        assert totals[v.id]["total_hours"] == pytest.approx(sum(e["hours"] for e in totals[v.id]["entries"]))
