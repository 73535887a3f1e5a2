"""The outbox and the console inbox: each change that should tell a volunteer writes a message
in its own transaction (so a refused or rolled-back change tells nothing), an event is told
once however often it is written, and the volunteer reads their own inbox through the API.
On both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher.store.connect import open_store
from tests.api.test_signups import Clock, serve, sign_up
from tests.conftest import CST, NOW


@pytest.fixture
def api(db: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], Clock, str]]:
    clock = Clock()
    client, heads = serve(db, clock)
    with client:
        yield client, heads, clock, db


def inbox(client: TestClient, heads: dict[str, str]) -> dict[str, Any]:
    r = client.get("/api/v1/notifications", headers=heads)
    assert r.status_code == 200, r.text
    return dict(r.json())


def kinds(box: dict[str, Any]) -> list[str]:
    return [m["kind"] for m in box["items"]]


def test_a_waitlist_offer_is_told_at_once_and_its_lapse_passes_it_on(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock, str],
) -> None:
    client, h, clock, _ = api
    first, second, _third = (sign_up(client, h[f"v{i}"]) for i in (1, 2, 3))  # s1 has one place
    assert kinds(inbox(client, h["v1"])) == ["signup_confirmed"]
    waiting = inbox(client, h["v2"])
    assert kinds(waiting) == ["signup_waitlisted"] and waiting["items"][0]["detail"]["position"] == 1
    assert "第 1 位" in waiting["items"][0]["text"]["zh"]

    client.delete(f"/api/v1/signups/{first['id']}", headers=h["v1"])  # frees the place: v2 is offered it
    offered = inbox(client, h["v2"])
    assert kinds(offered) == ["offered", "signup_waitlisted"] and offered["unread"] == 2
    offer = offered["items"][0]
    assert offer["urgent"] and offer["signup_id"] == second["id"]
    assert offer["detail"]["until_s"] == int((NOW + timedelta(hours=2)).timestamp())

    clock.now = NOW + timedelta(hours=3)  # the hold ends unanswered: the roster read settles it
    assert client.get("/api/v1/shifts/s1/roster", headers=h["o1"]).status_code == 200
    assert kinds(inbox(client, h["v2"])) == ["offer_lapsed", "offered", "signup_waitlisted"]
    assert kinds(inbox(client, h["v3"])) == ["offered", "signup_waitlisted"]  # passed on, and told
    for _ in range(3):  # settling again, and signing up again, tell nothing new
        client.get("/api/v1/shifts/s1/roster", headers=h["o1"])
    sign_up(client, h["v3"])
    assert kinds(inbox(client, h["v3"])) == ["offered", "signup_waitlisted"]


def test_reading_marks_read_and_nobody_reads_another_s_inbox(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock, str],
) -> None:
    client, h, _, _ = api
    sign_up(client, h["v1"])
    sign_up(client, h["v2"])
    mine = inbox(client, h["v1"])
    message = mine["items"][0]
    assert mine["unread"] == 1 and message["read_s"] is None
    read = client.post(f"/api/v1/notifications/{message['id']}/read", headers=h["v1"])
    assert read.status_code == 200 and read.json()["read_s"] == int(NOW.timestamp())
    assert inbox(client, h["v1"])["unread"] == 0
    assert client.post(f"/api/v1/notifications/{message['id']}/read", headers=h["v2"]).status_code == 404
    assert client.get("/api/v1/notifications?volunteer_id=v1", headers=h["v2"]).status_code == 403
    assert client.get("/api/v1/notifications", headers=h["o1"]).status_code == 403
    assert client.get("/api/v1/notifications", headers=h["ad"]).status_code == 422  # whose?
    theirs = client.get("/api/v1/notifications?volunteer_id=v2", headers=h["ad"])
    assert kinds(theirs.json()) == ["signup_waitlisted"]
    assert client.post("/api/v1/notifications/99999999999999999999/read", headers=h["v1"]).status_code == 422


def test_a_refused_change_tells_nothing_and_approved_hours_are_told(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock, str],
) -> None:
    client, h, clock, db = api
    place = sign_up(client, h["v1"])
    refused = client.post("/api/v1/shifts/s1/signups", headers=h["v1"], json={"volunteer_id": "v2"})
    assert refused.status_code == 403
    invited = client.post("/api/v1/shifts/s2/signups", headers=h["o2"], json={"volunteer_id": "v2"})
    assert invited.status_code == 201, invited.text
    assert kinds(inbox(client, h["v2"])) == ["invited"]

    clock.now = datetime(2026, 12, 5, 13, tzinfo=CST)  # after the shift
    approved = client.post(f"/api/v1/signups/{place['id']}/hours", headers=h["o1"], json={"hours": 3.5})
    assert approved.status_code == 201, approved.text
    told = inbox(client, h["v1"])["items"][0]
    assert told["kind"] == "hours_approved" and told["detail"]["hours"] == 3.5
    assert "3.5" in told["text"]["en"]

    store = open_store(db)  # one row per event in the outbox itself, none twice
    try:
        messages, unread, _ = store.messages.inbox("v1", int(clock.now.timestamp()), limit=100)
    finally:
        store.close()
    told = [m.kind.value for m in messages if m.kind != "reminder"]  # reminders came due meanwhile
    assert told == ["hours_approved", "signup_confirmed"] and unread == len(messages)


def test_organisers_see_counts_and_admins_the_dead_letters(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock, str],
) -> None:
    client, h, _, db = api
    sign_up(client, h["v1"])
    sign_up(client, h["v2"])
    counts = client.get("/api/v1/shifts/s1/notifications", headers=h["o1"])
    assert counts.status_code == 200, counts.text
    assert counts.json() == {
        "shift_id": "s1",
        "told": 2,
        "by_kind": {"signup_confirmed": 1, "signup_waitlisted": 1},
        "deliveries": {},  # nobody here gave an e-mail address
        "scheduled": 2,  # the confirmed place's reminders, 24 h and 2 h before
    }
    assert "v1" not in counts.text  # counts only
    assert client.get("/api/v1/shifts/s1/notifications", headers=h["o2"]).status_code == 403
    assert client.get("/api/v1/admin/dead-letters", headers=h["o1"]).status_code == 403

    store = open_store(db)  # a delivery that failed every attempt
    try:
        message = store.messages.inbox("v1", 2**40, limit=100)[0][-1]
        with store._ops_tx() as tx:  # the store's own transaction
            tx.run(
                "INSERT INTO deliveries (message_id, channel, status, attempts, next_s, last_error) "
                "VALUES (%s, 'email', 'dead', 6, 0, 'mailbox full')",
                (message.id,),
            )
    finally:
        store.close()
    dead = client.get("/api/v1/admin/dead-letters", headers=h["ad"]).json()["items"]
    assert [(d["message_id"], d["error"]) for d in dead] == [(message.id, "mailbox full")]
    assert client.post(f"/api/v1/admin/dead-letters/{message.id}/retry", headers=h["ad"]).status_code == 204
    assert client.get("/api/v1/admin/dead-letters", headers=h["ad"]).json()["items"] == []
    assert client.post(f"/api/v1/admin/dead-letters/{message.id}/retry", headers=h["ad"]).status_code == 404
    pending = client.get("/api/v1/shifts/s1/notifications", headers=h["o1"]).json()["deliveries"]
    assert pending == {"email": {"pending": 1}}
