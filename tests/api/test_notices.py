"""Respecting people, through the API on both stores: quiet hours hold a message back until the
morning in the volunteer's zone but let an urgent one through; past the weekly cap a message
stays in the inbox; muted kinds and chosen channels decide what goes beyond it; reminders are
scheduled before a confirmed shift and dropped when the place is given up; bad choices are
refused naming the field, with nothing kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher.model.domain import World
from matcher.store.connect import open_store
from tests.api.test_signups import Clock, serve, sign_up
from tests.conftest import CST, NOW, activity, saturday_shift, volunteer

Api = tuple[TestClient, dict[str, dict[str, str]], Clock, str]
DEFAULTS = {
    "channels": ["email"],
    "muted": [],
    "quiet_hours": {"start": "22:00", "end": "07:00", "overnight": True},
    "max_per_week": 5,
    "language": "zh",
}


@pytest.fixture
def api(db: str) -> Iterator[Api]:
    """Three volunteers with e-mail addresses; e-mail configured but no dispatcher running, so
    what the outbox decided can be read before anything is sent."""
    clock = Clock()
    world = World(
        tuple(volunteer(f"v{i}", 1.0 + i / 10, email=f"v{i}@example.org") for i in range(1, 4)),
        (
            activity("a1", organisation_id="o1", shifts=(saturday_shift("s1", capacity=1),)),
            activity("a2", organisation_id="o2", shifts=(saturday_shift("s2", day=12),)),
        ),
    )
    client, heads = serve(db, clock, world, smtp_url="smtp://127.0.0.1:9", notify="false")
    with client:
        yield client, heads, clock, db


def outbox(db: str, volunteer_id: str) -> list[dict[str, Any]]:
    """Every message of the volunteer with its deliveries, oldest first."""
    store = open_store(db)
    try:
        with store._ops_tx() as tx:
            rows = tx.all(
                "SELECT m.id, m.kind, m.urgent, m.due_s, m.dropped_s, d.channel, d.status, d.next_s FROM messages m "
                "LEFT JOIN deliveries d ON d.message_id = m.id WHERE m.volunteer_id = %s ORDER BY m.id",
                (volunteer_id,),
            )
    finally:
        store.close()
    return [
        {"id": r[0], "kind": r[1], "urgent": bool(r[2]), "due_s": r[3], "dropped_s": r[4], "channel": r[5],
         "status": r[6], "next_s": r[7]}
        for r in rows
    ]  # fmt: skip


def at(local: datetime) -> int:
    return int(local.timestamp())


def put(client: TestClient, heads: dict[str, str], who: str = "v1", **changes: Any) -> Any:
    return client.put(
        f"/api/v1/volunteers/{who}/notification-preferences", headers=heads, json=DEFAULTS | changes
    )


def test_quiet_hours_hold_a_message_until_morning_and_an_urgent_one_goes_at_once(api: Api) -> None:
    client, h, clock, db = api
    clock.now = datetime(2026, 11, 28, 23, 0, tzinfo=CST)  # 23:00 where the volunteers live
    place = sign_up(client, h["v1"])  # the last place: told, but not at night
    sign_up(client, h["v2"])  # waitlisted
    (confirmed,) = [m for m in outbox(db, "v1") if m["kind"] == "signup_confirmed"]
    assert confirmed["status"] == "pending"
    assert confirmed["next_s"] == at(datetime(2026, 11, 29, 7, 0, tzinfo=CST))  # when quiet hours end

    clock.now = datetime(2026, 11, 28, 23, 30, tzinfo=CST)
    assert client.delete(f"/api/v1/signups/{place['id']}", headers=h["v1"]).status_code == 200
    (offer,) = [m for m in outbox(db, "v2") if m["kind"] == "offered"]
    assert offer["urgent"] and offer["next_s"] == at(clock.now)  # a held place cannot wait for morning

    # Quiet hours are the volunteer's own: with none at night, the same message goes at once.
    assert (
        put(
            client, h["v3"], "v3", quiet_hours={"start": "12:00", "end": "13:00", "overnight": False}
        ).status_code
        == 200
    )
    sign_up(client, h["v3"], "s2")
    (now_told,) = [m for m in outbox(db, "v3") if m["kind"] == "signup_confirmed"]
    assert now_told["next_s"] == at(clock.now)


def correct(client: TestClient, h: dict[str, dict[str, str]], n: int) -> None:
    for i in range(n):
        r = client.post(
            "/api/v1/volunteers/v1/hours/corrections",
            headers=h["ad"],
            json={"hours": 1, "note": f"carried over {i}"},
        )
        assert r.status_code == 201, r.text


def test_past_the_weekly_cap_a_message_stays_in_the_inbox(api: Api) -> None:
    client, h, clock, db = api
    assert put(client, h["v1"], max_per_week=2).status_code == 200
    correct(client, h, 3)
    told = [m for m in outbox(db, "v1") if m["kind"] == "hours_corrected"]
    assert len(told) == 3  # all three are in the inbox
    assert [m["channel"] for m in told] == ["email", "email", None]  # the third went no further
    inbox = client.get("/api/v1/notifications", headers=h["v1"]).json()
    assert [m["kind"] for m in inbox["items"]].count("hours_corrected") == 3

    clock.now = NOW + timedelta(days=8)  # a week on, the cap has room again
    correct(client, h, 1)
    assert [m for m in outbox(db, "v1") if m["kind"] == "hours_corrected"][-1]["channel"] == "email"


def test_muted_kinds_and_no_channels_leave_messages_in_the_inbox_only(api: Api) -> None:
    client, h, _, db = api
    assert put(client, h["v1"], muted=["hours_corrected"]).status_code == 200
    correct(client, h, 1)
    sign_up(client, h["v1"])
    by_kind = {m["kind"]: m["channel"] for m in outbox(db, "v1") if m["kind"] != "reminder"}
    assert by_kind == {"hours_corrected": None, "signup_confirmed": "email"}

    assert put(client, h["v2"], "v2", channels=[]).status_code == 200
    sign_up(client, h["v2"], "s2")
    assert {m["channel"] for m in outbox(db, "v2")} == {None}
    assert (
        client.get("/api/v1/volunteers/v2/notification-preferences", headers=h["v2"]).json()["channels"] == []
    )
    assert client.get("/api/v1/volunteers/v2/notification-preferences", headers=h["v1"]).status_code == 404


def test_reminders_come_before_the_shift_and_are_dropped_with_the_place(api: Api) -> None:
    client, h, clock, db = api
    place = sign_up(client, h["v1"])  # s1: Saturday 2026-12-05 08:00 in Beijing
    reminders = [m for m in outbox(db, "v1") if m["kind"] == "reminder"]
    starts = datetime(2026, 12, 5, 8, 0, tzinfo=CST)
    # 24 h before; 2 h before is 06:00, in quiet hours, so at their end (still an hour ahead).
    assert [m["next_s"] for m in reminders] == [
        at(starts - timedelta(hours=24)),
        at(datetime(2026, 12, 5, 7, tzinfo=CST)),
    ]
    assert "reminder" not in [
        m["kind"] for m in client.get("/api/v1/notifications", headers=h["v1"]).json()["items"]
    ]

    clock.now = starts - timedelta(hours=23)  # the first is due: in the inbox now
    kinds = [m["kind"] for m in client.get("/api/v1/notifications", headers=h["v1"]).json()["items"]]
    assert kinds.count("reminder") == 1
    assert client.delete(f"/api/v1/signups/{place['id']}", headers=h["v1"]).status_code == 200
    after = [m for m in outbox(db, "v1") if m["kind"] == "reminder"]
    assert [m["status"] for m in after] == ["pending", "dropped"]  # the one not yet due is dropped
    assert after[1]["dropped_s"] is not None

    # An organiser sets the activity's reminder times; later places follow them.
    r = client.put("/api/v1/activities/a2/reminders", headers=h["o2"], json={"minutes": [60, 2880]})
    assert r.status_code == 200 and r.json()["minutes"] == [2880, 60]
    assert (
        client.put("/api/v1/activities/a2/reminders", headers=h["o1"], json={"minutes": [60]}).status_code
        == 403
    )
    sign_up(client, h["v2"], "s2")
    due = [m["due_s"] for m in outbox(db, "v2") if m["kind"] == "reminder"]
    twelfth = datetime(2026, 12, 12, 8, 0, tzinfo=CST)
    assert due == [at(twelfth - timedelta(days=2)), at(twelfth - timedelta(hours=1))]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channels": ["pigeon"]}, "channels"),
        ({"channels": ["sms"]}, "channels"),  # no SMS gateway is configured here
        ({"muted": ["gossip"]}, "muted"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "overnight": False}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00", "overnight": True}}, "quiet_hours.start"),
        ({"max_per_week": -1}, "max_per_week"),
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field_and_nothing_is_kept(
    api: Api, change: dict[str, Any], field: str
) -> None:
    client, h, _, _ = api
    r = put(client, h["v1"], **change)
    assert r.status_code == 422, r.text
    assert field in str(r.json()["detail"][0]["loc"])
    kept = client.get("/api/v1/volunteers/v1/notification-preferences", headers=h["v1"]).json()
    assert {k: kept[k] for k in DEFAULTS} == DEFAULTS | {"channels": ["email", "sms", "wechat"]}


@pytest.mark.parametrize("phone", ["12345", "+86 138 0013 800", "phone me", "+0 123 456 789"])
def test_a_malformed_phone_number_is_refused_and_no_code_is_sent(api: Api, phone: str) -> None:
    client, h, _, db = api
    r = client.post("/api/v1/volunteers/v1/phone-codes", headers=h["v1"], json={"phone": phone})
    assert r.status_code == 422 and "phone" in str(r.json()["detail"][0]["loc"]), r.text
    assert [m for m in outbox(db, "v1") if m["kind"] == "phone_code"] == []


def test_a_template_missing_a_language_or_using_an_unknown_field_is_refused(api: Api) -> None:
    client, h, _, _ = api
    url = "/api/v1/admin/message-templates/reminder"
    zh = {"subject": "提醒：{{ title }}", "body": "{{ title }} 于 {{ starts }} 开始"}
    missing = client.put(url, headers=h["ad"], json={"zh": zh})
    assert missing.status_code == 422 and "en" in str(missing.json()["detail"][0]["loc"]), missing.text
    unknown = client.put(
        url, headers=h["ad"], json={"zh": zh, "en": {"subject": "{{ nickname }}", "body": "x"}}
    )
    assert unknown.status_code == 422 and "en.subject" in str(unknown.json()["detail"][0]["loc"]), (
        unknown.text
    )
    broken = client.put(url, headers=h["ad"], json={"zh": zh | {"body": "{% if %}"}, "en": zh})
    assert broken.status_code == 422 and "zh.body" in str(broken.json()["detail"][0]["loc"]), broken.text
    assert client.get(url, headers=h["ad"]).json()["zh"]["custom"] is False  # nothing kept

    good = client.put(
        url, headers=h["ad"], json={"zh": zh, "en": {"subject": "Soon: {{ title }}", "body": "{{ starts }}"}}
    )
    assert good.status_code == 200 and good.json()["en"]["custom"] is True
    assert client.put(url, headers=h["o1"], json={"zh": zh, "en": zh}).status_code == 403


def test_a_star_tier_reached_is_told_once(db: str) -> None:
    clock = Clock()
    world = World(
        (volunteer("v1", email="v1@example.org"),), (activity("a1", shifts=(saturday_shift("s1"),)),)
    )
    client, h = serve(db, clock, world, notify="false", tier_hours="30,60")
    with client:
        for hours in (24, 24, 24, -24, 24):  # 24, 48 (1 star), 72 (2 stars), 48, 72 again
            r = client.post(
                "/api/v1/volunteers/v1/hours/corrections",
                headers=h["ad"],
                json={"hours": hours, "note": "carried over"},
            )
            assert r.status_code == 201, r.text
        items = client.get("/api/v1/notifications", headers=h["v1"]).json()["items"]
    tiers = [m for m in items if m["kind"] == "tier_reached"]
    assert [m["detail"]["stars"] for m in reversed(tiers)] == [1, 2]  # each once, however the total moved
    assert "2" in tiers[0]["text"]["zh"] and "2-star" in tiers[0]["text"]["en"]


def test_a_moved_shift_is_told_and_its_reminders_follow_a_cancelled_one_at_once(api: Api) -> None:
    client, h, clock, db = api
    sign_up(client, h["v1"])  # the place on s1 (Saturday 5 December, 08:00-12:00 in Beijing)
    sign_up(client, h["v2"])  # the waitlist
    later = {
        "id": "s1",
        "start": "2026-12-05T10:00:00+08:00",
        "end": "2026-12-05T14:00:00+08:00",
        "capacity": 1,
    }
    moved = client.patch("/api/v1/activities/a1", headers=h["o1"], json={"shifts": [later]})
    assert moved.status_code == 200, moved.text
    for who in ("v1", "v2"):
        (told,) = [m for m in outbox(db, who) if m["kind"] == "shift_changed"]
        assert told["next_s"] == at(clock.now)
    reminders = [m for m in outbox(db, "v1") if m["kind"] == "reminder"]
    assert [m["status"] for m in reminders] == ["dropped", "dropped", "pending", "pending"]  # the old ones go
    ten = datetime(2026, 12, 5, 10, 0, tzinfo=CST)
    assert [m["next_s"] for m in reminders[2:]] == [
        at(ten - timedelta(hours=24)),
        at(ten - timedelta(hours=2)),
    ]
    box = client.get("/api/v1/notifications", headers=h["v1"]).json()["items"]
    assert box[0]["kind"] == "shift_changed" and "10:00" in box[0]["text"]["zh"]

    clock.now = datetime(2026, 11, 28, 23, 30, tzinfo=CST)  # at night: a cancellation still goes at once
    other = {"start": "2026-12-06T10:00:00+08:00", "end": "2026-12-06T14:00:00+08:00", "capacity": 5}
    gone_r = client.patch("/api/v1/activities/a1", headers=h["o1"], json={"shifts": [other]})
    assert gone_r.status_code == 200, gone_r.text
    for who in ("v1", "v2"):
        (gone,) = [m for m in outbox(db, who) if m["kind"] == "shift_cancelled"]
        assert gone["urgent"] and gone["next_s"] == at(clock.now)
    assert {m["status"] for m in outbox(db, "v1") if m["kind"] == "reminder"} == {"dropped"}
    assert (
        client.delete("/api/v1/activities/a2", headers=h["o2"]).status_code == 204
    )  # nobody on it: nobody told
