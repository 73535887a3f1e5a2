"""Abuse limits: one client cannot starve the rest.

- a token over its request budget gets 429 with Retry-After, while other tokens go on;
- password guessing for one account name is slowed the same way;
- a database call that runs too long is cancelled and answered 503 with Retry-After, and the
  service answers normally straight after.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.auth import issue_token, utcnow
from api.limits import Budget
from api.main import create_app
from api.settings import Settings
from matcher.model.domain import World
from matcher.store.base import Account
from matcher.store.connect import open_store
from matcher.store.postgis import PostgisStore
from tests.conftest import NOW, activity, volunteer

SECRET = "l" * 40


@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=200),
    window=st.floats(0.1, 20),
)
def test_a_budget_never_admits_more_than_its_burst_plus_its_rate(
    rate: float, burst: int, gaps: list[float], window: float
) -> None:
    now = [0.0]
    budget = Budget(rate, burst, clock=lambda: now[0])
    admitted = []
    for gap in gaps:
        now[0] += gap
        wait = budget.take("k")
        if wait == 0:
            admitted.append(now[0])
        else:
            # The wait it names is enough: asked again after it, the request goes through.
            probe = Budget(rate, burst, clock=lambda later=now[0] + wait + 1e-9: later)
            probe._buckets = dict(budget._buckets)
            assert probe.take("k") == 0
    for start in admitted:
        inside = sum(1 for t in admitted if start <= t <= start + window)
        assert inside <= burst + rate * window + 1e-6


def test_a_budget_refills_and_forgets_idle_keys() -> None:
    now = [0.0]
    budget = Budget(2.0, 3, clock=lambda: now[0], max_keys=10)
    assert [budget.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert budget.take("a") == 0.0
    for i in range(50):  # many one-off callers do not grow the table without bound
        budget.take(f"k{i}")
    assert len(budget._buckets) <= 10
    assert Budget(0, 1).take("x") == 0.0  # rate 0: no limit


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def limited(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """The app with a small budget (5 a second, bursts of 10) and a 0.5 s query timeout."""
    db = (
        f"sqlite:///{tmp_path / 'limits.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgis_url")
    )
    store = open_store(db)
    store.load_world(World((volunteer("v1"),), (activity(),)))
    accounts = [
        Account("acct_o1", "o1", "organiser", organisation_id="o1"),
        Account("acct_o2", "o2", "organiser", organisation_id="o1"),
    ]
    for a in accounts:
        store.create_account(a)
    store.close()
    headers = {
        a.name: {"Authorization": f"Bearer {issue_token(a, SECRET, now=utcnow(), ttl_hours=1)}"}
        for a in accounts
    }
    settings = Settings(
        database_url=db,
        environment="test",
        secret_key=SECRET,
        rate_per_s=5,
        rate_burst=10,
        sign_ins_per_minute=3,
        query_timeout_s=0.5,
    )
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        yield client, headers


def test_a_token_over_its_budget_gets_429_and_others_go_on(
    limited: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, h = limited
    now = [1000.0]  # the budget's clock, stopped: the test does not depend on this machine's speed
    client.app.state.budget = Budget(5, 10, clock=lambda: now[0])  # type: ignore[attr-defined]
    url = "/api/v1/activities/a1/recommended-volunteers"
    codes = [client.get(url, headers=h["o1"]).status_code for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
    refused = client.get(url, headers=h["o1"])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "try again in" in refused.json()["detail"]
    assert client.get(url, headers=h["o2"]).status_code == 200  # another client is not held up
    now[0] += 0.2  # 5 a second: one more request's worth
    assert client.get(url, headers=h["o1"]).status_code == 200
    assert client.get(url, headers=h["o1"]).status_code == 429


def test_password_guessing_is_slowed_per_account_name(
    limited: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, _ = limited
    page = client.get("/login")
    form = {"csrf": page.cookies.get("vm_csrf") or "", "name": "o1", "password": "wrong-guess"}
    codes = [client.post("/login", data=form, follow_redirects=False).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    last = client.post("/login", data=form, follow_redirects=False)
    seconds = last.headers["Retry-After"]
    assert int(seconds) >= 1 and f"请 {seconds} 秒后再试" in last.text  # the page says how long
    other = client.post("/login", data=form | {"name": "o2"}, follow_redirects=False)
    assert other.status_code == 401  # another name is not locked out by this one's guesses


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_a_slow_database_call_is_cancelled_with_503_and_the_service_goes_on(
    limited: tuple[TestClient, dict[str, dict[str, str]]], monkeypatch: pytest.MonkeyPatch, write: bool
) -> None:
    client, _ = limited
    store: Any = client.app.state.live.store  # type: ignore[attr-defined]
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"

    def slow_counts() -> dict[str, int]:
        if isinstance(store, PostgisStore):
            with store._tx() as db:
                if write:
                    db.execute("CREATE TEMP TABLE IF NOT EXISTS slow (x int)")
                    db.execute("INSERT INTO slow SELECT 1 FROM pg_sleep(30)")
                else:
                    db.execute("SELECT pg_sleep(30)")
        elif write:  # a write interrupted inside its transaction (SQLite rolls it back itself)
            with store._tx() as db:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS slow (x)")
                db.execute(f"INSERT INTO slow (x) {endless}")
        else:
            with store._lock:  # counts to infinity, until interrupted
                store._db.execute(f"SELECT count(*) FROM ({endless})").fetchone()
        return {}

    monkeypatch.setattr(store, "counts", slow_counts)
    t = time.perf_counter()
    slow = client.get("/ready")
    took = time.perf_counter() - t
    assert slow.status_code == 503 and slow.headers["Retry-After"] == "2", slow.text
    assert "took too long" in slow.json()["detail"] and took < 3.0
    monkeypatch.undo()
    assert client.get("/ready").status_code == 200  # the connection and the service are fine
